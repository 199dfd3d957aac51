"""Serializer fields for ids of tenant-owned rows.

``TenantRelatedField(Product)`` looks ids up through the model's scoped manager,
at validation time, in the current tenant only: another tenant's id reads as
"does not exist", exactly like an id that exists nowhere, so existence never leaks.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.strict import UUID_PATTERN


@extend_schema_field(OpenApiTypes.UUID)
class TenantRelatedField(serializers.PrimaryKeyRelatedField[Any]):
    default_error_messages = {
        "does_not_exist": "No such object in this workspace.",
        "incorrect_type": "Incorrect type. Expected an id, received {data_type}.",
        "invalid_id": "Must be a valid UUID (8-4-4-4-12 hex digits).",
    }

    def __init__(self, model: type[Model], **kwargs: Any) -> None:
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        return self.model._default_manager.all()

    def run_validation(self, data: Any = serializers.empty) -> Any:
        if data == "":  # DRF reads "" as null; the schema says an id (or null)
            self.fail("invalid_id")
        return super().run_validation(data)

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not UUID_PATTERN.fullmatch(data):
            self.fail("invalid_id")
        return super().to_internal_value(data)
