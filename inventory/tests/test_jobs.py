"""CSV import and export through the API and Celery (eager in tests, on commit)."""

from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from inventory.models import Category, ImportJob, LowStockAlert, Product, StockLevel, StockMovement
from inventory.services import alerts
from inventory.tests.factories import make_product, make_warehouse, receive
from tenants.models import Role
from tenants.tests.factories import make_member

pytestmark = pytest.mark.django_db


def _upload(client, capture, content, name="products.csv", **fields):
    data = {"file": SimpleUploadedFile(name, content.encode() if isinstance(content, str) else content), **fields}
    with capture(execute=True):
        response = client.post("/api/v1/imports/", data, format="multipart")
    assert response.status_code == 202, response.content
    return client.get(f"/api/v1/imports/{response.json()['id']}/").json()


GOOD = (
    "sku,name,category,unit,cost_price,selling_price,reorder_point,attributes,stock:MAIN,stock:EAST\n"
    'BOLT-1,Bolt,Hardware > Bolts,pcs,0.10,0.30,100,"{""finish"": ""zinc""}",500,20\n'
    "ROPE-1,Rope,Hardware > Rope,m,0.50,1.20,,,12.5,\n"
    "SAW-1,Saw,Tools,pcs,8,15,,,,\n"
)


def test_import_creates_products_categories_and_opening_stock(
    client_a, in_a, wh, wh2, django_capture_on_commit_callbacks
):
    job = _upload(client_a, django_capture_on_commit_callbacks, GOOD)

    assert job["status"] == "succeeded", job
    assert (job["total_rows"], job["processed_rows"], job["created_count"], job["error_count"]) == (3, 3, 3, 0)
    bolt = Product.objects.get(sku="BOLT-1")
    assert bolt.category.name == "Bolts" and bolt.category.parent.name == "Hardware"
    assert bolt.attributes == {"finish": "zinc"} and bolt.average_cost == Decimal("0.1000")
    assert Category.objects.filter(name="Hardware").count() == 1
    assert StockLevel.objects.get(product=bolt, warehouse=wh).on_hand == 500
    assert StockLevel.objects.get(product__sku="ROPE-1", warehouse=wh).on_hand == Decimal("12.5")
    movement = StockMovement.objects.filter(product=bolt).latest("created_at")
    assert movement.reference_type == "import_job" and str(movement.reference_id) == job["id"]


def test_reimport_updates_by_sku_and_opening_stock_is_a_count(
    client_a, in_a, wh, wh2, django_capture_on_commit_callbacks
):
    _upload(client_a, django_capture_on_commit_callbacks, GOOD)
    movements = StockMovement.objects.count()

    job = _upload(client_a, django_capture_on_commit_callbacks, "sku,selling_price,stock:main\nbolt-1,0.35,500\n")

    assert job["status"] == "succeeded" and (job["created_count"], job["updated_count"]) == (0, 1)
    bolt = Product.objects.get(sku="BOLT-1")
    assert bolt.selling_price == Decimal("0.35") and bolt.name == "Bolt"
    assert StockMovement.objects.count() == movements  # same count: nothing to adjust


def test_invalid_rows_are_reported_and_nothing_is_imported(client_a, in_a, wh, django_capture_on_commit_callbacks):
    content = (
        "sku,name,unit,cost_price,stock:MAIN\n"
        "OK-1,Fine,pcs,1,5\n"
        "BAD-1,,pcs,1,\n"  # new product without a name
        "BAD-2,Bad,pcs,-3,\n"  # negative price
        "BAD-3,Bad,furlong,1,\n"  # unknown unit
        "BAD-4,Bad,pcs,1,2.5\n"  # fraction of pieces
        "OK-1,Twice,pcs,1,\n"  # duplicate SKU in the file
    )

    job = _upload(client_a, django_capture_on_commit_callbacks, content)

    assert job["status"] == "failed" and "nothing was imported" in job["message"]
    assert {(e["row"], e["column"]) for e in job["errors"]} == {
        (3, "name"),
        (4, "cost_price"),
        (5, "unit"),
        (6, "stock:MAIN"),
        (7, "sku"),
    }
    assert Product.objects.count() == 0 and StockMovement.objects.count() == 0


def test_skip_invalid_rows_imports_the_rest(client_a, in_a, wh, django_capture_on_commit_callbacks):
    content = "sku,name,cost_price\nOK-1,Fine,1\nBAD,Bad,abc\nOK-2,Also fine,2\n"

    job = _upload(client_a, django_capture_on_commit_callbacks, content, skip_invalid_rows="true")

    assert job["status"] == "succeeded" and job["created_count"] == 2 and job["error_count"] == 1
    assert job["errors"] == [{"row": 3, "column": "cost_price", "message": "Not a number."}]
    assert sorted(Product.objects.values_list("sku", flat=True)) == ["OK-1", "OK-2"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name,unit\nx,pcs\n", "The column 'sku' is required."),
        ("sku,colour\nx,red\n", "Unknown columns: colour"),
        ("sku,stock:NOWHERE\nx,1\n", "no warehouse with code 'nowhere'"),
        ("\n", "The file is empty"),
        (b"sku,name\n\xff\xfe,x\n", "not UTF-8"),
    ],
)
def test_unreadable_files_fail_with_a_message(client_a, in_a, wh, django_capture_on_commit_callbacks, content, message):
    job = _upload(client_a, django_capture_on_commit_callbacks, content)
    assert job["status"] == "failed" and message in job["message"]


