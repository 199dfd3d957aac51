"""Imports, exports, categories, suppliers and customers in a real browser (Debian's
Chromium through Playwright) against a real server: a manager uploads a CSV with one bad
row through the form and watches the job finish (the Celery broker is down at first, so
the job waits and the page polls; then the task runs), sees the bad row's error and the
good rows in the product list; exports the products and downloads the file; builds a
small category tree (a refused move and a refused delete on the way); adds a supplier
with a price and a customer. axe-core runs on every page (0 serious or critical), and no
page breaks the Content-Security-Policy (``Tab`` of test_browser.py)."""

from __future__ import annotations

import re
from pathlib import Path

from django.db import transaction

from inventory.models import ImportJob, JobStatus
from inventory.tasks import run_import
from inventory.tests.factories import make_warehouse
from tenants.context import tenant_context
from tenants.tests.factories import PASSWORD, make_member, make_tenant
from web.tests.test_browser import ARTIFACTS, Tab

CSV = b"sku,name,category,cost_price,selling_price,stock:MAIN\n" + (
    b"BOLT-M8,Hex bolt M8,Hardware > Bolts,0.12,0.35,100\n"
    b"NUT-M8,Hex nut M8,Hardware > Nuts,0.05,0.15,250\n"
    b"WASHER-M8,Washer M8,Hardware,not a price,0.05,40\n"
    b"SAW-1,Hand saw,Tools,8,15,3\n"
)


