"""PostgreSQL backend: ``app.tenant_id`` and ``app.user_id`` are set with
``set_config(..., true)`` (transaction-local, never a session-level SET) from the
tenant and user ContextVars (``tenants.context``).

Before each statement it checks that the values already applied in the open
transaction match the current tenant and user and re-applies them when not: at the start
of every transaction, after the tenant context changes inside one, and after a
rollback to a savepoint (which undoes set_config). A statement run in autocommit
mode while a tenant is set is wrapped in its own short transaction, so the
setting is never left on a pooled connection. With no tenant, the value is the
empty string and the RLS policies match no row; with no user, the memberships
table shows only the current tenant's rows.

Health checks (``CONN_HEALTH_CHECKS``): Django checks a reused connection with a
``SELECT 1`` (a round trip) at the first query of every request. Here it is done
only when the connection has been idle for ``HEALTH_CHECK_IDLE_SECONDS`` (the
alias's setting, ``DATABASE_HEALTH_CHECK_IDLE_SECONDS``): a connection that sat
idle, where a database restart or failover shows, is still checked; one that ran a
statement a moment ago is not. A connection lost in between fails that request
(503 ``database_unavailable``) and Django replaces it before the next one, as it
does for a connection lost mid-request.
"""

import contextlib
import time
from typing import Any

import psycopg
from django.db import transaction
from django.db.backends.postgresql import base
from psycopg.pq import PipelineStatus, TransactionStatus

from tenants.context import current_tenant_id, current_user_id

_UNKNOWN = object()
_SET_TENANT_SQL = "SELECT set_config('app.tenant_id', %s, true), set_config('app.user_id', %s, true)"


def _context_prefix(wanted: tuple[str, str]) -> str | None:
    """``_SET_TENANT_SQL`` with the two values inline, to go in front of a statement in the
    same query string; None unless both are ids (ASCII letters, digits and dashes), which
    need no quoting beyond the quotes around them and hold no ``%``."""
    if not all((value.replace("-", "").isalnum() and value.isascii()) or value == "" for value in wanted):
        return None
    tenant, user = wanted
    return f"SELECT set_config('app.tenant_id', '{tenant}', true), set_config('app.user_id', '{user}', true); "


def _can_prefix(params: Any, many: bool, context: dict[str, Any]) -> bool:
    """Whether set_config can go in front of the statement, in one query string: needs the
    client-side binding cursor (Django's default), which sends the query with its
    parameters inline through the simple query protocol, where the statements of one
    query string run in one implicit transaction; not for executemany; not for
    parameterless SQL, which may hold commands that refuse a transaction block
    (migrations), nor for server-side cursors."""
    cursor = getattr(context.get("cursor"), "cursor", None)
    return bool(params) and not many and isinstance(cursor, psycopg.ClientCursor)


