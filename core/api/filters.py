"""Filter backends that refuse what they would otherwise ignore.

django-filter and DRF drop what they cannot use: ``?is_active=maybe`` filters
nothing, ``?ordering=nope`` sorts by the default. A client then reads a wrong
answer as the right one. Here every such value is a 400 ``invalid_parameter``
whose ``fields`` name the parameter, and the schema lists the allowed values.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import QuerySet
from django.http import QueryDict
from django_filters import rest_framework as django_filters
from rest_framework import filters
from rest_framework.request import Request

from core.api.errors import InvalidParameter
from core.api.strict import UUID_PATTERN

# Pairs of range filters: the lower bound may not be after the upper one.
RANGE_PAIRS = (("created_after", "created_before"), ("expected_after", "expected_before"))


def _errors_of(form: Any) -> dict[str, list[dict[str, str]]]:
    return {
        name: [{"code": error.code or "invalid", "message": " ".join(error.messages)} for error in errors]
        for name, errors in form.errors.as_data().items()
    }


class FilterSet(django_filters.FilterSet):
    """The base of every filter set: a reference is filtered by its id (a well-formed id that
    matches nothing gives an empty list, not ``invalid_choice``)."""

    FILTER_DEFAULTS = {
        **django_filters.FilterSet.FILTER_DEFAULTS,
        models.ForeignKey: {"filter_class": django_filters.UUIDFilter},
        models.OneToOneField: {"filter_class": django_filters.UUIDFilter},
    }


def _given(query: QueryDict) -> QueryDict:
    """The query parameters with a value: an empty one counts as absent (docs/api.md)."""
    given = QueryDict(mutable=True)
    for name, values in query.lists():
        given.setlist(name, [value for value in values if value != ""])
    return given


def _strictness_errors(filterset: Any, query: QueryDict) -> dict[str, list[dict[str, str]]]:
    """What django-filter reads leniently: a boolean other than true/false (it reads ``1``, ``0``
    and anything else as "no filter"), a uuid in another spelling than 8-4-4-4-12."""
    fields: dict[str, list[dict[str, str]]] = {}
    for name, declared in filterset.filters.items():
        for value in query.getlist(name):
            if isinstance(declared, django_filters.BooleanFilter) and value not in ("true", "false"):
                fields[name] = [{"code": "invalid", "message": f"{value!r} is not true or false."}]
            elif isinstance(declared, django_filters.UUIDFilter) and not UUID_PATTERN.fullmatch(value):
                fields[name] = [{"code": "invalid", "message": "Must be a valid UUID (8-4-4-4-12 hex digits)."}]
    return fields


class FilterBackend(django_filters.DjangoFilterBackend):
    """DjangoFilterBackend, plus: a value the filter would read as "no filter" is an error, a
    NUL character in any parameter is an error, and so is a range whose lower bound is after
    its upper bound. Empty parameters count as absent."""

    filterset_base = FilterSet

    def get_filterset_kwargs(self, request: Request, queryset: QuerySet[Any], view: Any) -> dict[str, Any]:
        return {**super().get_filterset_kwargs(request, queryset, view), "data": _given(request.query_params)}

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        for name, values in request.query_params.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                raise InvalidParameter.for_parameter(name.replace("\x00", ""), "NUL characters are not allowed.")
        if not _filter_parameters_given(request, view):
            return queryset  # building the filter set and its form costs ~1 ms, for nothing
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        form = filterset.form
        fields = _errors_of(form) if not filterset.is_valid() else {}
        fields = {**_strictness_errors(filterset, filterset.data), **fields}
        for low, high in RANGE_PAIRS:
            start, end = form.cleaned_data.get(low), form.cleaned_data.get(high)
            if low not in fields and high not in fields and start is not None and end is not None and start > end:
                fields[low] = [{"code": "invalid_range", "message": f"Must not be after `{high}`."}]
        if fields:
            names = ", ".join(f"`{name}`" for name in fields)
            raise InvalidParameter(f"Invalid query parameter {names}.", fields=fields)
        return filterset.qs


def _filter_parameters_given(request: Request, view: Any) -> bool:
    """Whether a non-empty query parameter names one of the view's filters."""
    filterset_class = getattr(view, "filterset_class", None)
    names = filterset_class.base_filters if filterset_class is not None else getattr(view, "filterset_fields", None)
    if not names:
        return False
    if filterset_class is None and isinstance(names, dict):  # lookups per field: ``price__lt`` and the like
        return True
    return any(name in names and any(values) for name, values in request.query_params.lists())


class OrderingFilter(filters.OrderingFilter):
    """``?ordering=a,-b`` with fields from the view's ``ordering_fields`` only; an
    unknown field is an error, not a silent fallback to the default order."""

    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> Any:
        params = request.query_params.get(self.ordering_param)
        if params is None or params == "":
            return self.get_default_ordering(view)
        terms = [term.strip() for term in params.split(",")]
        valid = self.remove_invalid_fields(queryset, terms, view, request)
        if len(valid) != len(terms):
            allowed = ", ".join(self._choices(view))
            raise InvalidParameter.for_parameter(self.ordering_param, f"Sort by one or more of: {allowed}.")
        return valid

    @staticmethod
    def _choices(view: Any) -> list[str]:
        declared = getattr(view, "ordering_fields", None) or []
        fields = [field if isinstance(field, str) else field[0] for field in declared]
        return [choice for field in fields for choice in (field, f"-{field}")]

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": "Sort by these fields, comma-separated; `-` in front sorts descending.",
                "schema": {"type": "array", "items": {"type": "string", "enum": self._choices(view)}},
                "style": "form",
                "explode": False,
            }
        ]


def parse_query(serializer_class: type[Any], request: Request) -> dict[str, Any]:
    """Query parameters read with a serializer (for views that are not filtered lists):
    invalid values are 400 ``invalid_parameter`` naming each parameter."""
    from core.api.exception_handler import flatten_errors

    given = {name: value for name, value in request.query_params.items() if value != ""}
    query = serializer_class(data=given)
    if not query.is_valid():
        fields = flatten_errors(query.errors)
        names = ", ".join(f"`{name}`" for name in fields)
        raise InvalidParameter(f"Invalid query parameter {names}.", fields=fields)
    return dict(query.validated_data)
