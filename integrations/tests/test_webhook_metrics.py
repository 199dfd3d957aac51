"""The webhook delivery counter (core/metrics.py): one per attempt, by outcome, after its
commit, against a real receiver on 127.0.0.1."""

from __future__ import annotations

import time

import pytest
from prometheus_client import REGISTRY

from integrations.services import endpoints as services
from integrations.tasks import send_webhook_message
from integrations.tests.receiver import Answer
from inventory.tests.factories import make_product
from tenants import events
from tenants.context import tenant_context
from tenants.tests.factories import make_tenant


def _count(outcome: str) -> float:
    return REGISTRY.get_sample_value("stockroom_webhook_deliveries_total", {"outcome": outcome}) or 0.0


@pytest.fixture
def fast(settings):
    settings.WEBHOOK_RETRY_SCHEDULE_SECONDS = [0.2]
    settings.WEBHOOK_TIMEOUT_SECONDS = 1.0
    return settings


def test_each_attempt_is_counted_by_outcome(committed, receiver, fast):
    tenant = make_tenant(slug=f"whm-{time.monotonic_ns()}")
    with tenant_context(tenant):
        _, secret = services.webhook_endpoint_create(url=receiver.url, events=["product.created"])
    receiver.secrets = [secret]
    before = {outcome: _count(outcome) for outcome in ("succeeded", "retrying", "failed")}
    receiver.answer(Answer(status=500, body=b"down"), Answer(status=500, body=b"down"))

    with tenant_context(tenant):
        make_product(sku="WHM-1")
        events.relay(only=["webhooks"])  # the send task runs on the relay's commit (eager Celery)
        from integrations.models import WebhookMessage

        message = WebhookMessage.objects.get()
    assert _count("retrying") == before["retrying"] + 1
    time.sleep(0.3)
    assert send_webhook_message(tenant_id=str(tenant.id), message_id=str(message.id)) == "failed"  # schedule spent

    assert _count("failed") == before["failed"] + 1
    assert _count("succeeded") == before["succeeded"]
