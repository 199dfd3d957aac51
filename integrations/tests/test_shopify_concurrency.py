"""Real threads, real commits: identical deliveries at once make one sales order."""

from __future__ import annotations

from django.db import transaction
from rest_framework.test import APIClient

from integrations.models import ConnectorDelivery, ConnectorError, ConnectorOrder
from integrations.tests.factories import body_of, make_connector, order_payload, signed_headers
from inventory.models import Customer
from inventory.tests.factories import make_product, make_warehouse, receive
from orders.models import SalesOrder
from tenants.context import tenant_context
from tenants.tests.factories import make_tenant
from tenants.tests.threads import in_threads


def _setup(slug: str, **connector):
    tenant = make_tenant(slug=slug)
    with tenant_context(tenant):
        warehouse = make_warehouse("W")
        receive(make_product(sku="SHOP-1"), warehouse, 100)
        return tenant, make_connector(warehouse, **connector)


def _deliverer(connector, payload, webhook_id, answers):
    body = body_of(payload)

    def run():
        response = APIClient().generic(
            "POST",
            f"/api/v1/connectors/{connector.pk}/shopify/orders/",
            body.decode(),
            content_type="application/json",
            **signed_headers(body, webhook_id=webhook_id),
        )
        answers.append((response.status_code, response.json()["status"]))

    return run


def test_two_identical_deliveries_at_once_make_one_order(committed):
    tenant, connector = _setup("race-shopify", auto_confirm=True)
    answers: list[tuple[int, str]] = []

    in_threads(*(_deliverer(connector, order_payload(7001), "wh-same", answers) for _ in range(2)))

    assert sorted(answers) == [(200, "created"), (200, "duplicate")]
    with tenant_context(tenant), transaction.atomic():
        assert SalesOrder.objects.count() == 1 and ConnectorOrder.objects.count() == 1
        assert ConnectorDelivery.objects.count() == 1 and Customer.objects.count() == 1


def test_one_order_under_two_webhook_ids_at_once_makes_one_order(committed):
    tenant, connector = _setup("race-shopify-ids")
    answers: list[tuple[int, str]] = []

    in_threads(*(_deliverer(connector, order_payload(7002), f"wh-{n}", answers) for n in range(3)))

    assert sorted(answers) == [(200, "created"), (200, "duplicate"), (200, "duplicate")]
    with tenant_context(tenant), transaction.atomic():
        assert SalesOrder.objects.count() == 1 and ConnectorDelivery.objects.count() == 3


def test_one_failing_order_under_two_webhook_ids_at_once_is_one_entry(committed):
    tenant, connector = _setup("race-shopify-fail")
    answers: list[tuple[int, str]] = []
    payload = order_payload(7003, lines=[("MISSING", 1, "1.00")])

    in_threads(*(_deliverer(connector, payload, f"wh-{n}", answers) for n in range(2)))

    assert answers == [(200, "failed"), (200, "failed")]
    with tenant_context(tenant), transaction.atomic():
        assert list(ConnectorError.objects.values_list("attempts", flat=True)) == [2]
        assert SalesOrder.objects.count() == 0
