"""Reads of the integrations app: the audit log (the tenant's domain events) and connectors."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from core.errors import NotFound
from core.sql import set_local
from integrations.models import Connector, ConnectorError
from tenants.models import DomainEvent


def audit_event_list() -> QuerySet[DomainEvent]:
    """The current tenant's events, newest first (the audit log and the PostgreSQL event store)."""
    return DomainEvent.objects.all()


# --- Connectors -------------------------------------------------------------------------------


def connector_for_webhook(*, connector_id: uuid.UUID) -> Connector | None:
    """The connector with this id, with its tenant, before any tenant is known (a shop's
    webhook): the transaction sets ``app.connector_id``, which the ``id_lookup`` policy
    (``tenants/rls.py``) turns into "this one row", so the look-up reads nothing else of any
    tenant. The caller must verify the webhook's signature before acting for the tenant.
    None when there is no such connector."""
    nested = transaction.get_connection().in_atomic_block  # a savepoint: the setting would outlive it
    with transaction.atomic():
        set_local("app.connector_id", str(connector_id))
        connector = Connector.unscoped.select_related("tenant").filter(pk=connector_id).first()
        if nested:
            set_local("app.connector_id", "")
    return connector


def connector_list() -> QuerySet[Connector]:
    """The current tenant's connectors, newest first."""
    return Connector.objects.select_related("warehouse").order_by("-created_at")


def connector_get(*, id: Any) -> Connector:
    connector = connector_list().filter(pk=id).first()
    if connector is None:
        raise NotFound("No such connector in this workspace.")
    return connector


def connector_error_list(*, connector: Connector) -> QuerySet[ConnectorError]:
    """A connector's error entries, newest first."""
    return ConnectorError.objects.filter(connector=connector).order_by("-created_at", "-id")


def connector_error_get(*, id: Any) -> ConnectorError:
    entry = ConnectorError.objects.filter(pk=id).first()
    if entry is None:
        raise NotFound("No such connector error in this workspace.")
    return entry
