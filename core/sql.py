"""The raw SQL of the few hot paths, in one place. Everything else uses the ORM.

Each helper writes its SQL from the models' ``_meta`` (table and column names,
types, converters), never from input, and passes every value as a parameter. The
tenant is an explicit argument (this module sits below the tenancy layer and reads
no context); a tenant row without one raises ``TenantRequired``. The database layer
has set ``app.tenant_id`` for the transaction, so Row Level Security checks every
row as for any ORM statement.

- ``PreparedSelect``: ``Model.objects.select_related(...).filter(...)`` compiled
  once, for the selects on every request (the token's membership, the stock level
  to lock); the ORM compiles a queryset on every evaluation, which cost more than
  running these (docs/performance.md). Rows become the same instances the ORM
  would build.
- ``count_and_page``: a list's ``COUNT`` and its page in one round trip (one query
  string): each statement keeps its own plan (a page read from an index stops after
  its rows).
- ``insert_objects`` / ``insert_objects_sql``: ``bulk_create`` of instances whose
  primary keys are set, as one ``INSERT ... VALUES`` (the stock ledger's rows).
- ``insert_columns``: a set-based ``INSERT ... SELECT FROM unnest(arrays)`` of
  column lists, skipping model instances altogether (the CSV import's writers).
- ``set_local``: ``set_config(name, value, true)`` in the open transaction (the API key
  look-up's ``app.api_key_hash``, tenants/rls.py).
- ``analyze_grown``: ``ANALYZE`` of the tables a bulk write grew materially, through the
  owner's ``stockroom_analyze`` function (migration tenants 0005).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import DatabaseError, connection, connections, models, transaction
from django.db.models import QuerySet, Subquery
from django.db.models.expressions import Col, RawSQL
from django.db.models.sql.constants import INNER
from django.db.models.sql.datastructures import Join
from django.db.models.sql.query import Query
from django.db.models.sql.where import WhereNode

from core.errors import CrossTenantWrite, TenantRequired

logger = logging.getLogger(__name__)


class PreparedSelect:
    """``model.objects.select_related(*related).filter(<field>=%s, ...)``, prepared.

    ``tenant_scoped``: adds ``tenant_id = %s`` like the scoped manager; ``first`` then
    needs the ``tenant_id`` and raises TenantRequired without one (PostgreSQL's RLS
    applies as well).
    ``lock``: a row-lock clause for the model's own rows, e.g. ``"NO KEY UPDATE"``."""

    def __init__(
        self,
        model: type[models.Model],
        *,
        related: tuple[str, ...],
        where: tuple[str, ...],
        tenant_scoped: bool,
        lock: str = "",
        using: str = "default",
    ) -> None:
        connection = connections[using]
        qn = connection.ops.quote_name
        self.model, self.using = model, using
        table = qn(model._meta.db_table)
        self.parts: list[tuple[type[models.Model], str | None, list[Any]]] = [
            (model, None, list(model._meta.concrete_fields))
        ]
        joins = []
        for name in related:
            field = model._meta.get_field(name)
            assert isinstance(field, models.ForeignKey) and not field.null, name
            target: Any = field.related_model
            target_table = qn(target._meta.db_table)
            target_column = qn(str(field.target_field.column))
            joins.append(f"JOIN {target_table} ON {target_table}.{target_column} = {table}.{qn(field.column)}")
            self.parts.append((target, name, list(target._meta.concrete_fields)))
        columns, self.converters = [], []
        for part_model, _, fields in self.parts:
            for field in fields:
                column = field.get_col(part_model._meta.db_table)
                columns.append(f"{qn(part_model._meta.db_table)}.{qn(str(field.column))}")
                self.converters.append(
                    (column, connection.ops.get_db_converters(column) + column.get_db_converters(connection))
                )
        self.where_fields = [model._meta.get_field(name) for name in where]
        self.tenant_field: Any = model._meta.get_field("tenant") if tenant_scoped else None
        conditions = [f"{table}.{qn(str(getattr(field, 'column', '')))} = %s" for field in self.where_fields]
        if tenant_scoped:
            conditions.insert(0, f"{table}.{qn('tenant_id')} = %s")
        lock_clause = f" FOR {lock} OF {table}" if lock else ""
        self.sql = (
            f"SELECT {', '.join(columns)} FROM {table} {' '.join(joins)} "  # noqa: S608 - names from _meta only
            f"WHERE {' AND '.join(conditions)}{lock_clause}"
        )

    def first(self, *values: Any, tenant_id: Any = None) -> Any:
        """The instance (with its related instances set) or None."""
        connection = connections[self.using]
        params = [
            field.get_db_prep_value(value, connection)  # type: ignore[union-attr]
            for field, value in zip(self.where_fields, values, strict=True)
        ]
        if self.tenant_field is not None:
            if tenant_id is None:
                raise TenantRequired()
            params.insert(0, self.tenant_field.get_db_prep_value(tenant_id, connection))
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        values_out = []
        for value, (column, converters) in zip(row, self.converters, strict=True):
            for converter in converters:
                value = converter(value, column, connection)
            values_out.append(value)
        start = 0
        instances: list[models.Model] = []
        for part_model, _, fields in self.parts:
            instances.append(
                part_model.from_db(self.using, [f.attname for f in fields], values_out[start : start + len(fields)])
            )
            start += len(fields)
        obj = instances[0]
        for (_, name, _), instance in zip(self.parts[1:], instances[1:], strict=True):
            setattr(obj, name, instance)  # type: ignore[arg-type]
        return obj


