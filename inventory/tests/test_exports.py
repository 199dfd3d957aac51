"""CSV export through the API and Celery (eager in tests, on commit)."""

from decimal import Decimal

import pytest

from inventory.tests.csvjobs import export, upload
from inventory.tests.factories import make_product, receive

pytestmark = pytest.mark.django_db


def test_export_products_and_filtered_movements(client_a, in_a, wh, wh2, django_capture_on_commit_callbacks):
    bolt = make_product(sku="BOLT-1", name="Bolt")
    receive(bolt, wh, 5)
    receive(bolt, wh2, 3)

    _, products = export(client_a, django_capture_on_commit_callbacks, {"kind": "products"})
    job, movements = export(
        client_a, django_capture_on_commit_callbacks, {"kind": "movements", "warehouse": str(wh2.id)}
    )

    assert products.splitlines()[0].startswith("sku,name,description,category")
    assert "BOLT-1,Bolt" in products
    assert job["row_count"] == 1 and ",EAST,3.0000," in movements


def test_export_round_trips_through_import(client_a, in_a, wh, django_capture_on_commit_callbacks):
    make_product(sku="RT-1", name="Round trip", cost_price=Decimal("3"))
    _, products = export(client_a, django_capture_on_commit_callbacks, {"kind": "products"})

    job = upload(client_a, django_capture_on_commit_callbacks, products)

    assert job["status"] == "succeeded", job
    assert (job["created_count"], job["updated_count"]) == (0, 1)


def test_export_with_another_tenants_product_is_refused(client_a, client_b, owner_b, in_a):
    from tenants.context import tenant_context

    with tenant_context(owner_b.tenant):
        theirs = make_product(sku="THEIRS")
    response = client_a.post("/api/v1/exports/", {"kind": "products", "product": str(theirs.id)})
    assert response.status_code == 400
