"""Usage reporting with real commits: a sales order's domain event goes through the relay
to the meter subscriber, and to Stripe as one meter event named by the event's id."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import transaction

from billing.models import MeterReport
from billing.services import accounts, usage
from billing.services.subscriptions import timestamp
from inventory.tests.factories import make_product, make_warehouse, receive
from orders import services as orders
from orders.tests.factories import line, make_customer
from tenants import events
from tenants.context import tenant_context
from tenants.tests.factories import make_tenant


@pytest.fixture
def meter(settings) -> Iterator[None]:
    """Usage reporting on, as billing's ready() registers it when the setting is set."""
    settings.BILLING_METER_EVENT_NAME = "stockroom_sales_orders"
    events.subscribe(usage.SUBSCRIBER, usage.meter_subscriber)
    yield
    events._SUBSCRIBERS.pop(usage.SUBSCRIBER, None)


def _order(tenant, sku):
    with tenant_context(tenant), transaction.atomic():
        product, warehouse = make_product(sku=sku), make_warehouse()
        receive(product, warehouse, 10)
    with tenant_context(tenant), transaction.atomic():
        return orders.sales_order_create(customer=make_customer(), lines=[line(product, warehouse, 1)], user=None)


def test_a_sales_order_is_sent_to_the_meter_once_with_its_event_id(committed, fake_stripe, meter):
    tenant = make_tenant()
    customer_id = accounts.customer_ensure(tenant=tenant, email="owner@example.com").stripe_customer_id

    _order(tenant, "M-1")
    with tenant_context(tenant):
        events.relay(only=[usage.SUBSCRIBER])  # the relay (its send task runs after its commit: eager Celery)
        events.relay(only=[usage.SUBSCRIBER])  # again: nothing new, nothing sent again

    [report] = MeterReport.objects.all()
    assert report.sent_at is not None and report.event_type == "sales_order.created"
    [sent] = fake_stripe.meter_events
    assert sent["event_name"] == "stockroom_sales_orders" and sent["identifier"] == str(report.event_id)
    assert sent["payload[stripe_customer_id]"] == customer_id and sent["payload[value]"] == "1"
    assert timestamp(int(sent["timestamp"])) is not None
    [call] = fake_stripe.posts("/v1/billing/meter_events")
    assert call.idempotency_key == f"meter-{report.event_id}"


def test_a_workspace_without_a_stripe_customer_reports_nothing(committed, fake_stripe, meter):
    tenant = make_tenant()
    _order(tenant, "M-2")
    with tenant_context(tenant):
        events.relay(only=[usage.SUBSCRIBER])

    assert MeterReport.objects.count() == 0 and fake_stripe.meter_events == []


def test_a_meter_event_stripe_could_not_take_is_sent_by_the_next_run(committed, fake_stripe, meter):
    tenant = make_tenant()
    accounts.customer_ensure(tenant=tenant, email="owner@example.com")
    fake_stripe.fail_with = 503

    _order(tenant, "M-3")
    with tenant_context(tenant):
        events.relay(only=[usage.SUBSCRIBER])  # the send after the commit fails: Stripe is down

    report = MeterReport.objects.get()
    assert report.sent_at is None and report.attempts >= 1
    fake_stripe.fail_with = None
    assert usage.meter_reports_send() == 1
    assert len(fake_stripe.meter_events) == 1
