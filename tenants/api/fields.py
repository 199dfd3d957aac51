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


@extend_schema_field(OpenApiTypes.UUID)
class TenantRelatedField(serializers.PrimaryKeyRelatedField[Any]):
    default_error_messages = {
        "does_not_exist": "No such object in this workspace.",
        "incorrect_type": "Incorrect type. Expected an id, received {data_type}.",
    }

    def __init__(self, model: type[Model], **kwargs: Any) -> None:
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        return self.model._default_manager.all()

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)
