"""Amounts that would not fit their columns (core.numbers.AMOUNT) are 400
``amount_too_large``, and nothing is written."""

from decimal import Decimal

import pytest

from core.errors import AmountTooLarge
from core.numbers import AMOUNT, PRICE, QUANTITY
from inventory.models import Unit
from inventory.tests.factories import make_product
from orders.models import PurchaseOrder, PurchaseOrderLine, SalesOrder, SalesOrderLine
from orders.pricing import line_amounts

pytestmark = pytest.mark.django_db


def _body(party, shop, product, *lines):
    return {
        party: str(getattr(shop, party).id),
        "lines": [
            {"product": str(product.id), "warehouse": str(shop.wh.id), "quantity": quantity, "unit_price": price}
            for quantity, price in lines
        ],
    }


@pytest.fixture
def sand(shop):
    return make_product(sku="SAND", unit=Unit.KILOGRAM)


@pytest.mark.parametrize(
    ("url", "party"), [("/api/v1/sales-orders/", "customer"), ("/api/v1/purchase-orders/", "supplier")]
)
def test_largest_quantity_at_largest_price_is_400_amount_too_large(client_a, shop, sand, url, party):
    body = _body(party, shop, sand, (str(QUANTITY.max_value), str(PRICE.max_value)))

    response = client_a.post(url, body)

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "amount_too_large"
    assert response.json()["details"]["max_amount"] == "9999999999999999.99"
    assert not SalesOrder.objects.exists() and not PurchaseOrder.objects.exists()
    assert not SalesOrderLine.objects.exists() and not PurchaseOrderLine.objects.exists()


def test_lines_that_fit_but_add_up_past_the_limit_are_400(client_a, shop, sand):
    line = ("1000000", "6000000000")  # 6,000,000,000,000,000.00: fits
    assert client_a.post("/api/v1/sales-orders/", _body("customer", shop, sand, line)).status_code == 201

    response = client_a.post("/api/v1/sales-orders/", _body("customer", shop, sand, line, line))

    assert response.status_code == 400 and response.json()["code"] == "amount_too_large"
    assert SalesOrder.objects.count() == 1


def test_editing_a_draft_past_the_limit_is_400_and_keeps_the_draft(client_a, shop, sand):
    order = client_a.post("/api/v1/sales-orders/", _body("customer", shop, sand, ("2", "3"))).json()

    response = client_a.patch(
        f"/api/v1/sales-orders/{order['id']}/",
        {"lines": _body("customer", shop, sand, (str(QUANTITY.max_value), str(PRICE.max_value)))["lines"]},
    )

    assert response.status_code == 400 and response.json()["code"] == "amount_too_large"
    kept = client_a.get(f"/api/v1/sales-orders/{order['id']}/").json()
    assert kept["total"] == "6.00" and [line["quantity"] for line in kept["lines"]] == ["2.0000"]


def test_the_largest_amount_that_fits_is_stored_and_rendered(client_a, shop, sand):
    # 9,999,999,999,900,000.00 + 99,999.99 = 9,999,999,999,999,999.99, the largest amount
    body = _body("customer", shop, sand, ("9999999.9999", "1000000000"), ("1", "99999.99"))
    response = client_a.post("/api/v1/sales-orders/", body)

    assert response.status_code == 201, response.content
    assert response.json()["total"] == f"{AMOUNT.column_max:f}"
    assert client_a.get("/api/v1/sales-orders/").status_code == 200


def test_line_amounts_refuse_a_tax_that_overflows():
    with pytest.raises(AmountTooLarge):
        line_amounts(
            quantity=Decimal("1000000"),
            unit_price=Decimal("6000000000"),
            discount_percent=Decimal("0"),
            tax_rate=Decimal("100"),
        )
