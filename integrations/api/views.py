"""The audit log: every change made through a service, as its domain event."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins

from core.api.filters import FilterBackend, FilterSet
from core.api.pagination import NewestFirstCursorPagination
from integrations import selectors
from integrations.api.serializers import AuditEventSerializer
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
        return selectors.audit_events_of_type(queryset, value)

    @extend_schema_field({"type": "string", "format": "uuid", "description": "A user's or an API key's id."})
    def filter_actor(self, queryset: QuerySet[DomainEvent], name: str, value: Any) -> QuerySet[DomainEvent]:
        return selectors.audit_events_by_actor(queryset, value)


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
