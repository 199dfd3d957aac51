"""POST /api/v1/connectors/{id}/shopify/orders/: Shopify's signed orders/create webhook becomes a
sales order, once per delivery and once per shop order; what cannot become one is kept."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import transaction

from integrations.models import ConnectorDelivery, ConnectorError, ConnectorOrder
from integrations.tests.factories import body_of, make_connector, order_payload, signed_headers
from inventory.models import Customer, StockLevel
from inventory.tests.factories import make_product, make_warehouse, receive
from orders.models import SalesOrder
from tenants.context import tenant_context
from tenants.models import BillingStatus, DomainEvent, TenantStatus
from tenants.services import tenant_plan_apply

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(tenant_a):
    """Tenant A with a warehouse, two products and a connector (not auto-confirming)."""
    with tenant_context(tenant_a):
        warehouse = make_warehouse("WEB")
        make_product(sku="SHOP-1", name="Mug", selling_price=Decimal("5.00"))
        make_product(sku="SHOP-2", name="Plate")
        connector = make_connector(warehouse)
    return connector


def url(connector) -> str:
    return f"/api/v1/connectors/{connector.pk}/shopify/orders/"


def deliver(api, connector, payload, **headers_kwargs):
    body = payload if isinstance(payload, bytes) else body_of(payload)
    return api.generic(
        "POST", url(connector), body, content_type="application/json", **signed_headers(body, **headers_kwargs)
    )


def counts(tenant):
    with tenant_context(tenant), transaction.atomic():
        return {
            "orders": SalesOrder.objects.count(),
            "links": ConnectorOrder.objects.count(),
            "errors": ConnectorError.objects.count(),
            "deliveries": ConnectorDelivery.objects.count(),
            "customers": Customer.objects.count(),
        }


NOTHING = {"orders": 0, "links": 0, "errors": 0, "deliveries": 0, "customers": 0}


# --- Signature --------------------------------------------------------------------------------


def test_signed_order_becomes_a_sales_order_with_lines_and_a_new_customer(api, shop, tenant_a):
    payload = order_payload(5001, lines=[("SHOP-1", 2, "19.99"), ("shop-2", 1, "3.50")])

    response = deliver(api, shop, payload)

    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["status"] == "created" and answer["error"] is None
    with tenant_context(tenant_a), transaction.atomic():
        order = SalesOrder.objects.get(pk=answer["sales_order"])
        assert order.status == "draft" and order.external_reference == "shopify:5001"
        assert "#5001" in order.notes and "shop-" in order.notes
        assert [(ln.product.sku, ln.quantity, ln.unit_price) for ln in order.lines.order_by("position")] == [
            ("SHOP-1", 2, Decimal("19.99")),
            ("SHOP-2", 1, Decimal("3.50")),
        ]
        assert order.lines.first().warehouse_id == shop.warehouse_id
        assert order.total == Decimal("43.48")
        assert (order.customer.name, order.customer.email) == ("Ada Lovelace", "ada@example.com")
        assert ConnectorOrder.objects.get().sales_order_id == order.pk
        assert DomainEvent.objects.filter(type="sales_order.created", subject_id=str(order.pk)).exists()


def test_an_existing_customer_is_found_by_email_case_insensitively(api, shop, tenant_a):
    with tenant_context(tenant_a):
        existing = Customer.objects.create(name="Ada (wholesale)", email="ADA@example.com")

    response = deliver(api, shop, order_payload(5002))

    with tenant_context(tenant_a), transaction.atomic():
        assert SalesOrder.objects.get(pk=response.json()["sales_order"]).customer_id == existing.pk
        assert Customer.objects.count() == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_X_SHOPIFY_HMAC_SHA256": ""},
        {"HTTP_X_SHOPIFY_HMAC_SHA256": "bm90IHRoZSBzaWduYXR1cmU="},
        {"HTTP_X_SHOPIFY_HMAC_SHA256": "not base64 at all \u00e9"},
    ],
    ids=["missing", "empty", "wrong", "garbage"],
)
def test_an_unsigned_or_badly_signed_delivery_is_401_and_stores_nothing(api, shop, tenant_a, headers):
    body = body_of(order_payload(5003))

    response = api.generic(
        "POST", url(shop), body, content_type="application/json", HTTP_X_SHOPIFY_TOPIC="orders/create", **headers
    )

    assert response.status_code == 401
    signed = bool(headers.get("HTTP_X_SHOPIFY_HMAC_SHA256"))
    assert response.json()["code"] == ("signature_invalid" if signed else "signature_missing")
    assert counts(tenant_a) == NOTHING


def test_a_body_signed_with_another_secret_or_changed_after_signing_is_401(api, shop, tenant_a):
    assert deliver(api, shop, order_payload(5004), secret="someone else's").json()["code"] == "signature_invalid"
    body = body_of(order_payload(5004))
    headers = signed_headers(body)
    tampered = body.replace(b'"19.99"', b'"0.01"')
    response = api.generic("POST", url(shop), tampered, content_type="application/json", **headers)
    assert response.status_code == 401 and response.json()["code"] == "signature_invalid"
    assert counts(tenant_a) == NOTHING


def test_unknown_connector_is_404(api, shop):
    body = body_of(order_payload())
    response = api.generic(
        "POST",
        "/api/v1/connectors/00000000-0000-4000-8000-000000000000/shopify/orders/",
        body,
        content_type="application/json",
        **signed_headers(body),
    )
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_a_connector_of_another_tenant_is_reached_only_with_its_own_secret(api, shop, tenant_a, tenant_b):
    """Connector ids are global; B, who does not know A's secret, cannot sign for A's connector."""
    with tenant_context(tenant_b):
        make_connector(make_warehouse("B"), shared_secret="b's secret")
    response = deliver(api, shop, order_payload(5005), secret="b's secret")
    assert response.status_code == 401
    assert counts(tenant_a) == NOTHING


def test_a_suspended_workspace_is_403_and_stores_nothing(api, shop, tenant_a):
    type(tenant_a).objects.filter(pk=tenant_a.pk).update(status=TenantStatus.SUSPENDED)
    response = deliver(api, shop, order_payload(5006))
    assert response.status_code == 403 and response.json()["code"] == "tenant_suspended"
    assert counts(tenant_a) == NOTHING


# --- Topics and idempotency ---------------------------------------------------------------------


def test_other_topics_are_ignored_with_200_and_a_missing_topic_is_400(api, shop, tenant_a):
    response = deliver(api, shop, order_payload(5007), topic="orders/updated")
    assert response.status_code == 200 and response.json()["status"] == "ignored"
    body = body_of(order_payload(5007))
    headers = signed_headers(body)
    del headers["HTTP_X_SHOPIFY_TOPIC"]
    response = api.generic("POST", url(shop), body, content_type="application/json", **headers)
    assert response.status_code == 400 and response.json()["code"] == "topic_missing"
    assert counts(tenant_a) == NOTHING


def test_the_same_delivery_twice_makes_one_order(api, shop, tenant_a):
    first = deliver(api, shop, order_payload(5008), webhook_id="wh-5008")
    second = deliver(api, shop, order_payload(5008), webhook_id="wh-5008")

    assert first.json()["status"] == "created"
    assert second.status_code == 200 and second.json() == {"status": "duplicate", "sales_order": None, "error": None}
    assert counts(tenant_a) == {**NOTHING, "orders": 1, "links": 1, "deliveries": 1, "customers": 1}


def test_the_same_order_under_another_webhook_id_makes_one_order(api, shop, tenant_a):
    first = deliver(api, shop, order_payload(5009), webhook_id="wh-a")
    second = deliver(api, shop, order_payload(5009), webhook_id="wh-b")
    third = deliver(api, shop, order_payload(5009), webhook_id=None)

    assert second.json() == {"status": "duplicate", "sales_order": first.json()["sales_order"], "error": None}
    assert third.json()["status"] == "duplicate"
    assert counts(tenant_a) == {**NOTHING, "orders": 1, "links": 1, "deliveries": 2, "customers": 1}


def test_a_webhook_id_over_255_characters_is_400(api, shop, tenant_a):
    response = deliver(api, shop, order_payload(5010), webhook_id="w" * 256)
    assert response.status_code == 400 and response.json()["code"] == "invalid_webhook_id"
    assert counts(tenant_a) == NOTHING


# --- Orders that cannot be made are kept ---------------------------------------------------------


def test_unknown_sku_is_kept_as_an_error_then_retried_after_the_product_is_created(api, shop, tenant_a, client_a):
    response = deliver(api, shop, order_payload(5011, lines=[("SHOP-1", 1, "5.00"), ("NEW-9", 3, "2.00")]))

    assert response.status_code == 200
    assert response.json()["status"] == "failed" and response.json()["sales_order"] is None
    error_id = response.json()["error"]
    assert counts(tenant_a) == {**NOTHING, "errors": 1, "deliveries": 1}
    listed = client_a.get(f"/api/v1/connectors/{shop.pk}/errors/").json()["results"]
    assert [(e["id"], e["code"], e["status"], e["attempts"]) for e in listed] == [(error_id, "unknown_sku", "open", 1)]
    assert listed[0]["details"] == {"skus": ["NEW-9"]}
    assert json.loads(listed[0]["body"])["id"] == 5011 and listed[0]["external_id"] == "5011"
    with tenant_context(tenant_a), transaction.atomic():
        event = DomainEvent.objects.get(type="connector.order_failed")
        assert event.subject_id == error_id and event.data["code"] == "unknown_sku"

    still = client_a.post(f"/api/v1/connector-errors/{error_id}/retry/")
    assert still.status_code == 200 and (still.json()["status"], still.json()["attempts"]) == ("open", 2)

    with tenant_context(tenant_a):
        make_product(sku="NEW-9")
    retried = client_a.post(f"/api/v1/connector-errors/{error_id}/retry/")

    assert retried.status_code == 200
    entry = retried.json()
    assert entry["status"] == "resolved" and entry["sales_order"] and entry["resolved_at"]
    with tenant_context(tenant_a), transaction.atomic():
        order = SalesOrder.objects.get(pk=entry["sales_order"])
        assert sorted(ln.product.sku for ln in order.lines.all()) == ["NEW-9", "SHOP-1"]
        assert ConnectorOrder.objects.get(external_id="5011").sales_order_id == order.pk
    again = client_a.post(f"/api/v1/connector-errors/{error_id}/retry/")
    assert again.status_code == 409 and again.json()["code"] == "connector_error_resolved"
    # Shopify sending it once more changes nothing.
    assert deliver(api, shop, order_payload(5011), webhook_id="wh-late").json()["status"] == "duplicate"
    assert counts(tenant_a)["orders"] == 1


def test_a_second_failing_delivery_of_an_order_is_another_attempt_on_its_entry(api, shop, tenant_a):
    payload = order_payload(5012, lines=[("NOPE", 1, "1.00")])
    deliver(api, shop, payload, webhook_id="x1")
    deliver(api, shop, payload, webhook_id="x2")
    with tenant_context(tenant_a), transaction.atomic():
        assert list(ConnectorError.objects.values_list("attempts", "status")) == [(2, "open")]


def test_a_later_delivery_that_succeeds_resolves_the_open_entry(api, shop, tenant_a):
    deliver(api, shop, order_payload(5013, lines=[("LATER", 1, "1.00")]), webhook_id="y1")
    with tenant_context(tenant_a):
        make_product(sku="LATER")
    created = deliver(api, shop, order_payload(5013, lines=[("LATER", 1, "1.00")]), webhook_id="y2").json()
    with tenant_context(tenant_a), transaction.atomic():
        entry = ConnectorError.objects.get()
        assert (entry.status, str(entry.sales_order_id)) == ("resolved", created["sales_order"])


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"email": None, "customer": {"first_name": "No", "last_name": "Mail"}}, "missing_email"),
        ({"email": "not an address", "customer": None}, "invalid_email"),
        ({"currency": "EUR"}, "currency_mismatch"),
        ({"line_items": []}, "no_lines"),
        ({"line_items": [{"sku": "", "quantity": 1, "price": "1"}]}, "missing_sku"),
    ],
)
def test_orders_that_cannot_be_made_are_kept_with_a_code(api, shop, tenant_a, change, code):
    response = deliver(api, shop, {**order_payload(5014), **change})
    assert response.status_code == 200 and response.json()["status"] == "failed"
    with tenant_context(tenant_a), transaction.atomic():
        assert ConnectorError.objects.get().code == code
        assert SalesOrder.objects.count() == 0 and Customer.objects.count() == 0


def test_insufficient_stock_with_auto_confirm_is_kept_then_retried_after_a_receipt(api, tenant_a, client_a):
    with tenant_context(tenant_a):
        warehouse = make_warehouse("AUTO")
        product = make_product(sku="SCARCE")
        receive(product, warehouse, 1)
        connector = make_connector(warehouse, auto_confirm=True)

    response = deliver(api, connector, order_payload(5015, lines=[("SCARCE", 3, "4.00")]))

    assert response.json()["status"] == "failed"
    entry = client_a.get(f"/api/v1/connector-errors/{response.json()['error']}/").json()
    assert entry["code"] == "insufficient_stock" and entry["details"]["lines"]
    assert counts(tenant_a)["orders"] == 0 and counts(tenant_a)["customers"] == 0
    with tenant_context(tenant_a):
        receive(product, warehouse, 5)
    retried = client_a.post(f"/api/v1/connector-errors/{entry['id']}/retry/").json()
    assert retried["status"] == "resolved"
    with tenant_context(tenant_a), transaction.atomic():
        order = SalesOrder.objects.get(pk=retried["sales_order"])
        assert order.status == "confirmed" and order.number
        assert StockLevel.objects.get(product=product).reserved == 3


def test_auto_confirm_with_stock_confirms_the_order(api, tenant_a):
    with tenant_context(tenant_a):
        warehouse = make_warehouse("AUTO2")
        receive(make_product(sku="PLENTY"), warehouse, 10)
        connector = make_connector(warehouse, auto_confirm=True)
    answer = deliver(api, connector, order_payload(5016, lines=[("PLENTY", 2, "1.00")])).json()
    with tenant_context(tenant_a), transaction.atomic():
        assert SalesOrder.objects.get(pk=answer["sales_order"]).status == "confirmed"
        assert DomainEvent.objects.filter(type="sales_order.confirmed").exists()


def test_a_paused_connector_keeps_orders_for_a_retry(api, shop, tenant_a, client_a):
    client_a.patch(f"/api/v1/connectors/{shop.pk}/", {"is_active": False}, format="json")
    response = deliver(api, shop, order_payload(5017))
    entry_id = response.json()["error"]
    assert client_a.get(f"/api/v1/connector-errors/{entry_id}/").json()["code"] == "connector_inactive"
    client_a.patch(f"/api/v1/connectors/{shop.pk}/", {"is_active": True}, format="json")
    assert client_a.post(f"/api/v1/connector-errors/{entry_id}/retry/").json()["status"] == "resolved"


def test_a_plan_without_connectors_keeps_orders_for_a_retry_after_upgrading(api, shop, tenant_a, client_a):
    tenant_plan_apply(tenant_id=tenant_a.pk, plan_code="pro", billing_status=BillingStatus.CANCELED)
    response = deliver(api, shop, order_payload(5018))
    entry_id = response.json()["error"]
    entry = client_a.get(f"/api/v1/connector-errors/{entry_id}/").json()
    assert entry["code"] == "feature_not_in_plan"
    assert counts(tenant_a)["orders"] == 0

    tenant_plan_apply(tenant_id=tenant_a.pk, plan_code="pro", billing_status=BillingStatus.ACTIVE)

    assert client_a.post(f"/api/v1/connector-errors/{entry_id}/retry/").json()["status"] == "resolved"
    assert counts(tenant_a)["orders"] == 1


def test_an_entry_can_be_dismissed(api, shop, client_a):
    entry_id = deliver(api, shop, b"not json").json()["error"]
    dismissed = client_a.post(f"/api/v1/connector-errors/{entry_id}/dismiss/").json()
    assert dismissed["status"] == "resolved" and dismissed["sales_order"] is None
    assert client_a.get("/api/v1/connector-errors/", {"status": "open"}).json()["results"] == []
    assert client_a.post(f"/api/v1/connector-errors/{entry_id}/dismiss/").status_code == 409


# --- Hostile payloads: never a 500, and the authenticated ones are kept --------------------------

HOSTILE = [
    (b"not json", "invalid_payload"),
    (b"\xff\xfe\x00 not utf-8", "invalid_payload"),
    (b"[1, 2, 3]", "invalid_payload"),
    (b'"a string"', "invalid_payload"),
    (b"null", "invalid_payload"),
    (b"[" * 5000 + b"]" * 5000, "invalid_payload"),
    (b'{"id": ' + b"9" * 5000 + b"}", "invalid_payload"),  # past Python's int digit limit
    (b"{}", "invalid_order_id"),
    (b'{"id": true, "line_items": []}', "invalid_order_id"),
    (b'{"id": -5}', "invalid_order_id"),
    (b'{"id": 1e400}', "invalid_order_id"),
    (b'{"id": 99999999999999999999999}', "invalid_order_id"),
    (b'{"id": "12\\u0000"}', "invalid_order_id"),
    (b'{"id": 7, "line_items": "many"}', "no_lines"),
    (b'{"id": 7, "line_items": [5]}', "invalid_line"),
    (b'{"id": 7, "line_items": [{"sku": "SHOP-1", "quantity": 1e308, "price": "1"}]}', "invalid_line"),
    (b'{"id": 7, "line_items": [{"sku": "SHOP-1", "quantity": 99999999999999, "price": "1"}]}', "invalid_line"),
    (b'{"id": 7, "line_items": [{"sku": "SHOP-1", "quantity": "2", "price": "1"}]}', "invalid_line"),
    (b'{"id": 7, "line_items": [{"sku": "SHOP-1", "quantity": 0, "price": "1"}]}', "invalid_line"),
    (b'{"id": 7, "line_items": [{"sku": "SHOP-1", "quantity": 1, "price": "NaN"}]}', "invalid_line"),
    (b'{"id": 7, "line_items": [{"sku": "SHOP-1", "quantity": 1, "price": "-1"}]}', "invalid_line"),
    (b'{"id": 7, "line_items": [{"sku": "SHOP-1", "quantity": 1, "price": "1e999999"}]}', "invalid_line"),
    (b'{"id": 7, "line_items": [{"sku": "SHOP-1", "quantity": 1, "price": "0.00001"}]}', "invalid_line"),
    (b'{"id": 7, "line_items": [{"sku": "SHOP-1", "quantity": 1, "price": {"a": 1}}]}', "invalid_line"),
    (b'{"id": 7, "line_items": [{"sku": ["SHOP-1"], "quantity": 1, "price": "1"}]}', "missing_sku"),
    (b'{"id": 7, "line_items": [{"sku": "SHOP\\u0000-1", "quantity": 1, "price": "1"}]}', "unknown_sku"),
    (b'{"id": 7, "line_items": [{"sku": "\\ud800", "quantity": 1, "price": "1"}]}', "unknown_sku"),
    (
        b'{"id": 7, "email": "a@b.co", "line_items": [{"sku": "SHOP-1", "quantity": 9999999999, '
        b'"price": "9999999999"}]}',
        "amount_too_large",
    ),
    (
        b'{"id": 7, "email": "\\u0000@x.com", "line_items": [{"sku": "SHOP-1", "quantity": 1, "price": "1"}]}',
        "invalid_email",
    ),
    (
        b'{"id": 7, "email": 5, "customer": ["x"], "line_items": [{"sku": "SHOP-1", "quantity": 1, "price": "1"}]}',
        "missing_email",
    ),
]


@pytest.mark.parametrize(("body", "code"), HOSTILE, ids=[f"{i}-{c}" for i, (_, c) in enumerate(HOSTILE)])
def test_hostile_payloads_are_kept_as_errors_never_a_500(api, shop, tenant_a, body, code):
    response = deliver(api, shop, body)

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "failed"
    with tenant_context(tenant_a), transaction.atomic():
        entry = ConnectorError.objects.get()
        assert entry.code == code, entry.message
        assert "\x00" not in entry.body
        assert SalesOrder.objects.count() == 0


def test_odd_but_usable_payloads_make_orders(api, shop, tenant_a):
    """Names with NUL characters and lone surrogates, very long names, a numeric id as a string."""
    payload = order_payload(5018)
    payload["id"] = "5018"
    payload["customer"] = {"first_name": "A\u0000da" + "x" * 500, "last_name": "\ud800"}
    body = json.dumps(payload).encode()
    response = deliver(api, shop, body)
    assert response.json()["status"] == "created", response.content
    with tenant_context(tenant_a), transaction.atomic():
        customer = Customer.objects.get()
        assert "\x00" not in customer.name and len(customer.name) <= 200


def test_a_body_over_the_size_limit_is_413(api, shop, tenant_a, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = deliver(api, shop, order_payload(5019, note="x" * 2000))
    assert response.status_code == 413 and response.json()["code"] == "request_too_large"
    assert counts(tenant_a) == NOTHING


def test_the_webhook_is_csrf_exempt_and_needs_no_login(shop, tenant_a):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    body = body_of(order_payload(5020))
    response = client.post(url(shop), body, content_type="application/json", **signed_headers(body))
    assert response.status_code == 200 and response.json()["status"] == "created"


def test_another_tenants_workspace_is_untouched(api, shop, tenant_b):
    with tenant_context(tenant_b):
        make_warehouse("B")
        make_product(sku="SHOP-1")
    deliver(api, shop, order_payload(5021))
    assert counts(tenant_b) == NOTHING
