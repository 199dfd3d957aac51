"""CSV import through the API and Celery (eager in tests, on commit)."""

import uuid
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from inventory.imports import parse, validate, writers
from inventory.models import Category, ImportJob, Product, StockLevel, StockMovement, Unit
from inventory.services.integrity import stock_discrepancies
from inventory.tests.csvjobs import upload
from inventory.tests.factories import make_product, make_warehouse, receive
from tenants.context import tenant_context
from tenants.models import DomainEvent, Role
from tenants.tests.factories import make_member

pytestmark = pytest.mark.django_db


GOOD = (
    "sku,name,category,unit,cost_price,selling_price,reorder_point,attributes,stock:MAIN,stock:EAST\n"
    'BOLT-1,Bolt,Hardware > Bolts,pcs,0.10,0.30,100,"{""finish"": ""zinc""}",500,20\n'
    "ROPE-1,Rope,Hardware > Rope,m,0.50,1.20,,,12.5,\n"
    "SAW-1,Saw,Tools,pcs,8,15,,,,\n"
)


def test_import_creates_products_categories_and_opening_stock(
    client_a, in_a, wh, wh2, django_capture_on_commit_callbacks
):
    job = upload(client_a, django_capture_on_commit_callbacks, GOOD)

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


def _events(type_):
    return list(DomainEvent.objects.filter(type=type_).order_by("txid", "seq"))


def test_import_records_stock_changed_per_opening_movement_and_import_finished(
    owner_a, client_a, in_a, wh, wh2, django_capture_on_commit_callbacks
):
    job = upload(client_a, django_capture_on_commit_callbacks, GOOD)

    movements = {m.id: m for m in StockMovement.objects.all()}
    changed = _events("stock.changed")
    [finished] = _events("import.finished")
    assert len(changed) == len(movements) == 3  # BOLT-1 in MAIN and EAST, ROPE-1 in MAIN; SAW-1 has no stock
    for event in changed:
        movement = movements[uuid.UUID(event.data["movement"])]
        assert (event.subject_type, event.subject_id) == ("product", str(movement.product_id))
        assert event.data["kind"] == "adjustment" and event.data["warehouse"] == str(movement.warehouse_id)
        assert Decimal(event.data["quantity"]) == Decimal(event.data["on_hand_after"]) == movement.quantity
        assert (event.data["reference_type"], event.data["reference_id"]) == ("import_job", job["id"])
        assert event.actor_user_id == owner_a.user_id  # the job acts for the user who started it
    assert (finished.subject_type, finished.subject_id) == ("import_job", job["id"])
    assert finished.actor_user_id == owner_a.user_id
    assert finished.data == {
        "status": "succeeded",
        "file_name": "products.csv",
        "rows": 3,
        "created": 3,
        "updated": 0,
        "failed": 0,
        "message": job["message"],
    }


def test_a_reimport_records_the_stock_service_events_for_existing_products(
    client_a, in_a, wh, wh2, django_capture_on_commit_callbacks
):
    upload(client_a, django_capture_on_commit_callbacks, GOOD)

    upload(client_a, django_capture_on_commit_callbacks, "sku,stock:MAIN\nBOLT-1,450\n")

    last = _events("stock.changed")[-1]
    assert Decimal(last.data["quantity"]) == -50 and Decimal(last.data["on_hand_after"]) == 450
    assert [e.data["updated"] for e in _events("import.finished")] == [0, 1]


def test_a_failed_import_records_import_finished_and_no_stock_changed(
    client_a, in_a, wh, django_capture_on_commit_callbacks
):
    job = upload(
        client_a, django_capture_on_commit_callbacks, "sku,name,unit,stock:MAIN\nOK-1,Fine,pcs,5\nBAD,,pcs,1\n"
    )

    assert job["status"] == "failed"
    assert _events("stock.changed") == []
    [finished] = _events("import.finished")
    assert finished.data["status"] == "failed" and (finished.data["created"], finished.data["failed"]) == (0, 1)


