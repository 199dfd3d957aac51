"""When a dependency is down: Redis, the Celery broker, the database (docs/architecture.md).

Each dependency is made unreachable at the network boundary (a closed port, or a
database backend terminated by the server), never by replacing our own code.
"""

import logging

import pytest

from core import cache as counters
from inventory.models import StockLevel
from inventory.tests.factories import make_product, make_warehouse
from tenants.context import tenant_context


def _cache_warnings(caplog):
    return [r for r in caplog.records if r.name == "stockroom.cache" and r.levelno == logging.WARNING]


# --- Redis ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_reads_and_stock_writes_work_while_redis_is_down(client_a, tenant_a, redis_down, caplog):
    caplog.set_level(logging.WARNING, logger="stockroom.cache")
    with tenant_context(tenant_a):
        product, warehouse = make_product(sku="DOWN-1"), make_warehouse("W1")

    listed = client_a.get("/api/v1/products/")
    received = client_a.post(
        "/api/v1/stock/receive/", {"product": str(product.id), "warehouse": str(warehouse.id), "quantity": "7"}
    )
    issued = client_a.post(
        "/api/v1/stock/issue/", {"product": str(product.id), "warehouse": str(warehouse.id), "quantity": "2"}
    )
    me = client_a.get("/api/v1/auth/me/")

    assert listed.status_code == 200 and [p["sku"] for p in listed.json()["results"]] == ["DOWN-1"]
    assert received.status_code == 201, received.json()
    assert issued.status_code == 201, issued.json()
    assert me.status_code == 200
    with tenant_context(tenant_a):
        assert StockLevel.objects.get(product=product).on_hand == 5
    warnings = _cache_warnings(caplog)
    assert len(warnings) == 1, [w.getMessage() for w in warnings]  # once per interval, not per request
    assert "per-process" in warnings[0].getMessage()


@pytest.mark.django_db
def test_throttles_fall_back_to_a_per_process_limit_while_redis_is_down(client_a, redis_down, monkeypatch):
    from core.api.throttling import UserRateThrottle

    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/min"})
    statuses = [client_a.get("/api/v1/auth/me/").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    assert client_a.get("/api/v1/auth/me/").json()["code"] == "throttled"


@pytest.mark.django_db
def test_scoped_throttle_falls_back_while_redis_is_down(api, redis_down, monkeypatch):
    from core.api.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"password_reset": "2/hour"})
    statuses = [api.post("/api/v1/auth/password-reset/", {"email": "x@example.com"}).status_code for _ in range(3)]

    assert statuses == [202, 202, 429]


@pytest.mark.django_db
def test_redis_is_tried_again_after_the_retry_interval(client_a, redis_down, caplog, settings):
    caplog.set_level(logging.WARNING, logger="stockroom.cache")
    settings.CACHE_RETRY_SECONDS = 0

    for _ in range(3):
        assert client_a.get("/api/v1/auth/me/").status_code == 200

    assert len(_cache_warnings(caplog)) == 3  # every request retried Redis, and logged its failure


@pytest.mark.django_db
def test_readyz_is_degraded_naming_redis_and_healthz_stays_ok(api, redis_down):
    ready = api.get("/readyz")
    health = api.get("/healthz")

    assert ready.status_code == 200
    assert ready.json() == {"status": "degraded", "checks": {"database": "ok", "redis": "failed", "broker": "ok"}}
    assert health.status_code == 200 and health.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_degraded_naming_the_broker(api, broker_down):
    ready = api.get("/readyz")

    assert ready.status_code == 200
    assert ready.json() == {"status": "degraded", "checks": {"database": "ok", "redis": "ok", "broker": "failed"}}


@pytest.mark.django_db
def test_counters_go_back_to_redis_once_it_answers_again(client_a, settings, caplog):
    from conftest import make_redis_unreachable

    caplog.set_level(logging.INFO, logger="stockroom.cache")
    settings.CACHE_RETRY_SECONDS = 0
    reachable = settings.CACHES
    make_redis_unreachable(settings)
    try:
        assert client_a.get("/api/v1/auth/me/").status_code == 200
        settings.CACHES = reachable
        assert client_a.get("/api/v1/auth/me/").status_code == 200
    finally:
        counters.reset()

    messages = [r.getMessage() for r in caplog.records if r.name == "stockroom.cache"]
    assert len(messages) == 2
    assert messages[0].startswith("cache unreachable")
    assert messages[1] == "cache reachable again: counting in Redis"