@dataclass(frozen=True)
class CompiledPage:
    """A list's COUNT and page, compiled (``compile_count_and_page``), ready to run."""

    using: str
    count_sql: str
    count_params: tuple[Any, ...]
    page_sql: str
    page_params: tuple[Any, ...]
    compiler: Any  # the page's SQL compiler: turns its raw rows into the values_list tuples
    empty: bool = False  # a filter that matches nothing by construction (``pk__in=[]``)
    converters: Any = None  # the compiler's column converters, worked out once (``_converters_of``)


def compile_count_and_page(queryset: QuerySet[Any], page: QuerySet[Any]) -> CompiledPage | None:
    """The SQL of ``queryset.count()`` and of ``page`` (a ``values_list`` slice of it);
    None when the two cannot go in one query string (a union; parameterless SQL)."""
    using = page.db
    if queryset.query.combinator:  # a union and the like: no values_list("pk") of it
        return None
    try:
        # Distinct rows are what the queryset selects: counted as they are; otherwise only
        # the primary key is read (the joins a filter needs stay, select_related's go).
        counted_query = queryset.order_by() if queryset.query.distinct else queryset.order_by().values_list("pk")
        _drop_joins_a_count_needs_not(counted_query.query)
        counted, count_params = counted_query.query.sql_with_params()
        page_compiler = page.query.get_compiler(using=using)
        page_sql, page_params = page_compiler.as_sql()
    except EmptyResultSet:
        return CompiledPage(using, "", (), "", (), None, empty=True)
    if not count_params or not page_params:  # parameterless SQL gets no set_config in front (tenants.dbbackend)
        return None
    count_sql = f"SELECT COUNT(*) FROM ({counted}) AS counted"  # noqa: S608 - compiled SQL
    return CompiledPage(
        using,
        count_sql,
        tuple(count_params),
        page_sql,
        tuple(page_params),
        page_compiler,
        converters=_converters_of(page_compiler),
    )


def _converters_of(compiler: Any) -> Any:
    """What ``compiler.results_iter`` works out on every call before converting rows (the
    backend's and the fields' converters of each selected column), worked out once."""
    return compiler.get_converters([column[0] for column in compiler.select[: compiler.col_count]])


def _converted(compiler: Any, converters: Any, raw: list[Any]) -> list[tuple[Any, ...]]:
    """``compiler.results_iter(results=[raw], tuple_expected=True)`` with ``converters``."""
    if not converters:
        return [tuple(row) for row in raw]
    return [tuple(row) for row in compiler.apply_converters(raw, converters)]


