"""The two paginations every list uses: page numbers, and a cursor for ledgers.

Both refuse what they cannot honour instead of guessing: ``page`` and ``page_size``
must be whole numbers of at least 1 (400 ``invalid_parameter``; a page size over the
maximum counts as the maximum), a page past the end is 404 ``page_not_found``, and a
cursor this API did not hand out is 400 ``invalid_cursor``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Model, QuerySet
from rest_framework import pagination
from rest_framework.exceptions import NotFound
from rest_framework.request import Request

from core.api import compiled as compiled_queries
from core.api.errors import InvalidCursor, InvalidParameter, PageNotFound
from core.api.rows import RowFormat
from core.sql import CompiledPage, compile_count_and_page, count_and_page, run_count_and_page

MAX_PAGE_SIZE = 200


def _whole_number(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":  # an empty query parameter counts as absent (docs/api.md)
        return None
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
        raise InvalidParameter.for_parameter(name, "Must be a whole number of at least 1.")
    return int(raw)


def _page_size(request: Request, default: int) -> int:
    return min(_whole_number(request, "page_size") or default, MAX_PAGE_SIZE)


def _size_parameter(name: str, default: int) -> dict[str, Any]:
    return {
        "name": name,
        "required": False,
        "in": "query",
        "description": f"Results per page (default {default}; a larger number than {MAX_PAGE_SIZE} "
        f"counts as {MAX_PAGE_SIZE}).",
        "schema": {"type": "integer", "minimum": 1},
    }


class PageNumberPagination(pagination.PageNumberPagination):
    """?page=N&page_size=M; the page size is capped so no list is unbounded."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request: Request) -> int:
        return _page_size(request, self.page_size)

    def get_page_number(self, request: Request, paginator: Any) -> int:
        return _whole_number(request, self.page_query_param) or 1

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any] | None:
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound as exc:  # only raised for InvalidPage: the number is valid, the page does not exist
            raise PageNotFound() from exc

    def paginate_rows(
        self,
        queryset: QuerySet[Any] | Callable[[], QuerySet[Any]],
        rows_format: RowFormat,
        request: Request,
        view: Any = None,
        key: Hashable | None = None,
    ) -> list[dict[str, Any]]:
        """A page of ``queryset`` (or of what the callable builds) rendered by
        ``rows_format``, its count and page sent in one round trip
        (``core.sql.count_and_page``). With a ``key``, the compiled SQL is kept for the next
        request of that key (``core.api.compiled``). The same pages, links and 404s as
        ``paginate_queryset``."""
        self.request = request
        page_size = self.get_page_size(request)
        number = self.get_page_number(request, None)
        offset = (number - 1) * page_size
        build = queryset if callable(queryset) else (lambda: queryset)

        def page_of(built: QuerySet[Any]) -> QuerySet[Any]:
            return rows_format.values_queryset(built)[offset : offset + page_size]

        compiled = compiled_queries.get(key) if key is not None else None
        if compiled is None:
            compiled = self._compile(build, page_of, key)
        if compiled is compiled_queries.UNCACHEABLE or compiled is None:
            built = build()
            total, rows = count_and_page(built, page_of(built))
        else:
            total, rows = run_count_and_page(compiled)
        if not rows and number != 1:  # past the last row: only the first page of an empty list exists
            raise PageNotFound()
        paginator: Paginator[Any] = Paginator([], page_size)
        paginator.count = total  # a cached_property: set, not computed  # type: ignore[misc]
        if number > paginator.num_pages:
            raise PageNotFound()
        self.page = Page(rows, number, paginator)
        return rows_format.render(rows)

    @staticmethod
    def _compile(
        build: Callable[[], QuerySet[Any]], page_of: Callable[[QuerySet[Any]], QuerySet[Any]], key: Hashable | None
    ) -> Any:
        """The compiled count and page, kept under ``key`` when they depend on nothing else."""
        if key is None:
            return None
        with compiled_queries.statements_run() as statements:
            first, second = build(), build()
            compiled = compile_count_and_page(first, page_of(first))
            again = compile_count_and_page(second, page_of(second))
        if compiled is not None and again is not None and not statements and _same(compiled, again):
            compiled_queries.put(key, compiled)
            return compiled
        compiled_queries.put(key, compiled_queries.UNCACHEABLE)
        return compiled_queries.UNCACHEABLE

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "Page number (1 is the first page; past the last page: 404 `page_not_found`).",
                "schema": {"type": "integer", "minimum": 1},
            },
            _size_parameter(self.page_size_query_param, self.page_size),
        ]


def _same(one: CompiledPage, other: CompiledPage) -> bool:
    return (one.count_sql, one.count_params, one.page_sql, one.page_params) == (
        other.count_sql,
        other.count_params,
        other.page_sql,
        other.page_params,
    )


class NewestFirstCursorPagination(pagination.CursorPagination):
    """For ledgers: stable under inserts, constant cost at any depth."""

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request: Request) -> int:
        return _page_size(request, self.page_size)

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any] | None:
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def paginate_rows(
        self,
        queryset: QuerySet[Any] | Callable[[], QuerySet[Any]],
        rows_format: RowFormat,
        request: Request,
        view: Any = None,
        key: Hashable | None = None,
    ) -> list[dict[str, Any]]:
        """A page of ``queryset`` (or of what the callable builds) rendered by
        ``rows_format``; the position is read from the row's ordering column. (The SQL
        depends on the cursor: not kept, ``key`` is not used.)"""
        self._position_index = rows_format.paths.index(self.ordering[0].lstrip("-"))
        built = queryset() if callable(queryset) else queryset
        rows = self.paginate_queryset(rows_format.values_queryset(built), request, view)
        return rows_format.render(rows or [])

    def _get_position_from_instance(self, instance: Any, ordering: Any) -> str:
        if isinstance(instance, tuple):
            return str(instance[self._position_index])
        return super()._get_position_from_instance(instance, ordering)

    def decode_cursor(self, request: Request) -> pagination.Cursor | None:
        try:
            cursor = super().decode_cursor(request)
        except (NotFound, UnicodeError) as exc:
            raise InvalidCursor() from exc
        if cursor is not None and cursor.position is not None:
            self._check_position(str(cursor.position))
        return cursor

    def _check_position(self, position: str) -> None:
        """The position is the value of the first ordering field of the last row seen: a
        value that field cannot hold would fail in the query (a 500), so it is refused here."""
        model: type[Model] = self._model
        field = model._meta.get_field(self.ordering[0].lstrip("-"))
        try:
            value = field.to_python(position)  # type: ignore[union-attr]
        except (ValidationError, ValueError, OverflowError) as exc:
            raise InvalidCursor() from exc
        if getattr(value, "tzinfo", False) is None:  # a naive datetime: never one this API handed out
            raise InvalidCursor()

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque position from `next` or `previous` (anything else: 400 `invalid_cursor`).",
                "schema": {"type": "string"},
            },
            _size_parameter(self.page_size_query_param, self.page_size),
        ]
