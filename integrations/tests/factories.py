"""Test data for the integrations app."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from integrations.models import (
    DisabledReason,
    WebhookDelivery,
    WebhookDisabledNotice,
    WebhookEndpoint,
    WebhookMessage,
)
from integrations.services import endpoints
from tenants.models import DomainEvent, EventCursor, Tenant


def make_webhook_endpoint(
    url: str = "https://hooks.example.com/in", events: list[str] | None = None, **extra: Any
) -> WebhookEndpoint:
    """An endpoint written directly (no SSRF look-up): for tests that do not send to it."""
    return WebhookEndpoint.objects.create(url=url, events=events or ["*"], secret=endpoints.generate_secret(), **extra)


def cross_tenant_seed(tenant: Tenant) -> list[Any]:
    """A domain event (the other apps' seeders recorded some), a relay cursor, and a webhook
    endpoint with a message, an attempt of it and a disabled notice."""
    event = DomainEvent.objects.order_by("created_at").first()
    assert event is not None, "the other apps' seeders record events"
    endpoint = make_webhook_endpoint(url=f"https://hooks.example.com/{tenant.slug}")
    message = WebhookMessage.objects.create(
        endpoint=endpoint, event_id=event.pk, event_type=event.type, body="{}", status="failed"
    )
    delivery = WebhookDelivery.objects.create(
        message=message, endpoint=endpoint, attempt=1, status_code=500, error="HTTP 500", created_at=timezone.now()
    )
    notice = WebhookDisabledNotice.objects.create(endpoint=endpoint, reason=DisabledReason.GONE, sent_at=timezone.now())
    return [event, EventCursor.objects.create(subscriber="harness"), endpoint, message, delivery, notice]
