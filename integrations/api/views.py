"""The audit log (every change made through a service, as its domain event), the event
store's reads (MongoDB or PostgreSQL, integrations.event_store), connectors, and the
webhook endpoints with their delivery log."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.decorators import method_decorator
from django_filters import rest_framework as filters
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from core.api.errors import InvalidCursor, InvalidParameter, raw_body
from core.api.filters import FilterBackend, FilterSet, parse_query
from core.api.pagination import MAX_PAGE_SIZE, NewestFirstCursorPagination
from core.api.schema import ErrorSerializer
from core.api.strict import UUID_PATTERN
from core.api.throttling import FixedWindowThrottle
from core.errors import AuthenticationError, NotFound, PermissionDenied, ValidationFailed
from integrations import errors, selectors, shopify
from integrations.api import serializers as s
from integrations.api.serializers import AuditEventSerializer
from integrations.event_store import EventFilters, Position
from integrations.models import Connector, ConnectorError, ConnectorErrorStatus, WebhookDelivery, WebhookEndpoint
from integrations.services import connectors, endpoints
from tenants import errors as tenant_errors
from tenants.api.base import TenantViewSet
from tenants.context import reset_current_api_key_id, set_current_api_key_id, tenant_context, user_context
from tenants.entitlements import Feature
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
    plan_feature = Feature.AUDIT_LOG

    def scoped_queryset(self) -> QuerySet[DomainEvent]:
        return selectors.audit_event_list()


# --- Connectors -------------------------------------------------------------------------------

_ERROR_STATUSES = {choice.value for choice in ConnectorErrorStatus}
STATUS_PARAMETER = OpenApiParameter(
    "status", str, enum=sorted(_ERROR_STATUSES), description="Only open (or only resolved) entries."
)


def _error_status_filter(request: Request, queryset: QuerySet[ConnectorError]) -> QuerySet[ConnectorError]:
    value = request.query_params.get("status")
    if not value:
        return queryset
    if value not in _ERROR_STATUSES:
        raise InvalidParameter.for_parameter("status", "Use open or resolved.", code="invalid_choice")
    return queryset.filter(status=value)


@extend_schema(tags=["connectors"])
class ConnectorViewSet(
    TenantViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    """Shops that send the workspace their orders (admins and owners; never an API key).
    docs/integrations.md, "Shopify connector"."""

    model = Connector
    serializer_class = s.ConnectorSerializer
    read_role = Role.ADMIN
    write_role = Role.ADMIN
    filter_backends: list[Any] = []

    def scoped_queryset(self) -> QuerySet[Connector]:
        return selectors.connector_list()

    def get_serializer_class(self) -> Any:
        return s.ConnectorCreateSerializer if self.action == "create" else s.ConnectorSerializer

    @extend_schema(
        request=s.ConnectorCreateSerializer,
        responses={201: s.ConnectorSerializer},
        summary="Connect a Shopify shop (admin)",
        description=(
            "Give Shopify the answer's `webhook_url` for the `orders/create` webhook (format JSON) and send "
            "here the secret Shopify signs it with (`shared_secret`: write-only, never shown again). "
            "400 `unique` on `shop_domain` when the workspace has a connector for the shop; `inactive` on "
            "`warehouse`; 403 `feature_not_in_plan` when the plan has no connectors."
        ),
        examples=[
            OpenApiExample(
                "Connect",
                value={
                    "kind": "shopify",
                    "name": "Acme web shop",
                    "shop_domain": "acme.myshopify.com",
                    "shared_secret": "the secret Shopify shows under its webhooks",
                    "warehouse": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
                    "auto_confirm": True,
                },
                request_only=True,
            )
        ],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = s.ConnectorCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        connector = connectors.connector_create(**data.validated_data, user=request_user(request))
        return Response(
            s.ConnectorSerializer(connector, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(summary="Change a connector (admin); `shared_secret` replaces the secret")
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().update(request, *args, **kwargs)

    @extend_schema(summary="Change some of a connector's fields (admin)")
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = connectors.connector_update(
            connector_id=serializer.instance.pk, **serializer.validated_data
        )

    @extend_schema(
        summary="Delete a connector (admin)",
        description="Its error entries and delivery records go with it; the sales orders it made stay.",
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance: Connector) -> None:
        connectors.connector_delete(connector_id=instance.pk)

    @extend_schema(
        parameters=[STATUS_PARAMETER],
        responses={200: s.ConnectorErrorSerializer(many=True)},
        summary="The connector's error entries: orders kept because they could not be made",
    )
    @action(detail=True, methods=["get"], url_path="errors")
    def errors(self, request: Request, pk: Any = None) -> Response:
        connector = self.get_object()
        queryset = _error_status_filter(request, selectors.connector_error_list(connector=connector))
        page = self.paginate_queryset(queryset)
        assert page is not None
        return self.get_paginated_response(s.ConnectorErrorSerializer(page, many=True).data)


class ConnectorErrorFilter(FilterSet):
    status = filters.ChoiceFilter(choices=ConnectorErrorStatus.choices)
    connector = filters.UUIDFilter(field_name="connector_id")

    class Meta:
        model = ConnectorError
        fields = ["status", "connector"]


@extend_schema(tags=["connectors"])
class ConnectorErrorViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Orders a connector kept because they could not be made (admins and owners)."""

    model = ConnectorError
    serializer_class = s.ConnectorErrorSerializer
    filterset_class = ConnectorErrorFilter
    filter_backends = [FilterBackend]
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    def scoped_queryset(self) -> QuerySet[ConnectorError]:
        return ConnectorError.objects.order_by("-created_at", "-id")

    @extend_schema(
        request=None,
        responses={200: s.ConnectorErrorSerializer},
        summary="Try an error entry's order again (admin)",
        description=(
            "After the cause is fixed (the SKU created, stock received, the connector activated). Made: the "
            "entry is `resolved` and names the `sales_order`. Refused again: 200 all the same, the entry stays "
            "`open` with the new `code` and `message` and one more `attempts`. 409 `connector_error_resolved` "
            "for a resolved entry."
        ),
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: Any = None) -> Response:
        entry = connectors.connector_error_retry(error_id=self.get_object().pk, user=request_user(request))
        return Response(s.ConnectorErrorSerializer(entry).data)

    @extend_schema(
        request=None,
        responses={200: s.ConnectorErrorSerializer},
        summary="Resolve an error entry without making its order (admin)",
        description="For an order that is not to be made (a test order, a malformed delivery). 409 "
        "`connector_error_resolved` for a resolved entry.",
    )
    @action(detail=True, methods=["post"])
    def dismiss(self, request: Request, pk: Any = None) -> Response:
        entry = connectors.connector_error_dismiss(error_id=self.get_object().pk, user=request_user(request))
        return Response(s.ConnectorErrorSerializer(entry).data)