def test_a_manager_imports_a_csv_and_looks_after_the_catalogue(server, browser, broker_down):
    tenant = make_tenant(name="Acme Tools", slug="acme-tools")
    owner = make_member(tenant, "owner")
    with tenant_context(tenant):
        make_warehouse("MAIN", name="Main warehouse")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    tab = Tab(context, server)
    page = tab.page
    tab.go("/login/")
    page.get_by_label("Email").fill(owner.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/app/acme-tools/$"))

    # The sidebar's Data group leads to the imports; none yet.
    page.get_by_role("link", name="Imports", exact=True).click()
    page.wait_for_url(re.compile(r"/imports/$"))
    assert page.get_by_text("No imports yet").is_visible()
    tab.check("imports-empty")

    # Upload the CSV, skipping the invalid row. The broker is down: the job waits.
    page.get_by_role("link", name="Import a CSV").first.click()
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "products.csv", "mimeType": "text/csv", "buffer": CSV}]
    )
    page.get_by_label("Import the valid rows and skip the invalid ones").check()
    tab.check("import-form")
    page.get_by_role("button", name="Upload and import").click()
    page.wait_for_url(re.compile(r"/imports/[0-9a-f-]{36}/$"))
    status = page.locator("#job-status")
    assert status.get_attribute("data-status") == "pending"
    assert status.get_attribute("hx-trigger") == "every 1s"
    assert page.get_by_text("Waiting to start").is_visible()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "import-pending.png"), full_page=True)

    # The broker is back and the task runs: the page, polling, sees the job finish.
    broker_down.end()
    job_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    run_import(tenant_id=str(tenant.id), job_id=job_id)
    page.wait_for_selector("#job-status[data-status='succeeded']", timeout=15_000)
    assert page.locator("#job-status").get_attribute("hx-trigger") is None  # polling stopped
    assert page.get_by_text("3 products created, 0 updated. 1 invalid rows skipped.").is_visible()
    errors = page.locator("#import-errors")
    assert errors.get_by_role("cell", name="4", exact=True).is_visible()
    assert errors.get_by_role("cell", name="cost_price").is_visible()
    assert errors.get_by_role("cell", name=re.compile("Not a number")).is_visible()
    tab.check("import-finished")
    with tenant_context(tenant), transaction.atomic():
        assert ImportJob.objects.get(pk=job_id).status == JobStatus.SUCCEEDED

    # The good rows are in the product list; the bad one is not.
    page.get_by_role("link", name="See the products").click()
    page.wait_for_url(re.compile(r"/products/$"))
    for sku in ("BOLT-M8", "NUT-M8", "SAW-1"):
        assert page.get_by_role("link", name=sku).is_visible()
    assert page.get_by_role("link", name="WASHER-M8").count() == 0
    tab.go("/app/acme-tools/imports/")
    assert page.get_by_role("link", name="products.csv").is_visible()
    tab.check("imports")

    # Export the products (Celery runs at once now) and download the file.
    page.get_by_role("link", name="Exports", exact=True).click()
    page.wait_for_url(re.compile(r"/exports/$"))
    tab.check("exports-empty")
    page.get_by_role("link", name="New export").click()
    page.get_by_label("What to export").select_option("products")
    tab.check("export-form")
    page.get_by_role("button", name="Start the export").click()
    page.wait_for_url(re.compile(r"/exports/[0-9a-f-]{36}/$"))
    assert page.locator("#job-status").get_attribute("data-status") == "succeeded"
    tab.check("export-finished")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the CSV").click()
    exported = Path(download.value.path()).read_text()
    assert exported.startswith("sku,name,") and "BOLT-M8,Hex bolt M8" in exported and "WASHER" not in exported
    tab.go("/app/acme-tools/exports/")
    tab.check("exports")

    # The category tree the import made; a move into its own subtree and a delete are refused.
    page.get_by_role("link", name="Categories", exact=True).click()
    page.wait_for_url(re.compile(r"/categories/$"))
    assert page.locator("tr[data-category='Bolts'] td.tree-depth-1").is_visible()
    tab.check("categories")
    page.get_by_role("link", name="Edit Hardware").click()
    page.get_by_label("Parent").select_option(label="\u2014 Bolts")
    page.get_by_role("button", name="Save").click()
    assert page.get_by_text("A category cannot move under itself or one of its descendants.").is_visible()
    assert page.evaluate("document.activeElement.id") == "id_parent"
    tab.check("category-move-refused")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete category").click()
    assert page.get_by_role("alert").get_by_text("Move or delete the subcategories first.").is_visible()
    tab.check("category-delete-refused")
    tab.go("/app/acme-tools/categories/")
    page.get_by_role("link", name="Add under Tools").click()
    page.get_by_label("Name").fill("Saws")
    tab.check("category-form")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/categories/$"))
    assert page.get_by_text("Category Saws created.").is_visible()

    # A supplier with a price, and a customer.
    page.get_by_role("link", name="Suppliers", exact=True).click()
    assert page.get_by_text("No suppliers yet").is_visible()
    tab.check("suppliers-empty")
    page.get_by_role("link", name="Add a supplier").click()
    page.get_by_label("Name", exact=True).fill("Fasteners Direct")
    page.get_by_label("Email").fill("sales@fasteners.example")
    tab.check("supplier-form")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/suppliers/[0-9a-f-]{36}/$"))
    page.get_by_role("link", name="Add the first price").click()
    page.locator("#id_product").fill("bolt-m8")
    page.get_by_label("Supplier's SKU").fill("FD-0088")
    page.get_by_label("Price").fill("0.10")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/suppliers/[0-9a-f-]{36}/$"))
    prices = page.locator("#supplier-prices")
    assert prices.get_by_role("cell", name="FD-0088").is_visible()
    assert prices.get_by_role("cell", name="USD 0.10").is_visible()
    tab.check("supplier")
    tab.go("/app/acme-tools/suppliers/")
    tab.check("suppliers")

    page.get_by_role("link", name="Customers", exact=True).click()
    page.get_by_role("link", name="Add a customer").click()
    page.get_by_label("Name", exact=True).fill("Joinery Ltd")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/customers/[0-9a-f-]{36}/$"))
    tab.check("customer")
    tab.go("/app/acme-tools/customers/?q=joinery")
    assert page.get_by_role("link", name="Joinery Ltd").is_visible()
    tab.check("customers")
    context.close()
