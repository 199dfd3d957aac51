"""The stock invariant, checked by tests and by ``manage.py check_stock`` in production:

- for every level, the sum of its on-hand movements (receipt, issue, adjustment,
  transfers) equals ``on_hand``, and the sum of its reservation movements
  (reservation, release) equals ``reserved``;
- ``reserved`` equals the sum of the level's open reservations;
- other modules add their own checks (orders: reservations match open order lines)
  through ``register_check``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from core.numbers import QUANTITY
from inventory.models import ON_HAND_KINDS, RESERVED_KINDS, Reservation, StockLevel, StockMovement

_QUANTITY = DecimalField(**QUANTITY.column)
_EXTRA_CHECKS: list[Callable[[], list[dict[str, Any]]]] = []


def register_check(check: Callable[[], list[dict[str, Any]]]) -> None:
    if check not in _EXTRA_CHECKS:
        _EXTRA_CHECKS.append(check)


def _sum(queryset: Any) -> Coalesce:
    total = queryset.values("product_id").annotate(total=Sum("quantity")).values("total")
    return Coalesce(Subquery(total, output_field=_QUANTITY), Value(Decimal("0")), output_field=_QUANTITY)


def level_discrepancies() -> list[dict[str, Any]]:
    """Levels of the current tenant that disagree with their ledger or reservations (one query)."""
    same_level = {"product_id": OuterRef("product_id"), "warehouse_id": OuterRef("warehouse_id")}
    rows = (
        StockLevel.objects.annotate(
            ledger_on_hand=_sum(StockMovement.objects.filter(kind__in=ON_HAND_KINDS, **same_level)),
            ledger_reserved=_sum(StockMovement.objects.filter(kind__in=RESERVED_KINDS, **same_level)),
            open_reserved=_sum(Reservation.objects.filter(closed_at__isnull=True, **same_level)),
        )
        .filter(~Q(on_hand=F("ledger_on_hand")) | ~Q(reserved=F("ledger_reserved")) | ~Q(reserved=F("open_reserved")))
        .values(
            "id",
            "product_id",
            "warehouse_id",
            "on_hand",
            "reserved",
            "ledger_on_hand",
            "ledger_reserved",
            "open_reserved",
        )
    )
    return [{"check": "stock_level", **row} for row in rows]


def stock_discrepancies() -> list[dict[str, Any]]:
    """Everything that breaks the invariant in the current tenant; empty when sound."""
    found = level_discrepancies()
    for check in _EXTRA_CHECKS:
        found.extend(check())
    return found
