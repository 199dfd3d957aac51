"""API keys: made and revoked by admins, shown once, stored as a hash, expiring, scoped,
rate limited per key, and effective on the request after a revocation."""

import hashlib
import re
import zlib
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from inventory.models import Product
from inventory.tests.factories import make_product
from tenants import api_key_format
from tenants.context import current_api_key_id, tenant_context
from tenants.models import ApiKey, DomainEvent, Role
from tenants.tests.factories import client_for, client_for_key, make_api_key, make_member, make_tenant

pytestmark = pytest.mark.django_db

KEYS = "/api/v1/api-keys/"
PRODUCTS = "/api/v1/products/"
DOC_PATTERN = re.compile(r"^srk_[0-9A-Za-z]{32}[0-9A-Za-z]{6}$")  # as written in docs/api.md


def _create(api, **body):
    return api.post(KEYS, {"name": "shop sync", "scopes": ["catalog:read"], **body})


# --- The format ------------------------------------------------------------------


def test_generated_key_matches_the_documented_pattern_and_checksum():
    raw = api_key_format.generate()

    body, check = raw[:-6], raw[-6:]
    crc = zlib.crc32(body.encode())
    decoded = 0
    for char in check:
        decoded = decoded * 62 + api_key_format.ALPHABET.index(char)

    assert DOC_PATTERN.fullmatch(raw)
    assert decoded == crc
    assert api_key_format.is_well_formed(raw)


def test_a_typo_fails_the_checksum():
    raw = api_key_format.generate()
    typo = raw[:10] + ("a" if raw[10] != "a" else "b") + raw[11:]

    assert not api_key_format.is_well_formed(typo)
    assert not api_key_format.is_well_formed(raw + "\n")
    assert not api_key_format.is_well_formed(raw[:-1])


# --- Create, list, retrieve, revoke -------------------------------------------------


def test_admin_creates_a_key_shown_once_and_stored_as_its_hash(owner_a):
    admin = make_member(owner_a.tenant, Role.ADMIN)
    api = client_for(admin)

    created = _create(api, scopes=["catalog:read", "orders:write"])
    listed = api.get(KEYS)
    one = api.get(f"{KEYS}{created.json()['id']}/")

    assert created.status_code == 201
    body = created.json()
    raw = body["key"]
    assert DOC_PATTERN.fullmatch(raw)
    assert body["prefix"] == raw[:8]
    assert body["scopes"] == ["catalog:read", "orders:write"]
    assert body["status"] == "active"
    assert body["created_by"] == admin.user.email
    with tenant_context(owner_a.tenant):
        stored = ApiKey.objects.get(pk=body["id"])
    assert stored.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    # The key itself is nowhere else: not in the row, not in the list, not in the detail.
    with tenant_context(owner_a.tenant):
        row = ApiKey.objects.filter(pk=body["id"]).values().get()
    assert raw not in str(row)
    assert raw not in listed.content.decode() and raw not in one.content.decode()
    assert "key" not in one.json()
    assert [k["id"] for k in listed.json()["results"]] == [body["id"]]


def test_expiry_defaults_to_90_days_and_is_at_most_a_year(client_a):
    default = _create(client_a)
    too_late = _create(client_a, expires_at=(timezone.now() + timedelta(days=366)).isoformat())
    past = _create(client_a, expires_at=(timezone.now() - timedelta(minutes=1)).isoformat())
    bad_scope = _create(client_a, scopes=["members:write"])
    no_scope = _create(client_a, scopes=[])

    expires = datetime.fromisoformat(default.json()["expires_at"])
    assert abs((expires - timezone.now()) - timedelta(days=90)) < timedelta(minutes=1)
    assert too_late.status_code == 400 and too_late.json()["fields"]["expires_at"][0]["code"] == "expiry_too_late"
    assert past.status_code == 400 and past.json()["fields"]["expires_at"][0]["code"] == "expiry_in_past"
    assert bad_scope.status_code == 400 and "scopes.0" in bad_scope.json()["fields"]
    assert no_scope.status_code == 400
    assert client_a.get(KEYS).json()["count"] == 1  # the refused ones wrote nothing


@pytest.mark.parametrize("role", [Role.MANAGER, Role.CLERK, Role.VIEWER])
def test_members_below_admin_cannot_see_or_make_keys(owner_a, role):
    api = client_for(make_member(owner_a.tenant, role))
    key, _ = make_api_key(owner_a.tenant)

    listed = api.get(KEYS)
    created = _create(api)
    revoked = api.post(f"{KEYS}{key.pk}/revoke/")

    assert (listed.status_code, created.status_code, revoked.status_code) == (403, 403, 403)
    assert created.json()["code"] == "role_required"
    with tenant_context(owner_a.tenant):
        assert ApiKey.objects.count() == 1 and ApiKey.objects.get().revoked_at is None


