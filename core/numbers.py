"""The limits of every number Stockroom stores, takes and shows: one set per kind.

Each kind has a database column (``numeric(max_digits, decimal_places)``) and a
largest value that the API and the CSV import accept as input (``max_value``),
lower than what the column holds. The headroom is for what the code computes from
inputs: stock on hand after many receipts, a weighted average cost. Everything the
column can hold can be rendered: the serializer fields built here validate input
against the input limit (which their schema publishes) and render any value exactly,
whatever its size.

| Kind       | Column          | Input                      | Used for                                   |
| ---------- | --------------- | -------------------------- | ------------------------------------------ |
| `QUANTITY` | numeric(18, 4)  | 0 to 9,999,999,999.9999    | stock, order and movement quantities,      |
|            |                 |                            | reorder points and quantities              |
| `PRICE`    | numeric(18, 4)  | 0 to 9,999,999,999.9999    | prices and costs per unit (cost, selling,  |
|            |                 |                            | average and supplier price, unit cost)     |
| `AMOUNT`   | numeric(18, 2)  | computed, never input      | money: line and order subtotals,           |
|            |                 |                            | discounts, taxes and totals                |
| `PERCENT`  | numeric(7, 4)   | 0 to 100                   | discounts and tax rates                    |

An amount that would not fit its column (say, the largest quantity at the largest
price) is refused with ``AmountTooLarge`` (400 ``amount_too_large``). Sums over
many rows (inventory valuation, order statistics) have no column: they are
computed exactly in ``Decimal`` (``exact_sum``, ``quantize``) and rendered with a
``sum_field`` of any size.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal
from functools import cached_property
from typing import Any

from django import forms
from rest_framework import serializers

ZERO = Decimal("0")
# Enough digits for any exact sum this code makes (the default context has 28).
_WIDE = Context(prec=1000, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class NumberKind:
    name: str
    max_digits: int
    decimal_places: int
    max_value: Decimal  # the largest input value the API and the import accept

    @cached_property  # read for every number the import parses
    def quantum(self) -> Decimal:
        """The smallest step: ``0.0001`` for 4 decimal places."""
        return Decimal(1).scaleb(-self.decimal_places)

    @cached_property
    def column_max(self) -> Decimal:
        """The largest value the database column holds."""
        return Decimal(10) ** (self.max_digits - self.decimal_places) - self.quantum

    @property
    def input_digits(self) -> int:
        """``max_digits`` of input: the whole digits of ``max_value`` and the decimal places."""
        return len(str(int(self.max_value))) + self.decimal_places

    @property
    def column(self) -> dict[str, Any]:
        """``max_digits`` and ``decimal_places`` of the model field (``models.DecimalField(**KIND.column)``)."""
        return {"max_digits": self.max_digits, "decimal_places": self.decimal_places}

    def fits(self, value: Decimal) -> bool:
        """Whether the column can hold ``value`` (already rounded to the kind's decimal places)."""
        return abs(value) <= self.column_max

    def form_field(self, *, min_value: Decimal | None = ZERO, **kwargs: Any) -> forms.DecimalField:
        """The web console's input field: the same limits as ``serializer_field``."""
        return forms.DecimalField(
            min_value=min_value,
            max_value=self.max_value,
            max_digits=self.input_digits,
            decimal_places=self.decimal_places,
            **kwargs,
        )

    def serializer_field(
        self, *, min_value: Decimal | None = ZERO, max_value: Decimal | None = None, **kwargs: Any
    ) -> serializers.DecimalField:
        """An input (and output) field: from ``min_value`` (0 unless given; ``-KIND.max_value``
        for signed input) to the kind's ``max_value``; it renders any value the column holds."""
        return ExactDecimalField(
            max_digits=self.input_digits,
            decimal_places=self.decimal_places,
            min_value=min_value,
            max_value=self.max_value if max_value is None else max_value,
            **kwargs,
        )

    def read_field(self, **kwargs: Any) -> serializers.DecimalField:
        """An output field for a stored value of this kind."""
        return ExactDecimalField(**self.column, read_only=True, **kwargs)

    def sum_field(self, **kwargs: Any) -> serializers.DecimalField:
        """An output field for a sum of values of this kind, rendered exactly at any size."""
        return ExactDecimalField(max_digits=None, decimal_places=self.decimal_places, read_only=True, **kwargs)

    def quantize(self, value: Decimal) -> Decimal:
        return quantize(value, self.decimal_places)


QUANTITY = NumberKind("quantity", max_digits=18, decimal_places=4, max_value=Decimal("9999999999.9999"))
PRICE = NumberKind("price", max_digits=18, decimal_places=4, max_value=Decimal("9999999999.9999"))
AMOUNT = NumberKind("amount", max_digits=18, decimal_places=2, max_value=Decimal("9999999999999999.99"))
PERCENT = NumberKind("percent", max_digits=7, decimal_places=4, max_value=Decimal("100"))


def quantize(value: Decimal, places: int, rounding: str = ROUND_HALF_UP) -> Decimal:
    """``value`` rounded to ``places`` decimals whatever its size (``Decimal.quantize``
    in the default 28-digit context fails on larger numbers)."""
    context = Context(prec=max(28, value.adjusted() + places + 2), rounding=rounding)
    return value.quantize(Decimal(1).scaleb(-places), context=context)


def exact_sum(values: Iterable[Decimal]) -> Decimal:
    """The exact sum (``sum()`` rounds to 28 significant digits)."""
    total = ZERO
    for value in values:
        total = _WIDE.add(total, value)
    return total


class ExactDecimalField(serializers.DecimalField):
    """DRF's ``DecimalField`` (``max_digits`` checks input and goes into the schema) that
    renders a value of any size at ``decimal_places``: DRF's own fails (a 500) on a
    value with more than ``max_digits`` digits."""

    def __init__(self, *, max_digits: int | None, decimal_places: int, **kwargs: Any) -> None:
        super().__init__(max_digits=max_digits, decimal_places=decimal_places, **kwargs)
        self.places = decimal_places

    def quantize(self, value: Decimal) -> Decimal:
        return quantize(value, self.places, self.rounding or ROUND_HALF_UP)
