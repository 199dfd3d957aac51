"""The read fast path: a serializer's output compiled once into a row formatter.

A list of 50 products through DRF builds 50 model instances (plus 50 related ones) and
runs the serializer's per-field loop for each: most of a list request's time. Yet the
output of a read-only representation is a function of a few columns. ``row_format``
reads the serializer class once and returns a ``RowFormat`` that knows

- the ``values_list`` paths the output needs (``category.name`` -> ``category__name``,
  a related id -> ``category_id``, a nested serializer -> its fields under a prefix), and
- one converter per field, applied to a tuple of those values: the same conversion the
  serializer field would apply (the field's own ``to_representation`` where a shortcut
  would not be exactly the same).

Nested ``many=True`` serializers (an order's lines and history) are read with one
query per nested list for the whole page (``RowFormat.rows``), grouped by parent id.

The JSON is the serializer's, field for field: ``core/tests/test_fast_path.py`` compares
them on generated data for every resource that uses the fast path. A serializer with a
field this module cannot read from columns (a method field, ``source="*"``, a relation
that may be missing under a field that would be omitted then) is refused when it is
compiled (``Unsupported``), so a resource never silently renders differently.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework import ISO_8601, relations, serializers
from rest_framework import fields as drf_fields
from rest_framework.settings import api_settings

Converter = Callable[[Any], Any]


class Unsupported(Exception):
    """The serializer has a field whose output is not a function of its columns."""


def _identity(value: Any) -> Any:
    return value


def _uuid(value: Any) -> Any:
    return str(value) if isinstance(value, uuid.UUID) else value


def _decimal(field: serializers.DecimalField) -> Converter:
    if not getattr(field, "coerce_to_string", True) or field.localize:
        return field.to_representation
    quantize = field.quantize
    places = field.decimal_places

    def convert(value: Any) -> Any:
        if isinstance(value, Decimal) and value.as_tuple().exponent == -places:  # type: ignore[operator]
            return f"{value:f}"  # a numeric(_, places) column: already at the field's scale
        return f"{quantize(value if isinstance(value, Decimal) else Decimal(str(value).strip())):f}"

    return convert


def _datetime(field: serializers.DateTimeField) -> Converter:
    """DRF's ISO 8601 output of an aware datetime in the current time zone (``Z`` for UTC),
    without its per-value checks; anything else goes to the field."""
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    if not settings.USE_TZ or hasattr(field, "timezone") or output_format is None or output_format.lower() != ISO_8601:
        return field.to_representation

    def convert(value: Any) -> Any:
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            return field.to_representation(value)
        text = value.astimezone(timezone.get_current_timezone()).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return convert


def _converter(field: drf_fields.Field[Any, Any, Any, Any]) -> Converter:
    """What ``field.to_representation`` does to a non-null column value."""
    if isinstance(field, serializers.DecimalField):
        return _decimal(field)
    if isinstance(field, serializers.UUIDField):
        return field.to_representation if field.uuid_format != "hex_verbose" else _uuid
    if isinstance(field, relations.PrimaryKeyRelatedField) and field.pk_field is None:
        return _uuid  # the related id column; DRF renders the pk object, JSON writes the uuid as a string
    if isinstance(field, serializers.ChoiceField) and not isinstance(field, serializers.MultipleChoiceField):
        return _identity if all(isinstance(key, str) for key in field.choices) else field.to_representation
    if type(field) in (serializers.CharField, serializers.EmailField, serializers.SlugField, serializers.URLField):
        return _identity  # text columns: ``str(value)`` of a str
    if type(field) is serializers.BooleanField:
        return _identity  # a boolean column
    if type(field) is serializers.IntegerField:
        return int
    if type(field) is serializers.JSONField and not field.binary:
        return _identity  # a decoded JSON column
    if type(field) is serializers.DateTimeField:
        return _datetime(field)
    if isinstance(field, (relations.RelatedField, serializers.SerializerMethodField)):
        raise Unsupported(f"{field.field_name}: {type(field).__name__}")
    if type(field).to_representation is drf_fields.Field.to_representation:
        raise Unsupported(f"{field.field_name}: {type(field).__name__}")
    return field.to_representation


def _model_field(model: type[models.Model], name: str) -> Any:
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:  # an annotation of the selector (e.g. ``available``), not a model field
        return None


@dataclass
class _Column:
    name: str  # the output key
    index: int  # position in the row tuple
    convert: Converter


@dataclass
class _Nested:
    name: str
    id_index: int  # a null id: the relation is absent, the output is null
    format: RowFormat


@dataclass
class _Many:
    name: str
    format: RowFormat
    model: type[models.Model]
    parent_column: str  # the child's column pointing at the parent (``order_id``)
    ordering: Sequence[str]


class RowFormat:
    """``paths`` to read with ``values_list`` and ``format(row)`` for one output object."""

    def __init__(self, serializer_class: type[serializers.BaseSerializer[Any]], *, model: Any = None) -> None:
        serializer = serializer_class()
        assert isinstance(serializer, serializers.Serializer)
        self.model: type[models.Model] = model or serializer.Meta.model  # type: ignore[attr-defined]
        self.paths: list[str] = []
        self._columns: list[_Column] = []
        self._nested: list[_Nested] = []
        self._many: list[_Many] = []
        self._order: list[str] = []
        for name, field in serializer.fields.items():
            if field.write_only:
                continue
            self._order.append(name)
            self._add(name, field)
        self.id_index = self._path_index("id")

    # --- compiling -------------------------------------------------------------------------

    def _path_index(self, path: str) -> int:
        if path not in self.paths:
            self.paths.append(path)
        return self.paths.index(path)

    def _add(self, name: str, field: Any) -> None:
        if field.source == "*":
            raise Unsupported(f"{name}: source='*'")
        if isinstance(field, serializers.ListSerializer):
            self._add_many(name, field)
            return
        if isinstance(field, serializers.Serializer):
            self._add_nested(name, field)
            return
        source = field.source_attrs
        path = "__".join(source)
        if isinstance(field, relations.PrimaryKeyRelatedField):
            path += "_id"
        if len(source) > 1 and not field.allow_null and self._nullable_path(source[:-1]):
            # DRF omits the key when the relation is missing and the field has no null: not a column.
            raise Unsupported(f"{name}: {'.'.join(source)} through a nullable relation")
        self._columns.append(_Column(name, self._path_index(path), _converter(field)))

    def _nullable_path(self, relations_: Sequence[str]) -> bool:
        model: Any = self.model
        for attr in relations_:
            field = _model_field(model, attr)
            if field is None or not field.is_relation:
                return True
            if field.null:
                return True
            model = field.related_model
        return False

    def _add_nested(self, name: str, field: serializers.Serializer[Any]) -> None:
        assert field.source is not None
        relation = _model_field(self.model, field.source)
        if relation is None or not relation.is_relation or relation.many_to_many or relation.one_to_many:
            raise Unsupported(f"{name}: nested serializer over {field.source!r}")
        nested = RowFormat(type(field), model=relation.related_model)
        prefix = f"{field.source}__"
        remap = [self._path_index(prefix + path) for path in nested.paths]
        id_index = self._path_index(f"{field.source}_id")
        nested._rebase(remap)
        self._nested.append(_Nested(name, id_index, nested))

    def _rebase(self, positions: list[int]) -> None:
        """Reads this (nested) format's columns at the parent row's positions."""
        for column in self._columns:
            column.index = positions[column.index]
        for nested in self._nested:
            nested.id_index = positions[nested.id_index]
            nested.format._rebase(positions)

    def _add_many(self, name: str, field: serializers.ListSerializer[Any]) -> None:
        assert field.source is not None
        descriptor = getattr(self.model, field.source, None)
        rel = getattr(descriptor, "rel", None)
        if rel is None or not rel.one_to_many:
            raise Unsupported(f"{name}: many over {field.source!r}")
        child_model = rel.related_model
        child = RowFormat(type(field.child), model=child_model)  # type: ignore[arg-type]
        parent_column = rel.field.attname
        child._path_index(parent_column)
        self._many.append(_Many(name, child, child_model, parent_column, child_model._meta.ordering or ["pk"]))

    # --- reading -------------------------------------------------------------------------------

    def format(
        self, row: Sequence[Any], children: dict[str, dict[Any, list[dict[str, Any]]]] | None = None
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for column in self._columns:
            value = row[column.index]
            out[column.name] = None if value is None else column.convert(value)
        for nested in self._nested:
            out[nested.name] = None if row[nested.id_index] is None else nested.format.format(row)
        if self._many:
            assert children is not None
            key = row[self.id_index]
            for many in self._many:
                out[many.name] = children[many.name].get(key, [])
        if self._nested or self._many:
            out = {name: out[name] for name in self._order}
        return out

    def read(self, queryset: QuerySet[Any]) -> list[tuple[Any, ...]]:
        """The rows of ``queryset`` (filtered, ordered, sliced or not) as this format reads them."""
        return list(self.values_queryset(queryset))

    def values_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """``queryset`` reading this format's paths as tuples."""
        return queryset.prefetch_related(None).values_list(*self.paths)

    def children(self, rows: Iterable[Sequence[Any]]) -> dict[str, dict[Any, list[dict[str, Any]]]]:
        """The nested lists of a page of rows: one query per ``many=True`` field."""
        ids = [row[self.id_index] for row in rows]
        found: dict[str, dict[Any, list[dict[str, Any]]]] = {}
        for many in self._many:
            grouped: dict[Any, list[dict[str, Any]]] = {}
            if ids:
                child = many.format
                parent = child.paths.index(many.parent_column)
                queryset = many.model._default_manager.filter(**{f"{many.parent_column}__in": ids})
                child_rows = list(queryset.order_by(*many.ordering).values_list(*child.paths))
                grandchildren = child.children(child_rows) if child._many else None
                for child_row in child_rows:
                    grouped.setdefault(child_row[parent], []).append(child.format(child_row, grandchildren))
            found[many.name] = grouped
        return found

    def render(self, rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        children = self.children(rows) if self._many else None
        return [self.format(row, children) for row in rows]


@functools.cache
def row_format(serializer_class: type[serializers.BaseSerializer[Any]]) -> RowFormat:
    """The compiled format of a serializer class (once per process)."""
    return RowFormat(serializer_class)
