"""Test set-up: a throwaway database with the three roles of shared/design.md.

The database is created and migrated as the owner role; every test then runs as
the runtime role (``default`` alias), so Row Level Security is in force exactly
as in production. ``committed`` is for tests that need real commits (several
connections at once); it empties the tables through the owner afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connections

from tenants.db_roles import RoleSpec, drop_database, provision


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[None]:
    roles, password = settings.TEST_ROLES, settings.TEST_ROLE_PASSWORD
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        provision(
            admin_url=settings.TEST_DATABASE_ADMIN_URL,
            database=settings.TEST_DATABASE_NAME,
            owner=RoleSpec(roles["owner"], password),
            runtime=RoleSpec(roles["default"], password),
            ops=RoleSpec(roles["ops"], password),
            recreate=True,
        )
        call_command("migrate", database="owner", verbosity=0, interactive=False)
    yield
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        for connection in connections.all():
            connection.close()
        drop_database(admin_url=settings.TEST_DATABASE_ADMIN_URL, database=settings.TEST_DATABASE_NAME)


# --- The pooled job: the runtime alias through PgBouncer (scripts/with-pgbouncer.sh) --------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "pgbouncer: runs only through PgBouncer (scripts/with-test-services.sh --pgbouncer, make test's "
        "second run), where it must run; deselected in other runs",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from tenants.tests.pooler import pooled

    marked = [item for item in items if item.get_closest_marker("pgbouncer")]
    if pooled():
        if not marked:
            raise pytest.UsageError(
                "a run through PgBouncer must include the pgbouncer-marked tests (tenants/tests/test_pooling.py)"
            )
        return
    if marked:
        config.hook.pytest_deselected(items=marked)
        items[:] = [item for item in items if not item.get_closest_marker("pgbouncer")]


@pytest.fixture(scope="session", autouse=True)
def _through_pgbouncer(request: pytest.FixtureRequest) -> Iterator[None]:
    """In the pooled job: the runtime and operations aliases point at PgBouncer, which serves
    the test database, and its own statistics show the run's transactions went through it."""
    from tenants.tests.pooler import pooled, rows_for

    if not pooled():
        yield
        return
    request.getfixturevalue("django_db_setup")
    database, owner = settings.TEST_DATABASE_NAME, settings.DATABASES["owner"]
    for alias in ("default", "ops"):
        pooled_alias = settings.DATABASES[alias]
        assert (pooled_alias["HOST"], pooled_alias["PORT"]) != (owner["HOST"], owner["PORT"]), alias
    assert rows_for("DATABASES", database=database), f"PgBouncer does not serve {database}"
    yield
    stats = rows_for("STATS", database=database)
    assert stats and stats[0]["total_xact_count"] > 0, f"no transaction went through PgBouncer: {stats}"


@pytest.fixture(autouse=True)
def _isolated_cache() -> Iterator[None]:
    """Each test gets its own cache key space in the real Redis."""
    previous = cache.key_prefix
    cache.key_prefix = f"test-{uuid.uuid4().hex}"
    yield
    cache.key_prefix = previous


# --- A dependency that is down: a closed port, the real network boundary -----------------

CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def redis_down(settings: pytest.FixtureRequest) -> Iterator[None]:
    """The cache's Redis is unreachable (connection refused) for the test."""
    from core import cache as counters

    make_redis_unreachable(settings)
    settings.CACHE_RETRY_SECONDS = 60  # type: ignore[attr-defined]  # one outage interval per test
    counters.reset()
    yield
    counters.reset()


def make_redis_unreachable(settings: object) -> None:
    """Points the cache at a closed port, keeping this test's key prefix (as a real outage would)."""
    prefix = cache.key_prefix
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": CLOSED_PORT_REDIS}}  # type: ignore[attr-defined]
    cache.key_prefix = prefix


class BrokerOutage:
    """The Celery broker at a closed port, tasks sent for real (not eager) meanwhile."""

    def __init__(self) -> None:
        from config.celery import app

        self.app = app
        self.saved = (app.conf.broker_url, app.conf.task_always_eager)
        self.active = False

    def _drop_connections(self) -> None:
        # Celery keeps a connection pool and a producer pool for the old URL.
        self.app._pool = None  # type: ignore[attr-defined]
        self.app.amqp._producer_pool = None  # type: ignore[attr-defined]

    def start(self) -> None:
        self.app.conf.update(broker_url=CLOSED_PORT_REDIS, task_always_eager=False)
        self._drop_connections()
        self.active = True

    def end(self) -> None:
        if self.active:
            broker_url, eager = self.saved
            self.app.conf.update(broker_url=broker_url, task_always_eager=eager)
            self._drop_connections()
            self.active = False


@pytest.fixture
def broker_down() -> Iterator[BrokerOutage]:
    outage = BrokerOutage()
    outage.start()
    try:
        yield outage
    finally:
        outage.end()


def truncate_all_tables() -> None:
    """Empties every table through the owner role (TRUNCATE ignores RLS; the runtime role may not)."""
    with connections["owner"].cursor() as cursor:
        cursor.execute(
            "SELECT string_agg(format('%I', tablename), ', ') FROM pg_tables "
            "WHERE schemaname = 'public' AND tablename <> 'django_migrations'"
        )
        tables = cursor.fetchone()[0]
        cursor.execute(f"TRUNCATE {tables} CASCADE")
    connections["owner"].close()


@pytest.fixture
def committed(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[None]:
    """Real commits on real connections (threads, Celery workers); tables emptied afterwards."""
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        try:
            yield
        finally:
            for connection in connections.all():
                connection.close()
            truncate_all_tables()


# --- Two tenants with an owner each: the shape of most tests -----------------------


@pytest.fixture
def tenant_a(db):
    from tenants.tests.factories import make_tenant

    return make_tenant(name="Alpha Ltd", slug="alpha")


@pytest.fixture
def tenant_b(db):
    from tenants.tests.factories import make_tenant

    return make_tenant(name="Beta Ltd", slug="beta")


@pytest.fixture
def owner_a(tenant_a):
    from tenants.tests.factories import make_member

    return make_member(tenant_a, "owner")


@pytest.fixture
def owner_b(tenant_b):
    from tenants.tests.factories import make_member

    return make_member(tenant_b, "owner")


@pytest.fixture
def client_a(owner_a):
    from tenants.tests.factories import client_for

    return client_for(owner_a)


@pytest.fixture
def client_b(owner_b):
    from tenants.tests.factories import client_for

    return client_for(owner_b)


@pytest.fixture
def api():
    """An anonymous API client; JSON by default."""
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def in_a(tenant_a):
    """The test body runs in tenant A's context."""
    from tenants.context import tenant_context

    with tenant_context(tenant_a):
        yield tenant_a