def _drop_joins_a_count_needs_not(query: Query) -> None:
    """Leaves out of a COUNT the joins only the page's columns use (``select_related`` goes
    with ``values_list``; an annotation's join stays in the query though nothing selects it:
    the stock levels' product, 5,000 rows joined to be counted). A join along a non-null
    foreign key, or a LEFT join along any foreign key, finds exactly one row or none kept:
    the count is the same without it. Kept: joins the WHERE reads (and the joins they hang
    from), reverse joins (they multiply rows), and everything when the query groups,
    aggregates or holds a subquery or raw SQL."""
    if query.group_by is not None or any(a.contains_aggregate for a in query.annotations.values()):
        return
    needed = {query.get_initial_alias()}
    for node in _where_nodes(query.where):
        if isinstance(node, (Query, Subquery, RawSQL)) or not hasattr(node, "flatten"):
            return
        if isinstance(node, Col):
            needed.add(node.alias)
    for alias in list(needed):
        while alias in query.alias_map and getattr(query.alias_map[alias], "parent_alias", None):
            alias = query.alias_map[alias].parent_alias
            needed.add(alias)
    for alias, join in query.alias_map.items():
        if alias in needed or not isinstance(join, Join) or not isinstance(join.join_field, models.ForeignKey):
            continue
        if join.join_type == INNER and join.join_field.null:
            continue  # an inner join along a nullable key drops the rows without one
        query.alias_refcount[alias] = 0


def _where_nodes(where: Any) -> Iterator[Any]:
    for child in where.children:
        if isinstance(child, WhereNode):
            yield from _where_nodes(child)
        elif hasattr(child, "flatten"):
            yield from child.flatten()
        else:
            yield child  # raw SQL (``extra(where=...)``): may name any table


def run_count_and_page(compiled: CompiledPage) -> tuple[int, list[tuple[Any, ...]]]:
    """Runs a compiled COUNT and page as one query string: one message, one round trip.
    Django's cursor binds the parameters client-side and sends the string through the
    simple query protocol, which runs its statements one after the other (each with its
    own plan) in one implicit transaction; the database layer puts ``set_config`` in
    front (``tenants.dbbackend``). The cursor starts on the COUNT's result."""
    if compiled.empty:
        return 0, []
    db = connections[compiled.using]
    with db.cursor() as cursor:
        cursor.execute(f"{compiled.count_sql}; {compiled.page_sql}", (*compiled.count_params, *compiled.page_params))
        total = cursor.fetchone()[0]
        cursor.cursor.nextset()
        raw = cursor.fetchall()
    return total, _converted(compiled.compiler, compiled.converters, raw)


def count_and_page(queryset: QuerySet[Any], page: QuerySet[Any]) -> tuple[int, list[tuple[Any, ...]]]:
    """``queryset.count()`` and ``list(page)`` (a ``values_list`` slice of it), sent
    together in one query string: one round trip where two would be. ``count(*) over ()`` in
    the page query would save the statement but read every row of the list, joins
    included, before the limit: 10-20 times slower at 100,000 rows (docs/performance.md)."""
    compiled = compile_count_and_page(queryset, page)
    if compiled is None:
        return queryset.count(), list(page)
    return run_count_and_page(compiled)


@dataclass(frozen=True)
class CompiledSelect:
    """A ``values_list`` query compiled once, run with new parameters (``run_select``)."""

    using: str
    sql: str
    params: tuple[Any, ...]
    compiler: Any
    converters: Any = None  # ``_converters_of(compiler)``


