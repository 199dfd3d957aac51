"""Real concurrent connections against orders: no oversell, no double issue, no stale reservation."""

from decimal import Decimal

from django.db import transaction

from core.errors import DomainError
from inventory.errors import InsufficientStock
from inventory.models import MovementKind, Reservation, StockLevel, StockMovement
from inventory.services.integrity import stock_discrepancies
from inventory.tests.factories import make_product, make_warehouse, receive
from orders import services
from orders.models import SalesOrder, SalesStatus
from orders.tests.factories import line, make_customer
from tenants.context import tenant_context
from tenants.models import Role
from tenants.tests.factories import make_member, make_tenant
from tenants.tests.threads import in_threads


def test_two_clerks_confirming_for_the_last_units_exactly_one_wins(committed):
    tenant = make_tenant(slug="race-confirm")
    with tenant_context(tenant):
        warehouse, product, customer = make_warehouse("W"), make_product(sku="LAST"), make_customer()
        receive(product, warehouse, 3)
        orders = [
            services.sales_order_create(customer=customer, lines=[line(product, warehouse, 3)], user=None)
            for _ in range(2)
        ]
    outcomes: list[str] = []

    def confirm(order):
        def run():
            with tenant_context(tenant):
                try:
                    services.sales_order_confirm(order_id=order.pk, user=None)
                    outcomes.append("confirmed")
                except InsufficientStock as exc:
                    outcomes.append(exc.code)

        return run

    in_threads(*(confirm(order) for order in orders))

    assert sorted(outcomes) == ["confirmed", "insufficient_stock"]
    with tenant_context(tenant), transaction.atomic():
        level = StockLevel.objects.get(product=product)
        assert (level.on_hand, level.reserved) == (3, 3)
        assert sorted(SalesOrder.objects.values_list("status", flat=True)) == ["confirmed", "draft"]
        assert list(SalesOrder.objects.exclude(number=None).values_list("number", flat=True)) == ["SO-000001"]
        assert stock_discrepancies() == []


def test_concurrent_shipments_and_cancellation_of_one_order(committed):
    tenant = make_tenant(slug="race-ship")
    with tenant_context(tenant):
        manager = make_member(tenant, Role.MANAGER)
        warehouse, product, customer = make_warehouse("W"), make_product(sku="SHIP"), make_customer()
        receive(product, warehouse, 10)
        order = services.sales_order_create(customer=customer, lines=[line(product, warehouse, 10)], user=None)
        services.sales_order_confirm(order_id=order.pk, user=None)
        line_id = order.lines.get().id
    results: list[str] = []

    def ship():
        with tenant_context(tenant):
            try:
                services.sales_order_ship(
                    order_id=order.pk, lines=[services.QuantityInput(line_id, Decimal(4))], user=None
                )
                results.append("shipped")
            except DomainError as exc:
                results.append(exc.code)

    def cancel():
        with tenant_context(tenant):
            try:
                services.sales_order_cancel(order_id=order.pk, actor=manager, user=None)
                results.append("cancelled")
            except DomainError as exc:
                results.append(exc.code)

    in_threads(ship, ship, ship, cancel)

    with tenant_context(tenant), transaction.atomic():
        order.refresh_from_db()
        shipped = results.count("shipped")
        issued = -sum(StockMovement.objects.filter(kind=MovementKind.ISSUE).values_list("quantity", flat=True))
        level = StockLevel.objects.get(product=product)
        assert order.status == SalesStatus.CANCELLED and "cancelled" in results
        assert issued == 4 * shipped and shipped <= 2  # at most 10 // 4 shipments fit
        assert level.on_hand == 10 - issued and level.reserved == 0
        assert not Reservation.objects.filter(closed_at__isnull=True).exists()
        assert stock_discrepancies() == []
