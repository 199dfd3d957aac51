"""Query parameters: a value the endpoint cannot honour is a 400 naming it, never ignored;
a crafted cursor is 400 ``invalid_cursor``; a page past the end is 404 ``page_not_found``."""

import base64

import pytest

from inventory.tests.factories import make_product, make_warehouse, receive

ERROR_KEYS = {"code", "message", "fields", "details", "request_id"}


def _error(response, status, code, parameter=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == ERROR_KEYS and body["code"] == code, body
    if parameter:
        assert list(body["fields"]) == [parameter], body
    return body


def _cursor(raw: str) -> str:
    return base64.b64encode(raw.encode()).decode()


@pytest.fixture
def ledger(in_a):
    """A product with three movements in one warehouse."""
    product, warehouse = make_product(sku="LEDGER-1"), make_warehouse("LED")
    for _ in range(3):
        receive(product, warehouse, 1)
    return product, warehouse


CRAFTED_CURSORS = ["p=x", "r=1&p=0", "p=2026-13-45", "p=2026-01-01 00:00:00", "p=99999-01-01", "o=-5", "r=x"]


@pytest.mark.django_db
@pytest.mark.parametrize("raw", CRAFTED_CURSORS)
def test_list_movements_with_a_crafted_cursor_is_400_invalid_cursor(client_a, ledger, raw):
    _error(client_a.get("/api/v1/stock-movements/", {"cursor": _cursor(raw)}), 400, "invalid_cursor")


@pytest.mark.django_db
@pytest.mark.parametrize("raw", [*CRAFTED_CURSORS, "not base64 \u00e9"])
def test_product_history_with_a_crafted_cursor_is_400_invalid_cursor(client_a, ledger, raw):
    product, _ = ledger
    cursor = raw if " " in raw else _cursor(raw)
    _error(client_a.get(f"/api/v1/products/{product.id}/history/", {"cursor": cursor}), 400, "invalid_cursor")


@pytest.mark.django_db
def test_list_movements_cursors_handed_out_still_work(client_a, ledger):
    first = client_a.get("/api/v1/stock-movements/", {"page_size": "2"}).json()
    second = client_a.get(first["next"])
    assert second.status_code == 200 and len(second.json()["results"]) == 1
    back = client_a.get(second.json()["previous"])
    assert [m["id"] for m in back.json()["results"]] == [m["id"] for m in first["results"]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "query", "parameter"),
    [
        ("/api/v1/products/", {"is_active": "maybe"}, "is_active"),
        ("/api/v1/warehouses/", {"is_active": "yes please"}, "is_active"),
        ("/api/v1/stock-levels/", {"below_reorder_point": "sometimes"}, "below_reorder_point"),
        ("/api/v1/categories/", {"root": "2"}, "root"),
        ("/api/v1/categories/", {"root": "1"}, "root"),
        ("/api/v1/products/", {"category": "0b5c843651f64233b181d8962ddd64c5"}, "category"),
        ("/api/v1/products/", {"search": "a\x00b"}, "search"),
        ("/api/v1/products/", {"unit": "furlong"}, "unit"),
        ("/api/v1/products/", {"category": "not-a-uuid"}, "category"),
        ("/api/v1/products/", {"ordering": "nope"}, "ordering"),
        ("/api/v1/products/", {"ordering": "sku,-password"}, "ordering"),
        ("/api/v1/members/", {"ordering": "user__password"}, "ordering"),
        ("/api/v1/products/", {"page": "abc"}, "page"),
        ("/api/v1/products/", {"page": "0"}, "page"),
        ("/api/v1/products/", {"page": "-1"}, "page"),
        ("/api/v1/products/", {"page": "last"}, "page"),
        ("/api/v1/products/", {"page_size": "0"}, "page_size"),
        ("/api/v1/products/", {"page_size": "-1"}, "page_size"),
        ("/api/v1/products/", {"page_size": "x"}, "page_size"),
        ("/api/v1/stock-movements/", {"page_size": "1.5"}, "page_size"),
        ("/api/v1/stock-movements/", {"created_after": "yesterday"}, "created_after"),
        (
            "/api/v1/stock-movements/",
            {"created_after": "2026-02-01T00:00:00Z", "created_before": "2026-01-01T00:00:00Z"},
            "created_after",
        ),
        ("/api/v1/sales-orders/", {"expected_after": "2026-02-01", "expected_before": "2026-01-01"}, "expected_after"),
        ("/api/v1/orders/stats/", {"date_from": "2026-02-01", "date_to": "2026-01-01"}, "date_from"),
        ("/api/v1/orders/stats/", {"type": "both"}, "type"),
        ("/api/v1/inventory/valuation/", {"warehouse": "main"}, "warehouse"),
    ],
)
def test_list_with_a_bad_parameter_is_400_naming_it(client_a, path, query, parameter):
    _error(client_a.get(path, query), 400, "invalid_parameter", parameter)


