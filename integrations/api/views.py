"""The audit log: every change made through a service, as its domain event; and the event
store's reads (MongoDB or PostgreSQL, integrations.event_store)."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from core.api.errors import InvalidCursor
from core.api.filters import FilterBackend, FilterSet, parse_query
from core.api.pagination import MAX_PAGE_SIZE, NewestFirstCursorPagination
from core.api.schema import ErrorSerializer
from core.api.strict import UUID_PATTERN
from integrations import selectors
from integrations.api import serializers as s
from integrations.api.serializers import AuditEventSerializer
from integrations.event_store import EventFilters, Position
from tenants.api.base import TenantViewSet
from tenants.models import DomainEvent, Role


class AuditEventFilter(FilterSet):
    type = filters.CharFilter(
        max_length=64,
        help_text="An event type, e.g. product.updated; a prefix ending in . matches all its types (product.).",
        method="filter_type",
    )
    subject = filters.CharFilter(field_name="subject_id", max_length=64, help_text="The subject's id.")
    actor = filters.UUIDFilter(method="filter_actor", help_text="A user's or an API key's id.")
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = DomainEvent
        fields = ["type", "subject", "actor"]

    def filter_type(self, queryset: QuerySet[DomainEvent], name: str, value: Any) -> QuerySet[DomainEvent]:
        if value.endswith("."):
            return queryset.filter(type__startswith=value)
        return queryset.filter(type=value)

    @extend_schema_field({"type": "string", "format": "uuid", "description": "A user's or an API key's id."})
    def filter_actor(self, queryset: QuerySet[DomainEvent], name: str, value: Any) -> QuerySet[DomainEvent]:
        return queryset.filter(Q(actor_user_id=value) | Q(actor_api_key_id=value))


@extend_schema(tags=["audit"])
class AuditEventViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The audit log: who changed what, when and from where (admins and owners). Newest
    first, cursor-paginated; append-only."""

    model = DomainEvent
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    filter_backends = [FilterBackend]
    pagination_class = NewestFirstCursorPagination
    read_role = Role.ADMIN
    scope_group = "audit"  # an API key with audit:read reads it too

    def scoped_queryset(self) -> QuerySet[DomainEvent]:
        return selectors.audit_event_list()


# --- GET /api/v1/events/ ---------------------------------------------------------------------


def encode_cursor(position: Position) -> str:
    """An opaque cursor: the (created_at, id) of the event a page starts after, and the way."""
    raw = json.dumps([position.created_at.isoformat(), str(position.id), position.backwards])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    """The position of a cursor this endpoint handed out; anything else is 400 ``invalid_cursor``."""
    try:
        created_at, id, backwards = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        when = datetime.fromisoformat(created_at)
    except (binascii.Error, UnicodeError, ValueError, TypeError) as exc:
        raise InvalidCursor() from exc
    if when.tzinfo is None or not isinstance(id, str) or not UUID_PATTERN.fullmatch(id) or type(backwards) is not bool:
        raise InvalidCursor()
    return Position(when, uuid.UUID(id), backwards)


def _link(request: Request, position: Position | None) -> str | None:
    if position is None:
        return None
    return replace_query_param(request.build_absolute_uri(), "cursor", encode_cursor(position))


EVENT_EXAMPLE = {
    "next": "https://stockroom.example/api/v1/events/?cursor=WyIyMDI2LTExLTI5VDEwOjAwOjAwKzAwOjAwIiwgIi4uLiIsIGZhbHNlXQ",
    "previous": None,
    "results": [
        {
            "id": "0c6f3f8e-5d1b-4f4e-9a43-2d1f0c9b6e11",
            "type": "stock.changed",
            "subject_type": "product",
            "subject_id": "8f0e2a6c-1f5b-4c89-9d53-3b6a7e2c4d10",
            "data": {"kind": "receipt", "quantity": "10.0000", "on_hand_after": "25.0000"},
            "changes": None,
            "actor_user": "3a1c9e77-2b4d-4f0a-8c6e-5d7f9b1a2c3e",
            "actor_api_key": None,
            "ip": "203.0.113.7",
            "request_id": "4f1d2c3b5a6e7f80",
            "created_at": "2026-11-29T10:00:00.123000Z",
        }
    ],
}


@extend_schema(tags=["audit"])
class EventListView(APIView):
    """The event store: every domain event of the workspace, from MongoDB when it is
    configured (EVENT_STORE_URL), else from PostgreSQL (admins and owners, or an API key
    with audit:read)."""

    read_role = Role.ADMIN
    scope_group = "audit"

    @extend_schema(
        operation_id="v1_events_list",
        parameters=[
            s.EventQuerySerializer,
            OpenApiParameter(
                "page_size",
                {"type": "integer", "minimum": 1},
                description=f"Results per page (default {s.EVENT_PAGE_SIZE}; a larger number than "
                f"{MAX_PAGE_SIZE} counts as {MAX_PAGE_SIZE}).",
            ),
        ],
        responses={
            200: s.EventPageSerializer,
            503: OpenApiResponse(ErrorSerializer, description="`event_store_unavailable`: MongoDB cannot be reached."),
        },
        summary="The event store: the workspace's domain events, newest first",
        description=(
            "Filters as the audit log's: `type` (exact, or a prefix ending in a dot), `subject`, `actor`, "
            "`created_after`, `created_before`. Cursor-paginated (`next`, `previous`). Read from MongoDB when "
            "the event store is MongoDB (events are copied there by the relay, so the newest may show a few "
            "seconds late), else from the outbox table. 503 `event_store_unavailable` when MongoDB is down."
        ),
        examples=[OpenApiExample("A page", value=EVENT_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request) -> Response:
        query = parse_query(s.EventQuerySerializer, request)
        position = decode_cursor(query["cursor"]) if "cursor" in query else None
        filters = EventFilters(
            type=query.get("type"),
            subject=query.get("subject"),
            actor=query.get("actor"),
            created_after=query.get("created_after"),
            created_before=query.get("created_before"),
        )
        page_size = query.get("page_size", s.EVENT_PAGE_SIZE)
        page = selectors.event_list(filters=filters, position=position, page_size=page_size)
        return Response(
            {
                "next": _link(request, page.next),
                "previous": _link(request, page.previous),
                "results": AuditEventSerializer(page.events, many=True).data,
            }
        )
