"""Purchase orders through the API: order, receive (tolerance, average cost), cancel, return."""

from decimal import Decimal

import pytest

from inventory.models import Product, StockLevel
from inventory.services import catalog
from inventory.services.integrity import stock_discrepancies
from orders.models import PurchaseOrder
from tenants.models import Role
from tenants.tests.factories import client_for, make_member

pytestmark = pytest.mark.django_db
URL = "/api/v1/purchase-orders/"


def _draft(client, shop, *lines, **extra):
    body = {
        "supplier": str(shop.supplier.id),
        "lines": [
            {"product": str(product.id), "warehouse": str(shop.wh.id), "quantity": str(quantity), **options}
            for product, quantity, options in lines
        ],
        **extra,
    }
    response = client.post(URL, body)
    assert response.status_code == 201, response.json()
    return response.json()


def _act(client, order, action, body=None):
    return client.post(f"{URL}{order['id']}/{action}/", body or {})


def _receive(client, order, *quantities, **extra):
    lines = [{"line": line["id"], "quantity": str(q)} for line, q in zip(order["lines"], quantities, strict=False) if q]
    return _act(client, order, "receive", {"lines": lines, **extra})


def test_draft_takes_the_supplier_price_then_the_cost_price(client_a, shop):
    catalog.supplier_product_create(supplier=shop.supplier, product=shop.bolt, price=Decimal("0.18"))
    order = _draft(client_a, shop, (shop.bolt, 100, {}), (shop.saw, 2, {}))
    assert [line["unit_price"] for line in order["lines"]] == ["0.1800", "8.0000"]
    assert order["total"] == "34.00"


def test_order_numbers_and_receipts_in_parts(client_a, shop):
    order = _draft(client_a, shop, (shop.bolt, 100, {"unit_price": "0.30"}), (shop.saw, 2, {}))

    placed = _act(client_a, order, "order")
    partial = _receive(client_a, order, 40, 0)
    rest = _receive(client_a, order, 60, 2, note="Pallet 2")

    assert placed.json()["number"] == "PO-000001" and placed.json()["status"] == "ordered"
    assert partial.json()["status"] == "partially_received"
    assert rest.json()["status"] == "received"
    assert [line["received_quantity"] for line in rest.json()["lines"]] == ["100.0000", "2.0000"]
    assert StockLevel.objects.get(product=shop.bolt, warehouse=shop.wh).on_hand == Decimal("200")
    # 100 on hand at 0.20, then 100 received at 0.30
    assert Product.objects.get(pk=shop.bolt.pk).average_cost == Decimal("0.2500")
    assert len(rest.json()["receipts"]) == 2
    assert [h["to_status"] for h in rest.json()["history"]] == ["draft", "ordered", "partially_received", "received"]
    assert stock_discrepancies() == []


def test_receipt_uses_the_discounted_price_as_unit_cost(client_a, shop):
    order = _draft(client_a, shop, (shop.saw, 5, {"unit_price": "10.00", "discount_percent": "20"}))
    _act(client_a, order, "order")
    received = _receive(client_a, order, 5)
    assert received.json()["receipts"][0]["lines"][0]["unit_cost"] == "8.0000"


def test_over_receipt_is_refused_unless_within_tolerance(client_a, shop):
    strict = _draft(client_a, shop, (shop.bolt, 100, {}))
    tolerant = _draft(client_a, shop, (shop.bolt, 100, {}), over_receipt_tolerance_percent="5")
    _act(client_a, strict, "order")
    _act(client_a, tolerant, "order")

    refused = _receive(client_a, strict, 101)
    accepted = _receive(client_a, tolerant, 105)
    beyond = _receive(client_a, tolerant, 1)

    assert refused.status_code == 400
    assert refused.json()["fields"]["lines.0.quantity"][0]["code"] == "over_receipt"
    assert accepted.status_code == 200 and accepted.json()["status"] == "received"
    assert beyond.status_code == 409  # received orders take no more receipts
    assert StockLevel.objects.get(product=shop.bolt).on_hand == Decimal("205")


