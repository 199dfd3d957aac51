"""Property-based: random sequences of order actions keep on hand, reserved and the ledger consistent."""

from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import DomainError
from inventory.models import StockLevel
from inventory.services.integrity import stock_discrepancies
from inventory.tests.factories import make_product, make_warehouse, receive
from orders import services
from orders.models import PurchaseOrder, SalesOrder
from orders.states import PURCHASE_TRANSITIONS, SALES_TRANSITIONS
from orders.tests.factories import line, make_customer, make_supplier
from tenants.models import Role
from tenants.tests.factories import make_member

pytestmark = pytest.mark.django_db

ACTIONS = st.sampled_from(
    [
        "create_sale",
        "confirm",
        "ship",
        "cancel",
        "return",
        "create_purchase",
        "order",
        "receive",
        "cancel_po",
        "return_po",
    ]
)
STEP = st.tuples(ACTIONS, st.integers(0, 5), st.integers(1, 6), st.integers(0, 1))


class Scenario:
    def __init__(self, tenant):
        self.manager = make_member(tenant, Role.MANAGER)
        self.warehouse = make_warehouse("PROP")
        self.products = [make_product(sku=f"P{n}") for n in range(2)]
        self.customer, self.supplier = make_customer(), make_supplier()
        for product in self.products:
            receive(product, self.warehouse, 8)
        self.sales: list[SalesOrder] = []
        self.purchases: list[PurchaseOrder] = []

    def run(self, action, index, quantity, product_index):
        product = self.products[product_index]
        q = Decimal(quantity)
        if action == "create_sale":
            self.sales.append(
                services.sales_order_create(customer=self.customer, lines=[line(product, self.warehouse, q)], user=None)
            )
            return
        if action == "create_purchase":
            self.purchases.append(
                services.purchase_order_create(
                    supplier=self.supplier, lines=[line(product, self.warehouse, q)], user=None
                )
            )
            return
        orders = self.sales if action in {"confirm", "ship", "cancel", "return"} else self.purchases
        if not orders:
            return
        order = orders[index % len(orders)]
        order_line = order.lines.get()
        item = [services.QuantityInput(order_line.id, q, disposition="restock")]
        call = {
            "confirm": lambda: services.sales_order_confirm(order_id=order.pk, user=None),
            "ship": lambda: services.sales_order_ship(order_id=order.pk, lines=item, user=None),
            "cancel": lambda: services.sales_order_cancel(order_id=order.pk, actor=self.manager, user=None),
            "return": lambda: services.sales_order_return(order_id=order.pk, lines=item, user=None),
            "order": lambda: services.purchase_order_place(order_id=order.pk, user=None),
            "receive": lambda: services.purchase_order_receive(order_id=order.pk, lines=item, user=None),
            "cancel_po": lambda: services.purchase_order_cancel(order_id=order.pk, actor=self.manager, user=None),
            "return_po": lambda: services.purchase_order_return(order_id=order.pk, lines=item, user=None),
        }[action]
        before = order.status
        try:
            with transaction.atomic():
                call()
        except DomainError:
            order.refresh_from_db()
            assert order.status == before, "a refused action must not change the order"
            return
        order.refresh_from_db()
        table = SALES_TRANSITIONS if isinstance(order, SalesOrder) else PURCHASE_TRANSITIONS
        verb = {"cancel_po": "cancel", "return_po": "return"}.get(action, action)
        assert order.status in table[verb][before], (verb, before, order.status)

    def check(self):
        assert stock_discrepancies() == []
        for level in StockLevel.objects.all():
            assert 0 <= level.reserved <= level.on_hand
        for order in self.sales:
            for order_line in order.lines.all():
                assert 0 <= order_line.returned_quantity <= order_line.shipped_quantity <= order_line.quantity


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(steps=st.lists(STEP, min_size=1, max_size=25))
def test_random_action_sequences_keep_stock_consistent(in_a, steps):
    with transaction.atomic():
        scenario = Scenario(in_a)
        for step in steps:
            scenario.run(*step)
            scenario.check()
        transaction.set_rollback(True)
