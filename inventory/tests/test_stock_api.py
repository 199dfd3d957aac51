"""Stock operations through the API: the ledger, the levels, the errors."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from inventory.models import StockLevel, StockMovement
from inventory.services.integrity import stock_discrepancies
from inventory.tests.factories import make_product, receive
from tenants.models import Role
from tenants.tests.factories import client_for, make_member

pytestmark = pytest.mark.django_db


def _level(product, warehouse):
    return StockLevel.objects.get(product=product, warehouse=warehouse)


def test_receive_writes_movement_and_level(client_a, bolt, wh):
    response = client_a.post(
        "/api/v1/stock/receive/",
        {"product": str(bolt.id), "warehouse": str(wh.id), "quantity": "10", "unit_cost": "2.00", "note": "PO 7"},
    )

    assert response.status_code == 201, response.json()
    (movement,) = response.json()["movements"]
    assert movement["kind"] == "receipt" and movement["quantity"] == "10.0000"
    assert movement["on_hand_after"] == "10.0000" and movement["note"] == "PO 7"
    assert _level(bolt, wh).on_hand == Decimal("10")
    assert stock_discrepancies() == []


def test_receipts_update_weighted_average_cost(client_a, bolt, wh, wh2):
    client_a.post(
        "/api/v1/stock/receive/",
        {"product": str(bolt.id), "warehouse": str(wh.id), "quantity": "10", "unit_cost": "2.00"},
    )
    client_a.post(
        "/api/v1/stock/receive/",
        {"product": str(bolt.id), "warehouse": str(wh2.id), "quantity": "30", "unit_cost": "4.00"},
    )

    bolt.refresh_from_db()
    assert bolt.average_cost == Decimal("3.5000")  # (10*2 + 30*4) / 40
    valuation = client_a.get("/api/v1/inventory/valuation/").json()
    assert valuation["currency"] == "USD"
    assert valuation["total_value"] == "140.00"
    assert {w["code"]: w["value"] for w in valuation["warehouses"]} == {"MAIN": "35.00", "EAST": "105.00"}
    only_main = client_a.get("/api/v1/inventory/valuation/", {"warehouse": str(wh.id)}).json()
    assert only_main["total_value"] == "35.00"


def test_issue_more_than_available_is_409_and_writes_nothing(client_a, bolt, wh):
    receive(bolt, wh, 5)

    response = client_a.post(
        "/api/v1/stock/issue/", {"product": str(bolt.id), "warehouse": str(wh.id), "quantity": "6"}
    )

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "insufficient_stock"
    assert body["details"]["available"] == "5.0000"
    assert body["details"]["lines"][0]["sku"] == "BOLT-1"
    assert _level(bolt, wh).on_hand == Decimal("5")
    assert StockMovement.objects.filter(kind="issue").count() == 0


def test_issue_from_empty_level_is_409(client_a, bolt, wh):
    response = client_a.post(
        "/api/v1/stock/issue/", {"product": str(bolt.id), "warehouse": str(wh.id), "quantity": "1"}
    )
    assert response.status_code == 409 and response.json()["details"]["available"] == "0.0000"


def test_whole_units_refuse_fractions_and_measured_units_take_four_decimals(client_a, bolt, rope, wh):
    fraction = client_a.post(
        "/api/v1/stock/receive/", {"product": str(bolt.id), "warehouse": str(wh.id), "quantity": "1.5"}
    )
    metres = client_a.post(
        "/api/v1/stock/receive/", {"product": str(rope.id), "warehouse": str(wh.id), "quantity": "12.3456"}
    )
    too_precise = client_a.post(
        "/api/v1/stock/receive/", {"product": str(rope.id), "warehouse": str(wh.id), "quantity": "1.23456"}
    )

    assert fraction.status_code == 400
    assert fraction.json()["fields"]["quantity"][0]["code"] == "fractional_quantity"
    assert metres.status_code == 201 and _level(rope, wh).on_hand == Decimal("12.3456")
    assert too_precise.status_code == 400


@pytest.mark.parametrize(
    "quantity", ["-1", "0", "1e400", "99999999999999999999", "NaN", "Infinity", "abc", None, [], {"a": 1}, True]
)
def test_bad_quantities_are_400(client_a, bolt, wh, quantity):
    response = client_a.post(
        "/api/v1/stock/receive/", {"product": str(bolt.id), "warehouse": str(wh.id), "quantity": quantity}
    )
    assert response.status_code == 400, response.content
    assert "quantity" in response.json()["fields"]


def test_unknown_product_id_is_a_field_error(client_a, wh):
    response = client_a.post(
        "/api/v1/stock/receive/",
        {"product": "00000000-0000-0000-0000-000000000000", "warehouse": str(wh.id), "quantity": "1"},
    )
    assert response.status_code == 400
    assert response.json()["fields"]["product"][0]["code"] == "does_not_exist"


def test_adjust_to_count_and_by_delta(client_a, bolt, wh):
    receive(bolt, wh, 10)
    url = "/api/v1/stock/adjust/"
    base = {"product": str(bolt.id), "warehouse": str(wh.id), "reason": "count"}

    counted = client_a.post(url, {**base, "counted_quantity": "7"})
    same = client_a.post(url, {**base, "counted_quantity": "7"})
    delta = client_a.post(url, {**base, "delta": "-2", "reason": "damage"})
    both = client_a.post(url, {**base, "counted_quantity": "1", "delta": "1"})
    neither = client_a.post(url, base)
    below_zero = client_a.post(url, {**base, "delta": "-100"})

    assert counted.status_code == 201 and counted.json()["movements"][0]["quantity"] == "-3.0000"
    assert same.status_code == 201 and same.json()["movements"] == []
    assert delta.json()["movements"][0]["reason"] == "damage"
    assert both.status_code == neither.status_code == 400
    assert below_zero.status_code == 409
    assert _level(bolt, wh).on_hand == Decimal("5")
    assert stock_discrepancies() == []


def test_transfer_moves_stock_between_warehouses(client_a, bolt, wh, wh2):
    receive(bolt, wh, 10)

    response = client_a.post(
        "/api/v1/stock/transfer/",
        {"product": str(bolt.id), "from_warehouse": str(wh.id), "to_warehouse": str(wh2.id), "quantity": "4"},
    )
    same = client_a.post(
        "/api/v1/stock/transfer/",
        {"product": str(bolt.id), "from_warehouse": str(wh.id), "to_warehouse": str(wh.id), "quantity": "1"},
    )

    assert response.status_code == 201
    out, into = response.json()["movements"]
    assert (out["kind"], out["quantity"], into["kind"], into["quantity"]) == (
        "transfer_out",
        "-4.0000",
        "transfer_in",
        "4.0000",
    )
    assert out["reference_id"] == into["reference_id"]
    assert (_level(bolt, wh).on_hand, _level(bolt, wh2).on_hand) == (Decimal("6"), Decimal("4"))
    assert same.status_code == 400


def test_clerk_moves_stock_and_viewer_cannot(owner_a, bolt, wh):
    clerk = client_for(make_member(owner_a.tenant, Role.CLERK))
    viewer = client_for(make_member(owner_a.tenant, Role.VIEWER))
    body = {"product": str(bolt.id), "warehouse": str(wh.id), "quantity": "1"}

    assert clerk.post("/api/v1/stock/receive/", body).status_code == 201
    assert viewer.post("/api/v1/stock/receive/", body).status_code == 403
    assert viewer.get("/api/v1/stock-levels/").status_code == 200
    assert clerk.post("/api/v1/products/", {"sku": "X", "name": "X"}).status_code == 403


# --- The database itself guards the ledger and the levels -------------------------------------


def test_ledger_rows_cannot_be_updated_or_deleted_by_the_runtime_role(bolt, wh):
    receive(bolt, wh, 1)
    for sql in ["UPDATE inventory_stockmovement SET quantity = 99", "DELETE FROM inventory_stockmovement"]:
        with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)


def test_check_constraints_refuse_negative_and_over_reserved_levels(bolt, wh):
    receive(bolt, wh, 5)
    for sql in [
        "UPDATE inventory_stocklevel SET on_hand = -1",
        "UPDATE inventory_stocklevel SET reserved = -1",
        "UPDATE inventory_stocklevel SET reserved = on_hand + 1",
    ]:
        with pytest.raises(DatabaseError, match="stock_level_"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)


# --- Reads -----------------------------------------------------------------------------------------


def test_stock_levels_filter_below_reorder_point_and_low_stock(client_a, in_a, wh, wh2):
    low = make_product(sku="LOW", reorder_point=Decimal("10"), reorder_quantity=Decimal("50"))
    fine = make_product(sku="FINE", reorder_point=Decimal("10"))
    receive(low, wh, 3)
    receive(low, wh2, 20)
    receive(fine, wh, 30)

    below = client_a.get("/api/v1/stock-levels/", {"below_reorder_point": "true"}).json()
    low_stock = client_a.get("/api/v1/inventory/low-stock/").json()

    assert [(r["product"]["sku"], r["warehouse"]["code"]) for r in below["results"]] == [("LOW", "MAIN")]
    assert low_stock["results"][0]["available"] == "3.0000"
    assert low_stock["results"][0]["suggested_order_quantity"] == "50.0000"
    assert client_a.get("/api/v1/stock-levels/", {"below_reorder_point": "false"}).json()["count"] == 2


def test_movements_are_cursor_paginated_and_filterable(client_a, bolt, wh, wh2):
    for _ in range(3):
        receive(bolt, wh, 1)
    receive(bolt, wh2, 1)

    first = client_a.get("/api/v1/stock-movements/", {"page_size": "2"}).json()
    second = client_a.get(first["next"]).json()
    east = client_a.get("/api/v1/stock-movements/", {"warehouse": str(wh2.id)}).json()
    issues = client_a.get("/api/v1/stock-movements/", {"kind": "issue"}).json()
    future = client_a.get("/api/v1/stock-movements/", {"created_after": "2999-01-01T00:00:00Z"}).json()

    assert len(first["results"]) == 2 and len(second["results"]) == 2
    assert {m["id"] for m in first["results"]}.isdisjoint(m["id"] for m in second["results"])
    assert len(east["results"]) == 1
    assert issues["results"] == [] and future["results"] == []


def test_product_history(client_a, bolt, wh):
    receive(bolt, wh, 5)
    client_a.post("/api/v1/stock/issue/", {"product": str(bolt.id), "warehouse": str(wh.id), "quantity": "2"})

    history = client_a.get(f"/api/v1/products/{bolt.id}/history/").json()

    assert [m["kind"] for m in history["results"]] == ["issue", "receipt"]


def test_check_stock_command_reports_ok_and_discrepancies(in_a, bolt, wh, capsys):
    receive(bolt, wh, 5)
    call_command("check_stock", tenant="alpha")
    assert "Stock invariant holds." in capsys.readouterr().out

    StockLevel.objects.filter(product=bolt).update(on_hand=Decimal("4"))  # a write that bypassed the ledger

    with pytest.raises(Exception, match="1 stock discrepancies"):
        call_command("check_stock", tenant="alpha")
    assert stock_discrepancies()[0]["ledger_on_hand"] == Decimal("5")
