"""Transaction pooling is safe: clients that share one PgBouncer server connection never see
each other's tenant. Runs only in the pooled job (``make test``'s second run, through
scripts/with-pgbouncer.sh): the "single" alias reaches the test database through a pool of
exactly one server connection, so every statement of two client connections runs on the
same PostgreSQL backend, one transaction after the other.

The reads are raw SQL with no tenant filter: only the ``app.tenant_id`` that the database
layer set for the transaction decides which rows Row Level Security lets through."""

from __future__ import annotations

import functools
import queue
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.db import connections, transaction

from tenants.context import tenant_context
from tenants.models import Tenant
from tenants.tests.factories import make_tenant
from tenants.tests.isolation_app.models import Widget
from tenants.tests.pooler import rows_for

pytestmark = pytest.mark.pgbouncer

SINGLE = "single"  # config/settings/test.py: the runtime role through the pool of one


class Client:
    """A thread with its own connections (Django's are per thread), running the steps it is
    given one at a time."""

    def __init__(self, name: str) -> None:
        self.inbox: queue.Queue[Callable[[], Any] | None] = queue.Queue()
        self.outbox: queue.Queue[tuple[bool, Any]] = queue.Queue()
        self.thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        try:
            while (step := self.inbox.get()) is not None:
                try:
                    self.outbox.put((True, step()))
                except BaseException as exc:  # noqa: BLE001 - raised again in the test's thread
                    self.outbox.put((False, exc))
        finally:
            connections.close_all()  # this thread's

    def run(self, step: Callable[[], Any]) -> Any:
        self.inbox.put(step)
        ok, value = self.outbox.get(timeout=60)
        if not ok:
            raise value
        return value

    def stop(self) -> None:
        self.inbox.put(None)
        self.thread.join(timeout=30)


def _query(sql: str, params: tuple[Any, ...] = (), *, using: str = SINGLE) -> list[tuple[Any, ...]]:
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _state() -> tuple[str, int]:
    """``app.tenant_id`` as the server sees it now, and the backend's process id."""
    ((setting, pid),) = _query("SELECT coalesce(current_setting('app.tenant_id', true), ''), pg_backend_pid()")
    return setting, pid


def _names(rows: list[tuple[Any, ...]]) -> list[str]:
    return sorted(row[0] for row in rows)


def in_transaction(tenant: Tenant) -> tuple[list[str], str, int]:
    """A transaction of ``tenant`` (as a request or a task runs): the rows it sees."""
    with tenant_context(tenant), transaction.atomic(using=SINGLE):
        names = _names(_query("SELECT name FROM isolation_app_widget"))
        setting, pid = _state()
    return names, setting, pid


def in_autocommit(tenant: Tenant) -> tuple[list[str], list[str]]:
    """Statements outside any transaction with a tenant set: the database layer gives each
    its own short transaction (set_config in front of a statement with parameters, in one
    query string; a BEGIN ... COMMIT around one without)."""
    with tenant_context(tenant):
        with_params = _names(_query("SELECT name FROM isolation_app_widget WHERE name <> %s", ("-",)))
        without = _names(_query("SELECT name FROM isolation_app_widget"))
    return with_params, without


def no_tenant() -> tuple[list[str], str, int]:
    """A statement outside any transaction and any tenant context: it sees no tenant."""
    names = _names(_query("SELECT name FROM isolation_app_widget"))
    setting, pid = _state()
    return names, setting, pid


def test_clients_sharing_one_server_connection_never_see_each_others_tenant(committed):
    a, b = make_tenant(name="Pool A", slug="pool-a"), make_tenant(name="Pool B", slug="pool-b")
    with tenant_context(a):
        Widget.objects.create(name="a-1")
        Widget.objects.create(name="a-2")
    with tenant_context(b):
        Widget.objects.create(name="b-1")
    first, second = Client("pool-client-1"), Client("pool-client-2")
    pids: set[int] = set()
    try:
        for _ in range(3):
            # Alternately: one client's transaction for A, the other's for B, then the other
            # way round, with statements outside transactions in between.
            for client, tenant, expected in ((first, a, ["a-1", "a-2"]), (second, b, ["b-1"])):
                names, setting, pid = client.run(functools.partial(in_transaction, tenant))
                assert (names, setting) == (expected, str(tenant.id))
                pids.add(pid)
                other = second if client is first else first
                names, setting, pid = other.run(no_tenant)
                assert (names, setting) == ([], ""), "a tenant outlived its transaction on the shared connection"
                pids.add(pid)
            for client, tenant, expected in ((second, a, ["a-1", "a-2"]), (first, b, ["b-1"])):
                assert client.run(functools.partial(in_autocommit, tenant)) == (expected, expected)
                other = first if client is second else second
                names, setting, pid = other.run(no_tenant)
                assert (names, setting) == ([], "")
                pids.add(pid)

        # Both clients are connected to PgBouncer, which ran all of it on one server connection.
        database = f"{settings.TEST_DATABASE_NAME}_single"
        runtime = str(settings.DATABASES[SINGLE]["USER"])
        clients = rows_for("CLIENTS", database=database, user=runtime)
        servers = rows_for("SERVERS", database=database, user=runtime)
        assert len(clients) == 2, clients
        assert [server["remote_pid"] for server in servers] == [*pids], (servers, pids)

        # The control: a session-level setting (set_config(..., false), a plain SET) does leak
        # to the other client on that server connection. The tenant setting is transaction-local
        # and so never does: that is what makes transaction pooling safe.
        first.run(lambda: _query("SELECT set_config('app.pool_probe', 'left by client 1', false)"))
        assert second.run(lambda: _query("SELECT current_setting('app.pool_probe', true)")) == [("left by client 1",)]
        second.run(lambda: _query("SELECT set_config('app.pool_probe', '', false)"))
        # Django's psycopg settings prepare nothing on the server (no named prepared statement
        # that a later transaction on another server connection would miss).
        assert second.run(lambda: _query("SELECT count(*) FROM pg_prepared_statements")) == [(0,)]
    finally:
        first.stop()
        second.stop()


def test_iterator_outside_a_transaction_reads_every_row_while_another_client_takes_the_server(committed):
    """``.iterator()`` in autocommit (a beat task's loop, billing.tasks.reconcile_subscriptions)
    through the pool of three: with server-side cursors Django would DECLARE ... WITH HOLD,
    and the FETCH after another client's transaction took that server connection would find
    no cursor ("cursor does not exist"). DISABLE_SERVER_SIDE_CURSORS (the pooled settings,
    DATABASE_DISABLE_SERVER_SIDE_CURSORS in production) reads the rows client-side."""
    tenant = make_tenant(name="Pool C", slug="pool-c")
    with tenant_context(tenant):
        for n in range(5):
            Widget.objects.create(name=f"c-{n}")
    reader, other = Client("pool-reader"), Client("pool-other")

    def start() -> Any:
        with tenant_context(tenant):
            rows = Widget.objects.order_by("name").values_list("name", flat=True).iterator(chunk_size=2)
            return rows, next(rows)

    def hold_a_transaction() -> None:
        connections["default"].set_autocommit(False)
        _query("SELECT pg_backend_pid()", using="default")

    def finish(rows: Any) -> list[str]:
        return list(rows)

    def commit() -> None:
        connections["default"].commit()
        connections["default"].set_autocommit(True)

    try:
        rows, first = reader.run(start)
        other.run(hold_a_transaction)
        rest = reader.run(functools.partial(finish, rows))
        other.run(commit)
    finally:
        reader.stop()
        other.stop()
    assert [first, *rest] == [f"c-{n}" for n in range(5)]
