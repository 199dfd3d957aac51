"""Issue 8: a partial edit with an incomplete line (defect 2), stats without cancelled
orders, returns that need a disposition and shipped goods (defect 14), and orders
refused by the stock service's rule for inactive warehouses and archived products
(defect 11)."""

from decimal import Decimal

import pytest

from inventory.models import Reservation, StockLevel, StockMovement, Warehouse
from orders.models import OrderReturn, PurchaseOrder, SalesOrder

pytestmark = pytest.mark.django_db

SALES, PURCHASES = "/api/v1/sales-orders/", "/api/v1/purchase-orders/"


def _draft(client, shop, url, quantity=2, product=None):
    party = {"customer": str(shop.customer.id)} if url == SALES else {"supplier": str(shop.supplier.id)}
    line = {"product": str((product or shop.bolt).id), "warehouse": str(shop.wh.id), "quantity": str(quantity)}
    response = client.post(url, {**party, "lines": [line]})
    assert response.status_code == 201, response.json()
    return response.json()


def _act(client, url, order, action, body=None):
    return client.post(f"{url}{order['id']}/{action}/", body or {})


@pytest.mark.parametrize("url", [SALES, PURCHASES])
def test_patch_draft_with_an_empty_line_is_400_naming_the_missing_fields(client_a, shop, url):
    order = _draft(client_a, shop, url)

    empty = client_a.patch(f"{url}{order['id']}/", {"lines": [{}]})
    partial = client_a.patch(f"{url}{order['id']}/", {"lines": [{"quantity": "1"}]})

    assert empty.status_code == 400, empty.json()
    assert set(empty.json()["fields"]) == {"lines.0.product", "lines.0.warehouse", "lines.0.quantity"}
    assert empty.json()["fields"]["lines.0.product"][0]["code"] == "required"
    assert partial.status_code == 400 and set(partial.json()["fields"]) == {"lines.0.product", "lines.0.warehouse"}
    model = SalesOrder if url == SALES else PurchaseOrder
    stored = model.objects.get(pk=order["id"])
    assert [(line.product_id, line.quantity) for line in stored.lines.all()] == [(shop.bolt.id, Decimal("2"))]


@pytest.mark.parametrize("url", [SALES, PURCHASES])
def test_patch_draft_changes_only_the_fields_given(client_a, shop, url):
    order = _draft(client_a, shop, url)

    response = client_a.patch(f"{url}{order['id']}/", {"notes": "Call before delivery"})

    assert response.status_code == 200, response.json()
    assert response.json()["notes"] == "Call before delivery"
    assert response.json()["lines"][0]["quantity"] == "2.0000" and response.json()["total"] == order["total"]


def test_stats_report_cancelled_orders_apart(client_a, shop):
    kept = _draft(client_a, shop, SALES, quantity=10)  # 5.00
    dropped = _draft(client_a, shop, SALES, quantity=4)  # 2.00
    _act(client_a, SALES, dropped, "cancel")

    stats = client_a.get("/api/v1/orders/stats/").json()

    assert stats["count"] == 1 and stats["total"] == kept["total"] == "5.00"
    assert stats["cancelled"] == {"count": 1, "total": "2.00"}
    assert {row["status"]: row["count"] for row in stats["by_status"]} == {"cancelled": 1, "draft": 1}
    assert [(row["count"], row["total"]) for row in stats["by_day"]] == [(1, "5.00")]


def test_customer_return_without_disposition_is_400_and_restocks_nothing(client_a, shop):
    order = _draft(client_a, shop, SALES, quantity=5)
    _act(client_a, SALES, order, "confirm")
    line = order["lines"][0]["id"]
    _act(client_a, SALES, order, "ship", {"lines": [{"line": line, "quantity": "5"}]})
    on_hand = StockLevel.objects.get(product=shop.bolt, warehouse=shop.wh).on_hand

    response = _act(client_a, SALES, order, "return", {"lines": [{"line": line, "quantity": "2"}]})

    assert response.status_code == 400, response.json()
    assert response.json()["fields"]["lines.0.disposition"][0]["code"] == "required"
    assert StockLevel.objects.get(product=shop.bolt, warehouse=shop.wh).on_hand == on_hand
    assert not OrderReturn.objects.exists()


