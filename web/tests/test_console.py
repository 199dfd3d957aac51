"""The console's pages on the real stack (sessions, RLS, services): products, stock
operations, warehouses, the dashboard; roles; query counts that do not grow with the
data; hostile input answered with form errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inventory.models import Product, StockLevel, StockMovement
from inventory.tests.factories import make_product, make_warehouse, receive
from tenants.context import tenant_context
from tenants.tests.factories import make_member
from web.tests.helpers import console_client, page_queries

pytestmark = pytest.mark.django_db


def test_dashboard_counts_do_not_grow_with_the_data(owner, main, tenant_a):
    with tenant_context(tenant_a):
        product = make_product(sku="ONE")
        receive(product, main, 5)
    few = page_queries(owner, "/app/alpha/")
    with tenant_context(tenant_a):
        for n in range(15):
            receive(make_product(sku=f"MORE-{n}"), main, n + 1)
    assert page_queries(owner, "/app/alpha/") == few


def test_product_list_runs_a_constant_number_ofpage_queries(owner, main, tenant_a):
    with tenant_context(tenant_a):
        make_product(sku="A-1")
    few = page_queries(owner, "/app/alpha/products/")
    with tenant_context(tenant_a):
        for n in range(30):
            receive(make_product(sku=f"B-{n:02}"), main, 2)
    assert page_queries(owner, "/app/alpha/products/?sort=-on_hand") == few
    assert page_queries(owner, "/app/alpha/products/?page=2&q=B-") == few


def test_product_list_searches_filters_and_pages(owner, main, tenant_a):
    with tenant_context(tenant_a):
        for n in range(30):
            make_product(sku=f"BOLT-{n:02}", name=f"Bolt {n}")
        make_product(sku="NUT-1", name="Hex nut", barcode="4006381333931", is_active=False)
    page = owner.get("/app/alpha/products/").content.decode()
    assert "1\u201325 of 31" in page
    found = owner.get("/app/alpha/products/?q=hex").content.decode()
    assert "NUT-1" in found and "BOLT-01" not in found
    assert "NUT-1" not in owner.get("/app/alpha/products/?active=yes&page=2").content.decode()
    # HTMX asks for the table only.
    partial = owner.get("/app/alpha/products/?q=bolt&page=2", HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<div id="product-table">') and "<html" not in partial


@pytest.mark.parametrize(
    "query", ["?page=-1", "?page=abc", "?page=99999999999999999999", "?sort=DROP", "?category=nope", "?q=%00"]
)
def test_product_list_answers_hostile_query_strings(owner, query):
    assert owner.get(f"/app/alpha/products/{query}").status_code == 200


def test_barcode_lookup_jumps_to_the_product(owner, tenant_a):
    with tenant_context(tenant_a):
        product = make_product(sku="SCAN-1", barcode="5012345678900")
    response = owner.get("/app/alpha/search/?q=5012345678900")
    assert response["Location"] == f"/app/alpha/products/{product.id}/"
    assert owner.get("/app/alpha/search/?q=scan-1")["Location"] == f"/app/alpha/products/{product.id}/"
    assert owner.get("/app/alpha/search/?q=nothing")["Location"].startswith("/app/alpha/products/?q=")


def test_create_a_product_and_see_its_field_errors(owner, tenant_a):
    response = owner.post(
        "/app/alpha/products/new/",
        {
            "sku": "NEW-1",
            "name": "New thing",
            "unit": "pcs",
            "cost_price": "2",
            "selling_price": "3.5",
            "reorder_point": "0",
            "reorder_quantity": "0",
            "lead_time_days": "0",
            "is_active": "on",
        },
    )
    with tenant_context(tenant_a):
        product = Product.objects.get(sku="NEW-1")
    assert response["Location"] == f"/app/alpha/products/{product.id}/"
    again = owner.post(
        "/app/alpha/products/new/",
        {
            "sku": "new-1",
            "name": "Clash",
            "unit": "pcs",
            "cost_price": "1e40",
            "selling_price": "-1",
            "reorder_point": "0",
            "reorder_quantity": "0",
            "lead_time_days": "99999",
        },
    )
    assert again.status_code == 400
    text = again.content.decode()
    assert "Ensure this value is less than or equal to" in text
    assert text.count("is-invalid") >= 3


def test_a_duplicate_sku_is_the_services_error_on_the_sku_field(owner, tenant_a):
    with tenant_context(tenant_a):
        make_product(sku="DUP-1")
    response = owner.post(
        "/app/alpha/products/new/",
        {
            "sku": "dup-1",
            "name": "Clash",
            "unit": "pcs",
            "cost_price": "1",
            "selling_price": "1",
            "reorder_point": "0",
            "reorder_quantity": "0",
            "lead_time_days": "0",
        },
    )
    assert response.status_code == 400
    assert 'id="id_sku_error"' in response.content.decode()


def test_another_workspaces_category_reads_as_an_invalid_choice(owner, tenant_b):
    from inventory.services import catalog

    with tenant_context(tenant_b):
        foreign = catalog.category_create(name="Theirs")
    response = owner.post(
        "/app/alpha/products/new/",
        {
            "sku": "X-1",
            "name": "X",
            "unit": "pcs",
            "category": str(foreign.id),
            "cost_price": "1",
            "selling_price": "1",
            "reorder_point": "0",
            "reorder_quantity": "0",
            "lead_time_days": "0",
        },
    )
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()


def test_receive_then_issue_too_much_shows_what_is_available(owner, main, tenant_a):
    with tenant_context(tenant_a):
        product = make_product(sku="BOX-1")
    url = f"/app/alpha/products/{product.id}/"
    done = owner.post(url + "receive/", {"warehouse": str(main.id), "quantity": "12", "note": ""})
    assert done["Location"] == url
    assert "Received 12 pcs of BOX-1 into MAIN." in owner.get(url).content.decode()
    refused = owner.post(url + "issue/", {"warehouse": str(main.id), "quantity": "20"})
    assert refused.status_code == 400
    text = refused.content.decode()
    assert "MAIN: 12 pcs available, 20 pcs requested" in text
    with tenant_context(tenant_a):
        assert StockLevel.objects.get(product=product).on_hand == Decimal("12")
        assert StockMovement.objects.filter(product=product).count() == 1


def test_adjust_to_a_count_and_transfer(owner, main, tenant_a):
    with tenant_context(tenant_a):
        east = make_warehouse("EAST")
        product = make_product(sku="ADJ-1")
        receive(product, main, 10)
    url = f"/app/alpha/products/{product.id}/"
    owner.post(url + "adjust/", {"warehouse": str(main.id), "mode": "counted", "quantity": "7", "reason": "count"})
    owner.post(url + "transfer/", {"from_warehouse": str(main.id), "to_warehouse": str(east.id), "quantity": "3"})
    same = owner.post(
        url + "transfer/", {"from_warehouse": str(main.id), "to_warehouse": str(main.id), "quantity": "1"}
    )
    assert same.status_code == 400 and "Transfer to a different warehouse." in same.content.decode()
    with tenant_context(tenant_a):
        levels = {lv.warehouse.code: lv.on_hand for lv in StockLevel.objects.select_related("warehouse")}
    assert levels == {"MAIN": Decimal("4"), "EAST": Decimal("3")}


def test_a_viewer_sees_no_buttons_and_is_refused_by_the_server(tenant_a, main):
    viewer = console_client(make_member(tenant_a, "viewer"))
    with tenant_context(tenant_a):
        product = make_product(sku="VIEW-1")
    page = viewer.get(f"/app/alpha/products/{product.id}/").content.decode()
    assert "/receive/" not in page and "/edit/" not in page
    assert "New product" not in viewer.get("/app/alpha/products/").content.decode()
    refused = viewer.post(f"/app/alpha/products/{product.id}/receive/", {"warehouse": str(main.id), "quantity": "1"})
    assert refused.status_code == 403
    assert viewer.get("/app/alpha/products/new/").status_code == 403
    with tenant_context(tenant_a):
        assert not StockMovement.objects.exists()


def test_a_clerk_moves_stock_but_does_not_edit_the_catalogue(tenant_a, main):
    clerk = console_client(make_member(tenant_a, "clerk"))
    with tenant_context(tenant_a):
        product = make_product(sku="CLERK-1")
    url = f"/app/alpha/products/{product.id}/"
    assert clerk.post(url + "receive/", {"warehouse": str(main.id), "quantity": "2"}).status_code == 302
    assert clerk.post(url + "edit/", {"sku": "CHANGED"}).status_code == 403


def test_posts_without_a_csrf_token_are_refused(owner_a, main, tenant_a):
    from django.test import Client

    from tenants.tests.factories import PASSWORD

    client = Client(enforce_csrf_checks=True)
    login_page = client.get("/login/")
    token = login_page.cookies["csrftoken"].value
    client.post("/login/", {"email": owner_a.user.email, "password": PASSWORD, "csrfmiddlewaretoken": token})
    with tenant_context(tenant_a):
        product = make_product(sku="CSRF-1")
    response = client.post(f"/app/alpha/products/{product.id}/receive/", {"warehouse": str(main.id), "quantity": "1"})
    assert response.status_code == 403


def test_warehouses_list_create_and_edit(owner, tenant_a):
    response = owner.post("/app/alpha/warehouses/new/", {"code": "NORTH", "name": "North depot", "is_active": "on"})
    assert response["Location"] == "/app/alpha/warehouses/"
    assert "NORTH" in owner.get("/app/alpha/warehouses/").content.decode()
    clash = owner.post("/app/alpha/warehouses/new/", {"code": "NORTH", "name": "Again"})
    assert clash.status_code == 400


def test_the_product_page_lists_its_open_orders_in_constant_queries(owner, main, tenant_a):
    from decimal import Decimal as D

    from inventory.models import Customer
    from inventory.services import catalog
    from orders import services as orders
    from orders.services import LineInput

    with tenant_context(tenant_a):
        product = make_product(sku="OPEN-1")
        receive(product, main, 50)
        customer = catalog.party_create(model=Customer, name="Harbour Marine")
        orders.sales_order_create(customer=customer, lines=[LineInput(product, main, D("3"))], user=None)
    url = f"/app/alpha/products/{product.id}/"
    page = owner.get(url).content.decode()
    assert "Harbour Marine" in page and "Open orders" in page
    few = page_queries(owner, url)
    with tenant_context(tenant_a):
        for n in range(5):
            orders.sales_order_create(customer=customer, lines=[LineInput(product, main, D(n + 1))], user=None)
    assert page_queries(owner, url) == few


def test_the_console_and_the_api_share_the_users_rate(owner, owner_a, monkeypatch):
    from core.api.throttling import UserRateThrottle
    from tenants.tests.factories import client_for

    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/min"})
    api = client_for(owner_a)
    assert api.get("/api/v1/products/").status_code == 200
    assert owner.get("/app/alpha/").status_code == 200
    assert api.get("/api/v1/products/").status_code == 200
    refused = owner.get("/app/alpha/products/")
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert "Too many requests" in refused.content.decode()
    assert api.get("/api/v1/products/").status_code == 429