def compile_select(queryset: QuerySet[Any]) -> CompiledSelect | None:
    """None when the query matches nothing by construction."""
    compiler = queryset.query.get_compiler(using=queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return None
    return CompiledSelect(queryset.db, sql, tuple(params), compiler, _converters_of(compiler))


def run_select(compiled: CompiledSelect, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    db = connections[compiled.using]
    with db.cursor() as cursor:
        cursor.execute(compiled.sql, params)
        raw = cursor.fetchall()
    return _converted(compiled.compiler, compiled.converters, raw)


def insert_objects_sql(
    model: type[models.Model], objs: list[Any], *, tenant_id: Any = None, using: str = "default"
) -> tuple[str, list[Any]]:
    """``model.objects.bulk_create(objs)`` as one ``INSERT ... VALUES`` for rows whose
    primary key is set in Python, written from the model's ``_meta`` with the values
    prepared as Django's insert compiler prepares them (``pre_save``, then
    ``get_db_prep_save``). Rows of a tenant model take ``tenant_id`` (required for
    them; a row already of another tenant raises CrossTenantWrite)."""
    connection = connections[using]
    qn = connection.ops.quote_name
    fields = list(model._meta.concrete_fields)
    assert objs and all(obj.pk is not None for obj in objs), "rows with primary keys set"
    tenant_scoped = any(field.name == "tenant" for field in fields)
    if tenant_scoped and tenant_id is None:
        raise TenantRequired()
    params: list[Any] = []
    for obj in objs:
        if tenant_scoped:
            if obj.tenant_id is None:
                obj.tenant_id = tenant_id
            elif obj.tenant_id != tenant_id:
                raise CrossTenantWrite()
        params += [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
    row = f"({', '.join(['%s'] * len(fields))})"
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(str(f.column)) for f in fields)}) "  # noqa: S608
        f"VALUES {', '.join([row] * len(objs))}"
    )
    return sql, params


def mark_inserted(objs: list[Any], using: str = "default") -> None:
    """What bulk_create does to saved instances."""
    for obj in objs:
        obj._state.adding, obj._state.db = False, using


def insert_objects(
    model: type[models.Model], objs: list[Any], *, tenant_id: Any = None, using: str = "default"
) -> None:
    """Runs ``insert_objects_sql``: one round trip for any number of rows."""
    if not objs:
        return
    sql, params = insert_objects_sql(model, objs, tenant_id=tenant_id, using=using)
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
    mark_inserted(objs, using)


def insert_object_if_absent(model: type[models.Model], obj: Any, *, using: str = "default") -> bool:
    """``INSERT ... ON CONFLICT DO NOTHING`` of one row of a global (not tenant) model whose
    primary key is set in Python: True when it was inserted, False when a row with that key
    (or another unique value) was there already, or arrived at the same time (the loser of
    two concurrent inserts waits for the winner's commit and inserts nothing)."""
    connection = connections[using]
    qn = connection.ops.quote_name
    assert obj.pk is not None, "a row with its primary key set"
    fields = list(model._meta.concrete_fields)
    params = [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(str(f.column)) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))}) ON CONFLICT DO NOTHING RETURNING 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        inserted = cursor.fetchone() is not None
    if inserted:
        mark_inserted([obj], using)
    return inserted


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


def insert_columns(
    model: type[models.Model],
    *,
    tenant_id: Any,
    columns: Mapping[str, Sequence[Any]],
    constants: Mapping[str, Any] | None = None,
) -> int:
    """Inserts one row per position of the ``columns`` lists (field name -> values) into
    ``model``'s table (a tenant model) for ``tenant_id``; ``constants`` (field name -> value) are the
    same in every row. A UUID primary key that is not given is made by the database.
    Values must be ready for the database: ids rather than model instances; a JSON field
    takes Python objects (dumped here). Returns the number of rows inserted."""
    statement = insert_columns_sql(model, tenant_id=tenant_id, columns=columns, constants=constants)
    if statement is None:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(*statement)
        return int(cursor.rowcount)


def insert_columns_sql(
    model: type[models.Model],
    *,
    tenant_id: Any,
    columns: Mapping[str, Sequence[Any]],
    constants: Mapping[str, Any] | None = None,
) -> tuple[str, list[Any]] | None:
    """The INSERT of ``insert_columns`` as SQL and parameters, for the caller to run (e.g.
    after a data-modifying WITH clause); None when there are no rows."""
    if tenant_id is None:
        raise TenantRequired()
    constants = constants or {}
    lengths = {len(values) for values in columns.values()}
    assert len(lengths) <= 1, "every column needs one value per row"
    count = lengths.pop() if lengths else 0
    if count == 0:
        return None
    meta = model._meta
    quote = connection.ops.quote_name
    names: list[str] = [quote(_column(meta.get_field("tenant")))]
    selects: list[str] = ["%s::uuid"]
    select_params: list[Any] = [tenant_id]
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
    return sql, [*select_params, *array_params]


