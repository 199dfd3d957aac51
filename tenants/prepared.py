"""Hot-path selects with their SQL built once.

The ORM compiles a queryset to SQL on every evaluation. For the two queries on every
stock operation's path (the token's membership, the stock level to lock) compiling
cost more than running them (docs/performance.md). ``PreparedSelect`` writes such a
query once from the models' ``_meta`` (the columns ``select_related`` would fetch)
and turns rows into model instances with the converters the ORM itself applies, so
the instances are the same as the ORM's.
"""

from __future__ import annotations

from typing import Any

from django.db import connections, models

from tenants.context import get_current_tenant


class PreparedSelect:
    """``model.objects.select_related(*related).filter(<field>=%s, ...)``, prepared.

    ``tenant_scoped``: adds ``tenant_id = <current tenant>`` like the scoped manager,
    and raises TenantRequired when no tenant is set (PostgreSQL's RLS applies as well).
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

    def first(self, *values: Any) -> Any:
        """The instance (with its related instances set) or None."""
        connection = connections[self.using]
        params = [
            field.get_db_prep_value(value, connection)  # type: ignore[union-attr]
            for field, value in zip(self.where_fields, values, strict=True)
        ]
        if self.tenant_field is not None:
            params.insert(0, self.tenant_field.get_db_prep_value(get_current_tenant().id, connection))
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


def insert_rows_sql(model: type[models.Model], objs: list[Any], *, using: str = "default") -> tuple[str, list[Any]]:
    """``model.objects.bulk_create(objs)`` as one ``INSERT ... VALUES`` for rows whose
    primary key is set in Python, written from the model's ``_meta`` with the values
    prepared as Django's insert compiler prepares them (``pre_save``, then
    ``get_db_prep_save``). Tenant rows take the current tenant (another tenant's row
    raises CrossTenantWrite)."""
    connection = connections[using]
    qn = connection.ops.quote_name
    fields = list(model._meta.concrete_fields)
    assert objs and all(obj.pk is not None for obj in objs), "rows with primary keys set"
    tenant = get_current_tenant() if hasattr(model, "_assign_current_tenant") else None
    params: list[Any] = []
    for obj in objs:
        if tenant is not None:
            obj._assign_current_tenant(tenant)
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


def insert_rows(model: type[models.Model], objs: list[Any], *, using: str = "default") -> None:
    """Runs ``insert_rows_sql``: one round trip for any number of rows."""
    if not objs:
        return
    sql, params = insert_rows_sql(model, objs, using=using)
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
    mark_inserted(objs, using)
