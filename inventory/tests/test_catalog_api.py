"""Catalog: category tree, products, warehouses, parties; constant query counts."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import Category, Customer, Product, Supplier, Warehouse
from inventory.services import catalog
from inventory.tests.factories import make_product, make_warehouse, receive
from tenants.models import Role
from tenants.tests.factories import client_for, make_member

pytestmark = pytest.mark.django_db


# --- Categories ---------------------------------------------------------------------------


def _tree(client):
    tools = client.post("/api/v1/categories/", {"name": "Tools"}).json()
    hand = client.post("/api/v1/categories/", {"name": "Hand tools", "parent": tools["id"]}).json()
    saws = client.post("/api/v1/categories/", {"name": "Saws", "parent": hand["id"]}).json()
    garden = client.post("/api/v1/categories/", {"name": "Garden"}).json()
    return tools, hand, saws, garden


def test_category_tree_and_subtree_listing_in_one_query(client_a, in_a):
    tools, _hand, saws, _garden = _tree(client_a)

    with CaptureQueriesContext(connection) as queries:
        subtree = client_a.get("/api/v1/categories/", {"subtree_of": tools["id"]}).json()

    assert [c["name"] for c in subtree["results"]] == ["Tools", "Hand tools", "Saws"]
    assert saws["depth"] == 2
    selects = [q for q in queries.captured_queries if "inventory_category" in q["sql"]]
    # the count and the page, sent together as one query string (core.sql.count_and_page)
    assert len(selects) == 1 and selects[0]["sql"].count("SELECT COUNT(*)") == 1


def test_moving_a_category_moves_its_subtree(client_a, in_a):
    _tools, hand, saws, garden = _tree(client_a)

    moved = client_a.patch(f"/api/v1/categories/{hand['id']}/", {"parent": garden["id"]})

    assert moved.status_code == 200, moved.json()
    under_garden = client_a.get("/api/v1/categories/", {"subtree_of": garden["id"]}).json()
    assert [c["name"] for c in under_garden["results"]] == ["Garden", "Hand tools", "Saws"]
    saw = Category.objects.get(pk=saws["id"])
    assert saw.depth == 2 and saw.path.startswith(Category.objects.get(pk=garden["id"]).path)
    to_root = client_a.patch(f"/api/v1/categories/{hand['id']}/", {"parent": None})
    assert to_root.json()["depth"] == 0
    assert Category.objects.get(pk=saws["id"]).depth == 1


def test_a_category_cannot_move_under_itself_or_its_descendants(client_a, in_a):
    tools, _hand, saws, _ = _tree(client_a)
    for parent in (tools, saws):
        response = client_a.patch(f"/api/v1/categories/{tools['id']}/", {"parent": parent["id"]})
        assert response.status_code == 400
        assert response.json()["fields"]["parent"][0]["code"] == "cycle"


def test_sibling_names_are_unique_and_non_empty_category_is_not_deleted(client_a, in_a):
    tools, _hand, _, _ = _tree(client_a)
    dup = client_a.post("/api/v1/categories/", {"name": "hand TOOLS", "parent": tools["id"]})
    root_dup = client_a.post("/api/v1/categories/", {"name": "tools"})
    assert dup.status_code == root_dup.status_code == 400
    assert client_a.delete(f"/api/v1/categories/{tools['id']}/").json()["code"] == "category_not_empty"


def test_products_filter_by_category_tree(client_a, in_a):
    tools, _hand, saws, garden = _tree(client_a)
    make_product(sku="SAW", category=Category.objects.get(pk=saws["id"]))
    make_product(sku="HOSE", category=Category.objects.get(pk=garden["id"]))

    response = client_a.get("/api/v1/products/", {"category_tree": tools["id"]}).json()

    assert [p["sku"] for p in response["results"]] == ["SAW"]


# --- Products --------------------------------------------------------------------------------


def test_product_crud_with_case_insensitive_sku_and_unique_barcode(client_a, in_a):
    created = client_a.post(
        "/api/v1/products/",
        {"sku": "BOLT-M8", "name": "Bolt", "unit": "pcs", "barcode": "123", "attributes": {"finish": "zinc"}},
    )
    clash = client_a.post("/api/v1/products/", {"sku": "bolt-m8", "name": "Other", "barcode": "123"})
    updated = client_a.patch(f"/api/v1/products/{created.json()['id']}/", {"selling_price": "9.99"})

    assert created.status_code == 201, created.json()
    assert created.json()["attributes"] == {"finish": "zinc"}
    assert clash.status_code == 400
    assert {f: e[0]["code"] for f, e in clash.json()["fields"].items()} == {"sku": "unique", "barcode": "unique"}
    assert updated.json()["selling_price"] == "9.9900"
    assert client_a.get("/api/v1/products/", {"search": "bolt"}).json()["count"] == 1


def test_product_without_history_is_deleted_and_with_history_archived(client_a, in_a, wh):
    fresh = make_product(sku="FRESH")
    used = make_product(sku="USED")
    receive(used, wh, 1)

    deleted = client_a.delete(f"/api/v1/products/{fresh.id}/")
    archived = client_a.delete(f"/api/v1/products/{used.id}/")

    assert deleted.status_code == 204 and not Product.objects.filter(pk=fresh.pk).exists()
    assert archived.status_code == 200
    assert archived.json()["is_active"] is False and archived.json()["archived_at"]
    assert client_a.get("/api/v1/products/", {"is_active": "false"}).json()["count"] == 1


def test_negative_prices_and_huge_numbers_are_refused(client_a, in_a):
    for body in (
        {"sku": "N", "name": "N", "cost_price": "-1"},
        {"sku": "N", "name": "N", "selling_price": "1e20"},
        {"sku": "N", "name": "N", "reorder_point": "-5"},
        {"sku": "N", "name": "N", "lead_time_days": 10**12},
        {"sku": "N", "name": "N", "unit": "parsec"},
        {"sku": " ", "name": "N"},
    ):
        response = client_a.post("/api/v1/products/", body)
        assert response.status_code == 400, (body, response.content)


def test_clerk_cannot_edit_catalog_but_manager_can(owner_a, in_a):
    clerk = client_for(make_member(owner_a.tenant, Role.CLERK))
    manager = client_for(make_member(owner_a.tenant, Role.MANAGER))
    assert clerk.post("/api/v1/warehouses/", {"code": "X", "name": "X"}).status_code == 403
    assert manager.post("/api/v1/warehouses/", {"code": "X", "name": "X"}).status_code == 201


# --- Warehouses and parties ---------------------------------------------------------------------


def test_warehouse_codes_are_unique_case_insensitive_and_in_use_ones_are_kept(client_a, in_a, bolt, wh):
    receive(bolt, wh, 1)
    dup = client_a.post("/api/v1/warehouses/", {"code": "main", "name": "Again"})
    in_use = client_a.delete(f"/api/v1/warehouses/{wh.id}/")
    empty = make_warehouse("EMPTY")

    assert dup.status_code == 400 and dup.json()["fields"]["code"][0]["code"] == "unique"
    assert in_use.status_code == 409 and in_use.json()["code"] == "in_use"
    assert client_a.delete(f"/api/v1/warehouses/{empty.id}/").status_code == 204
    assert Warehouse.objects.filter(pk=wh.pk).exists()


def test_suppliers_customers_and_supplied_products(client_a, in_a, bolt):
    supplier = client_a.post(
        "/api/v1/suppliers/", {"name": "Acme Supply", "email": "sales@acme.example", "payment_terms": "Net 30"}
    ).json()
    customer = client_a.post("/api/v1/customers/", {"name": "Bob's Garage", "tax_id": "GB123"}).json()
    listed = client_a.post(
        "/api/v1/supplier-products/",
        {
            "supplier": supplier["id"],
            "product": str(bolt.id),
            "supplier_sku": "AC-77",
            "price": "0.80",
            "lead_time_days": 5,
        },
    )
    again = client_a.post("/api/v1/supplier-products/", {"supplier": supplier["id"], "product": str(bolt.id)})

    assert listed.status_code == 201, listed.json()
    assert again.status_code == 400 and again.json()["fields"]["product"][0]["code"] == "unique"
    assert client_a.get("/api/v1/supplier-products/", {"supplier": supplier["id"]}).json()["count"] == 1
    assert client_a.get("/api/v1/customers/", {"search": "garage"}).json()["results"][0]["id"] == customer["id"]
    deactivated = client_a.patch(f"/api/v1/suppliers/{supplier['id']}/", {"is_active": False})
    assert deactivated.json()["is_active"] is False
    assert client_a.delete(f"/api/v1/customers/{customer['id']}/").status_code == 204
    assert Supplier.objects.count() == 1 and Customer.objects.count() == 0


def test_party_email_is_validated(client_a, in_a):
    response = client_a.post("/api/v1/suppliers/", {"name": "X", "email": "not-an-email"})
    assert response.status_code == 400 and "email" in response.json()["fields"]


# --- Lists run a constant number of queries ------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/products/",
        "/api/v1/categories/",
        "/api/v1/warehouses/",
        "/api/v1/suppliers/",
        "/api/v1/customers/",
        "/api/v1/supplier-products/",
        "/api/v1/stock-levels/",
        "/api/v1/stock-movements/",
        "/api/v1/inventory/low-stock/",
        "/api/v1/inventory/low-stock-alerts/",
    ],
)
def test_list_query_count_does_not_grow_with_the_page(client_a, in_a, url, django_assert_max_num_queries):
    def populate(n):
        from inventory.models import LowStockAlert

        category = catalog.category_create(name=f"C{n}")
        warehouse = make_warehouse(f"W{n}")
        supplier = catalog.party_create(model=Supplier, name=f"S{n}")
        catalog.party_create(model=Customer, name=f"C{n}")
        for _i in range(n):
            product = make_product(category=category, reorder_point=Decimal("100"))
            receive(product, warehouse, 1)
            catalog.supplier_product_create(supplier=supplier, product=product)
            LowStockAlert.objects.create(
                product=product, warehouse=warehouse, available_at_open=Decimal(1), reorder_point=Decimal(100)
            )

    populate(1)
    client_a.get(url)  # the membership cache is warm from here on
    with CaptureQueriesContext(connection) as small:
        assert client_a.get(url).status_code == 200
    populate(15)
    with CaptureQueriesContext(connection) as large:
        assert client_a.get(url).status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)
    statements = [q["sql"] for q in small.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) <= 2, statements  # count, page (cursor lists: no count); the membership is cached


def test_patch_product_writes_only_the_fields_given(client_a, in_a):
    product = make_product(sku="PATCH-1", name="Before", selling_price=Decimal("2.00"))
    Product.objects.filter(pk=product.pk).update(selling_price=Decimal("3.00"))  # a concurrent edit

    with CaptureQueriesContext(connection) as queries:
        response = client_a.patch(f"/api/v1/products/{product.id}/", {"name": "After"})

    assert response.status_code == 200, response.json()
    (update,) = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('UPDATE "inventory_product"')]
    assert '"name"' in update and '"updated_at"' in update and '"selling_price"' not in update
    product.refresh_from_db()
    assert (product.name, product.selling_price) == ("After", Decimal("3.00"))


def test_category_update_takes_typed_fields_and_leaves_the_rest(in_a):
    parent = catalog.category_create(name="Parent")
    child = catalog.category_create(name="Child", parent=parent, description="kept")

    renamed = catalog.category_update(category=child, name="Renamed")
    moved = catalog.category_update(category=child, parent=None)

    assert (renamed.name, renamed.description, renamed.parent_id) == ("Renamed", "kept", parent.id)
    assert moved.parent_id is None and moved.depth == 0 and moved.name == "Renamed"
