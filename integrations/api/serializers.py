from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.pagination import MAX_PAGE_SIZE
from integrations.models import Connector, ConnectorError, ConnectorKind, WebhookDelivery, WebhookEndpoint
from integrations.shopify import SHOP_DOMAIN_PATTERN
from inventory.models import Warehouse
from tenants.api.fields import TenantRelatedField
from tenants.models import DomainEvent

EVENT_PAGE_SIZE = 50


class AuditEventSerializer(serializers.ModelSerializer[DomainEvent]):
    subject_id = serializers.CharField()
    actor_user = serializers.UUIDField(source="actor_user_id", allow_null=True)
    actor_api_key = serializers.UUIDField(source="actor_api_key_id", allow_null=True)

    class Meta:
        model = DomainEvent
        fields = [
            "id",
            "type",
            "subject_type",
            "subject_id",
            "data",
            "changes",
            "actor_user",
            "actor_api_key",
            "ip",
            "request_id",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "data": {"help_text": "The event's data (a JSON object)."},
            "changes": {"help_text": "For updates: the changed fields as {field: [before, after]}; else null."},
        }


# --- Connectors -------------------------------------------------------------------------------


class ConnectorSerializer(serializers.ModelSerializer[Connector]):
    """A connector as the API shows it (never its secret) and takes changes to it."""

    shop_domain = serializers.RegexField(
        SHOP_DOMAIN_PATTERN,
        max_length=255,
        help_text="The shop's *.myshopify.com domain, lower-case (e.g. acme.myshopify.com).",
    )
    shared_secret = serializers.CharField(
        write_only=True,
        required=False,
        min_length=1,
        max_length=255,
        help_text=(
            "The secret Shopify signs the webhook with (Settings > Notifications > Webhooks). "
            "Write-only: never shown again."
        ),
    )
    warehouse = TenantRelatedField(Warehouse, help_text="The warehouse the shop's orders are taken from.")
    webhook_url = serializers.SerializerMethodField(
        help_text="The URL to give Shopify for the `orders/create` webhook (format JSON)."
    )

    class Meta:
        model = Connector
        fields = [
            "id",
            "kind",
            "name",
            "shop_domain",
            "shared_secret",
            "warehouse",
            "auto_confirm",
            "is_active",
            "webhook_url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "kind", "webhook_url", "created_at", "updated_at"]
        validators: list[Any] = []
        extra_kwargs = {
            "auto_confirm": {"help_text": "Confirm (reserve stock for) each order as it arrives."},
            "is_active": {"help_text": "A paused connector keeps each delivery as an error entry to retry later."},
        }

    def get_webhook_url(self, connector: Connector) -> str:
        path = reverse("connector-shopify-orders", kwargs={"id": connector.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class ConnectorCreateSerializer(ConnectorSerializer):
    kind = serializers.ChoiceField(choices=ConnectorKind.choices, default=ConnectorKind.SHOPIFY)
    shared_secret = serializers.CharField(
        write_only=True,
        min_length=1,
        max_length=255,
        help_text=(
            "The secret Shopify signs the webhook with (Settings > Notifications > Webhooks). "
            "Write-only: never shown again."
        ),
    )

    class Meta(ConnectorSerializer.Meta):
        read_only_fields = ["id", "webhook_url", "created_at", "updated_at"]


class ConnectorErrorSerializer(serializers.ModelSerializer[ConnectorError]):
    class Meta:
        model = ConnectorError
        fields = [
            "id",
            "connector",
            "external_id",
            "webhook_id",
            "topic",
            "code",
            "message",
            "details",
            "status",
            "attempts",
            "sales_order",
            "body",
            "created_at",
            "updated_at",
            "resolved_at",
            "resolved_by",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "code": {"help_text": "Why the order was not made: unknown_sku, missing_email, insufficient_stock, ..."},
            "details": {"help_text": "Error-specific data (e.g. `skus` for unknown_sku)."},
            "sales_order": {"help_text": "The sales order made when the entry was resolved by a retry."},
            "attempts": {"help_text": "Deliveries and retries of this order that failed."},
        }


class ShopifyOrderLineSerializer(serializers.Serializer[Any]):
    sku = serializers.CharField(help_text="Matched to a product's SKU (case-insensitive).")
    quantity = serializers.IntegerField(min_value=1)
    price = serializers.CharField(help_text="Unit price, a decimal string (e.g. 19.99).")
    title = serializers.CharField(required=False)


class ShopifyCustomerSerializer(serializers.Serializer[Any]):
    email = serializers.CharField(required=False)
    first_name = serializers.CharField(required=False)
    last_name = serializers.CharField(required=False)


class ShopifyOrderSerializer(serializers.Serializer[Any]):
    """The fields of Shopify's ``orders/create`` payload that Stockroom reads (the rest is kept
    with an error entry as received). For the schema only: the view reads the raw body."""

    id = serializers.IntegerField(min_value=1, help_text="The shop's order id: a sales order is made once per id.")
    name = serializers.CharField(required=False, help_text="The shop's order name, e.g. #1001 (in the notes).")
    email = serializers.CharField(required=False, help_text="The customer's email (or `customer.email`).")
    currency = serializers.CharField(required=False, help_text="Must be the workspace's currency.")
    total_price = serializers.CharField(required=False)
    customer = ShopifyCustomerSerializer(required=False)
    line_items = ShopifyOrderLineSerializer(many=True)


class ShopifyReceiptSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(
        choices=["created", "duplicate", "failed", "ignored"],
        help_text=(
            "created: a sales order was made; duplicate: this delivery or this order was seen before, "
            "nothing done; failed: kept as an error entry (`error`) to retry; ignored: not `orders/create`."
        ),
    )
    sales_order = serializers.UUIDField(allow_null=True, help_text="The sales order (created or duplicate).")
    error = serializers.UUIDField(allow_null=True, help_text="The error entry (failed).")


# --- Webhooks ------------------------------------------------------------------------------

EVENTS_HELP = (
    "Event types to receive: an exact type (`product.updated`), a prefix (`product.*`) or `*` for all; "
    "see docs/integrations.md for the list. Unknown ones: 400 `invalid_event_type`."
)


class WebhookEndpointSerializer(serializers.ModelSerializer[WebhookEndpoint]):
    events = serializers.ListField(child=serializers.CharField(), help_text=EVENTS_HELP)
    previous_secret_expires_at = serializers.SerializerMethodField(
        help_text="During a rotation: until when the previous secret also signs; else null."
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "is_active",
            "disabled_at",
            "disabled_reason",
            "failing_since",
            "previous_secret_expires_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "disabled_reason": {"help_text": "manual, gone (a 410) or failing (5 days of failures); empty when on."},
            "failing_since": {"help_text": "The first failed attempt since the last success; null when healthy."},
        }

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_previous_secret_expires_at(self, endpoint: WebhookEndpoint) -> Any:
        expires = endpoint.previous_secret_expires_at
        if expires is None or expires <= timezone.now():
            return None
        return serializers.DateTimeField().to_representation(expires)


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="The signing secret (`whsec_` + base64 of 32 random bytes), shown this once.",
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookEndpointInputSerializer(serializers.Serializer[Any]):
    url = serializers.URLField(
        max_length=2000, help_text="http(s); private, loopback and other internal addresses are refused."
    )
    events = serializers.ListField(
        child=serializers.CharField(max_length=64), min_length=1, max_length=50, help_text=EVENTS_HELP
    )
    description = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    is_active = serializers.BooleanField(required=False, default=True)


class WebhookSecretSerializer(serializers.Serializer[Any]):
    secret = serializers.CharField(help_text="The new signing secret, shown this once.")
    previous_secret_expires_at = serializers.DateTimeField(
        help_text="Until then the previous secret signs too (a second `v1,` signature)."
    )


class WebhookMessageQueuedSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(help_text="The message's id.")
    webhook_id = serializers.CharField(help_text="The `webhook-id` header it is sent with (msg_...).")
    event_type = serializers.CharField()
    status = serializers.CharField(help_text="pending: queued for sending.")


class WebhookDeliverySerializer(serializers.ModelSerializer[WebhookDelivery]):
    message = serializers.UUIDField(source="message_id", read_only=True)
    webhook_id = serializers.CharField(source="message.webhook_id", read_only=True)
    event_type = serializers.CharField(source="message.event_type", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "message",
            "webhook_id",
            "event_type",
            "attempt",
            "succeeded",
            "status_code",
            "duration_ms",
            "response_excerpt",
            "error",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "status_code": {"help_text": "The receiver's status code; null when there was no answer."},
            "response_excerpt": {"help_text": "The start of the answer's body (at most 1 KB)."},
            "error": {"help_text": "Why the attempt failed (timeout, refused address, HTTP status); empty on success."},
        }


class WebhookRecoverSerializer(serializers.Serializer[Any]):
    since = serializers.DateTimeField(help_text="Re-send the endpoint's failed messages made since this time.")


class WebhookRecoveredSerializer(serializers.Serializer[Any]):
    queued = serializers.IntegerField(help_text="How many failed messages were queued again.")


class EventQuerySerializer(serializers.Serializer[Any]):
    """The query of GET /api/v1/events/: the audit log's filters and its cursor pagination."""

    type = serializers.CharField(
        required=False,
        max_length=64,
        help_text="An event type, e.g. product.updated; a prefix ending in . matches all its types (product.).",
    )
    subject = serializers.CharField(required=False, max_length=64, help_text="The subject's id.")
    actor = serializers.UUIDField(required=False, help_text="A user's or an API key's id.")
    created_after = serializers.DateTimeField(required=False, help_text="From this time on (ISO 8601).")
    created_before = serializers.DateTimeField(required=False, help_text="Before this time (ISO 8601).")
    cursor = serializers.CharField(
        required=False,
        max_length=200,
        help_text="Opaque position from `next` or `previous` (anything else: 400 `invalid_cursor`).",
    )
    page_size = serializers.RegexField(
        r"^[0-9]+$",
        required=False,
        help_text=f"Results per page (default {EVENT_PAGE_SIZE}; a larger number than {MAX_PAGE_SIZE} "
        f"counts as {MAX_PAGE_SIZE}).",
        error_messages={"invalid": "Must be a whole number of at least 1."},
    )

    def validate_page_size(self, value: str) -> int:
        # Query parameters are text: a whole number as digits, as the other lists read it.
        if int(value) < 1:
            raise serializers.ValidationError("Must be a whole number of at least 1.", code="invalid")
        return min(int(value), MAX_PAGE_SIZE)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("created_after"), attrs.get("created_before")
        if start is not None and end is not None and start > end:
            raise serializers.ValidationError(
                {"created_after": [serializers.ErrorDetail("Must not be after `created_before`.", "invalid_range")]}
            )
        return attrs


class EventPageSerializer(serializers.Serializer[Any]):
    next = serializers.URLField(allow_null=True, help_text="The next (older) page; null on the last page.")
    previous = serializers.URLField(allow_null=True, help_text="The previous (newer) page; null on the first.")
    results = AuditEventSerializer(many=True)
