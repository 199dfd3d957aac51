"""The console's categories, suppliers (with their prices) and customers on the real stack:
the tree and its moves (the services' refusals shown), lists with search and pages,
create, edit, delete (refused while in use), roles, hostile input, query counts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from inventory.models import CATEGORY_MAX_LEVELS, Category, Customer, Product, Supplier, SupplierProduct
from inventory.services import catalog
from inventory.tests.factories import make_product, make_warehouse
from orders.tests.factories import line, make_customer, make_supplier
from tenants.context import tenant_context
from tenants.tests.factories import make_member
from web.tests.helpers import console_client, page_queries

pytestmark = pytest.mark.django_db


def _in(tenant, fn, *args, **kwargs):
    with tenant_context(tenant):
        return fn(*args, **kwargs)


def _categories(tenant):
    with tenant_context(tenant):
        return {c.name: c for c in Category.objects.all()}


# --- Categories -----------------------------------------------------------------------------


def test_category_tree_is_indented_with_product_counts(owner, tenant_a):
    with tenant_context(tenant_a):
        hardware = catalog.category_create(name="Hardware")
        bolts = catalog.category_create(name="Bolts", parent=hardware)
        catalog.category_create(name="Garden")
        catalog.category_create(name="Hardware extra")
        make_product(sku="B-1", category=bolts)
        make_product(sku="B-2", category=bolts)
        make_product(sku="H-1", category=hardware)

    page = owner.get("/app/alpha/categories/").content.decode()

    assert "Categories \u00b7 Alpha Ltd \u00b7 Stockroom" in page
    # Tree order: a category under its parent, before the parent's next sibling; siblings by name.
    assert page.index(">Garden<") < page.index(">Hardware<") < page.index(">Bolts<") < page.index(">Hardware extra<")
    assert 'class="tree-depth-1"' in page and "(in Hardware)" in page
    row = page[page.index('data-category="Hardware"') :].split("</tr>")[0]
    assert [cell.split(">")[-1] for cell in row.split("</td>")[1:3]] == ["1", "3"]  # own, with subcategories
    assert f"/products/?category={bolts.id}" in page


def test_category_list_runs_a_constant_number_ofpage_queries(owner, tenant_a):
    with tenant_context(tenant_a):
        root = catalog.category_create(name="Root")
        make_product(category=root)
    few = page_queries(owner, "/app/alpha/categories/")
    with tenant_context(tenant_a):
        for n in range(30):
            child = catalog.category_create(name=f"Child {n:02}", parent=root)
            make_product(category=child)
    assert page_queries(owner, "/app/alpha/categories/") == few
    assert page_queries(owner, "/app/alpha/categories/?page=2") == few
    assert "26\u201331 of 31" in owner.get("/app/alpha/categories/?page=2").content.decode()


def test_create_a_category_under_a_parent(owner, tenant_a):
    hardware = _in(tenant_a, catalog.category_create, name="Hardware")

    response = owner.post(
        "/app/alpha/categories/new/", {"name": "Bolts", "parent": str(hardware.id), "description": "M4 to M12"}
    )

    assert response["Location"] == "/app/alpha/categories/"
    bolts = _categories(tenant_a)["Bolts"]
    assert (bolts.parent_id, bolts.depth, bolts.description) == (hardware.id, 1, "M4 to M12")
    assert "Category Bolts created." in owner.get("/app/alpha/categories/").content.decode()


def test_a_sibling_with_the_same_name_is_the_services_error_on_the_name(owner, tenant_a):
    _in(tenant_a, catalog.category_create, name="Hardware")

    response = owner.post("/app/alpha/categories/new/", {"name": "hardware"})

    assert response.status_code == 400
    text = response.content.decode()
    assert 'id="id_name_error"' in text and "A sibling category already has this name." in text
    assert len(_categories(tenant_a)) == 1


def test_moving_a_category_under_its_own_descendant_is_refused(owner, tenant_a):
    with tenant_context(tenant_a):
        hardware = catalog.category_create(name="Hardware")
        bolts = catalog.category_create(name="Bolts", parent=hardware)

    response = owner.post(f"/app/alpha/categories/{hardware.id}/edit/", {"name": "Hardware", "parent": str(bolts.id)})

    assert response.status_code == 400
    text = response.content.decode()
    assert 'id="id_parent_error"' in text and "cannot move under itself or one of its descendants" in text
    after = _categories(tenant_a)
    assert after["Hardware"].parent_id is None and after["Bolts"].parent_id == hardware.id


def test_rename_and_move_a_category_with_its_subtree(owner, tenant_a):
    with tenant_context(tenant_a):
        hardware = catalog.category_create(name="Hardware")
        tools = catalog.category_create(name="Tools")
        catalog.category_create(name="Saws", parent=tools)

    response = owner.post(f"/app/alpha/categories/{tools.id}/edit/", {"name": "Hand tools", "parent": str(hardware.id)})

    assert response["Location"] == "/app/alpha/categories/"
    after = _categories(tenant_a)
    assert after["Hand tools"].parent_id == hardware.id and after["Saws"].depth == 2


def test_a_tree_too_deep_is_refused_on_create_and_on_move(owner, tenant_a):
    with tenant_context(tenant_a):
        deepest = catalog.category_create(name="Level 0")
        for level in range(1, CATEGORY_MAX_LEVELS):
            deepest = catalog.category_create(name=f"Level {level}", parent=deepest)
        loose = catalog.category_create(name="Loose")

    created = owner.post("/app/alpha/categories/new/", {"name": "Too deep", "parent": str(deepest.id)})
    moved = owner.post(f"/app/alpha/categories/{loose.id}/edit/", {"name": "Loose", "parent": str(deepest.id)})

    for response in (created, moved):
        assert response.status_code == 400
        assert f"Categories nest at most {CATEGORY_MAX_LEVELS} levels deep." in response.content.decode()
    after = _categories(tenant_a)
    assert "Too deep" not in after and after["Loose"].parent_id is None


def test_deleting_a_category_with_subcategories_is_refused_then_a_leaf_is_deleted(owner, tenant_a):
    with tenant_context(tenant_a):
        hardware = catalog.category_create(name="Hardware")
        bolts = catalog.category_create(name="Bolts", parent=hardware)
        product = make_product(sku="B-1", category=bolts)
    edit = owner.get(f"/app/alpha/categories/{hardware.id}/edit/").content.decode()
    assert 'data-confirm="Delete the category Hardware?' in edit

    refused = owner.post(f"/app/alpha/categories/{hardware.id}/delete/")

    assert refused.status_code == 409
    assert "Move or delete the subcategories first." in refused.content.decode()
    assert set(_categories(tenant_a)) == {"Hardware", "Bolts"}

    deleted = owner.post(f"/app/alpha/categories/{bolts.id}/delete/")

    assert deleted["Location"] == "/app/alpha/categories/"
    assert set(_categories(tenant_a)) == {"Hardware"}
    with tenant_context(tenant_a):
        assert Product.objects.get(pk=product.pk).category_id is None


def test_deleting_a_category_only_takes_post(owner, tenant_a):
    hardware = _in(tenant_a, catalog.category_create, name="Hardware")
    assert owner.get(f"/app/alpha/categories/{hardware.id}/delete/").status_code == 405
    assert set(_categories(tenant_a)) == {"Hardware"}


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x" * 121},
        {"name": ""},
        {"name": "Ok", "parent": "not-a-uuid"},
        {"name": "Ok", "parent": "00000000-0000-4000-8000-000000000000"},
        {"name": "Ok", "description": "d" * 10_001},
    ],
)
def test_hostile_category_input_is_a_form_error(owner, tenant_a, body):
    response = owner.post("/app/alpha/categories/new/", body)
    assert response.status_code == 400 and "is-invalid" in response.content.decode()
    assert _categories(tenant_a) == {}


def test_another_workspaces_category_is_not_a_valid_parent(owner, tenant_a, tenant_b):
    theirs = _in(tenant_b, catalog.category_create, name="Theirs")
    response = owner.post("/app/alpha/categories/new/", {"name": "Mine", "parent": str(theirs.id)})
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert _categories(tenant_a) == {}


def test_a_viewer_reads_the_tree_without_buttons_and_is_refused_writes(tenant_a):
    viewer = console_client(make_member(tenant_a, "viewer"))
    hardware = _in(tenant_a, catalog.category_create, name="Hardware")

    page = viewer.get("/app/alpha/categories/").content.decode()

    assert "Hardware" in page and "New category" not in page and "/edit/" not in page
    assert viewer.get("/app/alpha/categories/new/").status_code == 403
    assert viewer.post("/app/alpha/categories/new/", {"name": "Nope"}).status_code == 403
    assert viewer.post(f"/app/alpha/categories/{hardware.id}/delete/").status_code == 403
    assert set(_categories(tenant_a)) == {"Hardware"}


@pytest.mark.parametrize("query", ["?page=-1", "?page=abc", "?page=99999999999999999999", "?page=%00"])
def test_category_list_answers_hostile_query_strings(owner, query):
    assert owner.get(f"/app/alpha/categories/{query}").status_code == 200


def test_the_empty_tree_offers_the_first_category(owner):
    page = owner.get("/app/alpha/categories/").content.decode()
    assert "No categories yet" in page and "Add a category" in page


# --- Suppliers and customers --------------------------------------------------------------


PARTY = {
    "name": "Acme Fasteners",
    "contact_name": "Ann Smith",
    "email": "orders@acme.example",
    "phone": "+44 20 7946 0000",
    "address": "1 Bolt Street",
    "tax_id": "GB123456789",
    "payment_terms": "Net 30",
    "notes": "",
    "is_active": "on",
}


@pytest.mark.parametrize(("section", "model"), [("suppliers", Supplier), ("customers", Customer)])
def test_create_edit_and_see_a_party(owner, tenant_a, section, model):
    created = owner.post(f"/app/alpha/{section}/new/", PARTY)

    with tenant_context(tenant_a):
        party = model.objects.get()
    assert created["Location"] == f"/app/alpha/{section}/{party.id}/"
    page = owner.get(created["Location"]).content.decode()
    assert "Acme Fasteners" in page and "Net 30" in page and "created." in page

    edited = owner.post(f"/app/alpha/{section}/{party.id}/edit/", {**PARTY, "name": "Acme Ltd", "is_active": ""})

    assert edited["Location"] == f"/app/alpha/{section}/{party.id}/"
    with tenant_context(tenant_a):
        party.refresh_from_db()
    assert (party.name, party.is_active, party.email) == ("Acme Ltd", False, "orders@acme.example")


@pytest.mark.parametrize(
    "changes",
    [{"email": "not an email"}, {"name": ""}, {"name": "n" * 201}, {"phone": "9" * 51}, {"notes": "x" * 10_001}],
)
def test_hostile_party_input_is_a_form_error(owner, tenant_a, changes):
    response = owner.post("/app/alpha/suppliers/new/", {**PARTY, **changes})
    assert response.status_code == 400 and "is-invalid" in response.content.decode()
    with tenant_context(tenant_a):
        assert not Supplier.objects.exists()


@pytest.mark.parametrize("section", ["suppliers", "customers"])
def test_party_list_searches_filters_and_pages(owner, tenant_a, section):
    with tenant_context(tenant_a):
        make: Any = make_supplier if section == "suppliers" else make_customer
        for n in range(30):
            make(f"Bolt Co {n:02}")
        catalog.party_update(party=make("Zed Timber"), is_active=False, email="zed@timber.example")

    page = owner.get(f"/app/alpha/{section}/").content.decode()
    assert "1\u201325 of 31" in page and "Bolt Co 24" in page and "Bolt Co 25" not in page
    found = owner.get(f"/app/alpha/{section}/?q=timber.example").content.decode()
    assert "Zed Timber" in found and "Bolt Co 01" not in found and "Inactive" in found
    assert "Zed Timber" not in owner.get(f"/app/alpha/{section}/?active=yes&page=2").content.decode()
    partial = owner.get(f"/app/alpha/{section}/?q=bolt&page=2", HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<div id="party-table">') and "<html" not in partial
    assert "26\u201330 of 30" in partial
    nothing = owner.get(f"/app/alpha/{section}/?q=nothing-like-it").content.decode()
    assert f"No {section[:-1]} matches" in nothing


@pytest.mark.parametrize("section", ["suppliers", "customers"])
def test_party_lists_run_a_constant_number_ofpage_queries(owner, tenant_a, section):
    make = make_supplier if section == "suppliers" else make_customer
    _in(tenant_a, make, "First")
    few = page_queries(owner, f"/app/alpha/{section}/")
    with tenant_context(tenant_a):
        for n in range(30):
            make(f"More {n:02}")
    assert page_queries(owner, f"/app/alpha/{section}/") == few
    assert page_queries(owner, f"/app/alpha/{section}/?q=more&page=2") == few


@pytest.mark.parametrize(
    "query", ["?page=-1", "?page=abc", "?active=maybe", "?q=%00", "?q=" + "x" * 5000, "?page=99999999999999999999"]
)
def test_party_list_answers_hostile_query_strings(owner, query):
    assert owner.get(f"/app/alpha/customers/{query}").status_code == 200


def test_deleting_a_customer_that_orders_use_is_refused_and_it_can_be_deactivated(owner, tenant_a):
    from orders import services as orders

    with tenant_context(tenant_a):
        customer = make_customer("Busy Buyer")
        product, warehouse = make_product(sku="SOLD-1"), make_warehouse("MAIN")
        orders.sales_order_create(customer=customer, lines=[line(product, warehouse, 1)], user=None)
    edit = owner.get(f"/app/alpha/customers/{customer.id}/edit/").content.decode()
    assert 'data-confirm="Delete the customer Busy Buyer?"' in edit

    refused = owner.post(f"/app/alpha/customers/{customer.id}/delete/")

    assert refused.status_code == 409
    assert "Busy Buyer cannot be deleted: orders use it." in refused.content.decode()
    deactivated = owner.post(f"/app/alpha/customers/{customer.id}/edit/", {"name": "Busy Buyer"})
    assert deactivated.status_code == 302
    with tenant_context(tenant_a):
        assert Customer.objects.get(pk=customer.pk).is_active is False


def test_deleting_an_unused_supplier(owner, tenant_a):
    supplier = _in(tenant_a, make_supplier, "Gone Soon")

    response = owner.post(f"/app/alpha/suppliers/{supplier.id}/delete/")

    assert response["Location"] == "/app/alpha/suppliers/"
    assert "Supplier Gone Soon deleted." in owner.get("/app/alpha/suppliers/").content.decode()
    with tenant_context(tenant_a):
        assert not Supplier.objects.exists()


def test_a_clerk_reads_parties_but_does_not_change_them(tenant_a):
    clerk = console_client(make_member(tenant_a, "clerk"))
    supplier = _in(tenant_a, make_supplier, "Steady")

    page = clerk.get(f"/app/alpha/suppliers/{supplier.id}/").content.decode()

    assert "Steady" in page and "/edit/" not in page and "Add a price" not in page
    assert "New supplier" not in clerk.get("/app/alpha/suppliers/").content.decode()
    assert clerk.post("/app/alpha/suppliers/new/", PARTY).status_code == 403
    assert clerk.post(f"/app/alpha/suppliers/{supplier.id}/edit/", PARTY).status_code == 403
    assert clerk.post(f"/app/alpha/suppliers/{supplier.id}/delete/").status_code == 403
    assert clerk.get(f"/app/alpha/suppliers/{supplier.id}/prices/new/").status_code == 403
    with tenant_context(tenant_a):
        assert list(Supplier.objects.values_list("name", flat=True)) == ["Steady"]


# --- A supplier's prices --------------------------------------------------------------------


def _prices(tenant):
    with tenant_context(tenant):
        return {(i.product.sku, i.supplier_sku, i.price, i.lead_time_days) for i in SupplierProduct.objects.all()}


def test_add_and_edit_a_suppliers_price(owner, tenant_a):
    with tenant_context(tenant_a):
        supplier = make_supplier("Acme")
        make_product(sku="BOLT-M8", barcode="4006381333931")
    url = f"/app/alpha/suppliers/{supplier.id}/"

    added = owner.post(
        url + "prices/new/", {"product": "bolt-m8", "supplier_sku": "AC-88", "price": "0.12", "lead_time_days": "7"}
    )

    assert added["Location"] == url
    page = owner.get(url).content.decode()
    assert "Acme now supplies BOLT-M8." in page and "AC-88" in page and "USD 0.12" in page and "7 days" in page
    assert _prices(tenant_a) == {("BOLT-M8", "AC-88", Decimal("0.12"), 7)}

    with tenant_context(tenant_a):
        item = SupplierProduct.objects.get()
    edited = owner.post(
        url + f"prices/{item.id}/edit/", {"supplier_sku": "AC-88B", "price": "0.11", "lead_time_days": "5"}
    )

    assert edited["Location"] == url
    assert _prices(tenant_a) == {("BOLT-M8", "AC-88B", Decimal("0.11"), 5)}


def test_a_price_by_barcode_twice_or_for_an_unknown_product_is_a_field_error(owner, tenant_a):
    with tenant_context(tenant_a):
        supplier = make_supplier("Acme")
        product = make_product(sku="BOLT-M8", barcode="4006381333931")
        catalog.supplier_product_create(supplier=supplier, product=product, price=Decimal("1"))
    url = f"/app/alpha/suppliers/{supplier.id}/prices/new/"

    twice = owner.post(url, {"product": "4006381333931", "price": "2", "lead_time_days": "0"})
    unknown = owner.post(url, {"product": "NOPE", "price": "2", "lead_time_days": "0"})

    assert twice.status_code == 400 and "This supplier already lists this product." in twice.content.decode()
    assert unknown.status_code == 400 and "No product has this SKU or barcode." in unknown.content.decode()
    assert 'id="id_product_error"' in unknown.content.decode()
    assert _prices(tenant_a) == {("BOLT-M8", "", Decimal("1.0000"), 0)}


@pytest.mark.parametrize(
    "body",
    [
        {"product": "BOLT-M8", "price": "1e40", "lead_time_days": "0"},
        {"product": "BOLT-M8", "price": "-1", "lead_time_days": "0"},
        {"product": "BOLT-M8", "price": "NaN", "lead_time_days": "0"},
        {"product": "BOLT-M8", "price": "1", "lead_time_days": "99999999999"},
        {"product": "BOLT-M8", "price": "1.123456789", "lead_time_days": "0"},
        {"product": "B" * 65, "price": "1", "lead_time_days": "0"},
    ],
)
def test_hostile_price_input_is_a_form_error(owner, tenant_a, body):
    with tenant_context(tenant_a):
        supplier = make_supplier("Acme")
        make_product(sku="BOLT-M8")
    response = owner.post(f"/app/alpha/suppliers/{supplier.id}/prices/new/", body)
    assert response.status_code == 400 and "is-invalid" in response.content.decode()
    assert _prices(tenant_a) == set()


def test_another_suppliers_price_is_not_found_under_this_supplier(owner, tenant_a):
    with tenant_context(tenant_a):
        acme, other = make_supplier("Acme"), make_supplier("Other")
        item = catalog.supplier_product_create(supplier=other, product=make_product(sku="X-1"))
    response = owner.post(
        f"/app/alpha/suppliers/{acme.id}/prices/{item.id}/edit/", {"price": "9", "lead_time_days": "1"}
    )
    assert response.status_code == 404
    assert _prices(tenant_a) == {("X-1", "", Decimal("0.0000"), 0)}


def test_a_supplier_page_runs_a_constant_number_ofpage_queries(owner, tenant_a):
    with tenant_context(tenant_a):
        supplier = make_supplier("Acme")
        catalog.supplier_product_create(supplier=supplier, product=make_product())
    url = f"/app/alpha/suppliers/{supplier.id}/"
    few = page_queries(owner, url)
    with tenant_context(tenant_a):
        for _ in range(30):
            catalog.supplier_product_create(supplier=supplier, product=make_product(), price=Decimal("2"))
    assert page_queries(owner, url) == few
    assert "26\u201331 of 31" in owner.get(url + "?page=2").content.decode()


def test_the_sidebar_links_the_new_sections(owner):
    page = owner.get("/app/alpha/suppliers/").content.decode()
    for path in ("categories/", "customers/", "suppliers/", "imports/", "exports/"):
        assert f'href="/app/alpha/{path}"' in page
    assert '<li class="nav-item active"><a class="nav-link" href="/app/alpha/suppliers/" aria-current="page">' in page
