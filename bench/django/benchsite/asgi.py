"""The ASGI application, as the Channels tutorial writes it, with the token
middleware in front of the WebSocket routes.

Channels' AllowedHostsOriginValidator is left out: it refuses clients that
send no Origin header, as the load generator (not a browser) does not.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchsite.settings")
# Django must be set up before the consumers' models are imported.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from echo.middleware import TokenAuthMiddlewareStack  # noqa: E402
from echo.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": TokenAuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
    }
)
