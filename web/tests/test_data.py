"""The console's imports and exports on the real stack (Celery eager, run when the request's
transaction commits): upload a CSV, the job page and its polling, the refused rows, bad
uploads answered with form errors; exports started, watched and downloaded; roles; query
counts."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from inventory.models import ExportJob, ImportJob, JobStatus, Product, StockLevel
from inventory.tests.factories import make_product, make_warehouse, receive
from tenants.context import tenant_context
from tenants.tests.factories import make_member
from web.tests.helpers import console_client, page_queries

pytestmark = pytest.mark.django_db

GOOD_AND_BAD = "sku,name,cost_price,stock:MAIN\nOK-1,Fine,1.50,10\nBAD-1,Broken,abc,\nOK-2,Also fine,2,\n"


def _upload(client, capture, content, name="products.csv", **fields):
    body = {"file": SimpleUploadedFile(name, content.encode() if isinstance(content, str) else content), **fields}
    with capture(execute=True):
        return client.post("/app/alpha/imports/new/", body)


def _jobs(tenant):
    with tenant_context(tenant):
        return list(ImportJob.objects.all())


def _skus(tenant):
    with tenant_context(tenant):
        return sorted(Product.objects.values_list("sku", flat=True))


# --- Imports --------------------------------------------------------------------------------


def test_import_skipping_a_bad_row_shows_its_error_and_imports_the_rest(
    owner, main, tenant_a, django_capture_on_commit_callbacks
):
    response = _upload(owner, django_capture_on_commit_callbacks, GOOD_AND_BAD, skip_invalid_rows="on")

    (job,) = _jobs(tenant_a)
    assert response["Location"] == f"/app/alpha/imports/{job.id}/"
    assert job.status == JobStatus.SUCCEEDED and (job.created_count, job.error_count) == (2, 1)
    page = owner.get(response["Location"]).content.decode()
    assert "Import of products.csv started." in page
    assert 'data-status="succeeded"' in page and 'hx-trigger="every 1s"' not in page
    table = page[page.index('id="import-errors"') :]
    assert '<td class="text-end">3</td><td><code>cost_price</code></td><td>Not a number.</td>' in table
    assert _skus(tenant_a) == ["OK-1", "OK-2"]
    with tenant_context(tenant_a):
        assert StockLevel.objects.get(product__sku="OK-1").on_hand == Decimal("10")


def test_import_without_skipping_imports_nothing_and_says_why(
    owner, main, tenant_a, django_capture_on_commit_callbacks
):
    response = _upload(owner, django_capture_on_commit_callbacks, GOOD_AND_BAD)

    page = owner.get(response["Location"]).content.decode()
    assert 'data-status="failed"' in page and "1 invalid rows: nothing was imported." in page
    assert "Not a number." in page
    assert _skus(tenant_a) == []


def test_the_errors_download_as_csv_with_formulas_neutralized(owner, main, tenant_a):
    with tenant_context(tenant_a):
        job = ImportJob.objects.create(
            file_name="prices (v2).csv",
            storage_key="imports/none.csv",
            status=JobStatus.FAILED,
            errors=[
                {"row": 2, "column": "=cmd", "message": "@SUM(A1)"},
                {"row": 5, "column": "unit", "message": "Bad"},
            ],
            error_count=2,
        )

    response = owner.get(f"/app/alpha/imports/{job.id}/errors/")

    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"] == 'attachment; filename="prices__v2_-errors.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [["row", "column", "message"], ["2", "'=cmd", "'@SUM(A1)"], ["5", "unit", "Bad"]]


def test_the_job_page_polls_while_the_job_runs_and_stops_when_it_ends(owner, tenant_a):
    with tenant_context(tenant_a):
        job = ImportJob.objects.create(
            file_name="big.csv",
            storage_key="imports/none.csv",
            status=JobStatus.RUNNING,
            total_rows=9000,
            processed_rows=5000,
        )
    url = f"/app/alpha/imports/{job.id}/"

    running = owner.get(url).content.decode()
    partial = owner.get(url, HTTP_HX_REQUEST="true").content.decode()

    assert f'hx-get="{url}" hx-trigger="every 1s" hx-swap="outerHTML"' in running
    assert partial.lstrip().startswith('<div id="job-status" data-status="running"') and "<html" not in partial
    assert 'max="9000" value="5000"' in partial and "5,000 of about 9,000 rows written" in partial
    with tenant_context(tenant_a):
        ImportJob.objects.filter(pk=job.pk).update(
            status=JobStatus.SUCCEEDED, message="9000 products created, 0 updated."
        )
    done = owner.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-status="succeeded"' in done and "hx-trigger" not in done and "9000 products created" in done


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("products.xlsx", b"PK\x03\x04binary", "Upload a CSV file"),
        ("products.csv", b"", "The submitted file is empty."),
        ("products.csv", b"name,unit\nx,pcs\n", "The column &#x27;sku&#x27; is required."),
        ("products.csv", b"sku,colour\nx,red\n", "Unknown columns: colour"),
        ("products.csv", b"sku,stock:NOWHERE\nx,1\n", "there is no warehouse with code &#x27;NOWHERE&#x27;"),
        ("products.csv", b"\xff\xfe\x00s\x00k\x00u", "The file is not UTF-8 text"),
        ("products.csv", b'sku,"name\nx,y\n', "a quoted cell is never closed"),
        ("products.csv", b"sku,na\x00me\nx,y\n", "Unknown columns"),
        ("products.csv", b"\n", "The file is empty"),
        ("products.csv", b"x" * 70_000, "The first line is longer than 64 KB"),
    ],
)
def test_bad_uploads_are_form_errors_and_make_no_job(owner, main, tenant_a, name, content, message):
    response = owner.post("/app/alpha/imports/new/", {"file": SimpleUploadedFile(name, content)})

    assert response.status_code == 400
    text = response.content.decode()
    assert message in text and 'id="id_file_error"' in text
    assert _jobs(tenant_a) == []


@override_settings(IMPORT_MAX_BYTES=10)
def test_an_upload_over_the_size_limit_is_a_form_error(owner, main, tenant_a):
    response = owner.post("/app/alpha/imports/new/", {"file": SimpleUploadedFile("big.csv", b"sku\n" * 10)})
    assert response.status_code == 400 and "The file is larger than" in response.content.decode()
    assert _jobs(tenant_a) == []


def test_a_post_without_a_file_is_a_form_error(owner, tenant_a):
    response = owner.post("/app/alpha/imports/new/", {"skip_invalid_rows": "on"})
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    assert _jobs(tenant_a) == []


def test_importing_needs_a_manager(tenant_a, main):
    clerk = console_client(make_member(tenant_a, "clerk"))

    page = clerk.get("/app/alpha/imports/").content.decode()

    assert "No imports yet" in page and "Import a CSV" not in page
    assert clerk.get("/app/alpha/imports/new/").status_code == 403
    refused = clerk.post("/app/alpha/imports/new/", {"file": SimpleUploadedFile("a.csv", b"sku\nX\n")})
    assert refused.status_code == 403
    assert _jobs(tenant_a) == []


def test_import_list_runs_a_constant_number_ofpage_queries(owner, tenant_a, owner_a):
    def jobs(n):
        with tenant_context(tenant_a):
            for i in range(n):
                ImportJob.objects.create(file_name=f"f{i}.csv", storage_key="imports/none.csv", created_by=owner_a.user)

    jobs(1)
    few = page_queries(owner, "/app/alpha/imports/")
    jobs(30)
    assert page_queries(owner, "/app/alpha/imports/") == few
    assert "26\u201331 of 31" in owner.get("/app/alpha/imports/?page=2").content.decode()


def test_a_job_page_runs_a_constant_number_ofpage_queries(owner, tenant_a):
    with tenant_context(tenant_a):
        few_errors = ImportJob.objects.create(
            file_name="a.csv",
            storage_key="k",
            status=JobStatus.FAILED,
            errors=[{"row": 2, "column": "sku", "message": "x"}],
        )
        many_errors = ImportJob.objects.create(
            file_name="b.csv",
            storage_key="k",
            status=JobStatus.FAILED,
            errors=[{"row": n, "column": "sku", "message": "x"} for n in range(2, 900)],
        )
    assert page_queries(owner, f"/app/alpha/imports/{few_errors.id}/") == page_queries(
        owner, f"/app/alpha/imports/{many_errors.id}/?page=3"
    )


# --- Exports --------------------------------------------------------------------------------


def _export(client, capture, body):
    with capture(execute=True):
        return client.post("/app/alpha/exports/new/", body)


def test_export_products_then_download_the_file(owner, main, tenant_a, django_capture_on_commit_callbacks):
    with tenant_context(tenant_a):
        make_product(sku="BOLT-1", name="Bolt")

    response = _export(owner, django_capture_on_commit_callbacks, {"kind": "products"})

    with tenant_context(tenant_a):
        job = ExportJob.objects.get()
    assert response["Location"] == f"/app/alpha/exports/{job.id}/"
    page = owner.get(response["Location"]).content.decode()
    assert 'data-status="succeeded"' in page and "1 row written." in page and "hx-trigger" not in page
    download = owner.get(f"/app/alpha/exports/{job.id}/download/")
    assert download.status_code == 200 and download["Content-Type"] == "text/csv"
    assert "BOLT-1,Bolt" in b"".join(download.streaming_content).decode()
    assert "Download" in owner.get("/app/alpha/exports/").content.decode()


def test_export_movements_of_one_warehouse_and_product_in_a_date_range(
    owner, main, tenant_a, django_capture_on_commit_callbacks
):
    with tenant_context(tenant_a):
        east = make_warehouse("EAST")
        bolt, nut = make_product(sku="BOLT-1"), make_product(sku="NUT-1")
        receive(bolt, main, 5)
        receive(bolt, east, 3)
        receive(nut, east, 4)

    _export(
        owner,
        django_capture_on_commit_callbacks,
        {
            "kind": "movements",
            "warehouse": str(east.id),
            "product": "bolt-1",
            "movement_kind": "receipt",
            "date_from": "2000-01-01",
            "date_to": "9999-12-31",  # the last date there is: no upper bound
        },
    )

    with tenant_context(tenant_a):
        job = ExportJob.objects.get()
    assert job.status == JobStatus.SUCCEEDED and job.row_count == 1
    assert set(job.filters) == {"product", "warehouse", "movement_kind", "created_after"}
    page = owner.get(f"/app/alpha/exports/{job.id}/").content.decode()
    assert "BOLT-1" in page and "EAST" in page and "1 Jan 2000" in page


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "everything"}, "kind"),
        ({"kind": "products", "product": "NOPE"}, "product"),
        ({"kind": "movements", "movement_kind": "theft"}, "movement_kind"),
        ({"kind": "movements", "date_from": "2026-02-01", "date_to": "2026-01-01"}, "date_to"),
        ({"kind": "movements", "date_from": "99999-01-01"}, "date_from"),
        ({"kind": "movements", "warehouse": "not-a-uuid"}, "warehouse"),
    ],
)
def test_hostile_export_input_is_a_form_error(owner, main, tenant_a, body, field):
    response = owner.post("/app/alpha/exports/new/", body)
    assert response.status_code == 400 and f'id="id_{field}_error"' in response.content.decode()
    with tenant_context(tenant_a):
        assert not ExportJob.objects.exists()


def test_another_workspaces_warehouse_is_not_a_valid_export_filter(owner, tenant_a, tenant_b):
    with tenant_context(tenant_b):
        theirs = make_warehouse("THEIRS")
    response = owner.post("/app/alpha/exports/new/", {"kind": "stock_levels", "warehouse": str(theirs.id)})
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    with tenant_context(tenant_a):
        assert not ExportJob.objects.exists()


def test_a_viewer_may_export(tenant_a, django_capture_on_commit_callbacks):
    viewer = console_client(make_member(tenant_a, "viewer"))
    assert "New export" in viewer.get("/app/alpha/exports/").content.decode()
    response = _export(viewer, django_capture_on_commit_callbacks, {"kind": "stock_levels"})
    assert response.status_code == 302
    with tenant_context(tenant_a):
        assert ExportJob.objects.get().status == JobStatus.SUCCEEDED


def test_a_running_export_polls_and_its_download_waits(owner, tenant_a):
    with tenant_context(tenant_a):
        job = ExportJob.objects.create(kind="products", status=JobStatus.RUNNING)
    url = f"/app/alpha/exports/{job.id}/"

    page = owner.get(url).content.decode()
    early = owner.get(url + "download/")

    assert 'hx-trigger="every 1s"' in page and "Download the CSV" not in page
    assert early["Location"] == url
    assert "This export has not finished." in owner.get(url).content.decode()


def test_export_list_runs_a_constant_number_ofpage_queries(owner, tenant_a, owner_a):
    def jobs(n):
        with tenant_context(tenant_a):
            for _ in range(n):
                ExportJob.objects.create(kind="products", status=JobStatus.SUCCEEDED, created_by=owner_a.user)

    jobs(1)
    few = page_queries(owner, "/app/alpha/exports/")
    jobs(30)
    assert page_queries(owner, "/app/alpha/exports/") == few
    assert page_queries(owner, "/app/alpha/exports/?page=2") == few


@pytest.mark.parametrize("path", ["imports/", "exports/"])
@pytest.mark.parametrize("query", ["?page=-1", "?page=abc", "?page=99999999999999999999", "?page=%00"])
def test_job_lists_answer_hostile_query_strings(owner, path, query):
    assert owner.get(f"/app/alpha/{path}{query}").status_code == 200


def test_the_empty_lists_offer_the_first_job(owner):
    assert "Import a CSV" in owner.get("/app/alpha/imports/").content.decode()
    assert "Export to CSV" in owner.get("/app/alpha/exports/").content.decode()