# A bulk write refreshes a table's statistics when it added at least this many rows and at
# least this fraction of the rows the planner believes the table has (``pg_class.reltuples``;
# autovacuum's own analyze scale factor is 0.1): small writes never pay for an ANALYZE, and
# a table that an import doubled or filled from empty is analyzed before its next query.
ANALYZE_MIN_ROWS = 1000
ANALYZE_MIN_FRACTION = 0.1


def analyze_grown(added: Mapping[type[models.Model], int], *, using: str = "default") -> list[str]:
    """``ANALYZE`` of each table of ``added`` (model -> rows just committed into it) that grew
    materially (``ANALYZE_MIN_ROWS``, ``ANALYZE_MIN_FRACTION``), so the next queries are not
    planned on statistics of a much smaller table (autovacuum may be off, or not yet run).
    Runs in a transaction of its own, after the rows are committed; the runtime role owns no
    table and runs it through ``stockroom_analyze`` (owner's rights, these tables only).
    Returns the tables analyzed; a database that refuses (the function missing, a lock
    timeout) is logged and skipped: the statistics are an optimisation, never a reason to fail."""
    candidates = {model._meta.db_table: rows for model, rows in added.items() if rows >= ANALYZE_MIN_ROWS}
    if not candidates:
        return []
    try:
        with transaction.atomic(using=using), connections[using].cursor() as cursor:
            cursor.execute(
                "SELECT relname, reltuples FROM pg_class "
                "WHERE relname = ANY(%s) AND relnamespace = current_schema()::regnamespace",
                [sorted(candidates)],
            )
            estimated = dict(cursor.fetchall())
            tables = [
                table
                for table, rows in sorted(candidates.items())
                if rows >= ANALYZE_MIN_FRACTION * max(estimated.get(table, 0.0), 0.0)
            ]
            if tables:
                cursor.execute("SELECT stockroom_analyze(%s)", [tables])
    except DatabaseError as exc:
        logger.warning("statistics not refreshed after a bulk write (ANALYZE %s): %s", ", ".join(candidates), exc)
        return []
    if tables:
        logger.info("statistics refreshed after a bulk write: ANALYZE %s", ", ".join(tables))
    return tables


def set_local(name: str, value: str, *, using: str = "default") -> None:
    """``set_config(name, value, true)``: a transaction-local setting, which ends with the
    transaction (never left on a pooled connection). Only inside a transaction."""
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError("set_local needs a transaction: the setting would end with this statement.")
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, true)", [name, value])


def try_advisory_xact_lock(lock_id: int, *, using: str = "default") -> bool:
    """``pg_try_advisory_xact_lock(lock_id)``: takes the transaction-level advisory lock
    ``lock_id`` (a signed 64-bit integer) without waiting; False when another transaction
    holds it. Held until the caller's transaction ends (commit or rollback), so it must be
    called inside one (``transaction.atomic``). Re-entrant within one session."""
    assert connections[using].in_atomic_block, "an advisory transaction lock needs a transaction"
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_id])
        row = cursor.fetchone()
    return bool(row and row[0])


def advisory_xact_lock(lock_id: int, *, using: str = "default") -> None:
    """``pg_advisory_xact_lock(lock_id)``: waits for the transaction-level advisory lock
    ``lock_id`` (a signed 64-bit integer) and holds it until the caller's transaction ends.
    Serializes check-then-act sections (a plan limit's count and the insert it admits)
    without locking any row. Only inside a transaction."""
    assert connections[using].in_atomic_block, "an advisory transaction lock needs a transaction"
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])