@override_settings(IMPORT_MAX_BYTES=10)
def test_too_large_upload_is_refused(client_a, in_a):
    response = client_a.post(
        "/api/v1/imports/", {"file": SimpleUploadedFile("big.csv", b"sku\n" * 10)}, format="multipart"
    )
    assert response.status_code == 400 and response.json()["fields"]["file"][0]["code"] == "file_too_large"


def test_import_in_several_batches_reports_progress(client_a, in_a, wh, django_capture_on_commit_callbacks):
    rows = "".join(f"SKU-{n:05d},Product {n},1.5,{n % 7}\n" for n in range(2500))

    job = _upload(client_a, django_capture_on_commit_callbacks, "sku,name,cost_price,stock:MAIN\n" + rows)

    assert job["status"] == "succeeded"
    assert (job["total_rows"], job["processed_rows"], job["created_count"]) == (2500, 2500, 2500)
    assert StockLevel.objects.filter(on_hand__gt=0).count() == sum(1 for n in range(2500) if n % 7)


def test_importing_needs_a_manager(owner_a, in_a):
    from tenants.tests.factories import client_for

    clerk = client_for(make_member(owner_a.tenant, Role.CLERK))
    response = clerk.post("/api/v1/imports/", {"file": SimpleUploadedFile("a.csv", b"sku\n")}, format="multipart")
    assert response.status_code == 403
    assert ImportJob.objects.count() == 0


# --- Export ---------------------------------------------------------------------------------------


def _export(client, capture, body):
    with capture(execute=True):
        response = client.post("/api/v1/exports/", body)
    assert response.status_code == 202, response.content
    job = client.get(f"/api/v1/exports/{response.json()['id']}/").json()
    assert job["status"] == "succeeded", job
    download = client.get(job["download_url"])
    assert download.status_code == 200 and download["Content-Type"] == "text/csv"
    return job, b"".join(download.streaming_content).decode()


def test_export_products_and_filtered_movements(client_a, in_a, wh, wh2, django_capture_on_commit_callbacks):
    bolt = make_product(sku="BOLT-1", name="Bolt")
    receive(bolt, wh, 5)
    receive(bolt, wh2, 3)

    _, products = _export(client_a, django_capture_on_commit_callbacks, {"kind": "products"})
    job, movements = _export(
        client_a, django_capture_on_commit_callbacks, {"kind": "movements", "warehouse": str(wh2.id)}
    )

    assert products.splitlines()[0].startswith("sku,name,description,category")
    assert "BOLT-1,Bolt" in products
    assert job["row_count"] == 1 and ",EAST,3.0000," in movements


def test_export_round_trips_through_import(client_a, in_a, wh, django_capture_on_commit_callbacks):
    make_product(sku="RT-1", name="Round trip", cost_price=Decimal("3"))
    _, products = _export(client_a, django_capture_on_commit_callbacks, {"kind": "products"})

    job = _upload(client_a, django_capture_on_commit_callbacks, products)

    assert job["status"] == "succeeded", job
    assert (job["created_count"], job["updated_count"]) == (0, 1)


def test_export_with_another_tenants_product_is_refused(client_a, client_b, owner_b, in_a):
    from tenants.context import tenant_context

    with tenant_context(owner_b.tenant):
        theirs = make_product(sku="THEIRS")
    response = client_a.post("/api/v1/exports/", {"kind": "products", "product": str(theirs.id)})
    assert response.status_code == 400


# --- Low stock ---------------------------------------------------------------------------------------


def test_low_stock_scan_opens_one_alert_per_level_and_closes_on_restock(in_a, wh):
    product = make_product(sku="LOW", reorder_point=Decimal("10"))
    receive(product, wh, 3)

    assert alerts.low_stock_scan() == (1, 0)
    assert alerts.low_stock_scan() == (0, 0)  # still open: no second alert
    receive(product, wh, 20)
    assert alerts.low_stock_scan() == (0, 1)
    assert LowStockAlert.objects.filter(closed_at__isnull=True).count() == 0


def test_daily_digest_goes_to_managers_and_up(owner_a, in_a, wh):
    manager = make_member(owner_a.tenant, Role.MANAGER)
    make_member(owner_a.tenant, Role.CLERK)
    product = make_product(sku="LOW", name="Low thing", reorder_point=Decimal("10"))
    receive(product, wh, 3)
    alerts.low_stock_scan()

    sent = alerts.low_stock_digest()

    assert sent == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted([owner_a.user.email, manager.user.email])
    assert "LOW Low thing in MAIN" in mail.outbox[0].body


def test_beat_task_fans_out_to_every_active_tenant(owner_a, owner_b, in_a, wh):
    from inventory.tasks import low_stock_scan
    from tenants.context import tenant_context

    receive(make_product(sku="A-LOW", reorder_point=Decimal("5")), wh, 1)
    with tenant_context(owner_b.tenant):
        receive(make_product(sku="B-LOW", reorder_point=Decimal("5")), make_warehouse("BW"), 1)

    with tenant_context(None):
        low_stock_scan.delay()

    assert list(LowStockAlert.objects.values_list("product__sku", flat=True)) == ["A-LOW"]
    with tenant_context(owner_b.tenant):
        assert list(LowStockAlert.objects.values_list("product__sku", flat=True)) == ["B-LOW"]
