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

pytestmark = pytest.mark.django_db


def _cache_warnings(caplog):
    return [r for r in caplog.records if r.name == "stockroom.cache" and r.levelno == logging.WARNING]


# --- Redis ---------------------------------------------------------------------------


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


def test_throttles_fall_back_to_a_per_process_limit_while_redis_is_down(client_a, redis_down, monkeypatch):
    from core.api.throttling import UserRateThrottle

    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/min"})
    statuses = [client_a.get("/api/v1/auth/me/").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    assert client_a.get("/api/v1/auth/me/").json()["code"] == "throttled"


def test_scoped_throttle_falls_back_while_redis_is_down(api, redis_down, monkeypatch):
    from core.api.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"password_reset": "2/hour"})
    statuses = [api.post("/api/v1/auth/password-reset/", {"email": "x@example.com"}).status_code for _ in range(3)]

    assert statuses == [202, 202, 429]


def test_redis_is_tried_again_after_the_retry_interval(client_a, redis_down, caplog, settings):
    caplog.set_level(logging.WARNING, logger="stockroom.cache")
    settings.CACHE_RETRY_SECONDS = 0

    for _ in range(3):
        assert client_a.get("/api/v1/auth/me/").status_code == 200

    assert len(_cache_warnings(caplog)) == 3  # every request retried Redis, and logged its failure


def test_readyz_is_degraded_naming_redis_and_healthz_stays_ok(api, redis_down):
    ready = api.get("/readyz")
    health = api.get("/healthz")

    assert ready.status_code == 200
    assert ready.json() == {"status": "degraded", "checks": {"database": "ok", "redis": "failed", "broker": "ok"}}
    assert health.status_code == 200 and health.json() == {"status": "ok"}


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
