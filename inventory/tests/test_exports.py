"""CSV export through the API and Celery (eager in tests, on commit)."""

import csv
import io
import json
from datetime import datetime
from decimal import Decimal

import pytest

from inventory.imports import parse
from inventory.models import Category, Product, StockLevel, StockMovement, Unit
from inventory.services import catalog
from inventory.services.catalog import category_create
from inventory.services.integrity import stock_discrepancies
from inventory.tests.csvjobs import export, upload
from inventory.tests.factories import make_product, receive
from tenants.models import DomainEvent

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


def test_a_finished_export_records_export_finished(owner_a, client_a, in_a, wh, django_capture_on_commit_callbacks):
    receive(make_product(sku="EXP-1"), wh, 5)
    receive(make_product(sku="EXP-2"), wh, 1)

    job, _ = export(client_a, django_capture_on_commit_callbacks, {"kind": "stock_levels"})

    [event] = DomainEvent.objects.filter(type="export.finished")
    assert (event.subject_type, event.subject_id) == ("export_job", job["id"])
    assert event.data == {"kind": "stock_levels", "status": "succeeded", "rows": 2}
    assert event.actor_user_id == owner_a.user_id  # the job acts for the user who started it


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


# --- Round trips: an unchanged export imports as a no-op ---------------------------------------


def _catalog_snapshot():
    products = sorted(Product.objects.values(), key=lambda p: p["sku"])
    categories = sorted(Category.objects.values("id", "name", "parent_id", "path", "depth"), key=lambda c: c["path"])
    return products, categories


def _stock_snapshot():
    levels = sorted(StockLevel.objects.values(), key=lambda lv: (str(lv["product_id"]), str(lv["warehouse_id"])))
    return levels, StockMovement.objects.count()


def _tricky_catalog(wh, wh2):
    """Nested categories (names with separators and backslashes), attributes, an inactive
    product, and text that a spreadsheet would run as a formula."""
    hardware = category_create(name="Hardware")
    bolts = category_create(name="Nuts/bolts > M8", parent=hardware)
    deep = category_create(name="Back\\slash", parent=bolts)
    bolt = make_product(
        sku="-BOLT-1",
        name='=HYPERLINK("http://evil")',
        description="+ zinc plated\nline two",
        category=deep,
        barcode="+4901234567894",
        cost_price=Decimal("0.1"),
        selling_price=Decimal("0.35"),
        reorder_point=Decimal("100"),
        lead_time_days=7,
        attributes={"finish": "zinc", "sizes": [8, 10], "note": "@home"},
        image_url="https://example.com/bolt.png",
    )
    saw = make_product(sku="SAW-1", name="'@quoted", category=hardware, unit=Unit.KILOGRAM)
    make_product(sku="LOOSE-1", name="No category")
    receive(bolt, wh, 500)
    receive(bolt, wh2, 20)
    receive(saw, wh, "2.5")
    saw = catalog.product_update(product=saw, is_active=False)  # archived while holding stock
    return bolt, saw


def test_products_export_round_trip_changes_nothing(client_a, in_a, wh, wh2, django_capture_on_commit_callbacks):
    _tricky_catalog(wh, wh2)
    catalog_before, stock_before = _catalog_snapshot(), _stock_snapshot()
    _, products = export(client_a, django_capture_on_commit_callbacks, {"kind": "products"})

    job = upload(client_a, django_capture_on_commit_callbacks, products)

    assert job["status"] == "succeeded", job
    assert (job["created_count"], job["updated_count"], job["error_count"]) == (0, 3, 0)
    assert _catalog_snapshot() == catalog_before  # every field, updated_at included
    assert _stock_snapshot() == stock_before


def test_products_export_writes_paths_booleans_attributes_and_neutralized_text(
    client_a, in_a, wh, wh2, django_capture_on_commit_callbacks
):
    _tricky_catalog(wh, wh2)

    _, products = export(client_a, django_capture_on_commit_callbacks, {"kind": "products"})

    rows = {row["sku"]: row for row in csv.DictReader(io.StringIO(products))}
    bolt, saw = rows["'-BOLT-1"], rows["SAW-1"]
    assert bolt["category"] == "Hardware > Nuts\\/bolts \\> M8 > Back\\\\slash"
    assert bolt["name"] == '\'=HYPERLINK("http://evil")' and bolt["barcode"] == "'+4901234567894"
    assert bolt["description"] == "'+ zinc plated\nline two"
    assert json.loads(bolt["attributes"]) == {"finish": "zinc", "sizes": [8, 10], "note": "@home"}
    assert (bolt["is_active"], saw["is_active"]) == ("true", "false")
    assert saw["name"] == "''@quoted" and saw["category"] == "Hardware"
    assert rows["LOOSE-1"]["category"] == "" and rows["LOOSE-1"]["attributes"] == "{}"


def test_stock_levels_export_round_trip_changes_nothing(client_a, in_a, wh, wh2, django_capture_on_commit_callbacks):
    _tricky_catalog(wh, wh2)
    catalog_before, stock_before = _catalog_snapshot(), _stock_snapshot()
    _, levels = export(client_a, django_capture_on_commit_callbacks, {"kind": "stock_levels"})

    job = upload(client_a, django_capture_on_commit_callbacks, levels)

    assert job["status"] == "succeeded", job
    assert (job["created_count"], job["updated_count"], job["error_count"]) == (0, 2, 0)
    assert _stock_snapshot() == stock_before  # every level field, and no movement
    assert _catalog_snapshot() == catalog_before


