"""List and retrieve through the compiled row format (``core.api.rows``).

A viewset that mixes these in answers ``list`` and ``retrieve`` with exactly the JSON
of its serializer class, read with ``values_list`` instead of model instances: the
same selector, the same filters, ordering and pagination, the same 404s. Writes, and
any action that renders a model instance, keep the serializer.

A view that defines ``compiled_query_key()`` (the member asking: ``TenantViewSet``) has
its compiled SQL kept per request shape (``core.api.compiled``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import QuerySet
from django.http import Http404
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import compiled as compiled_queries
from core.api.rows import RowFormat, row_format
from core.sql import CompiledSelect, compile_select, run_select


def _request_key(view: Any, request: Request) -> Hashable | None:
    member_key = getattr(view, "compiled_query_key", None)
    member = member_key() if member_key is not None else None
    if member is None:
        return None
    return (type(view), view.action, member, request.META.get("QUERY_STRING", ""))


class RowListMixin:
    """``list`` through the row format of ``get_serializer_class()``."""

    def row_format(self) -> RowFormat:
        return row_format(self.get_serializer_class())  # type: ignore[attr-defined]

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        view: Any = self
        rows_format = self.row_format()
        paginator = view.paginator

        def build() -> QuerySet[Any]:
            return view.filter_queryset(view.get_queryset())

        if paginator is None:
            return Response(rows_format.render(rows_format.read(build())))
        page = paginator.paginate_rows(build, rows_format, request, view=self, key=_request_key(view, request))
        return paginator.get_paginated_response(page)


@dataclass(frozen=True)
class _CompiledDetail:
    select: CompiledSelect
    position: int  # the parameter that is the looked-up id
    prepare: Callable[[Any], Any]  # the id from the URL as the query's parameter (ValidationError if malformed)


class RowRetrieveMixin:
    """``retrieve`` through the row format: one query, a 404 like ``get_object``'s. Only for
    views whose permissions do not look at the object (``core/tests/test_fast_path.py``
    checks it)."""

    def row_format(self) -> RowFormat:
        return row_format(self.get_serializer_class())  # type: ignore[attr-defined]

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        view: Any = self
        lookup = view.kwargs[view.lookup_url_kwarg or view.lookup_field]
        rows_format = self.row_format()
        key = _request_key(view, request)
        detail = compiled_queries.get(key) if key is not None else None
        if detail is None and key is not None:
            detail = self._compile_detail(lookup, rows_format)
            if detail is not None:
                compiled_queries.put(key, detail)
        try:
            if isinstance(detail, _CompiledDetail):
                params = list(detail.select.params)
                params[detail.position] = detail.prepare(lookup)
                rows = run_select(detail.select, params)
            else:
                rows = rows_format.read(self._one(lookup))
        except (TypeError, ValueError, ValidationError) as exc:  # as get_object_or_404: a malformed id
            raise Http404 from exc
        if not rows:
            raise Http404
        return Response(rows_format.render(rows)[0])

    def _one(self, lookup: Any) -> QuerySet[Any]:
        view: Any = self
        queryset = view.filter_queryset(view.get_queryset())
        return queryset.filter(**{view.lookup_field: lookup})[:1]

    def _compile_detail(self, lookup: Any, rows_format: RowFormat) -> Any:
        """The detail's SQL with the id as its one varying parameter: compiled for the id
        asked and for another one, kept only if nothing else differs."""
        view: Any = self
        field = view.get_queryset().model._meta.get_field(view.lookup_field) if view.lookup_field != "pk" else None
        field = field or view.get_queryset().model._meta.pk
        other = uuid.UUID(int=1) if str(lookup) != str(uuid.UUID(int=1)) else uuid.UUID(int=2)
        try:
            with compiled_queries.statements_run() as statements:
                first = compile_select(rows_format.values_queryset(self._one(lookup)))
                second = compile_select(rows_format.values_queryset(self._one(str(other))))
            connection = connections[view.get_queryset().db]

            def prepare(value: Any) -> Any:
                return field.get_db_prep_value(field.to_python(value), connection)

            prepared = prepare(lookup)
        except (TypeError, ValueError, ValidationError):
            return None  # a malformed id: answered 404 by the regular path, nothing kept
        if statements or first is None or second is None or first.sql != second.sql:
            return compiled_queries.UNCACHEABLE
        differing = [i for i, (a, b) in enumerate(zip(first.params, second.params, strict=True)) if a != b]
        if len(differing) != 1 or first.params[differing[0]] != prepared:
            return compiled_queries.UNCACHEABLE
        return _CompiledDetail(first, differing[0], prepare)
