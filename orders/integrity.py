"""The orders' part of the stock invariant: reservations match open order lines.

- every open sales-line reservation belongs to a line of a confirmed or partially
  fulfilled order and holds exactly what is left to ship on it;
- every such line with something left to ship has an open reservation.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, OuterRef, Q, Subquery

from inventory.models import Reservation
from orders.models import SalesOrderLine, SalesStatus, StockSource

OPEN = [SalesStatus.CONFIRMED, SalesStatus.PARTIALLY_FULFILLED]


def reservation_discrepancies() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    reservations = Reservation.objects.filter(
        reference_type=StockSource.SALES_ORDER_LINE, closed_at__isnull=True
    ).annotate(
        line_outstanding=Subquery(
            SalesOrderLine.objects.filter(pk=OuterRef("reference_id"), order__status__in=OPEN)
            .annotate(outstanding=F("quantity") - F("shipped_quantity"))
            .values("outstanding")[:1]
        )
    )
    for row in reservations.filter(Q(line_outstanding__isnull=True) | ~Q(quantity=F("line_outstanding"))).values(
        "id", "reference_id", "quantity", "line_outstanding"
    ):
        found.append({"check": "reservation_matches_line", **row})
    open_ids = Reservation.objects.filter(reference_type=StockSource.SALES_ORDER_LINE, closed_at__isnull=True).values(
        "reference_id"
    )
    unreserved = (
        SalesOrderLine.objects.filter(order__status__in=OPEN, quantity__gt=F("shipped_quantity"))
        .exclude(pk__in=open_ids)
        .values("id", "order_id", "quantity", "shipped_quantity")
    )
    found.extend({"check": "open_line_reserved", **row} for row in unreserved)
    return found
