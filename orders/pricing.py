"""Order totals: one function, explicit rounding.

Per line, in the order's currency, each amount rounded half-up to cents:

    subtotal = round(quantity x unit_price)
    discount = round(subtotal x discount_percent / 100)
    tax      = round((subtotal - discount) x tax_rate / 100)
    total    = subtotal - discount + tax

The order's subtotal, discount, tax and total are the sums of its lines' (so the
order total always equals subtotal - discount + tax, to the cent).

Every amount must fit its column (``core.numbers.AMOUNT``): the arithmetic runs
exactly, and an amount that would not fit raises ``AmountTooLarge`` (400
``amount_too_large``) before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

from core.errors import AmountTooLarge
from core.numbers import AMOUNT

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


def _check(what: str, amounts: LineAmounts | Totals) -> None:
    for name in ("subtotal", "discount", "tax", "total"):
        value: Decimal = getattr(amounts, name)
        if not AMOUNT.fits(value):
            raise AmountTooLarge(
                f"The {what} {name} ({value:f}) is over the largest amount, {AMOUNT.column_max:,f}.",
                details={"amount": f"{value:f}", "max_amount": f"{AMOUNT.column_max:f}"},
            )


def line_amounts(
    *, quantity: Decimal, unit_price: Decimal, discount_percent: Decimal, tax_rate: Decimal
) -> LineAmounts:
    with localcontext(prec=100):  # exact: the 28 digits of the default context round large products
        subtotal = money(quantity * unit_price)
        discount = money(subtotal * discount_percent / HUNDRED)
        tax = money((subtotal - discount) * tax_rate / HUNDRED)
        amounts = LineAmounts(subtotal, discount, tax, subtotal - discount + tax)
    _check("line", amounts)
    return amounts


def order_totals(lines: Iterable[LineAmounts]) -> Totals:
    zero = Decimal("0.00")
    subtotal = discount = tax = zero
    with localcontext(prec=100):
        for line in lines:
            subtotal += line.subtotal
            discount += line.discount
            tax += line.tax
        totals = Totals(subtotal, discount, tax, subtotal - discount + tax)
    _check("order", totals)
    return totals
