"""Reads of orders, scoped to the current tenant; lists in a constant number of queries."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from core.numbers import exact_sum
from inventory.models import MovementKind, Product, StockMovement, Warehouse
from inventory.selectors import get_or_404, low_stock_list, movement_list, valuation
from inventory.services.units import FractionHolder, has_fraction
from orders import states
from orders.models import (
    OrderReturn,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseStatus,
    Receipt,
    SalesOrder,
    SalesOrderLine,
    SalesStatus,
    Shipment,
    StatusChange,
)
from tenants.models import Invitation, Tenant
from tenants.selectors import membership_list

_SUM = DecimalField()  # a sum of amounts has no column: exact in PostgreSQL's numeric, at any size


def _history() -> Prefetch[Any]:
    return Prefetch("history", queryset=StatusChange.objects.select_related("user"))


def sales_order_list() -> QuerySet[SalesOrder]:
    return SalesOrder.objects.select_related("customer").prefetch_related(
        Prefetch("lines", queryset=SalesOrderLine.objects.select_related("product", "warehouse")), _history()
    )


def sales_order_detail() -> QuerySet[SalesOrder]:
    return sales_order_list().prefetch_related(
        Prefetch("shipments", queryset=Shipment.objects.prefetch_related("lines")),
        Prefetch("returns", queryset=OrderReturn.objects.prefetch_related("lines")),
    )


def purchase_order_list() -> QuerySet[PurchaseOrder]:
    return PurchaseOrder.objects.select_related("supplier").prefetch_related(
        Prefetch("lines", queryset=PurchaseOrderLine.objects.select_related("product", "warehouse")), _history()
    )


def purchase_order_detail() -> QuerySet[PurchaseOrder]:
    return purchase_order_list().prefetch_related(
        Prefetch("receipts", queryset=Receipt.objects.prefetch_related("lines")),
        Prefetch("returns", queryset=OrderReturn.objects.prefetch_related("lines")),
    )


def _search(orders: QuerySet[Any], party: str, text: str, status: str, statuses: Collection[str]) -> QuerySet[Any]:
    if text:
        orders = orders.filter(
            Q(number__icontains=text) | Q(**{f"{party}__name__icontains": text}) | Q(external_reference__icontains=text)
        )
    if status in statuses:
        orders = orders.filter(status=status)
    return orders


def sales_order_search(*, text: str = "", status: str = "") -> QuerySet[SalesOrder]:
    """The console's list: a search in the number, the customer's name and the external
    reference, a status (an unknown one is ignored), each order's line count; newest first.
    One query per page."""
    orders = SalesOrder.objects.select_related("customer").annotate(line_count=Count("lines"))
    return _search(orders, "customer", text, status, SalesStatus.values).order_by("-created_at", "pk")


def purchase_order_search(*, text: str = "", status: str = "") -> QuerySet[PurchaseOrder]:
    """As ``sales_order_search``, searching the supplier's name."""
    orders = PurchaseOrder.objects.select_related("supplier").annotate(line_count=Count("lines"))
    return _search(orders, "supplier", text, status, PurchaseStatus.values).order_by("-created_at", "pk")


def order_status_counts(*, kind: str, text: str = "") -> dict[str, int]:
    """How many orders of ``kind`` ("sales" or "purchase") match ``text`` per status (one query)."""
    model: Any = SalesOrder if kind == "sales" else PurchaseOrder
    party = "customer" if kind == "sales" else "supplier"
    orders = _search(model.objects.all(), party, text, "", ())
    return {row["status"]: row["n"] for row in orders.order_by().values("status").annotate(n=Count("id"))}


def _page_prefetches(kind: str) -> list[Any]:
    """Everything an order's page shows besides its lines and history: shipments or
    receipts and returns, with their lines and who made them."""
    documents: Any = Shipment if kind == "sales" else Receipt
    return [
        Prefetch(
            "shipments" if kind == "sales" else "receipts",
            queryset=documents.objects.select_related("created_by").prefetch_related("lines"),
        ),
        Prefetch("returns", queryset=OrderReturn.objects.select_related("created_by").prefetch_related("lines")),
    ]


def sales_order_page(*, id: Any) -> SalesOrder:
    """One sales order with its customer, lines (products, warehouses), history, shipments
    and returns, in a fixed number of queries whatever their size; NotFound when it is not
    the current workspace's."""
    return get_or_404(sales_order_list().prefetch_related(*_page_prefetches("sales")), id=id, what="sales order")


def purchase_order_page(*, id: Any) -> PurchaseOrder:
    """As ``sales_order_page``, with receipts."""
    return get_or_404(
        purchase_order_list().prefetch_related(*_page_prefetches("purchase")), id=id, what="purchase order"
    )


def order_actions(order: SalesOrder | PurchaseOrder) -> list[str]:
    """What the state machine lets ``order`` do now (``orders.states``), ``edit`` and
    ``delete`` included for drafts. Reads the prefetched lines for the facts some
    actions need (shipped or received goods): no query with ``*_order_page``."""
    if isinstance(order, SalesOrder):
        machine, done = states.SALES, any(line.shipped_quantity > 0 for line in order.lines.all())
        facts = {states.SHIPPED} if done else set()
    else:
        machine, done = states.PURCHASE, any(line.received_quantity > 0 for line in order.lines.all())
        facts = {states.RECEIVED} if done else set()
    actions = states.allowed_actions(machine, order.status, facts)
    return actions + [a for a in ("edit", "delete") if order.status in machine.transitions[a]]