class ConnectorWebhookThrottle(FixedWindowThrottle):
    """Per connector (``connector_webhook`` rate): a shop's deliveries come from many addresses."""

    scope = "connector_webhook"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": view.kwargs.get("id")}


_SHOPIFY_HEADERS = [
    OpenApiParameter(
        "X-Shopify-Hmac-Sha256",
        str,
        OpenApiParameter.HEADER,
        required=True,
        description="Base64 of the HMAC-SHA256 of the raw body with the connector's shared secret.",
    ),
    OpenApiParameter(
        "X-Shopify-Topic",
        str,
        OpenApiParameter.HEADER,
        required=True,
        description="`orders/create` makes an order; any other topic is answered 200 `ignored`.",
    ),
    OpenApiParameter(
        "X-Shopify-Webhook-Id",
        str,
        OpenApiParameter.HEADER,
        description="The delivery's id (at most 255 characters): a delivery seen before is answered 200 "
        "`duplicate` and does nothing.",
    ),
]


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class ShopifyOrderWebhookView(APIView):
    """Shopify's ``orders/create`` webhook: no credentials of ours, the signature is the proof."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [ConnectorWebhookThrottle]

    @extend_schema(
        request=s.ShopifyOrderSerializer,
        parameters=_SHOPIFY_HEADERS,
        responses={200: s.ShopifyReceiptSerializer},
        summary="Shopify's orders/create webhook (called by Shopify, signed)",
        description=(
            "No login: the body must be signed with the connector's secret (`X-Shopify-Hmac-Sha256`): 401 "
            "`signature_missing` or `signature_invalid` otherwise, nothing stored. 404 for an unknown "
            "connector, 403 `tenant_suspended`, 400 `topic_missing` (no `X-Shopify-Topic`) or "
            "`invalid_webhook_id`, 413 `request_too_large`. A signed delivery is answered 200 whatever "
            "becomes of it (`status`): an order that cannot be made (unknown SKU, no email, too little stock "
            "to auto-confirm, a malformed body...) is kept as an error entry to retry, so Shopify must not "
            'send it again. docs/integrations.md, "Shopify connector".'
        ),
        tags=["connectors"],
        auth=[],
    )
    def post(self, request: Request, id: uuid.UUID) -> Response:
        header = request.headers.get("X-Shopify-Hmac-Sha256", "")
        if not header.strip():
            raise AuthenticationError(
                "The request is not signed (X-Shopify-Hmac-Sha256).", code=errors.SIGNATURE_MISSING
            )
        body = raw_body(request)
        connector = selectors.connector_for_webhook(connector_id=id)
        if connector is None:
            raise NotFound("No such connector.")
        if not shopify.signature_valid(connector.shared_secret, body, header):
            raise AuthenticationError("The signature does not match the body.", code=errors.SIGNATURE_INVALID)
        if not connector.tenant.is_active:
            raise PermissionDenied("This workspace is suspended.", code=tenant_errors.TENANT_SUSPENDED)
        topic = request.headers.get("X-Shopify-Topic", "").strip()
        if not topic:
            raise ValidationFailed("The request has no X-Shopify-Topic.", code=errors.TOPIC_MISSING)
        webhook_id = request.headers.get("X-Shopify-Webhook-Id", "").strip()
        if len(webhook_id) > 255:
            raise ValidationFailed(
                "X-Shopify-Webhook-Id is longer than 255 characters.", code=errors.INVALID_WEBHOOK_ID
            )
        key_token = set_current_api_key_id(None)
        try:
            with tenant_context(connector.tenant), user_context(None):
                receipt = connectors.shopify_order_receive(
                    connector_id=connector.pk,
                    body=body,
                    topic=shopify.storable_text(topic, 100),
                    webhook_id=shopify.storable_text(webhook_id, 255),
                )
        finally:
            reset_current_api_key_id(key_token)
        return Response(
            {
                "status": receipt.status,
                "sales_order": receipt.sales_order.pk if receipt.sales_order is not None else None,
                "error": receipt.error.pk if receipt.error is not None else None,
            }
        )


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
        endpoint, secret = endpoints.webhook_endpoint_create(**data.validated_data, user=request_user(request))
        endpoint.secret = secret
        return Response(s.WebhookEndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        endpoint = self.get_object()
        data = s.WebhookEndpointInputSerializer(data=request.data, partial=kwargs.pop("partial", False))
        data.is_valid(raise_exception=True)
        endpoint = endpoints.webhook_endpoint_update(endpoint_id=endpoint.pk, **data.validated_data)
        return Response(s.WebhookEndpointSerializer(endpoint).data)

    def perform_destroy(self, instance: WebhookEndpoint) -> None:
        endpoints.webhook_endpoint_delete(endpoint_id=instance.pk)

    @extend_schema(
        request=None,
        responses={202: s.WebhookMessageQueuedSerializer},
        summary="Send a webhook.test event to the endpoint now",
        description="Whatever its event filters. 409 `webhook_endpoint_disabled` when it is off.",
    )
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: Any = None) -> Response:
        message = endpoints.webhook_endpoint_test(endpoint_id=self.get_object().pk)
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
        endpoint, secret = endpoints.webhook_endpoint_rotate_secret(endpoint_id=self.get_object().pk)
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
        queued = endpoints.webhook_endpoint_recover(endpoint_id=self.get_object().pk, **data.validated_data)
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
        message = endpoints.webhook_delivery_redeliver(delivery_id=self.get_object().pk)
        return Response(s.WebhookMessageQueuedSerializer(message).data, status=status.HTTP_202_ACCEPTED)


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
    plan_feature = Feature.AUDIT_LOG

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