def test_reimport_updates_by_sku_and_opening_stock_is_a_count(
    client_a, in_a, wh, wh2, django_capture_on_commit_callbacks
):
    upload(client_a, django_capture_on_commit_callbacks, GOOD)
    movements = StockMovement.objects.count()

    job = upload(client_a, django_capture_on_commit_callbacks, "sku,selling_price,stock:main\nbolt-1,0.35,500\n")

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

    job = upload(client_a, django_capture_on_commit_callbacks, content)

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

    job = upload(client_a, django_capture_on_commit_callbacks, content, skip_invalid_rows="true")

    assert job["status"] == "succeeded" and job["created_count"] == 2 and job["error_count"] == 1
    assert job["errors"] == [{"row": 3, "column": "cost_price", "message": "Not a number."}]
    assert sorted(Product.objects.values_list("sku", flat=True)) == ["OK-1", "OK-2"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name,unit\nx,pcs\n", "The column 'sku' is required."),
        ("sku,colour\nx,red\n", "Unknown columns: colour"),
        ("sku,stock:NOWHERE\nx,1\n", "no warehouse with code 'NOWHERE'"),
        ("\n", "The file is empty"),
        (b"sku,name\n\xff\xfe,x\n", "not UTF-8"),
    ],
)
def test_unreadable_files_fail_with_a_message(client_a, in_a, wh, django_capture_on_commit_callbacks, content, message):
    job = upload(client_a, django_capture_on_commit_callbacks, content)
    assert job["status"] == "failed" and message in job["message"]


@override_settings(IMPORT_MAX_BYTES=10)
def test_too_large_upload_is_refused(client_a, in_a):
    response = client_a.post(
        "/api/v1/imports/", {"file": SimpleUploadedFile("big.csv", b"sku\n" * 10)}, format="multipart"
    )
    assert response.status_code == 400 and response.json()["fields"]["file"][0]["code"] == "file_too_large"


def test_import_in_several_batches_reports_progress(client_a, in_a, wh, django_capture_on_commit_callbacks):
    rows = "".join(f"SKU-{n:05d},Product {n},1.5,{n % 7}\n" for n in range(2500))

    job = upload(client_a, django_capture_on_commit_callbacks, "sku,name,cost_price,stock:MAIN\n" + rows)

    assert job["status"] == "succeeded"
    assert (job["total_rows"], job["processed_rows"], job["created_count"]) == (2500, 2500, 2500)
    assert StockLevel.objects.filter(on_hand__gt=0).count() == sum(1 for n in range(2500) if n % 7)


def test_importing_needs_a_manager(owner_a, in_a):
    from tenants.tests.factories import client_for

    clerk = client_for(make_member(owner_a.tenant, Role.CLERK))
    response = clerk.post("/api/v1/imports/", {"file": SimpleUploadedFile("a.csv", b"sku\n")}, format="multipart")
    assert response.status_code == 403
    assert ImportJob.objects.count() == 0


def _levels():
    return {(level.product.sku, level.warehouse.code): level.on_hand for level in StockLevel.objects.select_related()}


def test_mixed_file_creates_new_products_and_adjusts_existing_ones(
    client_a, in_a, wh, wh2, django_capture_on_commit_callbacks
):
    old = make_product(sku="OLD-1", name="Old", cost_price=Decimal("2"))
    receive(old, wh, 10)
    content = (
        "sku,name,unit,cost_price,stock:MAIN,stock:EAST\n"
        "NEW-1,New one,pcs,3,7,0\n"
        "old-1,,,,4,2\n"  # existing (case-insensitive): name kept, MAIN 10 -> 4, EAST new level 2
        "NEW-2,New two,kg,1.5,2.25,\n"
    )

    job = upload(client_a, django_capture_on_commit_callbacks, content)

    assert job["status"] == "succeeded", job
    assert (job["created_count"], job["updated_count"], job["processed_rows"]) == (2, 1, 3)
    assert _levels() == {
        ("OLD-1", "MAIN"): 4,
        ("OLD-1", "EAST"): 2,
        ("NEW-1", "MAIN"): 7,
        ("NEW-1", "EAST"): 0,  # a zero count makes a level and no movement
        ("NEW-2", "MAIN"): Decimal("2.25"),
    }
    imported = StockMovement.objects.filter(reference_type="import_job", reference_id=job["id"])
    assert sorted((m.product.sku, m.warehouse.code, m.quantity, m.on_hand_after) for m in imported) == [
        ("NEW-1", "MAIN", 7, 7),
        ("NEW-2", "MAIN", Decimal("2.25"), Decimal("2.25")),
        ("OLD-1", "EAST", 2, 2),
        ("OLD-1", "MAIN", -6, 4),
    ]
    new = imported.get(product__sku="NEW-1")
    assert new.kind == "adjustment" and new.reason == "import" and new.unit_cost == Decimal("3")
    assert new.user_id is not None and new.reserved_after == 0
    product = Product.objects.get(sku="NEW-2")
    assert (product.name, product.unit, product.average_cost, product.is_active) == (
        "New two",
        "kg",
        Decimal("1.5"),
        True,
    )
    assert Product.objects.get(sku="OLD-1").name == "Old"
    assert stock_discrepancies() == []


