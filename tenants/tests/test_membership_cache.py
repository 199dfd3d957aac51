"""The tenant middleware's membership cache (tenants/membership_cache.py): a warm
request reads no membership from the database, and every change is seen by the very
next request. Real Redis, real PostgreSQL, requests through the API client."""

import time

import pytest
import redis.connection
from django.core.cache import caches
from django.db import connection

from core import cache as counters
from tenants import membership_cache
from tenants.context import tenant_context
from tenants.models import Role, Tenant, TenantStatus, User
from tenants.tests.factories import PASSWORD, client_for, make_member
from tenants.tests.roundtrips import traced

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me/"
# The tenant middleware's look-up (core.sql.PreparedSelect); /auth/me/ reads memberships itself.
MEMBERSHIP_QUERY = '"tenants_membership" JOIN "tenants_user"'


def _served_from_cache(api, path=ME):
    """Makes a request and tells whether it read its membership from the database."""
    with traced() as trace:
        response = api.get(path)
    return response, not trace.sent(MEMBERSHIP_QUERY)


def test_warm_request_reads_no_membership_from_the_database(owner_a):
    api = client_for(owner_a)
    first, first_cached = _served_from_cache(api)
    second, second_cached = _served_from_cache(api)

    assert first.status_code == second.status_code == 200
    assert not first_cached and second_cached
    assert second.json() == first.json()  # the same user, tenant and role, from the cache


def test_request_makes_one_redis_round_trip(owner_a, monkeypatch):
    api = client_for(owner_a)
    api.get(ME)  # warm
    sent = []
    original = redis.connection.AbstractConnection.send_packed_command

    def counting(self, command, *args, **kwargs):
        sent.append(command)
        return original(self, command, *args, **kwargs)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)
    response = api.get("/api/v1/products/")

    assert response.status_code == 200
    assert len(sent) == 1  # the membership entry, its generations and the user and plan throttle counters


def test_removed_member_is_refused_on_the_very_next_request(owner_a):
    clerk = make_member(owner_a.tenant, Role.CLERK)
    api = client_for(clerk)
    assert _served_from_cache(api, "/api/v1/products/")[0].status_code == 200
    assert _served_from_cache(api, "/api/v1/products/")[1]  # cached

    assert client_for(owner_a).delete(f"/api/v1/members/{clerk.id}/").status_code == 204
    response = api.get("/api/v1/products/")

    assert response.status_code == 401 and response.json()["code"] == "membership_revoked"


def test_demoted_member_has_the_new_role_on_the_very_next_request(owner_a):
    admin = make_member(owner_a.tenant, Role.ADMIN)
    api = client_for(admin)
    assert api.get("/api/v1/invitations/").status_code == 200
    assert _served_from_cache(api, "/api/v1/invitations/")[1]

    changed = client_for(owner_a).patch(f"/api/v1/members/{admin.id}/", {"role": "viewer"})
    response = api.get("/api/v1/invitations/")

    assert changed.status_code == 200, changed.json()
    assert response.status_code == 403
    assert api.get(ME).json()["role"] == "viewer"


@pytest.mark.parametrize("how", ["save", "queryset_update"])
def test_suspended_tenant_is_refused_on_the_very_next_request(owner_a, how):
    api = client_for(owner_a)
    api.get(ME)
    assert _served_from_cache(api)[1]

    if how == "save":
        tenant = Tenant.objects.get(pk=owner_a.tenant_id)
        tenant.status = TenantStatus.SUSPENDED
        tenant.save(update_fields=["status"])
    else:
        Tenant.objects.filter(pk=owner_a.tenant_id).update(status=TenantStatus.SUSPENDED)
    response = api.get(ME)

    assert response.status_code == 403 and response.json()["code"] == "tenant_suspended"


def test_deactivated_user_is_refused_on_the_very_next_request(owner_a):
    api = client_for(owner_a)
    api.get(ME)
    assert _served_from_cache(api)[1]

    user = User.objects.get(pk=owner_a.user_id)
    user.is_active = False
    user.save(update_fields=["is_active"])
    response = api.get(ME)

    assert response.status_code == 401 and response.json()["code"] == "membership_revoked"


def test_token_of_before_a_password_change_is_refused_on_the_very_next_request(api, owner_a):
    tokens = [api.post("/api/v1/auth/token/", {"email": owner_a.user.email, "password": PASSWORD}).json() for _ in "ab"]
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens[0]['access']}")
    api.get(ME)
    assert _served_from_cache(api)[1]

    changed = client_for(owner_a).post(
        "/api/v1/auth/password/", {"current_password": PASSWORD, "new_password": "a quite different secret 42"}
    )
    response = api.get(ME)

    assert changed.status_code == 200, changed.json()
    assert response.status_code == 401 and response.json()["code"] == "session_ended"


def test_a_membership_read_before_a_change_is_never_stored(owner_a):
    """A request that read the database before a change committed cannot cache what it
    read: the change's invalidation moved the generations it is stored against."""
    from tenants.context import user_context
    from tenants.selectors import active_membership

    found = membership_cache.lookup(user_id=owner_a.user_id, tenant_id=owner_a.tenant_id)
    assert found is not None and found.entry is None
    membership_cache.invalidate(user_ids=[owner_a.user_id])  # what the change's commit does

    with user_context(owner_a.user_id):
        active_membership(user_id=owner_a.user_id, tenant_id=owner_a.tenant_id, token_version=0, cached=found)
    again = membership_cache.lookup(user_id=owner_a.user_id, tenant_id=owner_a.tenant_id)

    assert again is not None and again.entry is None


