"""Test data for the integrations app."""

from __future__ import annotations

from typing import Any

from tenants.models import DomainEvent, EventCursor, Tenant


def cross_tenant_seed(tenant: Tenant) -> list[Any]:
    """A domain event (the other apps' seeders recorded some) and a relay cursor."""
    event = DomainEvent.objects.order_by("created_at").first()
    assert event is not None, "the other apps' seeders record events"
    return [event, EventCursor.objects.create(subscriber="harness")]
