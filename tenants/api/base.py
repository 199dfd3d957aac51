"""Building blocks for tenant-scoped API views."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from rest_framework import pagination


def is_schema_generation(view: Any) -> bool:
    """drf-spectacular builds views with no request and no tenant."""
    return bool(getattr(view, "swagger_fake_view", False))


class ScopedQuerysetMixin:
    # ``get_queryset`` from a selector; an empty unscoped queryset while the schema is
    # generated. (A comment, not a docstring: drf-spectacular would publish it.)

    model: type[Model]

    def scoped_queryset(self) -> QuerySet[Any]:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet[Any]:
        if is_schema_generation(self):
            return self.model.unscoped.none()  # type: ignore[attr-defined]
        return self.scoped_queryset()


class NewestFirstCursorPagination(pagination.CursorPagination):
    """For ledgers: stable under inserts, constant cost at any depth."""

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
