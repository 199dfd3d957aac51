"""Defect 11: archived products and inactive warehouses take no stock in, through any
movement; stock can still be moved out of them (issue, transfer out, adjust down)."""

from decimal import Decimal

import pytest

from inventory.models import Product, StockLevel, StockMovement, Warehouse
from inventory.services import stock
from inventory.services.integrity import stock_discrepancies
from inventory.tests.factories import receive

pytestmark = pytest.mark.django_db


def _post(client, operation, **body):
    return client.post(f"/api/v1/stock/{operation}/", {k: str(v) for k, v in body.items()})


def _deactivate(warehouse):
    Warehouse.objects.filter(pk=warehouse.pk).update(is_active=False)


def _archive(product):
    Product.objects.filter(pk=product.pk).update(is_active=False)


def _on_hand(product, warehouse):
    level = StockLevel.objects.filter(product=product, warehouse=warehouse).first()
    return level.on_hand if level else Decimal("0")


def _refused(response, field):
    assert response.status_code == 400, response.json()
    assert response.json()["fields"][field][0]["code"] == "inactive", response.json()


def test_receipt_into_an_inactive_warehouse_is_refused(client_a, bolt, wh):
    _deactivate(wh)

    response = _post(client_a, "receive", product=bolt.id, warehouse=wh.id, quantity=5)

    _refused(response, "warehouse")
    assert StockMovement.objects.count() == 0


def test_receipt_of_an_archived_product_is_refused(client_a, bolt, wh):
    _archive(bolt)

    response = _post(client_a, "receive", product=bolt.id, warehouse=wh.id, quantity=5)

    _refused(response, "product")
    assert StockMovement.objects.count() == 0


def test_transfer_into_an_inactive_warehouse_is_refused(client_a, bolt, wh, wh2):
    receive(bolt, wh, 5)
    _deactivate(wh2)

    response = _post(client_a, "transfer", product=bolt.id, from_warehouse=wh.id, to_warehouse=wh2.id, quantity=2)

    _refused(response, "to_warehouse")
    assert _on_hand(bolt, wh) == Decimal("5") and _on_hand(bolt, wh2) == Decimal("0")
    assert StockMovement.objects.count() == 1


def test_transfer_of_an_archived_product_is_refused(client_a, bolt, wh, wh2):
    receive(bolt, wh, 5)
    _archive(bolt)

    response = _post(client_a, "transfer", product=bolt.id, from_warehouse=wh.id, to_warehouse=wh2.id, quantity=2)

    _refused(response, "product")
    assert StockMovement.objects.count() == 1


def test_upward_adjustment_of_an_inactive_warehouse_is_refused(client_a, bolt, wh):
    receive(bolt, wh, 5)
    _deactivate(wh)

    counted = _post(client_a, "adjust", product=bolt.id, warehouse=wh.id, counted_quantity=8, reason="count")
    delta = _post(client_a, "adjust", product=bolt.id, warehouse=wh.id, delta=1, reason="found")

    _refused(counted, "warehouse")
    _refused(delta, "warehouse")
    assert _on_hand(bolt, wh) == Decimal("5")


def test_stock_moves_out_of_an_inactive_warehouse_and_an_archived_product(client_a, bolt, wh, wh2):
    receive(bolt, wh, 10)
    _deactivate(wh)
    _archive(bolt)

    issued = _post(client_a, "issue", product=bolt.id, warehouse=wh.id, quantity=2)
    counted_down = _post(client_a, "adjust", product=bolt.id, warehouse=wh.id, counted_quantity=4, reason="count")
    Product.objects.filter(pk=bolt.pk).update(is_active=True)  # a transfer into an active place
    moved = _post(client_a, "transfer", product=bolt.id, from_warehouse=wh.id, to_warehouse=wh2.id, quantity=4)
    _archive(bolt)
    to_zero = _post(client_a, "adjust", product=bolt.id, warehouse=wh2.id, counted_quantity=0, reason="scrap")

    assert [r.status_code for r in (issued, counted_down, moved, to_zero)] == [201] * 4
    assert _on_hand(bolt, wh) == Decimal("0") and _on_hand(bolt, wh2) == Decimal("0")
    assert stock_discrepancies() == []


def test_reservation_in_an_inactive_warehouse_is_refused_and_release_works(in_a, bolt, wh):
    receive(bolt, wh, 5)
    (held,) = stock.stock_reserve(source="manual", lines=[stock.LineStock(bolt.id, bolt.id, wh.id, Decimal("2"))])
    _deactivate(wh)

    with pytest.raises(stock.ValidationFailed) as refused:
        stock.stock_reserve(source="manual", lines=[stock.LineStock(wh.id, bolt.id, wh.id, Decimal("1"))])
    released = stock.stock_release(source="manual", reference_ids=[held.reference_id])

    assert refused.value.fields["lines.0.warehouse"][0]["code"] == "inactive"
    assert [m.kind for m in released] == ["release"]
    assert StockLevel.objects.get(product=bolt, warehouse=wh).reserved == Decimal("0")
    assert stock_discrepancies() == []
