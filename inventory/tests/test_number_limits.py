"""One set of limits per kind of number (core.numbers): the import refuses what the API
refuses, and everything the database holds renders (lists and valuation stay 200)."""

from decimal import Decimal, localcontext

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.numbers import AMOUNT, PRICE, QUANTITY, quantize
from inventory.models import Product, StockLevel, Unit
from inventory.tests.factories import make_product, receive

pytestmark = pytest.mark.django_db
BARCODE = "4006381333931"  # 13 digits


def _import(client, capture, content):
    with capture(execute=True):
        response = client.post(
            "/api/v1/imports/", {"file": SimpleUploadedFile("p.csv", content.encode())}, format="multipart"
        )
    assert response.status_code == 202, response.content
    return client.get(f"/api/v1/imports/{response.json()['id']}/").json()


def test_import_refuses_a_barcode_in_the_price_column(client_a, in_a, django_capture_on_commit_callbacks):
    job = _import(
        client_a,
        django_capture_on_commit_callbacks,
        f"sku,name,barcode,cost_price,selling_price\nBOLT-1,Bolt,1,2,{BARCODE}\n",
    )

    assert job["status"] == "failed"
    assert [(e["row"], e["column"]) for e in job["errors"]] == [(2, "selling_price")]
    assert "9,999,999,999.9999" in job["errors"][0]["message"]
    assert not Product.objects.exists()
    assert client_a.get("/api/v1/products/").status_code == 200


def test_import_refuses_a_count_over_the_quantity_limit(client_a, in_a, wh, django_capture_on_commit_callbacks):
    job = _import(client_a, django_capture_on_commit_callbacks, f"sku,name,unit,stock:MAIN\nROPE-1,Rope,m,{BARCODE}\n")

    assert job["status"] == "failed" and job["errors"][0]["column"] == "stock:MAIN"
    assert not Product.objects.exists() and not StockLevel.objects.exists()


def test_import_takes_the_largest_values_and_the_api_renders_them(
    client_a, in_a, wh, django_capture_on_commit_callbacks
):
    top = "9999999999.9999"
    job = _import(
        client_a,
        django_capture_on_commit_callbacks,
        f"sku,name,unit,cost_price,selling_price,reorder_point,reorder_quantity,stock:MAIN\n"
        f"ROPE-1,Rope,m,{top},{top},{top},{top},{top}\n",
    )

    assert job["status"] == "succeeded", job
    product = client_a.get("/api/v1/products/").json()["results"][0]
    assert product["cost_price"] == product["selling_price"] == product["reorder_point"] == top
    valuation = client_a.get("/api/v1/inventory/valuation/")
    assert valuation.status_code == 200 and valuation.json()["warehouses"][0]["quantity"] == top


def test_api_refuses_a_price_over_the_limit_and_writes_nothing(client_a, in_a):
    response = client_a.post("/api/v1/products/", {"sku": "B", "name": "Bolt", "cost_price": BARCODE})

    assert response.status_code == 400
    assert response.json()["fields"]["cost_price"][0]["code"] == "max_whole_digits"
    assert not Product.objects.exists()


@pytest.fixture
def at_the_column_limits(in_a, wh, wh2):
    """Values as large as the columns hold (written before the limits were shared, or by code)."""
    product = make_product(sku="HUGE", unit=Unit.KILOGRAM, reorder_point=Decimal(1), reorder_quantity=Decimal(1))
    receive(product, wh, str(QUANTITY.column_max), "1")
    receive(product, wh2, str(QUANTITY.column_max), "1")
    Product.objects.filter(pk=product.pk).update(
        cost_price=PRICE.column_max,
        selling_price=PRICE.column_max,
        average_cost=PRICE.column_max,
        reorder_point=QUANTITY.column_max,
        reorder_quantity=QUANTITY.column_max,
    )
    StockLevel.objects.filter(product=product).update(reserved=QUANTITY.column_max)  # available 0: low stock
    return product


@pytest.mark.parametrize(
    "url", ["/api/v1/products/", "/api/v1/stock-levels/", "/api/v1/inventory/low-stock/", "/api/v1/stock-movements/"]
)
def test_lists_render_values_at_the_column_limits(client_a, at_the_column_limits, url):
    response = client_a.get(url)

    assert response.status_code == 200, response.content
    assert "99999999999999.9999" in response.content.decode()


def test_valuation_renders_exact_sums_at_the_column_limits(client_a, at_the_column_limits, wh):
    response = client_a.get("/api/v1/inventory/valuation/")

    assert response.status_code == 200, response.content
    body = response.json()
    with localcontext(prec=100):  # exactly: 36 digits, where the default context keeps 28
        per_warehouse = quantize(QUANTITY.column_max * PRICE.column_max, 2)
        total = per_warehouse * 2
    assert f"{per_warehouse:f}" == "9999999999999999980000000000.00"
    assert [w["value"] for w in body["warehouses"]] == [f"{per_warehouse:f}"] * 2
    assert body["total_value"] == f"{total:f}"
    assert [w["quantity"] for w in body["warehouses"]] == ["99999999999999.9999"] * 2
    assert not AMOUNT.fits(per_warehouse)  # beyond any stored amount, and still rendered
    only_main = client_a.get("/api/v1/inventory/valuation/", {"warehouse": str(wh.id)})
    assert only_main.status_code == 200 and only_main.json()["total_value"] == f"{per_warehouse:f}"
