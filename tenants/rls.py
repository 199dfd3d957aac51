"""Database-level tenant isolation, applied after every ``migrate`` (post_migrate).

For every concrete ``TenantScopedModel`` table, idempotently:
- ``ENABLE`` and ``FORCE ROW LEVEL SECURITY`` and the ``tenant_isolation`` policy
  (docs: shared/design.md, docs/architecture.md);
- ``UNIQUE (tenant_id, id)`` where another tenant table points at it or no other
  index leads with the tenant, and for each foreign key to another tenant table a
  composite ``FOREIGN KEY (tenant_id, x_id) REFERENCES x (tenant_id, id)``, so the
  database itself refuses a row that points into another tenant (Django's own
  single-column key is left out: ``tenants.fields.TenantForeignKey``);
- the runtime role's privileges (``runtime_privileges`` on the model) and the
  operations role's.

The memberships table (``USER_READABLE_TABLES``) is not a ``TenantScopedModel`` (it
is read across workspaces at login) but carries ``tenant_id``: it gets the same
forced ``tenant_isolation`` policy, plus a read-only ``own_rows`` policy that shows
the current user's own rows (``app.user_id``, set transaction-locally like
``app.tenant_id``). PostgreSQL ORs permissive policies of a command: a user reads the
current tenant's memberships and their own elsewhere, and writes only the current
tenant's.

A new tenant model therefore gets all of it from the migration that creates its
table; ``tenants/tests/test_rls.py`` fails if any table with a ``tenant_id``
column lacks an enabled, forced policy.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.apps import apps
from django.db import connections, models
from django.db.backends.base.base import BaseDatabaseWrapper

from tenants.scoping import TenantScopedModel

logger = logging.getLogger(__name__)

POLICY_NAME = "tenant_isolation"
# current_setting() is called directly, not in a sub-select ``(SELECT current_setting(...))``
# as first written: a sub-select is an InitPlan parameter the planner cannot see through,
# so it estimated every table's tenant rows as 1/(number of tenants) of the table, on
# top of the ORM's own ``tenant_id = <id>``, and a large tenant's lists got plans made
# for a few rows (docs/performance.md, "Row Level Security and the planner"). The
# function is STABLE: the planner merges the predicate with the ORM's equal filter into
# one check evaluated once per statement (a One-Time Filter) and estimates with the
# actual tenant. An unset value still makes the predicate NULL: no rows.
TENANT_PREDICATE = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid"
OWN_ROWS_POLICY_NAME = "own_rows"
# Tables with a tenant_id that are also read by user across tenants: table -> user column.
USER_READABLE_TABLES = {"tenants_membership": "user_id"}
# Tables read by a secret's hash before any tenant is known: table -> hash column. The
# ``key_lookup`` policy shows the row whose hash the transaction set as ``app.api_key_hash``
# (``tenants.selectors.api_key_by_hash``), and no other: knowing the key is the permission.
KEY_LOOKUP_TABLES = {"tenants_apikey": "key_hash"}
KEY_LOOKUP_POLICY_NAME = "key_lookup"
# Tables read by id before any tenant is known, where the caller proves afterwards that it
# may (a Shopify connector: the webhook's signature with the connector's secret): table ->
# (id column, setting). The ``id_lookup`` policy shows the row whose id the transaction set
# (``integrations.selectors.connector_for_webhook``), and no other.
ID_LOOKUP_TABLES = {"integrations_connector": ("id", "app.connector_id")}
ID_LOOKUP_POLICY_NAME = "id_lookup"
# What pg_policies shows of a predicate in the first, sub-select form: replaced by the above.
_SUB_SELECT_FORM = "( SELECT current_setting("


def key_lookup_predicate(hash_column: str) -> str:
    return f"{hash_column} = NULLIF(current_setting('app.api_key_hash', true), '')"


def id_lookup_predicate(id_column: str, setting: str) -> str:
    return f"{id_column} = NULLIF(current_setting('{setting}', true), '')::uuid"


def own_rows_predicate(user_column: str) -> str:
    return f"{user_column} = NULLIF(current_setting('app.user_id', true), '')::uuid"


ALL_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")


def tenant_models() -> list[type[TenantScopedModel]]:
    return [
        model
        for model in apps.get_models()
        if issubclass(model, TenantScopedModel) and not model._meta.proxy and model._meta.managed
    ]


def _name(*parts: str, suffix: str) -> str:
    """A constraint name within PostgreSQL's 63 characters, stable for its inputs."""
    base = "_".join(parts)
    name = f"{base}_{suffix}"
    if len(name) <= 63:
        return name
    digest = hashlib.sha1(base.encode()).hexdigest()[:8]  # noqa: S324 - a name, not security
    return f"{base[: 63 - len(suffix) - 10]}_{digest}_{suffix}"


