"""Open order lines holding a fraction block a product's change to a whole-number unit
(orders registers the check with inventory.services.units; inventory never imports orders)."""

import pytest

from inventory.models import Product, Unit
from inventory.tests.factories import make_product, receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def sand(shop):
    return make_product(sku="SAND", unit=Unit.KILOGRAM)


def _order(client, url, party, shop, product, quantity):
    body = {
        party: str(getattr(shop, party).id),
        "lines": [{"product": str(product.id), "warehouse": str(shop.wh.id), "quantity": quantity}],
    }
    response = client.post(url, body)
    assert response.status_code == 201, response.content
    return response.json()


def _set_unit(client, product, unit):
    return client.patch(f"/api/v1/products/{product.id}/", {"unit": unit})


def test_a_draft_sales_line_with_a_fraction_blocks_the_change_until_cancelled(client_a, shop, sand):
    order = _order(client_a, "/api/v1/sales-orders/", "customer", shop, sand, "2.5")

    refused = _set_unit(client_a, sand, Unit.PIECE)

    assert refused.status_code == 409 and refused.json()["code"] == "fractional_quantities"
    assert [h["kind"] for h in refused.json()["details"]["holders"]] == ["sales_order_line"]
    assert Product.objects.get(pk=sand.pk).unit == Unit.KILOGRAM
    assert client_a.post(f"/api/v1/sales-orders/{order['id']}/cancel/", {}).status_code == 200
    assert _set_unit(client_a, sand, Unit.PIECE).status_code == 200


def test_a_confirmed_sales_line_blocks_through_its_reservation_and_line(client_a, shop, sand):
    receive(sand, shop.wh, 3)
    order = _order(client_a, "/api/v1/sales-orders/", "customer", shop, sand, "0.5")
    assert client_a.post(f"/api/v1/sales-orders/{order['id']}/confirm/", {}).status_code == 200

    refused = _set_unit(client_a, sand, Unit.PACK)

    assert refused.status_code == 409
    kinds = {h["kind"] for h in refused.json()["details"]["holders"]}
    assert kinds == {"stock_level", "reservation", "sales_order_line"}


def test_an_ordered_purchase_line_with_a_fraction_blocks_the_change(client_a, shop, sand):
    order = _order(client_a, "/api/v1/purchase-orders/", "supplier", shop, sand, "1.5")
    assert client_a.post(f"/api/v1/purchase-orders/{order['id']}/order/", {}).status_code == 200

    refused = _set_unit(client_a, sand, Unit.PIECE)

    assert refused.status_code == 409
    assert [h["kind"] for h in refused.json()["details"]["holders"]] == ["purchase_order_line"]
    assert Product.objects.get(pk=sand.pk).unit == Unit.KILOGRAM


def test_whole_quantities_on_open_orders_do_not_block_the_change(client_a, shop, sand):
    _order(client_a, "/api/v1/sales-orders/", "customer", shop, sand, "2")
    _order(client_a, "/api/v1/purchase-orders/", "supplier", shop, sand, "7")

    assert _set_unit(client_a, sand, Unit.PIECE).status_code == 200
