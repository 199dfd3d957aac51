"""manage.py seed_demo: a demo workspace to click through (idempotent).

Creates the "Demo Company" workspace (slug ``demo``) with an owner, a clerk and
a viewer, two warehouses, a few products with stock, a supplier and customers,
sales orders of the last 30 days and two purchase orders (one overdue), and a second
workspace the owner also belongs to, and prints the logins.
"""

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from inventory.models import Customer, Product, Supplier, Unit, Warehouse
from inventory.services import catalog, stock
from orders import services as orders
from orders.models import SalesOrder
from orders.services import LineInput, QuantityInput
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


DEMO_CUSTOMERS = ["Bob's Garage", "Green Lawns Ltd", "City Builders", "Harbour Marine"]
# Sales orders of the last 30 days: days ago, customer, lines of (sku, quantity), how far it went.
DEMO_SALES: list[tuple[int, int, list[tuple[str, str]], str]] = [
    (29, 0, [("BOLT-M8-40", "200"), ("NUT-M8", "100")], "shipped"),
    (27, 1, [("SEED-GRASS", "10")], "shipped"),
    (24, 2, [("SAW-HAND", "2"), ("BOLT-M8-40", "100")], "shipped"),
    (21, 3, [("ROPE-10", "25.5")], "shipped"),
    (19, 0, [("DRILL-18V", "1")], "shipped"),
    (16, 2, [("BOLT-M8-40", "300"), ("NUT-M8", "100")], "shipped"),
    (13, 1, [("SEED-GRASS", "5.25")], "shipped"),
    (11, 3, [("ROPE-10", "12")], "shipped"),
    (8, 2, [("SAW-HAND", "3")], "shipped"),
    (6, 0, [("NUT-M8", "50"), ("BOLT-M8-40", "150")], "shipped"),
    (4, 1, [("SEED-GRASS", "8")], "confirmed"),
    (2, 2, [("BOLT-M8-40", "120")], "confirmed"),
    (1, 3, [("ROPE-10", "8")], "draft"),
    (0, 0, [("SAW-HAND", "1"), ("NUT-M8", "50")], "draft"),
]


def _seed_orders(user: User) -> None:
    """Orders of the last 30 days, so the dashboard's chart and counts have something to
    show: most shipped, some confirmed, some drafts, and purchase orders (one overdue).
    The dates are moved back after the services wrote the orders (demo data only)."""
    if SalesOrder.objects.exists():
        return
    main = Warehouse.objects.get(code="MAIN")
    products = {p.sku: p for p in Product.objects.all()}
    customers = []
    for name in DEMO_CUSTOMERS:
        customer = Customer.objects.filter(name=name).first()
        customers.append(customer or catalog.party_create(model=Customer, name=name))
    now = timezone.now()
    for days_ago, who, lines, state in DEMO_SALES:
        order = orders.sales_order_create(
            customer=customers[who],
            lines=[LineInput(products[sku], main, Decimal(quantity)) for sku, quantity in lines],
            user=user,
        )
        if state != "draft":
            orders.sales_order_confirm(order_id=order.id, user=user)
        if state == "shipped":
            orders.sales_order_ship(
                order_id=order.id,
                lines=[QuantityInput(line.id, line.quantity) for line in order.lines.all()],
                user=user,
            )
        SalesOrder.objects.filter(pk=order.pk).update(created_at=now - timedelta(days=days_ago, hours=3))
    supplier = Supplier.objects.get(name="Acme Supply Co.")
    overdue = orders.purchase_order_create(
        supplier=supplier,
        lines=[LineInput(products["DRILL-18V"], main, Decimal("10"))],
        user=user,
        expected_date=(now - timedelta(days=3)).date(),
    )
    orders.purchase_order_place(order_id=overdue.id, user=user)
    coming = orders.purchase_order_create(
        supplier=supplier,
        lines=[
            LineInput(products["BOLT-M8-40"], main, Decimal("2000")),
            LineInput(products["NUT-M8"], main, Decimal("2000")),
        ],
        user=user,
        expected_date=(now + timedelta(days=7)).date(),
    )
    orders.purchase_order_place(order_id=coming.id, user=user)


class Command(BaseCommand):
    help = "Create the demo workspace and users (idempotent) and print the demo login."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        demo, _ = Tenant.objects.get_or_create(slug="demo", defaults={"name": "Demo Company", "plan_code": "pro"})
        second, _ = Tenant.objects.get_or_create(
            slug="demo-trading", defaults={"name": "Demo Trading", "plan_code": "pro"}
        )
        for email, name, role in DEMO_USERS:
            user = User.objects.filter(email=email).first()
            if user is None:
                # Verified, as users before email verification were: the demo users invite.
                user = User.objects.create_user(
                    email=email, password=DEMO_PASSWORD, full_name=name, email_verified_at=timezone.now()
                )
            with tenant_context(demo):  # memberships are under Row Level Security
                Membership.objects.get_or_create(user=user, tenant=demo, defaults={"role": role})
        owner = User.objects.get(email=DEMO_USERS[0][0])
        with tenant_context(second):
            Membership.objects.get_or_create(user=owner, tenant=second, defaults={"role": Role.OWNER})
        with tenant_context(demo):
            _seed_inventory(owner)
            _seed_orders(owner)
        site = settings.FRONTEND_URL.rstrip("/")
        self.stdout.write(
            self.style.SUCCESS("Demo data ready.")
            + f"\n  Console:   {site}/login/  as {DEMO_USERS[0][0]} / {DEMO_PASSWORD}"
            + f"\n  API:       POST {site}/api/v1/auth/token/"
            + f'\n             {{"email": "{DEMO_USERS[0][0]}", "password": "{DEMO_PASSWORD}", "tenant": "demo"}}'
            + f"\n  Also:      {DEMO_USERS[1][0]} (clerk), {DEMO_USERS[2][0]} (viewer), same password"
            + f"\n  API docs:  {site}/api/docs/"
        )
