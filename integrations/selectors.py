"""Reads of the integrations app: the audit log (the tenant's domain events) and the
webhook endpoints with their delivery log. Every one is the current tenant's."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from core.errors import NotFound
from integrations.models import WebhookDelivery, WebhookEndpoint
from tenants.models import DomainEvent


def audit_event_list() -> QuerySet[DomainEvent]:
    """The current tenant's events, newest first (the audit log and the PostgreSQL event store)."""
    return DomainEvent.objects.all()


def webhook_endpoint_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.all()


def webhook_endpoint_get(*, id: Any) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(pk=id).first()
    if endpoint is None:
        raise NotFound("No such webhook endpoint in this workspace.")
    return endpoint


def webhook_delivery_list(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """The endpoint's delivery attempts with their message (event type, webhook id)."""
    return WebhookDelivery.objects.filter(endpoint_id=endpoint.pk).select_related("message")


def webhook_delivery_all() -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.all()


def webhook_delivery_get(*, id: Any) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.filter(pk=id).first()
    if delivery is None:
        raise NotFound("No such webhook delivery in this workspace.")
    return delivery