def _constraint_exists(cursor: Any, table: str, name: str) -> bool:
    cursor.execute(
        "SELECT 1 FROM pg_constraint WHERE conname = %s AND conrelid = %s::regclass",
        [name, table],
    )
    return cursor.fetchone() is not None


def _table_exists(cursor: Any, table: str) -> bool:
    cursor.execute("SELECT to_regclass(%s)", [table])
    row = cursor.fetchone()
    return row is not None and row[0] is not None


def _quote(connection: BaseDatabaseWrapper, name: str) -> str:
    return connection.ops.quote_name(name)


def tenant_foreign_keys(model: type[models.Model]) -> list[models.ForeignKey[Any, Any]]:
    """Foreign keys from a tenant model to another tenant model (not the tenant itself)."""
    return [
        field
        for field in model._meta.concrete_fields
        if isinstance(field, models.ForeignKey)
        and field.name != "tenant"
        and isinstance(field.related_model, type)
        and issubclass(field.related_model, TenantScopedModel)
    ]


def tenant_led_indexes(model: type[models.Model]) -> list[list[str]]:
    """The field lists of the model's indexes and unique constraints that start with the tenant."""
    groups = [[name.lstrip("-") for name in index.fields] for index in model._meta.indexes]
    groups += [list(c.fields) for c in model._meta.constraints if isinstance(c, models.UniqueConstraint)]
    groups += [list(together) for together in model._meta.unique_together]
    return [group for group in groups if group and group[0] in {"tenant", "tenant_id"}]


def needs_tenant_pk_unique(model: type[models.Model]) -> bool:
    """``UNIQUE (tenant_id, id)`` is the target of the composite keys that point at the
    table, and the index that finds a tenant's rows when nothing else leads with the
    tenant. A table that is neither (the ledger, say) does without: one index fewer
    to write per row."""
    referenced = {field.related_model for other in tenant_models() for field in tenant_foreign_keys(other)}
    return model in referenced or not tenant_led_indexes(model)


def _policy_qual(cursor: Any, table: str, name: str) -> str | None:
    """The policy's USING predicate as PostgreSQL shows it; None when there is no such policy."""
    cursor.execute(
        "SELECT coalesce(qual, '') FROM pg_policies "
        "WHERE schemaname = current_schema() AND tablename = %s AND policyname = %s",
        [table, name],
    )
    row = cursor.fetchone()
    return row[0] if row is not None else None


def _isolate_table(connection: BaseDatabaseWrapper, cursor: Any, table: str) -> None:
    """ENABLE + FORCE row level security and the ``tenant_isolation`` policy (idempotent;
    a policy still in the sub-select form is brought to the current predicate)."""
    q = lambda name: _quote(connection, name)  # noqa: E731
    cursor.execute(f"ALTER TABLE {q(table)} ENABLE ROW LEVEL SECURITY")
    cursor.execute(f"ALTER TABLE {q(table)} FORCE ROW LEVEL SECURITY")
    qual = _policy_qual(cursor, table, POLICY_NAME)
    if qual is None:
        cursor.execute(
            f"CREATE POLICY {POLICY_NAME} ON {q(table)} USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})"
        )
    elif _SUB_SELECT_FORM in qual:
        cursor.execute(
            f"ALTER POLICY {POLICY_NAME} ON {q(table)} USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})"
        )