# --- The database -------------------------------------------------------------------


def _assert_database_unavailable(response):
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "database_unavailable"
    assert set(body) == {"code", "message", "fields", "details", "request_id"}


@pytest.fixture
def database_on_closed_port(committed):
    """The runtime role's connections go to a port where nothing listens."""
    from django.db import connections

    config = connections["default"].settings_dict
    port = config["PORT"]
    connections["default"].close()
    config["PORT"] = 1
    try:
        yield
    finally:
        connections["default"].close()
        config["PORT"] = port


@pytest.fixture
def member_token(committed):
    from tenants.models import Role
    from tenants.tests.factories import make_member, make_tenant
    from tenants.tokens import tokens_for_membership

    member = make_member(make_tenant(slug="db-down"), Role.OWNER)
    return member, tokens_for_membership(member)["access"]


@pytest.mark.parametrize("debug", [False, True])
def test_unreachable_database_is_503_in_the_error_shape_everywhere(member_token, database_on_closed_port, debug):
    from django.test import Client, override_settings

    member, access = member_token
    client = Client(HTTP_AUTHORIZATION=f"Bearer {access}")
    with override_settings(DEBUG=debug):
        in_middleware = client.get("/api/v1/products/")  # the tenant middleware reads the membership
        in_view = Client().post(
            "/api/v1/auth/token/", {"email": member.user.email, "password": "x"}, content_type="application/json"
        )
        ready = Client().get("/readyz")
        health = Client().get("/healthz")

    _assert_database_unavailable(in_middleware)
    _assert_database_unavailable(in_view)
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable" and ready.json()["checks"]["database"] == "failed"
    assert health.status_code == 200


def test_connection_terminated_mid_request_is_503_and_writes_nothing(committed):
    import threading
    import time

    import psycopg
    from django.conf import settings
    from django.db import connection, transaction

    from tenants.models import Role
    from tenants.tests.factories import client_for, make_member, make_tenant

    tenant = make_tenant(slug="db-killed")
    member = make_member(tenant, Role.OWNER)
    with tenant_context(tenant):
        product, warehouse = make_product(sku="KILL-1"), make_warehouse("K1")
        client_for(member).post(
            "/api/v1/stock/receive/", {"product": str(product.id), "warehouse": str(warehouse.id), "quantity": "5"}
        )
    responses = []

    def issue():
        try:
            responses.append(
                client_for(member).post(
                    "/api/v1/stock/issue/",
                    {"product": str(product.id), "warehouse": str(warehouse.id), "quantity": "2"},
                )
            )
        finally:
            connection.close()

    request = threading.Thread(target=issue)
    terminated = False
    with tenant_context(tenant), transaction.atomic():
        # Hold the product's lock so the request waits inside its transaction, then kill its backend.
        list(type(product).objects.select_for_update().filter(pk=product.pk))
        request.start()
        with psycopg.connect(settings.TEST_DATABASE_ADMIN_URL, autocommit=True) as admin:
            deadline = time.monotonic() + 30
            while not terminated and time.monotonic() < deadline:
                row = admin.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = %s AND usename = %s AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
                    [settings.TEST_DATABASE_NAME, settings.TEST_ROLES["default"]],
                ).fetchone()
                terminated = bool(row and row[0])
                time.sleep(0.02)
    request.join(timeout=30)

    assert terminated
    _assert_database_unavailable(responses[0])
    with tenant_context(tenant):
        assert StockLevel.objects.get(product=product).on_hand == 5


def test_handler500_answers_503_for_a_lost_database_and_500_otherwise(rf):
    import json

    from django.db import OperationalError

    from core.api.exception_handler import json_500

    request = rf.get("/api/v1/products/")
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        lost = json_500(request)
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        bug = json_500(request)

    assert (lost.status_code, json.loads(lost.content)["code"]) == (503, "database_unavailable")
    assert (bug.status_code, json.loads(bug.content)["code"]) == (500, "server_error")