def test_rerunning_the_same_file_writes_no_movements(client_a, in_a, wh, wh2, django_capture_on_commit_callbacks):
    first = upload(client_a, django_capture_on_commit_callbacks, GOOD)
    movements = StockMovement.objects.count()
    levels = _levels()

    again = upload(client_a, django_capture_on_commit_callbacks, GOOD)

    assert first["status"] == again["status"] == "succeeded"
    assert (again["created_count"], again["updated_count"]) == (0, 3)
    assert movements == 3 and StockMovement.objects.count() == movements
    assert _levels() == levels and Product.objects.count() == 3
    assert stock_discrepancies() == []


def test_file_of_several_batches_reports_progress_and_keeps_the_ledger(
    client_a, in_a, wh, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(parse, "BATCH", 3)
    existing = make_product(sku="P-04", name="Existing")
    receive(existing, wh, 50)
    seen_progress: list[int] = []
    write = writers.Writers._write

    def spy(self, batch, written):
        write(self, batch, written)
        seen_progress.append(ImportJob.objects.get(pk=self.job.pk).processed_rows)

    monkeypatch.setattr(writers.Writers, "_write", spy)
    rows = "".join(f"P-{n:02d},Product {n},{n}\n" for n in range(10))

    job = upload(client_a, django_capture_on_commit_callbacks, "sku,name,stock:MAIN\n" + rows)

    assert job["status"] == "succeeded", job
    # the job's thread records each batch's progress before it hands over the next one
    assert seen_progress == [0, 3, 6, 9]
    assert (job["total_rows"], job["processed_rows"], job["created_count"], job["updated_count"]) == (10, 10, 9, 1)
    assert {sku: on_hand for (sku, _), on_hand in _levels().items()} == {f"P-{n:02d}": n for n in range(10)}
    assert StockMovement.objects.filter(reference_type="import_job").count() == 9  # P-00 counts 0: none
    assert stock_discrepancies() == []


def test_skip_invalid_rows_across_batches_reports_row_and_column(
    client_a, in_a, wh, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(parse, "BATCH", 2)
    content = "sku,name,stock:MAIN\nA,a,1\nB,b,x\nC,c,3\nA,again,4\nD,,5\nE,e,1.5\nF,f,6\n"

    job = upload(client_a, django_capture_on_commit_callbacks, content, skip_invalid_rows="true")

    assert job["status"] == "succeeded", job
    assert [(e["row"], e["column"]) for e in job["errors"]] == [
        (3, "stock:MAIN"),
        (5, "sku"),
        (6, "name"),
        (7, "stock:MAIN"),
    ]
    assert (job["total_rows"], job["processed_rows"], job["created_count"], job["error_count"]) == (7, 7, 3, 4)
    assert {sku: on_hand for (sku, _), on_hand in _levels().items()} == {"A": 1, "C": 3, "F": 6}
    assert Product.objects.get(sku="A").name == "a"
    assert stock_discrepancies() == []


def test_whole_unit_products_take_whole_counts(client_a, in_a, wh, django_capture_on_commit_callbacks):
    make_product(sku="BOX-1", name="Box", unit=Unit.BOX)
    make_product(sku="WIRE-1", name="Wire", unit=Unit.METRE)
    content = "sku,name,unit,stock:MAIN\nBOX-1,,,2.5\nWIRE-1,,,2.5\nNEW-1,New,pack,0.5\nNEW-2,New,l,0.5\n"

    job = upload(client_a, django_capture_on_commit_callbacks, content)

    assert job["status"] == "failed"
    assert [(e["row"], e["column"], e["message"]) for e in job["errors"]] == [
        (2, "stock:MAIN", "box takes whole numbers."),
        (4, "stock:MAIN", "pack takes whole numbers."),
    ]
    assert StockMovement.objects.count() == 0 and Product.objects.count() == 2


def test_barcodes_stay_unique_per_tenant(client_a, in_a, wh, django_capture_on_commit_callbacks):
    make_product(sku="HAS-CODE", name="Has code", barcode="123")
    content = "sku,name,barcode\nNEW-1,New,123\nNEW-2,New,456\nNEW-3,New,456\nhas-code,,123\n"

    job = upload(client_a, django_capture_on_commit_callbacks, content)

    assert [(e["row"], e["column"]) for e in job["errors"]] == [(2, "barcode"), (4, "barcode")]
    assert job["status"] == "failed" and Product.objects.count() == 1


def test_a_batch_that_fails_to_write_fails_the_job_and_imports_nothing(
    client_a, in_a, wh, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(parse, "BATCH", 2)
    validate_batch = validate.validate_batch

    def validate_then_conflict(batch, *args):
        errors = validate_batch(batch, *args)
        if batch[0][0][0] == 4:  # after validating lines 4-5: someone else takes barcode 555
            make_product(sku="OTHER", name="Other", barcode="555")
        return errors

    monkeypatch.setattr(validate, "validate_batch", validate_then_conflict)
    content = "sku,name,barcode,stock:MAIN\nA,a,,1\nB,b,,2\nC,c,555,3\nD,d,,4\n"

    job = upload(client_a, django_capture_on_commit_callbacks, content)

    assert job["status"] == "failed"
    assert job["message"].startswith("Rows from line 4 could not be written (IntegrityError); nothing was imported.")
    assert job["processed_rows"] == 0
    # Batch A-B is rolled back too. (Here the "other user" shares the test's transaction and is
    # rolled back with it; test_import_writers covers a real concurrent writer.)
    assert list(Product.objects.values_list("sku", flat=True)) == []
    assert StockMovement.objects.count() == 0 and stock_discrepancies() == []


def test_an_import_in_tenant_b_never_touches_tenant_a(
    client_b, owner_a, owner_b, in_a, wh, django_capture_on_commit_callbacks
):
    mine = make_product(sku="SAME-1", name="Alpha's", barcode="777")
    receive(mine, wh, 5)
    with tenant_context(owner_b.tenant):
        make_warehouse("MAIN")
        job = upload(client_b, django_capture_on_commit_callbacks, "sku,name,barcode,stock:MAIN\nsame-1,Beta's,777,9\n")
        assert job["status"] == "succeeded" and job["created_count"] == 1, job
        assert [(p.sku, p.name) for p in Product.objects.all()] == [("same-1", "Beta's")]
        assert StockLevel.objects.get().on_hand == 9
        assert stock_discrepancies() == []

    mine.refresh_from_db()
    assert (mine.name, mine.barcode) == ("Alpha's", "777")
    assert list(StockLevel.objects.values_list("on_hand", flat=True)) == [5]
    assert StockMovement.objects.count() == 1 and Product.objects.count() == 1


# --- The import and the API follow the same rules -------------------------------------------


def test_import_updates_updated_at_of_changed_products_only(client_a, in_a, wh, django_capture_on_commit_callbacks):
    changed = make_product(sku="CHANGED-1", name="Old name")
    same = make_product(sku="SAME-1", name="Same")
    before = {p.sku: p.updated_at for p in Product.objects.all()}

    job = upload(client_a, django_capture_on_commit_callbacks, "sku,name\nCHANGED-1,New name\nSAME-1,Same\n")

    assert job["status"] == "succeeded" and job["updated_count"] == 2
    changed.refresh_from_db()
    same.refresh_from_db()
    assert changed.name == "New name" and changed.updated_at > before["CHANGED-1"]
    assert same.updated_at == before["SAME-1"]


def test_api_and_import_start_average_cost_at_the_cost_price(client_a, in_a, wh, django_capture_on_commit_callbacks):
    created = client_a.post("/api/v1/products/", {"sku": "API-1", "name": "By API", "cost_price": "4.5"}, format="json")
    job = upload(client_a, django_capture_on_commit_callbacks, "sku,name,cost_price\nCSV-1,By import,4.5\n")

    assert created.status_code == 201, created.json()
    assert job["status"] == "succeeded"
    assert created.json()["average_cost"] == "4.5000"
    assert {p.sku: p.average_cost for p in Product.objects.all()} == {"API-1": Decimal("4.5"), "CSV-1": Decimal("4.5")}


def test_counting_stock_of_a_new_api_product_values_it_at_the_cost_price(client_a, in_a, wh):
    product = client_a.post("/api/v1/products/", {"sku": "API-1", "name": "By API", "cost_price": "3"}, format="json")

    counted = client_a.post(
        "/api/v1/stock/adjust/",
        {"product": product.json()["id"], "warehouse": str(wh.id), "counted_quantity": "10", "reason": "count"},
        format="json",
    )

    assert counted.status_code == 201, counted.json()
    assert StockMovement.objects.get().unit_cost == Decimal("3")
    valuation = client_a.get("/api/v1/inventory/valuation/").json()
    assert valuation["total_value"] == "30.00"


# --- Malformed files --------------------------------------------------------------------------------


def test_unterminated_quote_names_the_line_where_the_cell_starts(
    client_a, in_a, wh, django_capture_on_commit_callbacks
):
    content = 'sku,name\nA-1,Fine\nA-2,"Never closed\nA-3,Lost\nA-4,Lost too\n'

    job = upload(client_a, django_capture_on_commit_callbacks, content)

    assert job["status"] == "failed"
    assert job["message"].startswith('Line 3: a quoted cell is never closed (a closing " is missing)')
    assert Product.objects.count() == 0


def test_stray_quote_after_a_quoted_cell_names_its_line(client_a, in_a, wh, django_capture_on_commit_callbacks):
    job = upload(client_a, django_capture_on_commit_callbacks, 'sku,name\nA-1,"Bolt"s\n')

    assert job["status"] == "failed" and job["message"].startswith("The CSV is malformed on line 2:")
    assert Product.objects.count() == 0


def test_unknown_warehouse_column_is_named_as_written(client_a, in_a, wh, django_capture_on_commit_callbacks):
    job = upload(client_a, django_capture_on_commit_callbacks, "sku,name,stock:EastSide\nBOLT-1,Bolt,5\n")

    assert job["status"] == "failed"
    assert "no warehouse with code 'EastSide'" in job["message"], job["message"]
    assert Product.objects.count() == 0


def test_counts_into_an_inactive_warehouse_or_archived_product_are_row_errors(
    client_a, in_a, wh, django_capture_on_commit_callbacks
):
    from inventory.services import catalog

    closed = make_warehouse("OLD", name="Closed depot")
    held = make_product(sku="HELD-1", name="Held")
    receive(held, closed, 10)
    archived = make_product(sku="GONE-1", name="Gone")
    receive(archived, wh, 4)
    catalog.warehouse_update(warehouse=closed, is_active=False)
    catalog.product_update(product=archived, is_active=False)
    movements = StockMovement.objects.count()
    content = (
        "sku,name,is_active,stock:MAIN,stock:OLD\n"
        "NEW-1,New,,,3\n"  # new stock into the inactive warehouse
        "HELD-1,,,,12\n"  # counted up in the inactive warehouse
        "GONE-1,,,6,\n"  # counted up while archived
        "NEW-2,New archived,false,1,\n"  # a new product archived with stock
    )

    job = upload(client_a, django_capture_on_commit_callbacks, content)

    assert job["status"] == "failed", job
    assert {(e["row"], e["column"]) for e in job["errors"]} == {
        (2, "stock:OLD"),
        (3, "stock:OLD"),
        (4, "stock:MAIN"),
        (5, "stock:MAIN"),
    }
    assert StockMovement.objects.count() == movements and not Product.objects.filter(sku__startswith="NEW").exists()


def test_counts_down_in_an_inactive_warehouse_or_archived_product_are_imported(
    client_a, in_a, wh, django_capture_on_commit_callbacks
):
    from inventory.services import catalog

    closed = make_warehouse("OLD", name="Closed depot")
    held = make_product(sku="HELD-1", name="Held")
    receive(held, closed, 10)
    receive(held, wh, 5)
    catalog.warehouse_update(warehouse=closed, is_active=False)
    catalog.product_update(product=held, is_active=False)

    job = upload(client_a, django_capture_on_commit_callbacks, "sku,stock:MAIN,stock:OLD\nHELD-1,5,0\n")

    assert job["status"] == "succeeded", job
    assert StockLevel.objects.get(product=held, warehouse=closed).on_hand == 0
    assert StockLevel.objects.get(product=held, warehouse=wh).on_hand == 5
