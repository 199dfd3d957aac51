"""Reorder point and quantity per stock level, defaulting to the product's: the
low-stock list, the stock-level filter, the suggested quantity and the scan use the
values in effect."""

from decimal import Decimal

import pytest

from inventory.models import LowStockAlert, StockLevel
from inventory.services import alerts
from inventory.tests.factories import make_product, receive
from tenants.models import Role
from tenants.tests.factories import client_for, make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def glue(client_a, in_a, wh, wh2):
    """10 to reorder, 50 at a time; 3 in MAIN and an emptied EAST."""
    product = make_product(sku="GLUE", reorder_point=Decimal("10"), reorder_quantity=Decimal("50"))
    receive(product, wh, 3)
    receive(product, wh2, 1)
    issued = client_a.post(
        "/api/v1/stock/issue/", {"product": str(product.id), "warehouse": str(wh2.id), "quantity": "1"}
    )
    assert issued.status_code == 201
    return product


def _level(product, warehouse):
    return StockLevel.objects.get(product=product, warehouse=warehouse)


def _low(client):
    return [
        (r["warehouse"]["code"], r["suggested_order_quantity"])
        for r in client.get("/api/v1/inventory/low-stock/").json()["results"]
    ]


def test_levels_default_to_the_products_values(client_a, glue, wh):
    assert _low(client_a) == [("EAST", "50.0000"), ("MAIN", "50.0000")]
    level = client_a.get(f"/api/v1/stock-levels/{_level(glue, wh).id}/").json()
    assert (level["reorder_point"], level["reorder_quantity"]) == ("10.0000", "50.0000")
    assert (level["level_reorder_point"], level["level_reorder_quantity"]) == (None, None)


def test_a_level_reorder_point_of_zero_takes_the_warehouse_off_the_low_stock_list(client_a, glue, wh2):
    response = client_a.patch(f"/api/v1/stock-levels/{_level(glue, wh2).id}/", {"reorder_point": "0"})

    assert response.status_code == 200, response.content
    assert (response.json()["reorder_point"], response.json()["level_reorder_point"]) == ("0.0000", "0.0000")
    assert response.json()["reorder_quantity"] == "50.0000"  # still the product's
    assert _low(client_a) == [("MAIN", "50.0000")]
    below = client_a.get("/api/v1/stock-levels/", {"below_reorder_point": "true"}).json()["results"]
    assert [r["warehouse"]["code"] for r in below] == ["MAIN"]


def test_the_suggested_quantity_uses_the_levels_values(client_a, glue, wh):
    level = _level(glue, wh)

    client_a.patch(f"/api/v1/stock-levels/{level.id}/", {"reorder_point": "100", "reorder_quantity": "20"})
    assert dict(_low(client_a))["MAIN"] == "97.0000"  # 100 - 3 available, more than 20
    client_a.patch(f"/api/v1/stock-levels/{level.id}/", {"reorder_point": "5"})
    assert dict(_low(client_a))["MAIN"] == "20.0000"  # the level's quantity, more than 5 - 3

    reset = client_a.patch(f"/api/v1/stock-levels/{level.id}/", {"reorder_point": None, "reorder_quantity": None})

    assert reset.status_code == 200
    assert (reset.json()["reorder_point"], reset.json()["level_reorder_point"]) == ("10.0000", None)
    assert dict(_low(client_a))["MAIN"] == "50.0000"


def test_bad_values_and_clerks_are_refused_and_change_nothing(owner_a, client_a, glue, wh):
    level = _level(glue, wh)
    clerk = client_for(make_member(owner_a.tenant, Role.CLERK))

    for body in ({"reorder_point": "-1"}, {"reorder_quantity": "1e20"}, {"reorder_point": "abc"}):
        response = client_a.patch(f"/api/v1/stock-levels/{level.id}/", body)
        assert response.status_code == 400, (body, response.content)
    assert clerk.patch(f"/api/v1/stock-levels/{level.id}/", {"reorder_point": "1"}).status_code == 403
    assert client_a.put(f"/api/v1/stock-levels/{level.id}/", {"reorder_point": "1"}).status_code == 405
    level.refresh_from_db()
    assert (level.reorder_point, level.reorder_quantity, level.on_hand) == (None, None, Decimal("3"))


def test_the_scan_opens_and_closes_alerts_by_the_levels_values(client_a, glue, wh, wh2):
    client_a.patch(f"/api/v1/stock-levels/{_level(glue, wh2).id}/", {"reorder_point": "0"})

    assert alerts.low_stock_scan() == (1, 0)
    alert = LowStockAlert.objects.get()
    assert (alert.warehouse_id, alert.reorder_point) == (wh.id, Decimal("10"))

    client_a.patch(f"/api/v1/stock-levels/{_level(glue, wh).id}/", {"reorder_point": "2"})

    assert alerts.low_stock_scan() == (0, 1)
    assert not LowStockAlert.objects.filter(closed_at__isnull=True).exists()
