"""A product moves to a whole-number unit only while no stock of it is a fraction
(inventory.services.units; open order lines: orders/tests/test_unit_change.py)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from inventory.models import Product, Unit
from inventory.tests.factories import receive

pytestmark = pytest.mark.django_db


def _set_unit(client, product, unit):
    return client.patch(f"/api/v1/products/{product.id}/", {"unit": unit})


def test_change_to_pieces_is_409_while_a_level_holds_a_fraction(client_a, rope, wh, wh2):
    receive(rope, wh, "2.5")
    receive(rope, wh2, "4")

    response = _set_unit(client_a, rope, Unit.PIECE)

    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "fractional_quantities"
    assert [(h["kind"], h["label"]) for h in body["details"]["holders"]] == [
        ("stock_level", "MAIN: 2.5000 on hand, 0.0000 reserved")
    ]
    assert "ROPE-1" in body["message"] and "MAIN" in body["message"]
    assert Product.objects.get(pk=rope.pk).unit == Unit.METRE


def test_change_to_pieces_is_allowed_once_the_stock_is_whole(client_a, rope, wh):
    receive(rope, wh, "2.5")
    adjusted = client_a.post(
        "/api/v1/stock/adjust/",
        {"product": str(rope.id), "warehouse": str(wh.id), "counted_quantity": "3", "reason": "count"},
    )
    assert adjusted.status_code == 201

    response = _set_unit(client_a, rope, Unit.PIECE)

    assert response.status_code == 200 and response.json()["unit"] == "pcs"
    issued = client_a.post("/api/v1/stock/issue/", {"product": str(rope.id), "warehouse": str(wh.id), "quantity": "3"})
    assert issued.status_code == 201


def test_change_between_measured_units_keeps_fractions(client_a, rope, wh):
    receive(rope, wh, "2.5")

    response = _set_unit(client_a, rope, Unit.CENTIMETRE)

    assert response.status_code == 200 and response.json()["unit"] == "cm"


def test_import_refuses_a_unit_change_while_a_fraction_is_held(
    client_a, rope, bolt, wh, django_capture_on_commit_callbacks
):
    receive(rope, wh, "2.5")
    content = "sku,unit\nBOLT-1,pcs\nROPE-1,pcs\n"

    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post(
            "/api/v1/imports/", {"file": SimpleUploadedFile("u.csv", content.encode())}, format="multipart"
        )
    job = client_a.get(f"/api/v1/imports/{response.json()['id']}/").json()

    assert job["status"] == "failed"
    assert [(e["row"], e["column"]) for e in job["errors"]] == [(3, "unit")]
    assert Product.objects.get(pk=rope.pk).unit == Unit.METRE