def test_receive_into_another_warehouse(client_a, shop):
    from inventory.tests.factories import make_warehouse

    east = make_warehouse("EAST")
    order = _draft(client_a, shop, (shop.saw, 3, {}))
    _act(client_a, order, "order")
    response = _act(
        client_a,
        order,
        "receive",
        {"lines": [{"line": order["lines"][0]["id"], "quantity": "3", "warehouse": str(east.id)}]},
    )
    assert response.status_code == 200
    assert StockLevel.objects.get(product=shop.saw, warehouse=east).on_hand == 3


def test_cannot_receive_a_draft_or_cancel_after_receiving(owner_a, shop):
    manager = client_for(make_member(owner_a.tenant, Role.MANAGER))
    clerk = client_for(make_member(owner_a.tenant, Role.CLERK))
    order = _draft(manager, shop, (shop.bolt, 10, {}))

    draft_receipt = _receive(manager, order, 1)
    _act(manager, order, "order")
    clerk_cancel = _act(clerk, order, "cancel")
    _receive(manager, order, 1)
    late_cancel = _act(manager, order, "cancel")

    assert draft_receipt.status_code == 409 and draft_receipt.json()["details"]["status"] == "draft"
    assert clerk_cancel.status_code == 403
    assert late_cancel.status_code == 409 and late_cancel.json()["details"]["status"] == "partially_received"
    other = _draft(manager, shop, (shop.bolt, 10, {}))
    _act(manager, other, "order")
    assert _act(manager, other, "cancel").json()["status"] == "cancelled"


def test_return_to_supplier_issues_stock(client_a, shop):
    order = _draft(client_a, shop, (shop.saw, 4, {}))
    _act(client_a, order, "order")
    _receive(client_a, order, 4)
    line = order["lines"][0]["id"]

    returned = _act(client_a, order, "return", {"lines": [{"line": line, "quantity": "2"}], "reason": "Damaged"})
    too_many = _act(client_a, order, "return", {"lines": [{"line": line, "quantity": "3"}]})

    assert returned.status_code == 200 and returned.json()["lines"][0]["returned_quantity"] == "2.0000"
    assert too_many.status_code == 400
    assert StockLevel.objects.get(product=shop.saw).on_hand == Decimal("7")  # 5 + 4 - 2
    assert stock_discrepancies() == []


def test_return_to_supplier_fails_when_the_stock_is_gone(client_a, shop):
    order = _draft(client_a, shop, (shop.saw, 2, {}))
    _act(client_a, order, "order")
    _receive(client_a, order, 2)
    client_a.post("/api/v1/stock/issue/", {"product": str(shop.saw.id), "warehouse": str(shop.wh.id), "quantity": "7"})

    response = _act(client_a, order, "return", {"lines": [{"line": order["lines"][0]["id"], "quantity": "1"}]})

    assert response.status_code == 409 and response.json()["code"] == "insufficient_stock"
    assert PurchaseOrder.objects.get(pk=order["id"]).returns.count() == 0


def test_supplier_in_use_cannot_be_deleted(client_a, shop):
    _draft(client_a, shop, (shop.bolt, 1, {}))
    response = client_a.delete(f"/api/v1/suppliers/{shop.supplier.id}/")
    assert response.status_code == 409 and response.json()["code"] == "in_use"
    customer_order = client_a.post(
        "/api/v1/sales-orders/",
        {
            "customer": str(shop.customer.id),
            "lines": [{"product": str(shop.bolt.id), "warehouse": str(shop.wh.id), "quantity": "1"}],
        },
    )
    assert customer_order.status_code == 201
    assert client_a.delete(f"/api/v1/customers/{shop.customer.id}/").json()["code"] == "in_use"


def test_purchase_stats(client_a, shop):
    order = _draft(client_a, shop, (shop.saw, 1, {}))
    _act(client_a, order, "order")
    stats = client_a.get("/api/v1/orders/stats/", {"type": "purchase"}).json()
    assert stats["type"] == "purchase" and stats["by_status"] == [{"status": "ordered", "count": 1, "total": "8.00"}]