def test_cancelled_order_that_never_shipped_offers_no_return(client_a, shop):
    order = _draft(client_a, shop, SALES, quantity=3)
    _act(client_a, SALES, order, "confirm")
    _act(client_a, SALES, order, "cancel")
    line = order["lines"][0]["id"]

    again = _act(client_a, SALES, order, "confirm")
    returned = _act(
        client_a, SALES, order, "return", {"lines": [{"line": line, "quantity": "1", "disposition": "restock"}]}
    )

    assert again.status_code == 409 and again.json()["details"]["allowed_actions"] == []
    assert returned.status_code == 409 and returned.json()["code"] == "invalid_transition"
    assert returned.json()["details"]["allowed_actions"] == []
    assert not OrderReturn.objects.exists()


def test_cancelled_order_that_shipped_part_still_offers_return(client_a, shop, owner_a):
    order = _draft(client_a, shop, SALES, quantity=3)
    _act(client_a, SALES, order, "confirm")
    line = order["lines"][0]["id"]
    _act(client_a, SALES, order, "ship", {"lines": [{"line": line, "quantity": "1"}]})
    _act(client_a, SALES, order, "cancel")

    again = _act(client_a, SALES, order, "confirm")
    returned = _act(
        client_a, SALES, order, "return", {"lines": [{"line": line, "quantity": "1", "disposition": "restock"}]}
    )

    assert again.status_code == 409 and again.json()["details"]["allowed_actions"] == ["return"]
    assert returned.status_code == 200, returned.json()


def test_confirm_refuses_a_warehouse_deactivated_after_the_draft(client_a, shop):
    order = _draft(client_a, shop, SALES, quantity=3)
    Warehouse.objects.filter(pk=shop.wh.pk).update(is_active=False)

    response = _act(client_a, SALES, order, "confirm")

    assert response.status_code == 400, response.json()
    assert response.json()["fields"]["lines.0.warehouse"][0]["code"] == "inactive"
    assert not Reservation.objects.exists()
    assert SalesOrder.objects.get(pk=order["id"]).status == "draft"


def test_purchase_receipt_into_an_inactive_warehouse_is_refused(client_a, shop):
    order = _draft(client_a, shop, PURCHASES, quantity=3)
    _act(client_a, PURCHASES, order, "order")
    line = order["lines"][0]["id"]
    Warehouse.objects.filter(pk=shop.wh.pk).update(is_active=False)
    movements = StockMovement.objects.count()

    response = _act(client_a, PURCHASES, order, "receive", {"lines": [{"line": line, "quantity": "3"}]})

    assert response.status_code == 400, response.json()
    assert response.json()["fields"]["lines.0.warehouse"][0]["code"] == "inactive"
    assert StockMovement.objects.count() == movements
    assert PurchaseOrder.objects.get(pk=order["id"]).status == "ordered"


def test_shipping_out_of_a_warehouse_deactivated_after_confirming_works(client_a, shop):
    order = _draft(client_a, shop, SALES, quantity=3)
    _act(client_a, SALES, order, "confirm")
    Warehouse.objects.filter(pk=shop.wh.pk).update(is_active=False)

    response = _act(client_a, SALES, order, "ship", {"lines": [{"line": order["lines"][0]["id"], "quantity": "3"}]})

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "fulfilled"


def test_ledger_keeps_the_orders_source_and_filters_by_it(client_a, shop):
    order = _draft(client_a, shop, SALES, quantity=3)
    _act(client_a, SALES, order, "confirm")
    line = order["lines"][0]["id"]

    listed = client_a.get("/api/v1/stock-movements/", {"reference_type": "sales_order_line", "reference_id": line})
    bad = client_a.get("/api/v1/stock-movements/", {"reference_type": "Sales Order!"})

    assert listed.status_code == 200
    assert [(m["kind"], m["reference_type"]) for m in listed.json()["results"]] == [("reservation", "sales_order_line")]
    assert bad.status_code == 400 and "reference_type" in bad.json()["fields"]
