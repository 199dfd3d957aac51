from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from integrations.models import WebhookDelivery, WebhookEndpoint
from tenants.models import DomainEvent


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
