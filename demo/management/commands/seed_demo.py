"""manage.py seed_demo: a demo workspace to click through (idempotent).

Creates the "Demo Company" workspace (slug ``demo``) with an owner, a clerk and
a viewer, two warehouses, a few products with stock, a supplier and a customer,
and a second workspace the owner also belongs to, and prints the logins.
"""

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from inventory.models import Customer, Product, Supplier, Unit
from inventory.services import catalog, stock
from tenants.context import tenant_context
from tenants.models import Membership, Role, Tenant, User

DEMO_PASSWORD = "stockroom-demo-2026"  # noqa: S105 - printed on purpose, demo data only
DEMO_USERS = [
    ("owner@demo.stockroom.local", "Olivia Owner", Role.OWNER),
    ("clerk@demo.stockroom.local", "Carl Clerk", Role.CLERK),
    ("viewer@demo.stockroom.local", "Vera Viewer", Role.VIEWER),
]


DEMO_PRODUCTS: list[tuple[Any, ...]] = [
    # sku, name, category path, unit, cost, price, reorder point, stock in MAIN, stock in EAST
    ("BOLT-M8-40", "Hex bolt M8 x 40", ("Hardware", "Bolts"), Unit.PIECE, "0.12", "0.35", "500", 2400, 300),
    ("NUT-M8", "Hex nut M8", ("Hardware", "Nuts"), Unit.PIECE, "0.04", "0.12", "800", 350, 1200),
    ("ROPE-10", "Polyester rope 10 mm", ("Hardware", "Rope"), Unit.METRE, "0.80", "1.90", "50", "120.5", 0),
    ("SAW-HAND", "Hand saw 500 mm", ("Tools",), Unit.PIECE, "8.50", "17.90", "10", 14, 6),
    ("DRILL-18V", "Cordless drill 18 V", ("Tools",), Unit.PIECE, "54.00", "99.00", "5", 3, 0),
    ("SEED-GRASS", "Lawn seed mix", ("Garden",), Unit.KILOGRAM, "3.10", "6.50", "20", "75.25", "12.5"),
]


def _seed_inventory(user: User) -> None:
    if Product.objects.exists():
        return
    main = catalog.warehouse_create(code="MAIN", name="Main warehouse")
    east = catalog.warehouse_create(code="EAST", name="East depot")
    supplier = catalog.party_create(
        model=Supplier, name="Acme Supply Co.", email="sales@acme.example", payment_terms="Net 30"
    )
    catalog.party_create(model=Customer, name="Bob's Garage", email="bob@garage.example")
    categories: dict[tuple[str, ...], Any] = {}
    for sku, name, path, unit, cost, price, reorder, in_main, in_east in DEMO_PRODUCTS:
        for depth in range(1, len(path) + 1):
            if path[:depth] not in categories:
                categories[path[:depth]] = catalog.category_create(
                    name=path[depth - 1], parent=categories.get(path[: depth - 1])
                )
        product = catalog.product_create(
            sku=sku,
            name=name,
            category=categories[path],
            unit=unit,
            cost_price=Decimal(cost),
            selling_price=Decimal(price),
            reorder_point=Decimal(reorder),
            reorder_quantity=Decimal(reorder) * 2,
        )
        catalog.supplier_product_create(supplier=supplier, product=product, price=Decimal(cost))
        for warehouse, quantity in ((main, in_main), (east, in_east)):
            if Decimal(quantity) > 0:
                stock.stock_receive(
                    product_id=product.id, warehouse_id=warehouse.id, quantity=Decimal(quantity), user=user
                )


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
            with tenant_context(demo):  # memberships are under Row Level Security
                Membership.objects.get_or_create(user=user, tenant=demo, defaults={"role": role})
        owner = User.objects.get(email=DEMO_USERS[0][0])
        with tenant_context(second):
            Membership.objects.get_or_create(user=owner, tenant=second, defaults={"role": Role.OWNER})
        with tenant_context(demo):
            _seed_inventory(owner)
        site = settings.FRONTEND_URL.rstrip("/")
        self.stdout.write(
            self.style.SUCCESS("Demo data ready.")
            + f"\n  Console:   {site}/login/  as {DEMO_USERS[0][0]} / {DEMO_PASSWORD}"
            + f"\n  API:       POST {site}/api/v1/auth/token/"
            + f'\n             {{"email": "{DEMO_USERS[0][0]}", "password": "{DEMO_PASSWORD}", "tenant": "demo"}}'
            + f"\n  Also:      {DEMO_USERS[1][0]} (clerk), {DEMO_USERS[2][0]} (viewer), same password"
            + f"\n  API docs:  {site}/api/docs/"
        )
