"""Domain errors of the inventory module."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.errors import Conflict, DomainError

# --- Codes (top-level ``code`` of an error, or a field error's ``code``) ---------------
# 409
INSUFFICIENT_STOCK = "insufficient_stock"
RESERVATION_MISMATCH = "reservation_mismatch"
IN_USE = "in_use"
CATEGORY_NOT_EMPTY = "category_not_empty"
EXPORT_NOT_READY = "export_not_ready"
EXPORT_EXPIRED = "export_expired"
# 400 field codes
UNIQUE = "unique"
CYCLE = "cycle"
CATEGORY_TOO_DEEP = "category_too_deep"
DOES_NOT_EXIST = "does_not_exist"
INACTIVE = "inactive"  # an archived product or an inactive warehouse takes no stock in
MIN_VALUE = "min_value"
ZERO_QUANTITY = "zero_quantity"
MAX_DECIMAL_PLACES = "max_decimal_places"
FRACTIONAL_QUANTITY = "fractional_quantity"
COUNTED_OR_DELTA = "counted_or_delta"
SAME_WAREHOUSE = "same_warehouse"
IMPORT_FILE_INVALID = "import_file_invalid"  # the file as a whole cannot be read (header, encoding)


def _fmt(quantity: Decimal) -> str:
    """Quantities in error details look like quantities in responses: 4 decimals."""
    return str(quantity.quantize(Decimal("0.0001")))


@dataclass(frozen=True)
class Shortage:
    product_id: str
    sku: str
    warehouse_id: str
    warehouse_code: str
    requested: Decimal
    available: Decimal

    @classmethod
    def of(cls, change: Any, available: Decimal) -> Shortage:
        return cls(
            product_id=str(change.product.id),
            sku=change.product.sku,
            warehouse_id=str(change.warehouse.id),
            warehouse_code=change.warehouse.code,
            requested=abs(change.quantity),
            available=max(available, Decimal("0")),
        )

    def as_dict(self) -> dict[str, str]:
        return {
            "product": self.product_id,
            "sku": self.sku,
            "warehouse": self.warehouse_id,
            "warehouse_code": self.warehouse_code,
            "requested": _fmt(self.requested),
            "available": _fmt(self.available),
        }


class InsufficientStock(DomainError):
    """409 ``insufficient_stock``; ``details.lines`` names every short line and
    ``details.available`` is the available quantity of the first one."""

    status_code = 409
    code = INSUFFICIENT_STOCK

    def __init__(self, shortages: list[Shortage]) -> None:
        self.shortages = shortages
        first = shortages[0]
        message = (
            f"Not enough {first.sku} in {first.warehouse_code}: "
            f"{first.requested} requested, {first.available} available."
            if len(shortages) == 1
            else f"Not enough stock for {len(shortages)} lines."
        )
        super().__init__(
            message,
            details={"available": _fmt(first.available), "lines": [s.as_dict() for s in shortages]},
        )


class FractionalQuantitiesHeld(Conflict):
    """409 ``fractional_quantities``: a product cannot be counted in a whole-number unit
    while stock levels, reservations or open order lines hold a fraction of it;
    ``details.holders`` names them (kind, id, label)."""

    code = "fractional_quantities"

    def __init__(self, *, product: Any, unit: str, holders: list[dict[str, str]]) -> None:
        named = "; ".join(h["label"] for h in holders[:3]) + ("; ..." if len(holders) > 3 else "")
        super().__init__(
            f"{product.sku} cannot be counted in {unit} while fractions of it are held ({named}). "
            "Bring them to whole numbers first (adjust the stock, change or finish the orders).",
            details={"unit": unit, "holders": holders},
        )
