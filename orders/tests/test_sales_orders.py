"""Sales orders through the API: drafts, confirm, ship, cancel, return, numbering, history."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import Reservation, StockLevel, StockMovement
from inventory.services.integrity import stock_discrepancies
from orders.models import SalesOrder
from tenants.models import Role
from tenants.tests.factories import client_for, make_member

pytestmark = pytest.mark.django_db
URL = "/api/v1/sales-orders/"


def _draft(client, shop, *lines, **extra):
    body = {
        "customer": str(shop.customer.id),
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


def _level(product, shop):
    return StockLevel.objects.get(product=product, warehouse=shop.wh)


def test_draft_snapshots_prices_and_computes_totals(client_a, shop):
    order = _draft(
        client_a,
        shop,
        (shop.bolt, 10, {}),
        (shop.saw, 1, {"unit_price": "18.00", "discount_percent": "10", "tax_rate": "20"}),
    )

    assert order["status"] == "draft" and order["number"] is None
    assert [line["unit_price"] for line in order["lines"]] == ["0.5000", "18.0000"]
    # bolt 10 x 0.50 = 5.00; saw 18.00 - 1.80 discount + 3.24 tax = 19.44
    assert (order["subtotal"], order["discount_total"], order["tax_total"], order["total"]) == (
        "23.00",
        "1.80",
        "3.24",
        "24.44",
    )
    assert order["history"][0]["to_status"] == "draft"
    # A later price change does not touch the order.
    client_a.patch(f"/api/v1/products/{shop.bolt.id}/", {"selling_price": "9.99"})
    assert client_a.get(f"{URL}{order['id']}/").json()["lines"][0]["unit_price"] == "0.5000"


def test_drafts_are_edited_and_deleted_but_not_after_confirmation(client_a, shop):
    order = _draft(client_a, shop, (shop.bolt, 1, {}))

    edited = client_a.patch(
        f"{URL}{order['id']}/",
        {
            "notes": "Leave at the back door",
            "lines": [{"product": str(shop.saw.id), "warehouse": str(shop.wh.id), "quantity": "2"}],
        },
    )
    assert edited.status_code == 200 and edited.json()["total"] == "40.00"
    assert [line["product"]["sku"] for line in edited.json()["lines"]] == ["SAW"]
    _act(client_a, order, "confirm")

    late_edit = client_a.patch(f"{URL}{order['id']}/", {"notes": "x"})
    late_delete = client_a.delete(f"{URL}{order['id']}/")

    assert late_edit.status_code == late_delete.status_code == 409
    assert late_edit.json()["code"] == "invalid_transition"
    assert late_edit.json()["details"]["status"] == "confirmed"
    other = _draft(client_a, shop, (shop.bolt, 1, {}))
    assert client_a.delete(f"{URL}{other['id']}/").status_code == 204


def test_confirm_reserves_numbers_and_records_who(client_a, owner_a, shop):
    order = _draft(client_a, shop, (shop.bolt, 10, {}))

    confirmed = _act(client_a, order, "confirm")

    assert confirmed.status_code == 200
    body = confirmed.json()
    assert body["status"] == "confirmed" and body["number"] == "SO-000001"
    assert body["history"][-1]["from_status"] == "draft"
    assert body["history"][-1]["user"] == owner_a.user.email
    level = _level(shop.bolt, shop)
    assert (level.on_hand, level.reserved) == (Decimal("100"), Decimal("10"))
    assert stock_discrepancies() == []


def test_confirm_is_atomic_and_names_each_short_line(client_a, shop):
    order = _draft(client_a, shop, (shop.bolt, 10, {}), (shop.saw, 6, {}))

    response = _act(client_a, order, "confirm")

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "insufficient_stock"
    assert [(line["sku"], line["available"]) for line in body["details"]["lines"]] == [("SAW", "5.0000")]
    assert _level(shop.bolt, shop).reserved == 0  # the bolt line was not reserved either
    assert SalesOrder.objects.get(pk=order["id"]).status == "draft"
    assert SalesOrder.objects.get(pk=order["id"]).number is None


def test_numbers_are_sequential_without_gaps_and_prefix_is_configurable(client_a, shop):
    first = _draft(client_a, shop, (shop.bolt, 1, {}))
    short = _draft(client_a, shop, (shop.saw, 99, {}))
    _act(client_a, first, "confirm")
    assert _act(client_a, short, "confirm").status_code == 409  # a failed confirmation uses no number
    assert (
        client_a.patch("/api/v1/orders/numbering/", {"sales_prefix": "WEB"}).json()["next_sales_number"] == "WEB-000002"
    )
    second = _draft(client_a, shop, (shop.bolt, 1, {}))

    assert _act(client_a, second, "confirm").json()["number"] == "WEB-000002"


def test_ship_in_parts_then_fulfilled(client_a, shop):
    order = _draft(client_a, shop, (shop.bolt, 10, {}), (shop.saw, 2, {}))
    _act(client_a, order, "confirm")
    bolt_line, saw_line = (line["id"] for line in order["lines"])

    first = _act(
        client_a,
        order,
        "ship",
        {"lines": [{"line": bolt_line, "quantity": "4"}], "carrier": "DHL", "tracking_number": "JD0146"},
    )
    too_much = _act(client_a, order, "ship", {"lines": [{"line": bolt_line, "quantity": "7"}]})
    rest = _act(
        client_a, order, "ship", {"lines": [{"line": bolt_line, "quantity": "6"}, {"line": saw_line, "quantity": "2"}]}
    )

    assert first.json()["status"] == "partially_fulfilled"
    assert first.json()["shipments"][0]["carrier"] == "DHL"
    assert too_much.status_code == 400
    assert too_much.json()["fields"]["lines.0.quantity"][0]["code"] == "more_than_outstanding"
    assert rest.json()["status"] == "fulfilled"
    assert [line["shipped_quantity"] for line in rest.json()["lines"]] == ["10.0000", "2.0000"]
    level = _level(shop.bolt, shop)
    assert (level.on_hand, level.reserved) == (Decimal("90"), Decimal("0"))
    movements = StockMovement.objects.filter(reference_id=bolt_line)
    assert sorted(movements.values_list("kind", flat=True)) == ["issue", "issue", "release", "release", "reservation"]
    assert not Reservation.objects.filter(closed_at__isnull=True).exists()
    assert _act(client_a, order, "ship", {"lines": [{"line": bolt_line, "quantity": "1"}]}).status_code == 409
    assert stock_discrepancies() == []


def test_ship_rejects_lines_of_other_orders_and_bad_quantities(client_a, shop):
    order = _draft(client_a, shop, (shop.bolt, 10, {}))
    other = _draft(client_a, shop, (shop.bolt, 1, {}))
    _act(client_a, order, "confirm")
    for lines in (
        [{"line": other["lines"][0]["id"], "quantity": "1"}],
        [{"line": order["lines"][0]["id"], "quantity": "0.5"}],
        [{"line": order["lines"][0]["id"], "quantity": "-1"}],
        [{"line": order["lines"][0]["id"], "quantity": "1"}, {"line": order["lines"][0]["id"], "quantity": "1"}],
        [],
        "nonsense",
    ):
        assert _act(client_a, order, "ship", {"lines": lines}).status_code == 400, lines
    assert _level(shop.bolt, shop).on_hand == 100


def test_cancel_releases_what_is_still_reserved(owner_a, shop):
    manager = client_for(make_member(owner_a.tenant, Role.MANAGER))
    order = _draft(manager, shop, (shop.bolt, 10, {}))
    _act(manager, order, "confirm")
    _act(manager, order, "ship", {"lines": [{"line": order["lines"][0]["id"], "quantity": "3"}]})

    cancelled = _act(manager, order, "cancel", {"reason": "Customer changed their mind"})

    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["history"][-1]["note"] == "Customer changed their mind"
    level = _level(shop.bolt, shop)
    assert (level.on_hand, level.reserved) == (Decimal("97"), Decimal("0"))
    again = _act(manager, order, "cancel")
    assert again.status_code == 409 and again.json()["details"]["status"] == "cancelled"
    assert stock_discrepancies() == []


def test_clerk_cancels_drafts_but_only_managers_cancel_confirmed_orders(owner_a, shop):
    clerk = client_for(make_member(owner_a.tenant, Role.CLERK))
    draft = _draft(clerk, shop, (shop.bolt, 1, {}))
    confirmed = _draft(clerk, shop, (shop.bolt, 1, {}))
    _act(clerk, confirmed, "confirm")

    assert _act(clerk, draft, "cancel").json()["status"] == "cancelled"
    refused = _act(clerk, confirmed, "cancel")
    assert refused.status_code == 403 and refused.json()["code"] == "role_required"
    assert _level(shop.bolt, shop).reserved == 1


def test_viewer_cannot_create_or_act(owner_a, shop, client_a):
    viewer = client_for(make_member(owner_a.tenant, Role.VIEWER))
    order = _draft(client_a, shop, (shop.bolt, 1, {}))
    assert viewer.post(URL, {}).status_code == 403
    assert _act(viewer, order, "confirm").status_code == 403
    assert viewer.get(URL).status_code == 200


def test_customer_return_restocks_or_writes_off(client_a, shop):
    order = _draft(client_a, shop, (shop.bolt, 10, {}))
    _act(client_a, order, "confirm")
    line = order["lines"][0]["id"]
    _act(client_a, order, "ship", {"lines": [{"line": line, "quantity": "10"}]})

    restock = _act(
        client_a,
        order,
        "return",
        {"lines": [{"line": line, "quantity": "3", "disposition": "restock"}], "reason": "Wrong size"},
    )
    write_off = _act(
        client_a,
        order,
        "return",
        {"lines": [{"line": line, "quantity": "2", "disposition": "write_off"}], "reason": "Broken"},
    )
    too_many = _act(client_a, order, "return", {"lines": [{"line": line, "quantity": "6", "disposition": "restock"}]})

    assert restock.status_code == write_off.status_code == 200
    assert restock.json()["lines"][0]["returned_quantity"] == "3.0000"
    assert write_off.json()["returns"][1]["lines"][0]["disposition"] == "write_off"
    assert too_many.status_code == 400
    assert _level(shop.bolt, shop).on_hand == Decimal("93")  # 100 - 10 + 3
    assert stock_discrepancies() == []


def test_return_before_shipping_is_an_invalid_transition(client_a, shop):
    order = _draft(client_a, shop, (shop.bolt, 1, {}))
    response = _act(
        client_a,
        order,
        "return",
        {"lines": [{"line": order["lines"][0]["id"], "quantity": "1", "disposition": "restock"}]},
    )
    assert response.status_code == 409 and response.json()["details"]["status"] == "draft"


def test_external_reference_never_duplicates(client_a, shop):
    first = _draft(client_a, shop, (shop.bolt, 1, {}), external_reference="SHOP-1001")
    again = client_a.post(
        URL,
        {
            "customer": str(shop.customer.id),
            "external_reference": "SHOP-1001",
            "lines": [{"product": str(shop.bolt.id), "warehouse": str(shop.wh.id), "quantity": "1"}],
        },
    )
    assert again.status_code == 409
    assert again.json()["code"] == "duplicate_external_reference"
    assert again.json()["details"]["order"] == first["id"]
    assert SalesOrder.objects.count() == 1


def test_invalid_lines_are_field_errors(client_a, shop):
    for lines in (
        [],
        [{"product": str(shop.bolt.id), "warehouse": str(shop.wh.id), "quantity": "1.5"}],
        [{"product": str(shop.bolt.id), "warehouse": str(shop.wh.id), "quantity": "1", "discount_percent": "150"}],
        [{"product": str(shop.bolt.id), "warehouse": str(shop.wh.id), "quantity": "1", "unit_price": "-1"}],
        [{"product": "00000000-0000-0000-0000-000000000000", "warehouse": str(shop.wh.id), "quantity": "1"}],
    ):
        response = client_a.post(URL, {"customer": str(shop.customer.id), "lines": lines})
        assert response.status_code == 400, (lines, response.json())
    assert SalesOrder.objects.count() == 0


def test_filters_search_and_constant_queries(client_a, shop):
    orders = [_draft(client_a, shop, (shop.bolt, 1, {}), (shop.saw, 1, {})) for _ in range(3)]
    _act(client_a, orders[0], "confirm")

    confirmed = client_a.get(URL, {"status": "confirmed"}).json()
    by_number = client_a.get(URL, {"search": "SO-000001"}).json()
    with CaptureQueriesContext(connection) as small:
        client_a.get(URL, {"page_size": "1"})
    with CaptureQueriesContext(connection) as large:
        listed = client_a.get(URL, {"page_size": "3"}).json()

    assert [o["id"] for o in confirmed["results"]] == [orders[0]["id"]]
    assert by_number["count"] == 1
    assert len(listed["results"]) == 3 and len(listed["results"][0]["lines"]) == 2
    assert len(small.captured_queries) == len(large.captured_queries)


def test_stats_by_status_and_day(client_a, shop):
    first = _draft(client_a, shop, (shop.bolt, 10, {}))
    _draft(client_a, shop, (shop.saw, 1, {}))
    _act(client_a, first, "confirm")

    with CaptureQueriesContext(connection) as queries:
        stats = client_a.get("/api/v1/orders/stats/").json()

    assert stats["count"] == 2 and stats["total"] == "25.00"
    assert {row["status"]: row["count"] for row in stats["by_status"]} == {"confirmed": 1, "draft": 1}
    assert len(stats["by_day"]) == 1 and stats["by_day"][0]["count"] == 2
    statements = [q for q in queries.captured_queries if "SAVEPOINT" not in q["sql"] and "membership" not in q["sql"]]
    assert len(statements) == 2
    assert client_a.get("/api/v1/orders/stats/", {"date_from": "not-a-date"}).status_code == 400
