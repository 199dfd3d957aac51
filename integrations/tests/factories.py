"""Test data for the integrations app."""

from __future__ import annotations

import itertools
import json
from typing import Any

from django.utils import timezone

from integrations import shopify
from integrations.models import (
    ConnectorDelivery,
    ConnectorError,
    ConnectorOrder,
    DisabledReason,
    WebhookDelivery,
    WebhookDisabledNotice,
    WebhookEndpoint,
    WebhookMessage,
)
from integrations.services import connectors, endpoints
from inventory.models import Warehouse
from inventory.tests.factories import make_product
from orders import services as orders
from orders.tests.factories import line, make_customer
from tenants.models import DomainEvent, EventCursor, Tenant

_seq = itertools.count(1)
SECRET = "shpss_test_secret"


def make_connector(warehouse: Warehouse, **data: Any) -> Any:
    n = next(_seq)
    defaults: dict[str, Any] = {
        "name": f"Shop {n}",
        "shop_domain": f"shop-{n}.myshopify.com",
        "shared_secret": SECRET,
        "warehouse": warehouse,
        "user": None,
    }
    return connectors.connector_create(**{**defaults, **data})


def order_payload(order_id: int = 1001, *, lines: list[tuple[str, int, str]] | None = None, **extra: Any) -> dict:
    """Shopify's orders/create payload, cut to what matters (and a bit more, as Shopify sends)."""
    items = lines if lines is not None else [("SHOP-1", 2, "19.99")]
    return {
        "id": order_id,
        "name": f"#{order_id}",
        "email": "ada@example.com",
        "currency": "USD",
        "total_price": "39.98",
        "customer": {"id": 9, "email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"},
        "line_items": [
            {"id": 100 + i, "sku": sku, "quantity": quantity, "price": price, "title": f"Item {sku}"}
            for i, (sku, quantity, price) in enumerate(items)
        ],
        **extra,
    }


def signed_headers(body: bytes, *, secret: str = SECRET, webhook_id: str | None = "wh-1", topic: str = "orders/create"):
    headers = {"HTTP_X_SHOPIFY_HMAC_SHA256": shopify.signature(secret, body), "HTTP_X_SHOPIFY_TOPIC": topic}
    if webhook_id is not None:
        headers["HTTP_X_SHOPIFY_WEBHOOK_ID"] = webhook_id
    return headers


def body_of(payload: Any) -> bytes:
    return json.dumps(payload).encode()


def make_webhook_endpoint(
    url: str = "https://hooks.example.com/in", events: list[str] | None = None, **extra: Any
) -> WebhookEndpoint:
    """An endpoint written directly (no SSRF look-up): for tests that do not send to it."""
    return WebhookEndpoint.objects.create(url=url, events=events or ["*"], secret=endpoints.generate_secret(), **extra)


def cross_tenant_seed(tenant: Tenant) -> list[Any]:
    """A domain event (the other apps' seeders recorded some), a relay cursor, a connector
    with a delivery, an order link and an error entry, and a webhook endpoint with a
    message, an attempt of it and a disabled notice."""
    event = DomainEvent.objects.order_by("created_at").first()
    assert event is not None, "the other apps' seeders record events"
    warehouse = Warehouse.objects.order_by("created_at").first()
    assert warehouse is not None, "inventory's seeder makes a warehouse"
    connector = make_connector(warehouse)
    product = make_product(sku=f"SEED-{tenant.slug}")
    sales_order = orders.sales_order_create(customer=make_customer(), lines=[line(product, warehouse, 1)], user=None)
    link = ConnectorOrder.objects.create(connector=connector, external_id="1", sales_order=sales_order)
    connector_delivery = ConnectorDelivery.objects.create(
        connector=connector, webhook_id="seed", topic="orders/create", outcome="created"
    )
    error = ConnectorError.objects.create(
        connector=connector, external_id="2", topic="orders/create", body="{}", code="unknown_sku", message="Seeded."
    )
    endpoint = make_webhook_endpoint(url=f"https://hooks.example.com/{tenant.slug}")
    message = WebhookMessage.objects.create(
        endpoint=endpoint, event_id=event.pk, event_type=event.type, body="{}", status="failed"
    )
    delivery = WebhookDelivery.objects.create(
        message=message, endpoint=endpoint, attempt=1, status_code=500, error="HTTP 500", created_at=timezone.now()
    )
    notice = WebhookDisabledNotice.objects.create(endpoint=endpoint, reason=DisabledReason.GONE, sent_at=timezone.now())
    return [
        event,
        EventCursor.objects.create(subscriber="harness"),
        connector,
        link,
        connector_delivery,
        error,
        endpoint,
        message,
        delivery,
        notice,
    ]