def apply_tenant_isolation(using: str, *, runtime_role: str | None, ops_role: str | None) -> None:
    connection = connections[using]
    q = lambda name: _quote(connection, name)  # noqa: E731
    with connection.cursor() as cursor:
        for table, user_column in USER_READABLE_TABLES.items():
            if not _table_exists(cursor, table):
                continue
            _isolate_table(connection, cursor, table)
            own_rows = _policy_qual(cursor, table, OWN_ROWS_POLICY_NAME)
            if own_rows is None:
                cursor.execute(
                    f"CREATE POLICY {OWN_ROWS_POLICY_NAME} ON {q(table)} FOR SELECT "
                    f"USING ({own_rows_predicate(q(user_column))})"
                )
            elif _SUB_SELECT_FORM in own_rows:
                cursor.execute(
                    f"ALTER POLICY {OWN_ROWS_POLICY_NAME} ON {q(table)} USING ({own_rows_predicate(q(user_column))})"
                )
        for table, hash_column in KEY_LOOKUP_TABLES.items():
            if _table_exists(cursor, table) and _policy_qual(cursor, table, KEY_LOOKUP_POLICY_NAME) is None:
                cursor.execute(
                    f"CREATE POLICY {KEY_LOOKUP_POLICY_NAME} ON {q(table)} FOR SELECT "
                    f"USING ({key_lookup_predicate(q(hash_column))})"
                )
        for table, (id_column, setting) in ID_LOOKUP_TABLES.items():
            if _table_exists(cursor, table) and _policy_qual(cursor, table, ID_LOOKUP_POLICY_NAME) is None:
                cursor.execute(
                    f"CREATE POLICY {ID_LOOKUP_POLICY_NAME} ON {q(table)} FOR SELECT "
                    f"USING ({id_lookup_predicate(q(id_column), setting)})"
                )
        present = [m for m in tenant_models() if _table_exists(cursor, m._meta.db_table)]
        for model in present:
            table = model._meta.db_table
            pk = model._meta.pk
            assert pk is not None
            _isolate_table(connection, cursor, table)
            unique_name = _name(table, "tenant_pk", suffix="uniq")
            exists = _constraint_exists(cursor, table, unique_name)
            if needs_tenant_pk_unique(model) and not exists:
                cursor.execute(
                    f"ALTER TABLE {q(table)} ADD CONSTRAINT {q(unique_name)} UNIQUE (tenant_id, {q(pk.column)})"
                )
            elif exists and not needs_tenant_pk_unique(model):
                cursor.execute(f"ALTER TABLE {q(table)} DROP CONSTRAINT {q(unique_name)}")
        for model in present:
            table = model._meta.db_table
            for field in tenant_foreign_keys(model):
                target = field.related_model._meta
                fk_name = _name(table, field.column, suffix="tenant_fk")
                if not _constraint_exists(cursor, table, fk_name):
                    cursor.execute(
                        f"ALTER TABLE {q(table)} ADD CONSTRAINT {q(fk_name)} "
                        f"FOREIGN KEY (tenant_id, {q(field.column)}) "
                        f"REFERENCES {q(target.db_table)} (tenant_id, {q(field.target_field.column)}) "
                        "DEFERRABLE INITIALLY DEFERRED"
                    )
        _grant(connection, cursor, runtime_role=runtime_role, ops_role=ops_role)


def _grant(connection: BaseDatabaseWrapper, cursor: Any, *, runtime_role: str | None, ops_role: str | None) -> None:
    q = lambda name: _quote(connection, name)  # noqa: E731
    if runtime_role:
        role = q(runtime_role)
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
        # Migrations are the owner's business: the runtime role may read the history only.
        cursor.execute(f"REVOKE INSERT, UPDATE, DELETE ON django_migrations FROM {role}")
        for model in tenant_models():
            denied = [p for p in ALL_PRIVILEGES if p not in model.runtime_privileges]
            if denied:
                cursor.execute(f"REVOKE {', '.join(denied)} ON {q(model._meta.db_table)} FROM {role}")
        # ANALYZE after bulk writes (core.sql.analyze_grown): the function runs it as the owner.
        cursor.execute("SELECT to_regprocedure('stockroom_analyze(text[])') IS NOT NULL")
        if cursor.fetchone()[0]:
            cursor.execute(f"GRANT EXECUTE ON FUNCTION stockroom_analyze(text[]) TO {role}")
    if ops_role:
        role = q(ops_role)
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")


def role_of(alias: str) -> str | None:
    from django.conf import settings

    config = settings.DATABASES.get(alias)
    return str(config["USER"]) if config and config.get("USER") else None


def post_migrate_apply(using: str, **kwargs: Any) -> None:
    """post_migrate receiver: runs once per ``migrate`` (on the tenants app's signal)."""
    if kwargs.get("app_config") is None or kwargs["app_config"].label != "tenants":
        return
    migrator = role_of(using)
    runtime, ops = role_of("default"), role_of("ops")
    apply_tenant_isolation(
        using,
        runtime_role=runtime if runtime and runtime != migrator else None,
        ops_role=ops if ops and ops != migrator else None,
    )


def tables_missing_isolation(cursor: Any) -> list[str]:
    """Tables with a ``tenant_id`` column that lack enabled and forced RLS with the
    ``tenant_isolation`` policy, memberships included. Empty on a sound database."""
    cursor.execute(
        """
        SELECT c.relname
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
          AND NOT (
            c.relrowsecurity AND c.relforcerowsecurity
            AND EXISTS (
              SELECT 1 FROM pg_policies p
              WHERE p.schemaname = n.nspname AND p.tablename = c.relname AND p.policyname = %s
                AND p.qual LIKE '%%app.tenant_id%%' AND p.with_check LIKE '%%app.tenant_id%%'
            )
          )
        ORDER BY c.relname
        """,
        [POLICY_NAME],
    )
    return [row[0] for row in cursor.fetchall()]
