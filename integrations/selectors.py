"""Reads of the audit log: the tenant's domain events (tenants.models.DomainEvent)."""

from __future__ import annotations

from django.db.models import QuerySet

from tenants.models import DomainEvent


def audit_event_list() -> QuerySet[DomainEvent]:
    """The current tenant's events, newest first (the audit log and the PostgreSQL event store)."""
    return DomainEvent.objects.all()