def _can_pipeline(params: Any, context: dict[str, Any]) -> bool:
    """Pipelining needs the extended protocol: not for parameterless SQL, which may hold
    several commands (migrations), nor for server-side cursors."""
    return bool(params) and not isinstance(getattr(context.get("cursor"), "cursor", None), psycopg.ServerCursor)


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._applied_tenant: object = _UNKNOWN
        self._last_used = 0.0  # time.monotonic() of the last statement
        self.execute_wrappers.append(self._apply_tenant)

    def close_if_health_check_failed(self) -> None:
        idle_seconds = self.settings_dict.get("HEALTH_CHECK_IDLE_SECONDS", 0)
        if (
            self.connection is not None
            and self.health_check_enabled  # type: ignore[attr-defined]
            and not self.health_check_done  # type: ignore[has-type]
            and time.monotonic() - self._last_used < idle_seconds
        ):
            self.health_check_done = True  # used a moment ago: no SELECT 1
            return
        super().close_if_health_check_failed()

    def _savepoint_rollback(self, sid: str) -> None:
        super()._savepoint_rollback(sid)  # type: ignore[misc]
        self._applied_tenant = _UNKNOWN

    def _execute_in_own_transaction(
        self, execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any], wanted: tuple[str, str]
    ) -> Any:
        """set_config and the statement in one pipeline: one round trip, as the statement
        alone would take. In the extended query protocol the messages up to a Sync run in
        one implicit transaction (committed at the Sync, rolled back there on an error), so
        ``set_config(..., true)`` holds for the statement and ends with it, with no BEGIN or
        COMMIT to send. The connection stays in autocommit mode, so the driver adds no
        BEGIN of its own; a transaction left open by an error is rolled back before the
        error goes up."""
        assert self.connection is not None
        try:
            with self.wrap_database_errors, self.connection.pipeline():
                with self.connection.cursor() as cursor:
                    cursor.execute(_SET_TENANT_SQL, list(wanted))
                result = execute(sql, params, many, context)
        except BaseException:
            if self.connection.info.transaction_status in (TransactionStatus.INTRANS, TransactionStatus.INERROR):
                with contextlib.suppress(psycopg.Error):  # a broken connection: the first error goes up
                    self.connection.execute("ROLLBACK")
            raise
        return result

    def _execute_prefixed(self, execute: Any, sql: str, params: Any, context: dict[str, Any], prefix: str) -> Any:
        """set_config and the statement as one query string (``_can_prefix``): one message,
        one round trip, one transaction (the request's, or an implicit one of their own
        that the server commits after the last statement, or rolls back on an error). The
        cursor is then moved to the statement's result."""
        result = execute(prefix + sql, params, False, context)
        context["cursor"].cursor.nextset()
        return result

    def _apply_tenant(self, execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        self._last_used = time.monotonic()
        tenant_id, user_id = current_tenant_id(), current_user_id()
        wanted = (str(tenant_id) if tenant_id else "", str(user_id) if user_id else "")
        assert self.connection is not None
        # A caller's own pipeline: statements are queued (extended protocol) until its sync.
        pipelined = self.connection.pgconn.pipeline_status != PipelineStatus.OFF

        def prefix() -> str | None:
            return _context_prefix(wanted) if not pipelined and _can_prefix(params, many, context) else None

        if not self.in_atomic_block and self.get_autocommit():
            if wanted == ("", ""):
                return execute(sql, params, many, context)
            if (inline := prefix()) is not None:
                return self._execute_prefixed(execute, sql, params, context, inline)
            if not _can_pipeline(params, context):
                with transaction.atomic(using=self.alias):
                    return self._apply_tenant(execute, sql, params, many, context)
            if pipelined:
                # set_config and this statement are queued with the caller's others and run in
                # the implicit transaction that ends at the caller's sync (the caller rolls
                # back what an error leaves open).
                with self.connection.cursor() as cursor:
                    cursor.execute(_SET_TENANT_SQL, list(wanted))
                return execute(sql, params, many, context)
            return self._execute_in_own_transaction(execute, sql, params, many, context, wanted)
        status = self.connection.info.transaction_status
        if status == TransactionStatus.IDLE:
            self._applied_tenant = _UNKNOWN  # a new transaction starts with this statement
        elif status == TransactionStatus.INERROR:
            # Only a rollback (to a savepoint) can run now, and it needs no tenant: a
            # set_config here would fail and hide the rollback.
            return execute(sql, params, many, context)
        if self._applied_tenant == wanted:
            return execute(sql, params, many, context)
        if (inline := prefix()) is not None:
            self._applied_tenant = wanted
            return self._execute_prefixed(execute, sql, params, context, inline)
        if not _can_pipeline(params, context):
            with self.connection.cursor() as cursor:
                cursor.execute(_SET_TENANT_SQL, list(wanted))
            self._applied_tenant = wanted
            return execute(sql, params, many, context)
        if pipelined:
            # The caller's pipeline: queued with its statements, sent at its sync; a nested
            # pipeline here would sync, a round trip of its own.
            with self.connection.cursor() as cursor:
                cursor.execute(_SET_TENANT_SQL, list(wanted))
            self._applied_tenant = wanted
            return execute(sql, params, many, context)
        # Pipelined: set_config and the statement go in one round trip. An error
        # surfaces when the pipeline syncs, so it is translated to Django's exceptions here.
        with self.wrap_database_errors, self.connection.pipeline():
            with self.connection.cursor() as cursor:
                cursor.execute(_SET_TENANT_SQL, list(wanted))
            self._applied_tenant = wanted
            return execute(sql, params, many, context)
