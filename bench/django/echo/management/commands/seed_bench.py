"""Creates the benchmark's users, user0 … user9999, with DRF tokens tok-N.

In bulk, a few statements in one transaction: a second or two, not the
minutes that 10,000 `create_user` calls (each hashing a password) take.
The users get no usable password: the Django server serves no login.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

USERS = 10_000


class Command(BaseCommand):
    help = "Creates user0 … user9999 with the tokens tok-0 … tok-9999."

    def handle(self, *args, **options):
        User = get_user_model()
        if User.objects.count() == USERS and Token.objects.filter(key="tok-9999").exists():
            self.stdout.write("users and tokens already there")
            return
        with transaction.atomic():
            Token.objects.all().delete()
            User.objects.all().delete()
            User.objects.bulk_create(
                [User(username=f"user{n}", password="!") for n in range(USERS)],
                batch_size=2000,
            )
            ids = dict(User.objects.values_list("username", "id"))
            now = timezone.now()
            Token.objects.bulk_create(
                [Token(key=f"tok-{n}", user_id=ids[f"user{n}"], created=now) for n in range(USERS)],
                batch_size=2000,
            )
        self.stdout.write(f"created {USERS} users and tokens")
