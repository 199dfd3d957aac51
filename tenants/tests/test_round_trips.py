"""Database round trips of a whole request, as in production: real commits, a
persistent connection, the health checks on, the WSGI handler's connection
housekeeping around each request."""

from django.db import close_old_connections, connections

from inventory.tests.factories import make_product
from tenants.context import tenant_context
from tenants.models import Role
from tenants.tests.factories import client_for, make_member, make_tenant
from tenants.tests.roundtrips import traced

# The tenant middleware's look-up (core.sql.PreparedSelect).
MEMBERSHIP_QUERY = '"tenants_membership" JOIN "tenants_user"'


def test_product_list_database_round_trips_on_a_warm_membership(committed):
    """GET /api/v1/products/ on a warm membership: no membership query and no health
    check, only the list's own statements.

    A read runs outside a transaction: set_config, the COUNT and the page go as one query
    string in one implicit transaction (core.sql.count_and_page, tenants.dbbackend): one
    round trip (issue 9's target: at most 3)."""
    member = make_member(make_tenant(slug="round-trips"), Role.OWNER)
    with tenant_context(member.tenant):
        make_product(sku="RT-1")
    api = client_for(member)
    config = connections["default"].settings_dict
    saved = {key: config.get(key) for key in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS", "HEALTH_CHECK_IDLE_SECONDS")}
    config.update(CONN_MAX_AGE=None, CONN_HEALTH_CHECKS=True, HEALTH_CHECK_IDLE_SECONDS=60)
    connections["default"].close()

    def request():  # what the WSGI handler does around a request (the test client does not)
        close_old_connections()
        response = api.get("/api/v1/products/?page_size=1")
        close_old_connections()
        return response

    try:
        assert request().status_code == 200  # warms the membership cache
        with traced() as trace:
            response = request()
    finally:
        connections["default"].close()
        config.update(saved)

    assert response.status_code == 200 and len(response.json()["results"]) == 1
    assert not trace.sent(MEMBERSHIP_QUERY)
    assert not trace.sent('"SELECT 1"')
    assert trace.round_trips == 1, "\n".join(trace.lines)


def _terminate_runtime_backends():
    import psycopg
    from django.conf import settings

    with psycopg.connect(settings.TEST_DATABASE_ADMIN_URL, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND usename = %s",
            [settings.TEST_DATABASE_NAME, settings.TEST_ROLES["default"]],
        )


def test_health_check_only_after_the_connection_sat_idle(committed):
    """A connection used a moment ago is not checked (no SELECT 1); one idle longer than
    HEALTH_CHECK_IDLE_SECONDS is, and a connection the server dropped meanwhile is replaced
    before the request uses it."""
    import time

    member = make_member(make_tenant(slug="health-check"), Role.OWNER)
    api = client_for(member)
    config = connections["default"].settings_dict
    saved = {key: config.get(key) for key in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS", "HEALTH_CHECK_IDLE_SECONDS")}
    config.update(CONN_MAX_AGE=None, CONN_HEALTH_CHECKS=True, HEALTH_CHECK_IDLE_SECONDS=0.5)
    connections["default"].close()

    def request():
        close_old_connections()
        response = api.get("/api/v1/products/")
        close_old_connections()
        return response

    try:
        assert request().status_code == 200
        with traced() as hot:
            assert request().status_code == 200
        time.sleep(0.6)
        with traced() as idle:
            assert request().status_code == 200
        _terminate_runtime_backends()  # a database restart while the connection sits idle
        time.sleep(0.6)
        after_restart = request()
    finally:
        connections["default"].close()
        config.update(saved)

    assert not hot.sent('"SELECT 1"')
    assert idle.sent('"SELECT 1"')
    assert after_restart.status_code == 200


def test_a_failed_statement_in_a_read_leaves_the_connection_usable(committed):
    """Outside a transaction the count and the page go in one query string, in one
    implicit transaction: a statement that fails leaves it rolled back, not open."""
    import pytest
    from django.db import DataError
    from psycopg.pq import TransactionStatus

    from core.sql import count_and_page
    from inventory.models import Product

    tenant = make_tenant(slug="pipeline-error")
    with tenant_context(tenant):
        make_product(sku="PE-1")
        failing = Product.objects.extra(where=["1 / (SELECT count(*) - 1 FROM inventory_product) = 1"])
        with pytest.raises(DataError):
            count_and_page(failing, failing.values_list("sku")[:10])
        connection = connections["default"]
        assert connection.connection.info.transaction_status == TransactionStatus.IDLE
        products = Product.objects.order_by("sku")
        assert count_and_page(products, products.values_list("sku")[:10]) == (1, [("PE-1",)])
