"""The audit log (every change made through a service, as its domain event) and the
webhook endpoints with their delivery log."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.filters import FilterBackend, FilterSet
from core.api.pagination import NewestFirstCursorPagination
from integrations import selectors
from integrations.api import serializers as s
from integrations.api.serializers import AuditEventSerializer
from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.services import endpoints as services
from tenants.api.base import TenantViewSet
from tenants.models import DomainEvent, Role
from tenants.permissions import request_user


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


# --- Webhooks ------------------------------------------------------------------------------

ENDPOINT_EXAMPLE = OpenApiExample(
    "Endpoint",
    value={
        "url": "https://hooks.example.com/stockroom",
        "events": ["sales_order.*", "stock.changed"],
        "description": "Warehouse app",
    },
    request_only=True,
)
URL_ERRORS = (
    "400 `webhook_url_refused` (on `url`, `details.reason`: scheme, userinfo, host, port, unresolvable, "
    "loopback, private, link_local, multicast, shared, reserved, unspecified, metadata, tunnel, not_global) "
    "for a URL that is not http(s) or whose host resolves to an internal address; 400 `invalid_event_type` "
    "(on `events`) for an unknown event type."
)


@extend_schema_view(
    list=extend_schema(summary="The workspace's webhook endpoints (never their secrets)"),
    retrieve=extend_schema(summary="One webhook endpoint (never its secret)"),
    destroy=extend_schema(summary="Delete a webhook endpoint with its messages and delivery log"),
    update=extend_schema(
        request=s.WebhookEndpointInputSerializer,
        responses={200: s.WebhookEndpointSerializer},
        summary="Change a webhook endpoint",
        description=URL_ERRORS + " `is_active` false turns it off (`webhook_endpoint.disabled`, reason manual); "
        "true turns it back on and clears the failure streak.",
    ),
    partial_update=extend_schema(
        request=s.WebhookEndpointInputSerializer,
        responses={200: s.WebhookEndpointSerializer},
        summary="Change some fields of a webhook endpoint",
        description=URL_ERRORS + " `is_active` false turns it off (`webhook_endpoint.disabled`, reason manual); "
        "true turns it back on and clears the failure streak.",
    ),
)
@extend_schema(tags=["webhooks"])
class WebhookEndpointViewSet(
    TenantViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    """Outbound webhooks (Standard Webhooks 1.0): URLs that receive the workspace's events,
    signed with the endpoint's secret (admins and owners; API keys with `webhooks:read` /
    `webhooks:write`). See docs/integrations.md, "Webhooks"."""

    model = WebhookEndpoint
    serializer_class = s.WebhookEndpointSerializer
    read_role = Role.ADMIN
    write_role = Role.ADMIN
    scope_group = "webhooks"
    ordering_fields = ["created_at", "url"]
    ordering = ["-created_at"]

    def scoped_queryset(self) -> QuerySet[WebhookEndpoint]:
        return selectors.webhook_endpoint_list()

    @extend_schema(
        request=s.WebhookEndpointInputSerializer,
        responses={201: s.WebhookEndpointCreatedSerializer},
        summary="Create a webhook endpoint; the answer shows its signing secret once",
        description=URL_ERRORS + " 403 `feature_not_in_plan` when the plan has no webhooks. Records "
        "`webhook_endpoint.created`. Not kept for `Idempotency-Key` replays (the secret is shown once).",
        examples=[ENDPOINT_EXAMPLE],
    )
    def create(self, request: Request) -> Response:
        data = s.WebhookEndpointInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint, secret = services.webhook_endpoint_create(**data.validated_data, user=request_user(request))
        endpoint.secret = secret
        return Response(s.WebhookEndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        endpoint = self.get_object()
        data = s.WebhookEndpointInputSerializer(data=request.data, partial=kwargs.pop("partial", False))
        data.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_update(endpoint_id=endpoint.pk, **data.validated_data)
        return Response(s.WebhookEndpointSerializer(endpoint).data)

    def perform_destroy(self, instance: WebhookEndpoint) -> None:
        services.webhook_endpoint_delete(endpoint_id=instance.pk)

    @extend_schema(
        request=None,
        responses={202: s.WebhookMessageQueuedSerializer},
        summary="Send a webhook.test event to the endpoint now",
        description="Whatever its event filters. 409 `webhook_endpoint_disabled` when it is off.",
    )
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: Any = None) -> Response:
        message = services.webhook_endpoint_test(endpoint_id=self.get_object().pk)
        return Response(s.WebhookMessageQueuedSerializer(message).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=None,
        responses={200: s.WebhookSecretSerializer},
        summary="Rotate the signing secret; the answer shows the new one once",
        description="For 24 hours both secrets sign (two space-separated `v1,` signatures in "
        "`webhook-signature`), so the receiver can switch without losing a message. Not kept for "
        "`Idempotency-Key` replays.",
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret", url_name="rotate-secret")
    def rotate_secret(self, request: Request, pk: Any = None) -> Response:
        endpoint, secret = services.webhook_endpoint_rotate_secret(endpoint_id=self.get_object().pk)
        return Response(
            s.WebhookSecretSerializer(
                {"secret": secret, "previous_secret_expires_at": endpoint.previous_secret_expires_at}
            ).data
        )

    @extend_schema(
        request=s.WebhookRecoverSerializer,
        responses={202: s.WebhookRecoveredSerializer},
        summary="Re-send the endpoint's failed messages since a time",
        description="Each keeps its `webhook-id` and body and starts a fresh retry schedule. 409 "
        "`webhook_endpoint_disabled` when the endpoint is off (turn it on first).",
        examples=[OpenApiExample("Recover", value={"since": "2026-11-28T00:00:00Z"}, request_only=True)],
    )
    @action(detail=True, methods=["post"])
    def recover(self, request: Request, pk: Any = None) -> Response:
        data = s.WebhookRecoverSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        queued = services.webhook_endpoint_recover(endpoint_id=self.get_object().pk, **data.validated_data)
        return Response(s.WebhookRecoveredSerializer({"queued": queued}).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        responses=s.WebhookDeliverySerializer(many=True),
        summary="The endpoint's delivery log: every attempt, newest first (cursor-paginated)",
    )
    @action(detail=True, methods=["get"], pagination_class=NewestFirstCursorPagination, filter_backends=[])
    def deliveries(self, request: Request, pk: Any = None) -> Response:
        attempts = selectors.webhook_delivery_list(endpoint=self.get_object())
        paginator: Any = self.paginator
        page = paginator.paginate_queryset(attempts, request, view=self)
        return paginator.get_paginated_response(s.WebhookDeliverySerializer(page, many=True).data)


@extend_schema(tags=["webhooks"])
class WebhookDeliveryViewSet(TenantViewSet):
    """Attempts of the delivery log (``GET /webhook-endpoints/{id}/deliveries/``)."""

    model = WebhookDelivery
    serializer_class = s.WebhookDeliverySerializer
    read_role = Role.ADMIN
    write_role = Role.ADMIN
    scope_group = "webhooks"

    def scoped_queryset(self) -> QuerySet[WebhookDelivery]:
        return selectors.webhook_delivery_all()

    @extend_schema(
        request=None,
        responses={202: s.WebhookMessageQueuedSerializer},
        summary="Send this attempt's message again now, with the same webhook-id and body",
        description="409 `webhook_endpoint_disabled` when its endpoint is off.",
    )
    @action(detail=True, methods=["post"])
    def redeliver(self, request: Request, pk: Any = None) -> Response:
        message = services.webhook_delivery_redeliver(delivery_id=selectors.webhook_delivery_get(id=pk).pk)
        return Response(s.WebhookMessageQueuedSerializer(message).data, status=status.HTTP_202_ACCEPTED)
