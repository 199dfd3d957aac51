"""Order totals: one function, explicit rounding.

Per line, in the order's currency, each amount rounded half-up to cents:

    subtotal = round(quantity x unit_price)
    discount = round(subtotal x discount_percent / 100)
    tax      = round((subtotal - discount) x tax_rate / 100)
    total    = subtotal - discount + tax

The order's subtotal, discount, tax and total are the sums of its lines' (so the
order total always equals subtotal - discount + tax, to the cent).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
HUNDRED = Decimal("100")


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineAmounts:
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal


def line_amounts(
    *, quantity: Decimal, unit_price: Decimal, discount_percent: Decimal, tax_rate: Decimal
) -> LineAmounts:
    subtotal = money(quantity * unit_price)
    discount = money(subtotal * discount_percent / HUNDRED)
    tax = money((subtotal - discount) * tax_rate / HUNDRED)
    return LineAmounts(subtotal, discount, tax, subtotal - discount + tax)


def order_totals(lines: Iterable[LineAmounts]) -> Totals:
    zero = Decimal("0.00")
    subtotal = discount = tax = zero
    for line in lines:
        subtotal += line.subtotal
        discount += line.discount
        tax += line.tax
    return Totals(subtotal, discount, tax, subtotal - discount + tax)
