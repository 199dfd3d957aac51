"""The stock API for document lines (what orders use): by ids, the caller's source,
all or nothing."""

import uuid
from decimal import Decimal

import pytest

from core.errors import Conflict, ValidationFailed
from inventory.errors import InsufficientStock
from inventory.models import Reservation, StockLevel, StockMovement
from inventory.services import stock
from inventory.services.integrity import stock_discrepancies
from inventory.tests.factories import receive

pytestmark = pytest.mark.django_db


def test_lines_are_written_with_the_callers_source_and_ids(in_a, bolt, wh, wh2):
    first, second = uuid.uuid4(), uuid.uuid4()

    movements = stock.stock_receive_for_lines(
        source="purchase_order_line",
        lines=[
            stock.LineStock(first, bolt.id, wh.id, Decimal("4"), unit_cost=Decimal("2.00")),
            stock.LineStock(second, bolt.id, wh2.id, Decimal("1"), unit_cost=Decimal("2.00")),
        ],
    )

    assert [(m.reference_type, m.reference_id, m.kind) for m in movements] == [
        ("purchase_order_line", first, "receipt"),
        ("purchase_order_line", second, "receipt"),
    ]
    bolt.refresh_from_db()
    assert bolt.average_cost == Decimal("2.0000")


def test_a_short_line_refuses_every_line(in_a, bolt, wh, wh2):
    receive(bolt, wh, 5)

    with pytest.raises(InsufficientStock) as short:
        stock.stock_issue_for_lines(
            source="supplier_return",
            lines=[
                stock.LineStock(uuid.uuid4(), bolt.id, wh.id, Decimal("2")),
                stock.LineStock(uuid.uuid4(), bolt.id, wh2.id, Decimal("1")),
            ],
        )

    assert [line["warehouse_code"] for line in short.value.details["lines"]] == ["EAST"]
    assert StockMovement.objects.count() == 1  # the receipt only


def test_shipping_more_than_reserved_is_a_conflict_and_writes_nothing(in_a, bolt, wh):
    receive(bolt, wh, 5)
    line = uuid.uuid4()
    stock.stock_reserve(source="sales_order_line", lines=[stock.LineStock(line, bolt.id, wh.id, Decimal("2"))])

    with pytest.raises(Conflict) as mismatch:
        stock.stock_issue_reserved(source="sales_order_line", lines=[stock.LineQuantity(line, Decimal("3"))])
    with pytest.raises(Conflict):  # another source's line of the same id is not this reservation
        stock.stock_issue_reserved(source="customer_return", lines=[stock.LineQuantity(line, Decimal("1"))])
    shipped = stock.stock_issue_reserved(source="sales_order_line", lines=[stock.LineQuantity(line, Decimal("2"))])

    assert mismatch.value.code == "reservation_mismatch"
    assert [m.kind for m in shipped] == ["release", "issue"]
    assert Reservation.objects.get(reference_id=line).closed_at is not None
    assert StockLevel.objects.get(product=bolt, warehouse=wh).on_hand == Decimal("3")
    assert stock_discrepancies() == []


def test_unknown_ids_and_bad_sources_are_refused(in_a, bolt, wh):
    missing = uuid.uuid4()

    with pytest.raises(ValidationFailed) as unknown:
        stock.stock_receive_for_lines(
            source="purchase_order_line",
            lines=[stock.LineStock(uuid.uuid4(), bolt.id, missing, Decimal("1"), field="lines.3")],
        )
    with pytest.raises(ValueError, match="source"):
        stock.stock_receive_for_lines(
            source="Purchase Order", lines=[stock.LineStock(uuid.uuid4(), bolt.id, wh.id, Decimal("1"))]
        )

    assert unknown.value.fields["lines.3.warehouse"][0]["code"] == "does_not_exist"
    assert StockMovement.objects.count() == 0
