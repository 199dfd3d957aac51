"""Reads of the integrations app: the audit log and the event store (the tenant's domain
events), connectors, and the webhook endpoints with their delivery log. Every one is the
current tenant's."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from core.errors import NotFound
from core.sql import set_local
from integrations.event_store import EventFilters, EventPage, Position, event_store
from integrations.models import Connector, ConnectorError, ConnectorErrorStatus, WebhookDelivery, WebhookEndpoint
from tenants.context import get_current_tenant
from tenants.models import ApiKey, DomainEvent, User


def audit_event_list() -> QuerySet[DomainEvent]:
    """The current tenant's events, newest first (the audit log and the PostgreSQL event store)."""
    return DomainEvent.objects.all()


def audit_events_of_type(queryset: QuerySet[DomainEvent], type: str) -> QuerySet[DomainEvent]:
    """An exact type (``product.updated``), or every type under a prefix ending in a dot (``product.``)."""
    if type.endswith("."):
        return queryset.filter(type__startswith=type)
    return queryset.filter(type=type)


def audit_events_by_actor(queryset: QuerySet[DomainEvent], actor: uuid.UUID) -> QuerySet[DomainEvent]:
    """The events of a user or of an API key (either id)."""
    return queryset.filter(Q(actor_user_id=actor) | Q(actor_api_key_id=actor))


def audit_event_search(
    *,
    type: str = "",
    subject: str = "",
    actor: uuid.UUID | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> QuerySet[DomainEvent]:
    """The audit log with the API's filters (``GET /api/v1/audit-events/``), newest first,
    each event with its actor in words in the same query: ``actor_email`` and
    ``actor_name`` of the user (a member who has left included), ``actor_key_prefix``
    and ``actor_key_name`` of the API key (read under the tenant's scope)."""
    queryset = audit_event_list()
    if type:
        queryset = audit_events_of_type(queryset, type)
    if subject:
        queryset = queryset.filter(subject_id=subject)
    if actor is not None:
        queryset = audit_events_by_actor(queryset, actor)
    if created_after is not None:
        queryset = queryset.filter(created_at__gte=created_after)
    if created_before is not None:
        queryset = queryset.filter(created_at__lt=created_before)
    user = User.objects.filter(pk=OuterRef("actor_user_id"))
    key = ApiKey.objects.filter(pk=OuterRef("actor_api_key_id"))
    return queryset.annotate(
        actor_email=Subquery(user.values("email")[:1]),
        actor_name=Subquery(user.values("full_name")[:1]),
        actor_key_prefix=Subquery(key.values("prefix")[:1]),
        actor_key_name=Subquery(key.values("name")[:1]),
    ).order_by("-created_at", "-id")


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


def connector_overview() -> QuerySet[Connector]:
    """The connectors with their warehouse and ``open_errors``, the count of their open
    error entries, in one query."""
    return connector_list().annotate(
        open_errors=Count("errors", filter=Q(errors__status=ConnectorErrorStatus.OPEN), distinct=True)
    )


def connector_get(*, id: Any) -> Connector:
    connector = connector_list().filter(pk=id).first()
    if connector is None:
        raise NotFound("No such connector in this workspace.")
    return connector


def connector_error_list(*, connector: Connector) -> QuerySet[ConnectorError]:
    """A connector's error entries, newest first."""
    return ConnectorError.objects.filter(connector=connector).order_by("-created_at", "-id")


# The console's filter of a connector's entries: a dismissed entry is resolved without a sales order.
ERROR_STATES = ("open", "resolved", "dismissed")


def connector_errors_in_state(*, connector: Connector, state: str = "") -> QuerySet[ConnectorError]:
    """A connector's entries, newest first, with their sales order and who resolved them:
    ``open``, ``resolved`` (into a sales order), ``dismissed`` (resolved without one), or all."""
    queryset = connector_error_list(connector=connector).select_related("sales_order", "resolved_by")
    if state == "open":
        return queryset.filter(status=ConnectorErrorStatus.OPEN)
    if state == "resolved":
        return queryset.filter(status=ConnectorErrorStatus.RESOLVED, sales_order__isnull=False)
    if state == "dismissed":
        return queryset.filter(status=ConnectorErrorStatus.RESOLVED, sales_order__isnull=True)
    return queryset


def connector_error_get(*, id: Any) -> ConnectorError:
    entry = ConnectorError.objects.filter(pk=id).first()
    if entry is None:
        raise NotFound("No such connector error in this workspace.")
    return entry


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
    """The attempt with this id; 404 for an unknown id, another workspace's or one that is no uuid."""
    try:
        delivery = WebhookDelivery.objects.filter(pk=uuid.UUID(str(id))).first()
    except ValueError:
        delivery = None
    if delivery is None:
        raise NotFound("No such webhook delivery in this workspace.")
    return delivery


def event_list(*, filters: EventFilters, position: Position | None, page_size: int) -> EventPage:
    """A page of the current tenant's events from the configured event store (MongoDB or
    PostgreSQL), newest first. The tenant is the context's, never the caller's choice.
    503 ``event_store_unavailable`` when MongoDB cannot be reached."""
    return event_store().list(
        tenant_id=get_current_tenant().id, filters=filters, position=position, page_size=page_size
    )


def webhook_failures_between(since: datetime, until: datetime) -> int | None:
    """Failed delivery attempts of every tenant recorded in ``[since, until)`` (a metric:
    core/emf.py), by the partial index of failed attempts. Across tenants, so only on the
    operations alias, giving up after METRICS_STATEMENT_TIMEOUT_MS; None without the alias."""
    from django.conf import settings

    from tenants.tasking import OPS_ALIAS

    if OPS_ALIAS not in settings.DATABASES:
        return None
    with transaction.atomic(using=OPS_ALIAS):
        set_local("statement_timeout", str(int(settings.METRICS_STATEMENT_TIMEOUT_MS)), using=OPS_ALIAS)
        return (
            WebhookDelivery.unscoped.using(OPS_ALIAS)
            .filter(succeeded=False, created_at__gte=since, created_at__lt=until)
            .count()
        )
