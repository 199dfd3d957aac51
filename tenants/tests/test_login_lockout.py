"""Login lockout: global counters (never under a tenant), atomic counting, Redis down."""

import logging
import threading

import pytest
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from tenants.models import Role
from tenants.tests.factories import PASSWORD, make_member, make_tenant
from tenants.tokens import tokens_for_membership

TOKEN = "/api/v1/auth/token/"


def _login(api, email, password, **extra):
    return api.post(TOKEN, {"email": email, "password": password}, **extra)


def _with_token(membership):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_for_membership(membership)['access']}")
    return client


@pytest.mark.django_db
@override_settings(LOGIN_MAX_FAILURES_PER_ACCOUNT=3)
def test_login_lockout_ignores_the_tenant_of_the_bearer_token(owner_a, owner_b, api):
    email = owner_a.user.email
    stranger = make_member(make_tenant(slug="gamma"), Role.VIEWER)
    # Failures counted under tenant B's token, then under no token and under another tenant's.
    assert _login(_with_token(owner_b), email, "nope").status_code == 401
    assert _login(api, email, "nope").status_code == 401
    assert _login(_with_token(stranger), email, "nope").status_code == 401

    for client in (api, _with_token(owner_b), _with_token(stranger)):
        response = _login(client, email, PASSWORD)
        assert response.status_code == 429, response.json()
        assert response.json()["code"] == "login_locked"
        assert response.json()["details"]["scope"] == "account"


@override_settings(LOGIN_MAX_FAILURES_PER_ACCOUNT=5, LOGIN_MAX_FAILURES_PER_IP=1000)
def test_login_concurrent_wrong_passwords_never_exceed_the_limit(committed):
    member = make_member(make_tenant(slug="race-login"), Role.OWNER)
    threads_count = 16
    barrier = threading.Barrier(threads_count)
    statuses: list[int] = []
    lock = threading.Lock()

    def attempt():
        try:
            barrier.wait()
            status = _login(APIClient(), member.user.email, "wrong password").status_code
            with lock:
                statuses.append(status)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [401] * 5 + [429] * (threads_count - 5)


@pytest.mark.django_db
def test_login_success_does_not_count_against_the_ip_address(api, owner_a):
    with override_settings(LOGIN_MAX_FAILURES_PER_IP=3):
        for _ in range(5):
            assert _login(api, owner_a.user.email, PASSWORD, REMOTE_ADDR="10.1.1.1").status_code == 200
        for _ in range(3):
            assert _login(api, "ghost@example.com", "nope", REMOTE_ADDR="10.1.1.1").status_code == 401

        locked = _login(api, owner_a.user.email, PASSWORD, REMOTE_ADDR="10.1.1.1")

    assert locked.status_code == 429 and locked.json()["details"]["scope"] == "ip"


@pytest.mark.django_db
@override_settings(LOGIN_MAX_FAILURES_PER_ACCOUNT=3)
def test_login_works_and_locks_per_process_while_redis_is_down(api, owner_a, redis_down, caplog):
    caplog.set_level(logging.WARNING, logger="stockroom.cache")
    email = owner_a.user.email

    assert _login(api, email, PASSWORD).status_code == 200
    statuses = [_login(api, email, "nope").status_code for _ in range(3)]
    locked = _login(api, email, PASSWORD)

    assert statuses == [401, 401, 401]
    assert locked.status_code == 429 and locked.json()["code"] == "login_locked"
    assert int(locked["Retry-After"]) > 0
    warnings = [r for r in caplog.records if r.name == "stockroom.cache" and r.levelno == logging.WARNING]
    assert len(warnings) == 1  # once per outage interval, not per request
    assert "cache unreachable" in warnings[0].getMessage()


@pytest.mark.django_db
@override_settings(LOGIN_MAX_FAILURES_PER_ACCOUNT=3)
def test_login_account_locked_before_redis_went_down_stays_locked(api, owner_a, settings):
    from conftest import make_redis_unreachable
    from core import cache as counters

    email = owner_a.user.email
    for _ in range(3):
        assert _login(api, email, "nope").status_code == 401
    assert _login(api, email, PASSWORD).status_code == 429

    make_redis_unreachable(settings)
    try:
        still_locked = _login(api, email, PASSWORD)
        other = make_member(owner_a.tenant, Role.CLERK)
        unaffected = _login(api, other.user.email, PASSWORD)
    finally:
        counters.reset()

    assert still_locked.status_code == 429 and still_locked.json()["code"] == "login_locked"
    assert unaffected.status_code == 200