def test_revocation_holds_from_the_next_request(owner_a):
    key, raw = make_api_key(owner_a.tenant, ["catalog:read"])
    api = client_for_key(raw)

    before = api.get(PRODUCTS)
    revoked = client_for(owner_a).post(f"{KEYS}{key.pk}/revoke/")
    after = api.get(PRODUCTS)
    again = client_for(owner_a).post(f"{KEYS}{key.pk}/revoke/")

    assert before.status_code == 200
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert after.status_code == 401 and after.json()["code"] == "api_key_revoked"
    assert again.status_code == 200 and again.json()["revoked_at"] == revoked.json()["revoked_at"]


def test_creating_and_revoking_a_key_record_events_without_the_secret(owner_a):
    api = client_for(owner_a)

    created = _create(api, name="Shop sync", scopes=["catalog:read", "stock:read"])
    key_id = created.json()["id"]
    api.post(f"{KEYS}{key_id}/revoke/")
    api.post(f"{KEYS}{key_id}/revoke/")  # revoking again changes nothing: no second event
    refused = _create(api, scopes=["members:write"])

    assert refused.status_code == 400
    with tenant_context(owner_a.tenant):
        made, revoked = DomainEvent.objects.filter(subject_type="api_key").order_by("txid", "seq")
        stored = ApiKey.objects.get(pk=key_id)
    assert (made.type, revoked.type) == ("api_key.created", "api_key.revoked")
    for event in (made, revoked):
        assert event.subject_id == key_id and event.actor_user_id == owner_a.user_id
        facts = dict(event.data)
        expires_at = datetime.fromisoformat(facts.pop("expires_at"))
        assert facts == {"name": "Shop sync", "prefix": stored.prefix, "scopes": ["catalog:read", "stock:read"]}
        assert abs(expires_at - stored.expires_at) < timedelta(milliseconds=1)
        assert created.json()["key"] not in str(event.data) and stored.key_hash not in str(event.data)


def test_another_tenants_key_is_not_found(owner_a, owner_b):
    key_b, _ = make_api_key(owner_b.tenant)

    assert client_for(owner_a).get(f"{KEYS}{key_b.pk}/").status_code == 404
    assert client_for(owner_a).post(f"{KEYS}{key_b.pk}/revoke/").status_code == 404
    with tenant_context(owner_b.tenant):
        assert ApiKey.objects.get(pk=key_b.pk).revoked_at is None


# --- Authentication ----------------------------------------------------------------


def test_key_authenticates_in_its_own_tenant_only(owner_a, owner_b):
    with tenant_context(owner_a.tenant):
        mine = make_product(sku="A-1")
    with tenant_context(owner_b.tenant):
        make_product(sku="B-1")
    _, raw = make_api_key(owner_a.tenant, ["catalog:read"])

    response = client_for_key(raw).get(PRODUCTS)

    assert response.status_code == 200
    assert [p["id"] for p in response.json()["results"]] == [str(mine.pk)]


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("Bearer srk_" + "a" * 38, "api_key_not_valid"),  # bad checksum: no database look-up
        ("Bearer " + api_key_format.generate(), "api_key_not_valid"),  # well formed, unknown
    ],
)
def test_unknown_or_malformed_keys_are_refused(db, header, code):
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=header)

    response = api.get(PRODUCTS)

    assert response.status_code == 401 and response.json()["code"] == code


def test_expired_key_is_refused(owner_a):
    key, raw = make_api_key(owner_a.tenant, ["catalog:read"])
    with tenant_context(owner_a.tenant):
        ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = client_for_key(raw).get(PRODUCTS)

    assert response.status_code == 401 and response.json()["code"] == "api_key_expired"


def test_suspended_workspace_refuses_its_keys(db):
    tenant = make_tenant()
    _, raw = make_api_key(tenant, ["catalog:read"])
    tenant.status = "suspended"
    tenant.save()

    response = client_for_key(raw).get(PRODUCTS)

    assert response.status_code == 403 and response.json()["code"] == "tenant_suspended"


def test_last_use_is_recorded_at_most_once_a_minute(owner_a):
    key, raw = make_api_key(owner_a.tenant, ["catalog:read"])
    api = client_for_key(raw)

    api.get(PRODUCTS, REMOTE_ADDR="10.0.0.1")
    with tenant_context(owner_a.tenant):
        first = ApiKey.objects.get(pk=key.pk)
    api.get(PRODUCTS, REMOTE_ADDR="10.0.0.2")
    with tenant_context(owner_a.tenant):
        second = ApiKey.objects.get(pk=key.pk)
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now() - timedelta(seconds=61))
    api.get(PRODUCTS, REMOTE_ADDR="10.0.0.3")
    with tenant_context(owner_a.tenant):
        third = ApiKey.objects.get(pk=key.pk)

    assert first.last_used_at is not None and first.last_used_ip == "10.0.0.1"
    assert (second.last_used_at, second.last_used_ip) == (first.last_used_at, "10.0.0.1")
    assert third.last_used_ip == "10.0.0.3" and third.last_used_at > first.last_used_at


def test_the_key_is_the_requests_actor_and_the_context_ends_with_it(owner_a):
    from inventory.tests.factories import make_warehouse

    with tenant_context(owner_a.tenant):
        product, warehouse = make_product(sku="R-1"), make_warehouse()
    _, raw = make_api_key(owner_a.tenant, ["stock:write"])

    received = client_for_key(raw).post(
        "/api/v1/stock/receive/", {"product": str(product.pk), "warehouse": str(warehouse.pk), "quantity": "3"}
    )

    assert received.status_code in (200, 201), received.json()
    assert received.json()  # made by a key: no user recorded, nothing failed for want of one
    assert current_api_key_id() is None


