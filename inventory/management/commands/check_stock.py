"""manage.py check_stock [--tenant SLUG]

Checks the stock invariant (inventory/services/integrity.py) tenant by tenant, as
the runtime role inside each tenant's context (Row Level Security stays on).
Prints each discrepancy and exits with status 1 when there is any.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from inventory.services.integrity import stock_discrepancies
from tenants.context import tenant_context
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Check that every stock level matches its ledger and its reservations."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--tenant", help="Only this tenant (slug).")

    def handle(self, *args: Any, tenant: str | None = None, **options: Any) -> None:
        tenants = Tenant.objects.order_by("slug")
        if tenant:
            tenants = tenants.filter(slug=tenant)
            if not tenants.exists():
                raise CommandError(f"No tenant with slug {tenant!r}.")
        problems = 0
        for each in tenants:
            with tenant_context(each), transaction.atomic():
                found = stock_discrepancies()
            for item in found:
                self.stdout.write(f"{each.slug}: {item}")
            problems += len(found)
            self.stdout.write(f"{each.slug}: {'OK' if not found else f'{len(found)} discrepancies'}")
        if problems:
            raise CommandError(f"{problems} stock discrepancies found.")
        self.stdout.write(self.style.SUCCESS("Stock invariant holds."))
