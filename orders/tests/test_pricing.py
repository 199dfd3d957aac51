"""The totals function and its rounding rules (no database)."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orders.pricing import line_amounts, order_totals

D = Decimal


def test_line_amounts_round_half_up_at_each_step():
    amounts = line_amounts(quantity=D("3"), unit_price=D("0.335"), discount_percent=D("10"), tax_rate=D("20"))
    # 3 x 0.335 = 1.005 -> 1.01; discount 0.101 -> 0.10; tax (0.91 x 20 %) = 0.182 -> 0.18
    assert (amounts.subtotal, amounts.discount, amounts.tax, amounts.total) == (
        D("1.01"),
        D("0.10"),
        D("0.18"),
        D("1.09"),
    )


def test_fractional_quantities_and_zero_rates():
    amounts = line_amounts(quantity=D("2.5"), unit_price=D("1.99"), discount_percent=D("0"), tax_rate=D("0"))
    assert (amounts.subtotal, amounts.total) == (D("4.98"), D("4.98"))  # 4.975 -> 4.98


def test_full_discount_leaves_no_tax():
    amounts = line_amounts(quantity=D("1"), unit_price=D("10"), discount_percent=D("100"), tax_rate=D("20"))
    assert (amounts.discount, amounts.tax, amounts.total) == (D("10.00"), D("0.00"), D("0.00"))


def test_order_totals_are_sums_of_lines():
    lines = [
        line_amounts(quantity=D("1"), unit_price=D("9.99"), discount_percent=D("5"), tax_rate=D("7.5")),
        line_amounts(quantity=D("12"), unit_price=D("0.333"), discount_percent=D("0"), tax_rate=D("20")),
    ]
    totals = order_totals(lines)
    assert totals.subtotal == sum(line.subtotal for line in lines)
    assert totals.total == sum(line.total for line in lines) == totals.subtotal - totals.discount + totals.tax


def test_empty_order_totals_are_zero():
    assert order_totals([]).total == D("0.00")


money = st.decimals(min_value=0, max_value=10**6, places=4)
percent = st.decimals(min_value=0, max_value=100, places=2)


@given(
    quantity=st.decimals(min_value=D("0.0001"), max_value=10**6, places=4), price=money, discount=percent, tax=percent
)
def test_amounts_are_cents_and_consistent(quantity, price, discount, tax):
    amounts = line_amounts(quantity=quantity, unit_price=price, discount_percent=discount, tax_rate=tax)
    for value in (amounts.subtotal, amounts.discount, amounts.tax, amounts.total):
        assert value == value.quantize(D("0.01"))
        assert value >= 0
    assert amounts.discount <= amounts.subtotal
    assert amounts.total == amounts.subtotal - amounts.discount + amounts.tax
    assert abs(amounts.subtotal - quantity * price) <= D("0.005")


@pytest.mark.parametrize("value", [D("0.005"), D("0.015"), D("2.675")])
def test_half_cents_round_up(value):
    assert line_amounts(quantity=D(1), unit_price=value, discount_percent=D(0), tax_rate=D(0)).subtotal == (
        value + D("0.005")
    ).quantize(D("0.01"), rounding="ROUND_DOWN")
