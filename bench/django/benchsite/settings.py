"""Settings of the benchmark's Django Channels server.

Production-like where it changes the cost of a request: DEBUG off (with
DEBUG on Django keeps every SQL query in memory), no access log (the
launch commands turn it off; no Rust server logs per connection either).
Everything else is as the Channels and DRF docs set it up.
"""

from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# Only this benchmark uses this key; the server binds 127.0.0.1.
SECRET_KEY = "sockwarden-bench-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "rest_framework",
    "rest_framework.authtoken",
    "channels",
    "echo",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]

ROOT_URLCONF = "benchsite.urls"
ASGI_APPLICATION = "benchsite.asgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": BASE_DIR / "db.sqlite3",
    }
}

# The in-process layer: the cheapest one, and the one the tutorial starts
# with; a Redis layer would only add a network round trip per message.
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
    ],
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
