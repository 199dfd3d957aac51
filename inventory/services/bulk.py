"""Set-based inserts for bulk writers (the CSV import): one statement per table and batch.

``insert_rows(Model, columns={...}, constants={...})`` runs

    INSERT INTO <table> (tenant_id, <pk>, <columns>, <constants>)
    SELECT %s, gen_random_uuid(), u.c0, u.c1, ..., %s, ...
    FROM unnest(%s::<type>[], %s::<type>[], ...) AS u(c0, c1, ...)

with every value a parameter (psycopg 3 sends Python lists as arrays), the table and
column names and types from the model's ``_meta``, and ``tenant_id`` from the current
tenant (``tenants.context``). The database layer has set ``app.tenant_id`` for the
transaction before the first statement, so Row Level Security checks every row
(WITH CHECK) as for any other insert. Nothing here runs outside a tenant.

It skips what the ORM does per object (model instances, ``pre_save``, ``auto_now``
and defaults): the caller passes every column the table needs, already
validated. It is for PostgreSQL only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection, models

from tenants.context import get_current_tenant
from tenants.scoping import TenantScopedModel

_TYPMOD = re.compile(r"\(.*\)")


def _array_type(field: models.Field[Any, Any]) -> str:
    """The column's type without its modifier: ``varchar(64)`` -> ``varchar``. An explicit
    cast to ``varchar(n)`` or ``numeric(p, s)`` would silently truncate or round; the
    assignment to the column checks length and precision instead (and raises)."""
    db_type = field.db_type(connection)
    assert db_type, f"{field} has no column type"
    return _TYPMOD.sub("", db_type).strip()


def _column(field: Any) -> str:
    assert isinstance(field, models.Field) and field.column, f"{field} is not a column"
    return field.column


def insert_rows(
    model: type[TenantScopedModel],
    *,
    columns: Mapping[str, Sequence[Any]],
    constants: Mapping[str, Any] | None = None,
) -> int:
    """Inserts one row per position of the ``columns`` lists (field name -> values) into
    ``model``'s table for the current tenant; ``constants`` (field name -> value) are the
    same in every row. A UUID primary key that is not given is made by the database.
    Values must be ready for the database: ids rather than model instances; a JSON field
    takes Python objects (dumped here). Returns the number of rows inserted."""
    assert connection.vendor == "postgresql", "insert_rows is PostgreSQL only"
    constants = constants or {}
    lengths = {len(values) for values in columns.values()}
    assert len(lengths) <= 1, "every column needs one value per row"
    count = lengths.pop() if lengths else 0
    if count == 0:
        return 0
    meta = model._meta
    quote = connection.ops.quote_name
    names: list[str] = [quote(_column(meta.get_field("tenant")))]
    selects: list[str] = ["%s::uuid"]
    select_params: list[Any] = [get_current_tenant().id]
    pk = meta.pk
    assert pk is not None
    if pk.name not in columns and pk.name not in constants:
        assert isinstance(pk, models.UUIDField), f"{meta.label}: give the primary key"
        names.append(quote(_column(pk)))
        selects.append("gen_random_uuid()")
    for name, value in constants.items():
        field = meta.get_field(name)
        assert isinstance(field, models.Field) and field.concrete and name != "tenant"
        names.append(quote(_column(field)))
        if isinstance(field, models.JSONField):
            selects.append("%s::jsonb")
            select_params.append(None if value is None else json.dumps(value))
        else:
            selects.append(f"%s::{_array_type(field)}")
            select_params.append(value)
    arrays: list[str] = []
    aliases: list[str] = []
    array_params: list[Any] = []
    for index, (name, values) in enumerate(columns.items()):
        field = meta.get_field(name)
        assert isinstance(field, models.Field) and field.concrete and name != "tenant"
        alias = f"c{index}"
        names.append(quote(_column(field)))
        aliases.append(alias)
        if isinstance(field, models.JSONField):
            arrays.append("%s::text[]")
            array_params.append([None if value is None else json.dumps(value) for value in values])
            selects.append(f"u.{alias}::jsonb")
        else:
            arrays.append(f"%s::{_array_type(field)}[]")
            array_params.append(list(values))
            selects.append(f"u.{alias}")
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(names)}) "  # noqa: S608 - names from _meta; values are parameters
        f"SELECT {', '.join(selects)} FROM unnest({', '.join(arrays)}) AS u({', '.join(aliases)})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*select_params, *array_params])
        return int(cursor.rowcount)
