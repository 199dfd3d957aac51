"""Units of measure against the quantities already held.

A product may move to a whole-number unit (``pcs``, ``box``, ``pack``, ``pair``) only
while nothing holds a fraction of it: once counted in pieces, 2.5 on hand could be
neither issued nor adjusted. Inventory checks its own rows (stock levels, open
reservations); other modules hold quantities too (orders: open order lines) and
register a check here, called with the product ids, so that inventory never imports
them (orders may use inventory, never the reverse).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass

from django.db.models import Q
from django.db.models.functions import Floor

from inventory.errors import FractionalQuantitiesHeld
from inventory.models import WHOLE_UNITS, Product, Reservation, StockLevel

MAX_NAMED = 20  # holders named in an error's details


@dataclass(frozen=True)
class FractionHolder:
    """A row that holds a fraction of a product: ``kind`` and ``id`` name it, ``label`` says it."""

    product_id: uuid.UUID
    kind: str
    id: uuid.UUID
    label: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "id": str(self.id), "label": self.label}


FractionCheck = Callable[[Collection[uuid.UUID]], list[FractionHolder]]
_CHECKS: list[FractionCheck] = []


def register_fraction_check(check: FractionCheck) -> None:
    """Adds a check of another module's rows (called from its ``AppConfig.ready``)."""
    if check not in _CHECKS:
        _CHECKS.append(check)


def has_fraction(field: str) -> Q:
    """The field's value is not a whole number."""
    return ~Q(**{field: Floor(field)})


def fraction_holders(*, product_ids: Collection[uuid.UUID]) -> list[FractionHolder]:
    """Every row of the current tenant holding a fraction of one of the products."""
    if not product_ids:
        return []
    levels = (
        StockLevel.objects.filter(product_id__in=product_ids)
        .filter(has_fraction("on_hand") | has_fraction("reserved"))
        .select_related("warehouse")
        .order_by("product_id", "warehouse__code")
    )
    found = [
        FractionHolder(
            level.product_id,
            "stock_level",
            level.pk,
            f"{level.warehouse.code}: {level.on_hand} on hand, {level.reserved} reserved",
        )
        for level in levels
    ]
    reservations = (
        Reservation.objects.filter(product_id__in=product_ids, closed_at__isnull=True)
        .filter(has_fraction("quantity"))
        .select_related("warehouse")
        .order_by("product_id", "created_at")
    )
    found += [
        FractionHolder(r.product_id, "reservation", r.pk, f"{r.quantity} reserved in {r.warehouse.code}")
        for r in reservations
    ]
    for check in _CHECKS:
        found += check(product_ids)
    return found


def check_unit_change(*, product: Product, unit: str) -> None:
    """Refuses (409 ``fractional_quantities``) to count ``product`` in a whole-number
    ``unit`` while a fraction of it is held anywhere."""
    if unit == product.unit or unit not in WHOLE_UNITS:
        return
    holders = fraction_holders(product_ids=[product.pk])
    if holders:
        raise FractionalQuantitiesHeld(product=product, unit=unit, holders=[h.as_dict() for h in holders[:MAX_NAMED]])
