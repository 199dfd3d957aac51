"""core.numbers: the limits per kind and exact rendering at any size."""

from decimal import Decimal

import pytest
from rest_framework.exceptions import ValidationError

from core.numbers import AMOUNT, PERCENT, PRICE, QUANTITY, exact_sum, quantize


def test_each_kind_knows_its_column_and_its_input_limit():
    assert (QUANTITY.column_max, QUANTITY.max_value, QUANTITY.input_digits) == (
        Decimal("99999999999999.9999"),
        Decimal("9999999999.9999"),
        14,
    )
    assert PRICE.column == {"max_digits": 18, "decimal_places": 4}
    assert AMOUNT.column_max == Decimal("9999999999999999.99") and AMOUNT.quantum == Decimal("0.01")
    assert (PERCENT.max_value, PERCENT.input_digits) == (Decimal("100"), 7)
    assert AMOUNT.fits(AMOUNT.column_max) and not AMOUNT.fits(AMOUNT.column_max + AMOUNT.quantum)


def test_serializer_fields_refuse_input_over_the_limit_and_render_any_stored_value():
    field = PRICE.serializer_field()

    assert field.run_validation("9999999999.9999") == Decimal("9999999999.9999")
    for bad in ("4006381333931", "-1", "0.00001", "NaN"):
        with pytest.raises(ValidationError):
            field.run_validation(bad)
    assert field.to_representation(PRICE.column_max) == "99999999999999.9999"
    assert PRICE.read_field().to_representation(Decimal("2.5")) == "2.5000"


def test_sums_are_exact_beyond_the_default_28_digits():
    big = Decimal("9999999999999999980000000000.00000001")  # 36 digits

    total = exact_sum([big, big, Decimal("0.00000001")])

    assert total == Decimal("19999999999999999960000000000.00000003")
    assert quantize(total, 2) == Decimal("19999999999999999960000000000.00")
    assert AMOUNT.sum_field().to_representation(total) == "19999999999999999960000000000.00"
    assert quantize(Decimal("0.005"), 2) == Decimal("0.01")  # half up