def order_stats(*, kind: str, date_from: date | None, date_to: date | None) -> dict[str, Any]:
    """Counts and totals by status and by day of creation, in two queries. Cancelled
    orders are reported apart: ``count``, ``total`` and ``by_day`` leave them out,
    ``cancelled`` counts them (``by_status`` lists every status)."""
    date_to = date_to or timezone.now().date()
    date_from = date_from or date_to - timedelta(days=29)
    model: Any = SalesOrder if kind == "sales" else PurchaseOrder
    cancelled_status = SalesStatus.CANCELLED if kind == "sales" else PurchaseStatus.CANCELLED
    orders = model.objects.filter(created_at__date__gte=date_from, created_at__date__lte=date_to)
    total = Coalesce(Sum("total"), Value(Decimal("0")), output_field=_SUM)
    by_status = list(orders.values("status").annotate(count=Count("id"), total=total).order_by("status"))
    by_day = list(
        orders.exclude(status=cancelled_status)
        .annotate(date=TruncDate("created_at"))
        .values("date")
        .annotate(count=Count("id"), total=total)
        .order_by("date")
    )
    live = [row for row in by_status if row["status"] != cancelled_status]
    cancelled = [row for row in by_status if row["status"] == cancelled_status]
    return {
        "type": kind,
        "date_from": date_from,
        "date_to": date_to,
        "count": sum(row["count"] for row in live),
        "total": exact_sum(row["total"] for row in live),
        "cancelled": {
            "count": sum(row["count"] for row in cancelled),
            "total": exact_sum(row["total"] for row in cancelled),
        },
        "by_status": by_status,
        "by_day": by_day,
    }


OPEN_SALES = (SalesStatus.DRAFT, SalesStatus.CONFIRMED, SalesStatus.PARTIALLY_FULFILLED)
OPEN_PURCHASES = (PurchaseStatus.DRAFT, PurchaseStatus.ORDERED, PurchaseStatus.PARTIALLY_RECEIVED)


def open_lines_with_fractions(product_ids: Collection[uuid.UUID]) -> list[FractionHolder]:
    """Lines of open orders that order, ship or receive a fraction of one of the products
    (registered with ``inventory.services.units``, which must not import orders)."""
    found: list[FractionHolder] = []
    sales = (
        SalesOrderLine.objects.filter(product_id__in=product_ids, order__status__in=OPEN_SALES)
        .filter(has_fraction("quantity") | has_fraction("shipped_quantity"))
        .select_related("order")
        .order_by("order__created_at", "position")
    )
    found += [
        FractionHolder(
            line.product_id,
            "sales_order_line",
            line.pk,
            f"sales order {line.order.number or 'draft'} line {line.position}: {line.quantity}",
        )
        for line in sales
    ]
    purchases = (
        PurchaseOrderLine.objects.filter(product_id__in=product_ids, order__status__in=OPEN_PURCHASES)
        .filter(has_fraction("quantity") | has_fraction("received_quantity"))
        .select_related("order")
        .order_by("order__created_at", "position")
    )
    found += [
        FractionHolder(
            line.product_id,
            "purchase_order_line",
            line.pk,
            f"purchase order {line.order.number or 'draft'} line {line.position}: {line.quantity}",
        )
        for line in purchases
    ]
    return found


def dashboard(*, today: date | None = None) -> dict[str, Any]:
    """The console dashboard's numbers, in a constant number of queries (twelve) whatever
    the size of the workspace: stock value, low-stock count, open and overdue orders,
    sales of the last 30 days by day, the latest movements and the getting-started steps."""
    today = today or timezone.now().date()
    waiting = (PurchaseStatus.ORDERED, PurchaseStatus.PARTIALLY_RECEIVED)
    purchases = PurchaseOrder.objects.filter(status__in=OPEN_PURCHASES).aggregate(
        open=Count("id"), overdue=Count("id", filter=Q(status__in=waiting, expected_date__lt=today))
    )
    started = {
        "warehouse": Warehouse.objects.exists(),
        "product": Product.objects.exists(),
        "received": StockMovement.objects.filter(kind=MovementKind.RECEIPT).exists(),
        # Someone else was invited, or is a member already (the two queries always run: a constant count).
        "invited": any([Invitation.objects.exists(), membership_list().count() > 1]),
    }
    return {
        "stock_value": valuation()["total_value"],
        "low_stock": low_stock_list().count(),
        "open_sales": SalesOrder.objects.filter(status__in=OPEN_SALES).count(),
        "open_purchases": purchases["open"],
        "overdue_purchases": purchases["overdue"],
        "sales": order_stats(kind="sales", date_from=today - timedelta(days=29), date_to=today),
        "recent_movements": list(movement_list()[:8]),
        "getting_started": started,
    }


def product_open_lines(*, product: Product, limit: int = 10) -> dict[str, list[Any]]:
    """The open order lines of a product (the product page): the latest ``limit`` sales and
    purchase lines whose order is still open, with their order (two queries)."""
    sales = (
        SalesOrderLine.objects.select_related("order", "order__customer", "warehouse")
        .filter(product=product, order__status__in=OPEN_SALES)
        .order_by("-order__created_at", "position")[:limit]
    )
    purchases = (
        PurchaseOrderLine.objects.select_related("order", "order__supplier", "warehouse")
        .filter(product=product, order__status__in=OPEN_PURCHASES)
        .order_by("-order__created_at", "position")[:limit]
    )
    return {"sales": list(sales), "purchases": list(purchases)}


def sales_orders_this_month(tenant: Tenant) -> int:
    """Sales orders created since the start of this calendar month (UTC), drafts included."""
    start = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return SalesOrder.objects.filter(created_at__gte=start).count()