def test_a_change_that_bypasses_the_orm_is_seen_once_the_entry_expires(owner_a, settings):
    """Raw SQL (or an invalidation lost while Redis was unreachable) can leave an entry
    from before the change: it lives MEMBERSHIP_CACHE_SECONDS, never longer."""
    settings.MEMBERSHIP_CACHE_SECONDS = 1
    api = client_for(owner_a)
    api.get(ME)
    entry_key = membership_cache._entry_key(owner_a.user_id, owner_a.tenant_id)
    client = caches["default"]._cache.get_client(write=True)  # type: ignore[attr-defined]
    for _ in range(3):
        assert api.get(ME).status_code == 200
    assert 0 < client.pttl(entry_key) <= 1000  # hits never extend it

    with connection.cursor() as cursor:
        cursor.execute("UPDATE tenants_tenant SET status = 'suspended' WHERE id = %s", [owner_a.tenant_id])
    stale = api.get(ME)
    time.sleep(1.1)
    fresh = api.get(ME)

    assert stale.status_code == 200  # the documented bound
    assert fresh.status_code == 403 and fresh.json()["code"] == "tenant_suspended"


def test_redis_down_reads_the_database_and_sees_every_change(owner_a, redis_down):
    clerk = make_member(owner_a.tenant, Role.CLERK)
    api = client_for(clerk)
    first, cached = _served_from_cache(api)

    # Bypassing the ORM: nothing could invalidate anything.
    with tenant_context(owner_a.tenant), connection.cursor() as cursor:
        cursor.execute("DELETE FROM tenants_membership WHERE id = %s", [clerk.id])
    response = api.get(ME)

    assert first.status_code == 200 and not cached
    assert response.status_code == 401 and response.json()["code"] == "membership_revoked"
    counters.reset()


def test_cache_off_reads_the_database_every_time(owner_a, settings):
    settings.MEMBERSHIP_CACHE_SECONDS = 0
    api = client_for(owner_a)
    api.get(ME)

    response, cached = _served_from_cache(api)

    assert response.status_code == 200 and not cached


# --- API keys: cached by their hash, every change seen by the next request ---------------------

KEY_QUERY = '"tenants_apikey"'


def _key_served_from_cache(api, path="/api/v1/products/"):
    with traced() as trace:
        response = api.get(path)
    return response, not trace.sent(KEY_QUERY)


def test_warm_api_key_request_reads_no_key_from_the_database(owner_a):
    from tenants.tests.factories import client_for_key, make_api_key

    _, raw = make_api_key(owner_a.tenant, ["catalog:read"])
    api = client_for_key(raw)
    # The first use records "last used" (which ends the entry), the second caches the key.
    first, first_cached = _key_served_from_cache(api)
    second, second_cached = _key_served_from_cache(api)
    third, third_cached = _key_served_from_cache(api)

    assert first.status_code == second.status_code == third.status_code == 200
    assert (first_cached, second_cached, third_cached) == (False, False, True)


@pytest.mark.parametrize("how", ["revoke", "expire_by_queryset_update", "suspend_tenant", "delete"])
def test_a_changed_api_key_is_seen_on_the_very_next_request(owner_a, how):
    from datetime import timedelta

    from django.utils import timezone

    from tenants.models import ApiKey
    from tenants.tests.factories import client_for_key, make_api_key

    key, raw = make_api_key(owner_a.tenant, ["catalog:read"])
    api = client_for_key(raw)
    api.get("/api/v1/products/")
    api.get("/api/v1/products/")
    assert _key_served_from_cache(api)[1]

    expected = {
        "revoke": (401, "api_key_revoked"),
        "expire_by_queryset_update": (401, "api_key_expired"),
        "suspend_tenant": (403, "tenant_suspended"),
        "delete": (401, "api_key_not_valid"),
    }[how]
    if how == "revoke":
        assert client_for(owner_a).post(f"/api/v1/api-keys/{key.pk}/revoke/").status_code == 200
    elif how == "expire_by_queryset_update":
        with tenant_context(owner_a.tenant):
            ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    elif how == "suspend_tenant":
        Tenant.objects.filter(pk=owner_a.tenant_id).update(status=TenantStatus.SUSPENDED)
    else:
        with tenant_context(owner_a.tenant):
            ApiKey.objects.get(pk=key.pk).delete()
    response = api.get("/api/v1/products/")

    assert (response.status_code, response.json()["code"]) == expected


def test_api_keys_work_without_redis(owner_a, settings):
    from tenants.tests.factories import client_for_key, make_api_key

    settings.MEMBERSHIP_CACHE_SECONDS = 0  # the cache off: every request reads the key
    _, raw = make_api_key(owner_a.tenant, ["catalog:read"])
    api = client_for_key(raw)

    responses = [_key_served_from_cache(api) for _ in range(2)]

    assert [(r.status_code, cached) for r, cached in responses] == [(200, False), (200, False)]
