from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.api.pagination import MAX_PAGE_SIZE
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
