"""JSON bodies are read with the types the schema states: no coercion of numbers to text,
of text to booleans or of numbers to decimals; a failing request writes nothing."""

import pytest

from inventory.models import Product, Warehouse

ERROR_KEYS = {"code", "message", "fields", "details", "request_id"}


def _field_code(response, field):
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == ERROR_KEYS and body["code"] == "validation_error"
    return body["fields"][field][0]["code"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"sku": 0, "name": "n"}, "sku", "incorrect_type"),
        ({"sku": "S-1", "name": ["n"]}, "name", "incorrect_type"),
        ({"sku": "S-1", "name": "n", "is_active": 1}, "is_active", "incorrect_type"),
        ({"sku": "S-1", "name": "n", "is_active": "false"}, "is_active", "incorrect_type"),
        ({"sku": "S-1", "name": "n", "cost_price": 1.5}, "cost_price", "incorrect_type"),
        ({"sku": "S-1", "name": "n", "cost_price": " "}, "cost_price", "invalid"),
        ({"sku": "S-1", "name": "n", "lead_time_days": "7"}, "lead_time_days", "incorrect_type"),
        ({"sku": "S-1", "name": "n", "lead_time_days": 7.5}, "lead_time_days", "incorrect_type"),
        ({"sku": "S-1", "name": "n", "lead_time_days": True}, "lead_time_days", "incorrect_type"),
        ({"sku": "S-1", "name": "n", "category": "0b5c843651f64233b181d8962ddd64c5"}, "category", "invalid_id"),
        ({"sku": "S-1", "name": "n", "category": 5}, "category", "incorrect_type"),
    ],
)
def test_create_product_with_a_value_of_another_json_type_is_400(client_a, in_a, body, field, code):
    assert _field_code(client_a.post("/api/v1/products/", body), field) == code
    assert not Product.objects.exists()


@pytest.mark.django_db
def test_stock_operation_with_a_non_canonical_uuid_is_400(client_a, in_a):
    body = {"product": "{0b5c8436-51f6-4233-b181-d8962ddd64c5}", "warehouse": "x", "quantity": "1"}
    assert _field_code(client_a.post("/api/v1/stock/receive/", body), "product") == "invalid"


@pytest.mark.django_db
def test_create_warehouse_with_json_types_as_documented_is_201(client_a, in_a):
    response = client_a.post("/api/v1/warehouses/", {"code": "W1", "name": "One", "is_active": False})
    assert response.status_code == 201, response.content
    assert Warehouse.objects.get(code="W1").is_active is False


@pytest.mark.django_db
def test_form_booleans_are_true_or_false(client_a, in_a):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("p.csv", b"sku,name\nA,B\n", content_type="text/csv")
    response = client_a.post("/api/v1/imports/", {"file": upload, "skip_invalid_rows": "0"}, format="multipart")
    assert response.status_code == 400 and "skip_invalid_rows" in response.json()["fields"]


@pytest.mark.django_db
def test_set_level_reorder_with_a_blank_decimal_is_400(client_a, in_a):
    from inventory.tests.factories import make_product, make_warehouse, receive

    product, warehouse = make_product(sku="LVL-1"), make_warehouse("LVL")
    receive(product, warehouse, 1)
    level = client_a.get("/api/v1/stock-levels/").json()["results"][0]

    response = client_a.patch(f"/api/v1/stock-levels/{level['id']}/", {"reorder_quantity": ""})

    assert _field_code(response, "reorder_quantity") == "invalid"
    assert client_a.patch(f"/api/v1/stock-levels/{level['id']}/", {"reorder_quantity": None}).status_code == 200
