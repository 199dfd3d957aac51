"""List and retrieve through the compiled row format (``core.api.rows``).

A viewset that mixes these in answers ``list`` and ``retrieve`` with exactly the JSON
of its serializer class, read with ``values_list`` instead of model instances: the
same selector, the same filters, ordering and pagination, the same 404s. Writes, and
any action that renders a model instance, keep the serializer.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.rows import RowFormat, row_format


class RowListMixin:
    """``list`` through the row format of ``get_serializer_class()``."""

    def row_format(self) -> RowFormat:
        return row_format(self.get_serializer_class())  # type: ignore[attr-defined]

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        view: Any = self
        queryset = view.filter_queryset(view.get_queryset())
        rows_format = self.row_format()
        paginator = view.paginator
        if paginator is None:
            return Response(rows_format.render(rows_format.read(queryset)))
        return paginator.get_paginated_response(paginator.paginate_rows(queryset, rows_format, request, view=self))


class RowRetrieveMixin:
    """``retrieve`` through the row format: one query, a 404 like ``get_object``'s. Only for
    views whose permissions do not look at the object (``core/tests/test_fast_path.py``
    checks it)."""

    def row_format(self) -> RowFormat:
        return row_format(self.get_serializer_class())  # type: ignore[attr-defined]

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        view: Any = self
        queryset = view.filter_queryset(view.get_queryset())
        lookup = view.lookup_url_kwarg or view.lookup_field
        rows_format = self.row_format()
        try:
            rows = rows_format.read(queryset.filter(**{view.lookup_field: view.kwargs[lookup]})[:1])
        except (TypeError, ValueError, ValidationError) as exc:  # as get_object_or_404: a malformed id
            raise Http404 from exc
        if not rows:
            raise Http404
        return Response(rows_format.render(rows)[0])
