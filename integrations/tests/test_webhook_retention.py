"""The delivery log's retention: finished messages older than WEBHOOK_LOG_RETENTION_DAYS go
with their attempts, in every workspace; pending ones and recent ones stay."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from integrations.models import MessageStatus, WebhookDelivery, WebhookMessage
from integrations.tasks import delete_old_webhook_messages
from integrations.tests.factories import make_webhook_endpoint
from tenants.context import tenant_context
from tenants.models import Tenant
from tenants.tests.factories import make_tenant


def _message(endpoint, *, days_old: float, status: str) -> WebhookMessage:
    created = timezone.now() - timedelta(days=days_old)
    message = WebhookMessage.objects.create(
        endpoint=endpoint, event_type="product.created", body="{}", status=status, created_at=created
    )
    WebhookDelivery.objects.create(message=message, endpoint=endpoint, attempt=1, status_code=200, created_at=created)
    return message


def test_finished_messages_past_the_retention_go_with_their_attempts(committed, settings):
    settings.WEBHOOK_LOG_RETENTION_DAYS = 30
    kept: dict[str, list] = {}
    for slug in ("ret-a", "ret-b"):
        tenant = make_tenant(slug=slug)
        with tenant_context(tenant):
            endpoint = make_webhook_endpoint()
            _message(endpoint, days_old=31, status=MessageStatus.SUCCEEDED)
            _message(endpoint, days_old=40, status=MessageStatus.FAILED)
            kept[slug] = [
                _message(endpoint, days_old=45, status=MessageStatus.PENDING).pk,  # still to be sent
                _message(endpoint, days_old=29, status=MessageStatus.SUCCEEDED).pk,
            ]

    assert delete_old_webhook_messages() == 4
    assert delete_old_webhook_messages() == 0
    for slug, ids in kept.items():
        with tenant_context(Tenant.objects.get(slug=slug)):
            assert sorted(WebhookMessage.objects.values_list("pk", flat=True)) == sorted(ids)
            assert sorted(WebhookDelivery.objects.values_list("message_id", flat=True)) == sorted(ids)
