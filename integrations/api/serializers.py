from __future__ import annotations

from rest_framework import serializers

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