def test_stock_levels_file_counts_each_level(client_a, in_a, wh, wh2, django_capture_on_commit_callbacks):
    bolt, _saw = _tricky_catalog(wh, wh2)
    _, levels = export(client_a, django_capture_on_commit_callbacks, {"kind": "stock_levels"})
    counted = levels.replace(",MAIN,500.0000,", ",MAIN,480,").replace(",EAST,20.0000,", ",EAST,25,")

    job = upload(client_a, django_capture_on_commit_callbacks, counted)

    assert job["status"] == "succeeded", job
    assert {(lv.warehouse.code, lv.on_hand) for lv in StockLevel.objects.filter(product=bolt)} == {
        ("MAIN", 480),
        ("EAST", 25),
    }
    imported = StockMovement.objects.filter(reference_id=job["id"])
    assert sorted((m.warehouse.code, m.quantity) for m in imported) == [("EAST", 5), ("MAIN", -20)]
    assert stock_discrepancies() == []


def test_stock_levels_file_reports_unknown_warehouses_and_repeats(
    client_a, in_a, wh, django_capture_on_commit_callbacks
):
    make_product(sku="BOLT-1", name="Bolt")
    content = "sku,warehouse,on_hand\nBOLT-1,MAIN,5\nBOLT-1,Nowhere,1\nBOLT-1,main,2\nNEW-1,MAIN,1\n"

    job = upload(client_a, django_capture_on_commit_callbacks, content)

    assert job["status"] == "failed"
    assert [(e["row"], e["column"], e["message"]) for e in job["errors"]] == [
        (3, "warehouse", "There is no warehouse with code 'Nowhere'."),
        (4, "warehouse", "This warehouse appears earlier for this SKU."),
        (5, "name", "A new product needs a name."),
    ]
    assert StockLevel.objects.count() == 0 and StockMovement.objects.count() == 0


def test_movements_export_neutralizes_text_keeps_numbers_and_iso_timestamps(
    client_a, in_a, wh, django_capture_on_commit_callbacks
):
    bolt = make_product(sku="BOLT-1", name="Bolt")
    receive(bolt, wh, 10)
    issued = client_a.post(
        "/api/v1/stock/issue/",
        {"product": str(bolt.id), "warehouse": str(wh.id), "quantity": "5", "note": "=1+2"},
        format="json",
    )
    assert issued.status_code == 201, issued.json()

    _, movements = export(client_a, django_capture_on_commit_callbacks, {"kind": "movements"})

    issue = next(row for row in csv.DictReader(io.StringIO(movements)) if row["kind"] == "issue")
    assert issue["quantity"] == "-5.0000" and issue["note"] == "'=1+2"
    created = datetime.fromisoformat(issue["created_at"])
    assert "T" in issue["created_at"] and created == StockMovement.objects.get(kind="issue").created_at


def test_stock_levels_export_timestamps_are_iso_8601(client_a, in_a, wh, django_capture_on_commit_callbacks):
    receive(make_product(sku="BOLT-1", name="Bolt"), wh, 1)

    _, levels = export(client_a, django_capture_on_commit_callbacks, {"kind": "stock_levels"})

    row = next(csv.DictReader(io.StringIO(levels)))
    assert datetime.fromisoformat(row["updated_at"]) == StockLevel.objects.get().updated_at
    assert "T" in row["updated_at"]


def test_stock_levels_rows_of_one_sku_stay_together_across_batches(
    client_a, in_a, wh, wh2, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(parse, "BATCH", 1)
    content = "sku,name,warehouse,on_hand\nNEW-1,New,MAIN,1\nnew-1,New,EAST,2\nNEW-2,Two,MAIN,3\n"

    job = upload(client_a, django_capture_on_commit_callbacks, content)

    assert job["status"] == "succeeded", job
    assert (job["created_count"], job["total_rows"], job["processed_rows"]) == (2, 3, 3)
    assert sorted((lv.product.sku, lv.warehouse.code, lv.on_hand) for lv in StockLevel.objects.all()) == [
        ("NEW-1", "EAST", 2),
        ("NEW-1", "MAIN", 1),
        ("NEW-2", "MAIN", 3),
    ]


def test_an_export_whose_file_is_gone_answers_export_expired(client_a, in_a, wh, django_capture_on_commit_callbacks):
    # The storage's lifecycle (S3: exports/ expire after export_retention_days) removed the
    # file the job still names: a 409 with a code, not a 500 or a link to nothing.
    from django.core.files.storage import default_storage

    from inventory.models import ExportJob

    receive(make_product(sku="GONE-1"), wh, 2)
    job, _ = export(client_a, django_capture_on_commit_callbacks, {"kind": "products"})
    default_storage.delete(ExportJob.objects.get(pk=job["id"]).storage_key)

    response = client_a.get(f"/api/v1/exports/{job['id']}/download/")

    assert response.status_code == 409
    assert response.json()["code"] == "export_expired"