# --- Scopes ---------------------------------------------------------------------------


def test_scopes_are_checked_per_group_and_access(owner_a):
    _, raw = make_api_key(owner_a.tenant, ["catalog:read", "orders:read"])
    api = client_for_key(raw)

    read = api.get(PRODUCTS)
    write = api.post(PRODUCTS, {"sku": "NEW", "name": "New"})
    other_group = api.get("/api/v1/stock-levels/")

    assert read.status_code == 200
    assert write.status_code == 403
    assert write.json()["code"] == "scope_required" and write.json()["details"] == {"scope": "catalog:write"}
    assert "catalog:write" in write.json()["message"]
    assert other_group.status_code == 403 and other_group.json()["details"] == {"scope": "stock:read"}
    with tenant_context(owner_a.tenant):
        assert not Product.objects.filter(sku="NEW").exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/members/"),
        ("get", "/api/v1/invitations/"),
        ("post", "/api/v1/invitations/"),
        ("get", KEYS),
        ("post", KEYS),
        ("get", "/api/v1/tenant/"),
        ("patch", "/api/v1/tenant/"),
        ("get", "/api/v1/auth/me/"),
        ("post", "/api/v1/auth/password/"),
        ("post", "/api/v1/auth/switch-tenant/"),
    ],
)
def test_a_key_with_every_scope_never_acts_as_a_member(owner_a, method, path):
    _, raw = make_api_key(owner_a.tenant)

    response = getattr(client_for_key(raw), method)(path, {})

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "members_only"


def test_a_key_cannot_make_or_revoke_keys(owner_a):
    key, raw = make_api_key(owner_a.tenant)

    made = _create(client_for_key(raw), scopes=["catalog:write"])
    revoked = client_for_key(raw).post(f"{KEYS}{key.pk}/revoke/")

    assert made.status_code == 403 and revoked.status_code == 403
    with tenant_context(owner_a.tenant):
        assert ApiKey.objects.count() == 1 and ApiKey.objects.get().revoked_at is None


def test_every_tenant_route_names_a_scope_group_or_is_for_members_only():
    """Each API view either declares ``scope_group`` (a known group) or refuses keys."""
    from django.urls import get_resolver

    def views(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from views(pattern.url_patterns)
            else:
                yield getattr(pattern.callback, "cls", None)

    groups = {getattr(view, "scope_group", None) for view in views(get_resolver().url_patterns) if view is not None}
    assert groups - {None} <= set(api_key_format.SCOPE_GROUPS)
    assert {"catalog", "stock", "orders", "parties", "imports"} <= groups


# --- Rate limit ------------------------------------------------------------------------


def test_each_key_has_its_own_rate_limit(owner_a, monkeypatch):
    from core.api.throttling import ApiKeyRateThrottle

    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "2/min"})
    _, raw = make_api_key(owner_a.tenant, ["catalog:read"])
    _, other = make_api_key(owner_a.tenant, ["catalog:read"])
    api = client_for_key(raw)

    statuses = [api.get(PRODUCTS).status_code for _ in range(3)]
    limited = api.get(PRODUCTS)
    other_key = client_for_key(other).get(PRODUCTS)
    member = client_for(owner_a).get(PRODUCTS)

    assert statuses == [200, 200, 429]
    assert limited.json()["code"] == "throttled" and limited.headers["Retry-After"]
    assert other_key.status_code == 200 and member.status_code == 200


# --- Row Level Security of the look-up ----------------------------------------------------


def test_the_lookup_policy_shows_only_the_row_of_the_hash_set(owner_a, owner_b):
    """Before a tenant is known, the runtime role reads a key only by its hash; with another
    tenant set, nothing of A's shows but the one row whose hash the transaction named."""
    from django.db import transaction

    from core.sql import set_local
    from tenants.selectors import api_key_by_hash

    key_a, raw_a = make_api_key(owner_a.tenant, name="a-1")
    make_api_key(owner_a.tenant, name="a-2")

    with tenant_context(None), transaction.atomic():
        nothing = list(ApiKey.unscoped.all())
    with tenant_context(owner_b.tenant), transaction.atomic():
        set_local("app.api_key_hash", api_key_format.digest(raw_a))
        named = list(ApiKey.unscoped.values_list("name", flat=True))
        set_local("app.api_key_hash", "")  # the test's own transaction outlives this block
    found = api_key_by_hash(key_hash=api_key_format.digest(raw_a))
    with tenant_context(None), transaction.atomic():
        after = list(ApiKey.unscoped.all())  # the look-up left no setting behind

    assert nothing == [] and after == []
    assert named == ["a-1"]
    assert found is not None and found.pk == key_a.pk and found.tenant_id == owner_a.tenant.pk
    assert api_key_by_hash(key_hash=api_key_format.digest(api_key_format.generate())) is None