@pytest.mark.django_db
def test_product_history_with_a_bad_warehouse_is_400_naming_it(client_a, ledger):
    product, _ = ledger
    response = client_a.get(f"/api/v1/products/{product.id}/history/", {"warehouse": "x"})
    _error(response, 400, "invalid_parameter", "warehouse")


@pytest.mark.django_db
def test_list_with_good_parameters_filters_and_sorts(client_a, in_a):
    make_product(sku="B-1", name="beta")
    make_product(sku="A-1", name="alpha", is_active=False)

    active = client_a.get("/api/v1/products/", {"is_active": "true"}).json()
    inactive = client_a.get("/api/v1/products/", {"is_active": "false"}).json()
    by_name_desc = client_a.get("/api/v1/products/", {"ordering": "-name,sku"}).json()
    empty_values = client_a.get("/api/v1/products/", {"is_active": "", "ordering": "", "page": ""})

    assert [p["sku"] for p in active["results"]] == ["B-1"]
    assert [p["sku"] for p in inactive["results"]] == ["A-1"]
    assert [p["sku"] for p in by_name_desc["results"]] == ["B-1", "A-1"]
    assert empty_values.status_code == 200 and empty_values.json()["count"] == 2


@pytest.mark.django_db
def test_list_page_past_the_end_is_404_page_not_found(client_a, in_a):
    make_product(sku="ONLY-1")
    assert client_a.get("/api/v1/products/", {"page": "1", "page_size": "1"}).status_code == 200
    _error(client_a.get("/api/v1/products/", {"page": "2", "page_size": "1"}), 404, "page_not_found")


@pytest.mark.django_db
def test_list_first_page_of_an_empty_list_is_200(client_a, in_a):
    response = client_a.get("/api/v1/products/", {"page": "1"})
    assert response.status_code == 200 and response.json()["count"] == 0


@pytest.mark.django_db
def test_order_stats_with_an_equal_date_range_is_200(client_a):
    response = client_a.get("/api/v1/orders/stats/", {"date_from": "2026-01-01", "date_to": "2026-01-01"})
    assert response.status_code == 200, response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/v1/supplier-products/", "product"),
        ("/api/v1/inventory/low-stock/", "warehouse"),
        ("/api/v1/inventory/low-stock-alerts/", "product"),
        ("/api/v1/categories/", "subtree_of"),
        ("/api/v1/products/", "category_tree"),
    ],
)
def test_list_filtered_by_a_well_formed_unknown_id_is_empty(client_a, path, parameter):
    response = client_a.get(path, {parameter: "0b5c8436-51f6-4233-b181-d8962ddd64c5"})
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 0


@pytest.mark.django_db
def test_list_with_empty_parameters_counts_them_as_absent(client_a, in_a):
    make_product(sku="E-1")
    response = client_a.get("/api/v1/products/?unit=&category=&page_size=&ordering=&search=")
    assert response.status_code == 200 and response.json()["count"] == 1
    assert client_a.get("/api/v1/sales-orders/?status=&status=draft").status_code == 200
