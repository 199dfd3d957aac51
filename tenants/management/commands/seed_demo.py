"""manage.py seed_demo: a demo workspace to click through (idempotent).

Creates the "Demo Company" workspace (slug ``demo``) with an owner, a clerk and
a viewer, and a second workspace the owner also belongs to, and prints the logins.
"""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from tenants.models import Membership, Role, Tenant, User

DEMO_PASSWORD = "stockroom-demo-2026"  # noqa: S105 - printed on purpose, demo data only
DEMO_USERS = [
    ("owner@demo.stockroom.local", "Olivia Owner", Role.OWNER),
    ("clerk@demo.stockroom.local", "Carl Clerk", Role.CLERK),
    ("viewer@demo.stockroom.local", "Vera Viewer", Role.VIEWER),
]


class Command(BaseCommand):
    help = "Create the demo workspace and users (idempotent) and print the demo login."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        demo, _ = Tenant.objects.get_or_create(slug="demo", defaults={"name": "Demo Company"})
        second, _ = Tenant.objects.get_or_create(slug="demo-trading", defaults={"name": "Demo Trading"})
        for email, name, role in DEMO_USERS:
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(email=email, password=DEMO_PASSWORD, full_name=name)
            Membership.objects.get_or_create(user=user, tenant=demo, defaults={"role": role})
        owner = User.objects.get(email=DEMO_USERS[0][0])
        Membership.objects.get_or_create(user=owner, tenant=second, defaults={"role": Role.OWNER})
        self.stdout.write(
            self.style.SUCCESS("Demo data ready.")
            + "\n  Log in:    POST http://127.0.0.1:8000/api/v1/auth/token/"
            + f'\n             {{"email": "{DEMO_USERS[0][0]}", "password": "{DEMO_PASSWORD}", "tenant": "demo"}}'
            + f"\n  Also:      {DEMO_USERS[1][0]} (clerk), {DEMO_USERS[2][0]} (viewer), same password"
            + "\n  API docs:  http://127.0.0.1:8000/api/docs/"
        )
