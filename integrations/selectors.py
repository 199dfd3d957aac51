"""Reads of the audit log and of the event store: the tenant's domain events."""

from __future__ import annotations

from django.db.models import QuerySet

from integrations.event_store import EventFilters, EventPage, Position, event_store
from tenants.context import get_current_tenant
from tenants.models import DomainEvent


def audit_event_list() -> QuerySet[DomainEvent]:
    """The current tenant's events, newest first (the audit log and the PostgreSQL event store)."""
    return DomainEvent.objects.all()


def event_list(*, filters: EventFilters, position: Position | None, page_size: int) -> EventPage:
    """A page of the current tenant's events from the configured event store (MongoDB or
    PostgreSQL), newest first. The tenant is the context's, never the caller's choice.
    503 ``event_store_unavailable`` when MongoDB cannot be reached."""
    return event_store().list(
        tenant_id=get_current_tenant().id, filters=filters, position=position, page_size=page_size
    )
