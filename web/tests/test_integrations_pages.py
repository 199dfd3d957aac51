"""The API keys and audit log pages on the real stack (sessions, Row Level Security,
services): admins and owners only; a key created in the console is shown once, works
against the API with its scopes only, and is refused once revoked there; the audit log
lists who changed what, when and from where with the API's filters; its CSV export
holds the filtered events of this workspace only, across pages read after the view
has returned. Refusals also check that nothing was written."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from inventory.services import catalog
from inventory.tests.factories import make_product
from tenants import api_key_format
from tenants.context import tenant_context
from tenants.models import ApiKey, Role
from tenants.tests.factories import client_for, make_api_key, make_member, make_user
from web.tests.helpers import console_client, page_queries
from web.views import audit

pytestmark = pytest.mark.django_db

KEYS = "/app/alpha/settings/api-keys/"
NEW_KEY = "/app/alpha/settings/api-keys/new/"
AUDIT = "/app/alpha/settings/audit/"
EXPORT = "/app/alpha/settings/audit/export/"
KEY_PATTERN = re.compile(r'value="(srk_[0-9A-Za-z]{38})"')


@pytest.fixture
def owner(owner_a):
    return console_client(owner_a)


def _keys(tenant):
    with tenant_context(tenant):
        return list(ApiKey.objects.order_by("created_at").values_list("name", "revoked_at"))


def _create(client, **fields):
    body = {
        "name": "Shop sync",
        "scopes": ["catalog:read", "catalog:write"],
        "expires_at": (timezone.localdate() + timedelta(days=30)).isoformat(),
        **fields,
    }
    return client.post(NEW_KEY, body)


def _csv(response):
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


# --- Roles ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [KEYS, NEW_KEY, AUDIT, EXPORT])
def test_only_admins_and_owners_open_the_pages(tenant_a, owner_a, path):
    for role in (Role.VIEWER, Role.CLERK, Role.MANAGER):
        assert console_client(make_member(tenant_a, role)).get(path).status_code == 403
    assert console_client(make_member(tenant_a, Role.ADMIN)).get(path).status_code == 200
    assert console_client(owner_a).get(path).status_code == 200


def test_a_clerk_neither_sees_the_links_nor_creates_nor_revokes_a_key(tenant_a, owner_a):
    key, _ = make_api_key(tenant_a, name="kept")
    clerk = console_client(make_member(tenant_a, Role.CLERK))
    dashboard = clerk.get("/app/alpha/").content.decode()
    assert KEYS not in dashboard and AUDIT not in dashboard
    assert _create(clerk).status_code == 403
    assert clerk.post(f"{KEYS}{key.id}/revoke/").status_code == 403
    assert _keys(tenant_a) == [("kept", None)]
    admin_page = console_client(owner_a).get("/app/alpha/").content.decode()
    assert KEYS in admin_page and AUDIT in admin_page


# --- API keys ---------------------------------------------------------------------------


def test_a_key_made_in_the_console_is_shown_once_and_works_with_its_scopes_only(owner, tenant_a):
    form = owner.get(NEW_KEY).content.decode()
    default = (timezone.localdate() + timedelta(days=90)).isoformat()
    assert f'value="{default}"' in form  # 90 days unless changed
    response = _create(owner, name="Shop sync", scopes=["catalog:read", "catalog:write", "audit:read"])
    assert response.status_code == 201
    page = response.content.decode()
    shown = KEY_PATTERN.search(page)
    assert shown is not None
    raw = shown.group(1)
    assert api_key_format.is_well_formed(raw)
    assert 'data-copy="#new-api-key"' in page and 'data-replace-url="/app/alpha/settings/api-keys/"' in page
    # Only its fingerprint is kept: the list never shows the key again.
    listing = owner.get(KEYS).content.decode()
    assert "Shop sync" in listing and raw[:8] in listing and raw not in listing
    with tenant_context(tenant_a):
        key = ApiKey.objects.get(name="Shop sync")
    assert key.key_hash == api_key_format.digest(raw)
    assert key.scopes == ["catalog:read", "catalog:write", "audit:read"]
    assert timezone.localtime(key.expires_at).date() == timezone.localdate() + timedelta(days=30)

    # The key against the API, as curl would send it.
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    made = api.post("/api/v1/products/", {"sku": "KEY-1", "name": "Made by a key"}, format="json")
    assert made.status_code == 201, made.content
    assert api.get("/api/v1/products/").status_code == 200
    assert api.get("/api/v1/stock-levels/").status_code == 403  # no stock scope
    # Its use is on the list (time and address) and its write in the audit log, by the key.
    listing = owner.get(KEYS).content.decode()
    assert "127.0.0.1" in listing and "Never" not in listing
    log = owner.get(AUDIT, {"type": "product.created"}).content.decode()
    assert f"API key {raw[:8]}… (Shop sync)" in log


def test_sending_the_same_form_twice_makes_one_key(owner, tenant_a):
    """A reload of the answer without JavaScript, or a double click, sends the form again:
    the second is recognised by the form's id and creates nothing."""
    submission = _submission(owner.get(NEW_KEY))

    first = _create(owner, submission=submission)
    second = _create(owner, submission=submission)
    shown = owner.get(KEYS).content.decode()
    other = _create(owner, name="Another", submission=_submission(owner.get(NEW_KEY)))

    assert first.status_code == 201 and KEY_PATTERN.search(first.content.decode())
    assert second.status_code == 302 and second["Location"] == KEYS
    assert "This form was already sent" in shown
    assert other.status_code == 201
    assert [name for name, _ in _keys(tenant_a)] == ["Shop sync", "Another"]


def _submission(response):
    found = re.search(r'name="submission" value="([0-9a-f-]{36})"', response.content.decode())
    assert found is not None
    return found.group(1)


def test_a_form_refused_by_the_service_gets_a_new_id(owner, tenant_a):
    submission = _submission(owner.get(NEW_KEY))
    too_late = (timezone.localdate() + timedelta(days=400)).isoformat()

    refused = _create(owner, submission=submission, expires_at=too_late)
    renewed = _submission(refused)
    fixed = _create(owner, submission=renewed)

    assert refused.status_code == 400 and renewed != submission
    assert fixed.status_code == 201 and [name for name, _ in _keys(tenant_a)] == ["Shop sync"]


def test_revoking_a_key_in_the_console_refuses_it_at_the_api(owner, tenant_a):
    key, raw = make_api_key(tenant_a, ["catalog:read"], name="Old script")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/products/").status_code == 200
    listing = owner.get(KEYS).content.decode()
    assert 'data-confirm="Revoke the API key Old script (' in listing
    response = owner.post(f"{KEYS}{key.id}/revoke/", follow=True)
    assert response.redirect_chain == [(KEYS, 302)]
    page = response.content.decode()
    assert f"The API key Old script ({raw[:8]}…) is revoked" in page and "Revoked" in page
    assert api.get("/api/v1/products/").status_code == 401
    again = owner.post(f"{KEYS}{key.id}/revoke/", follow=True).content.decode()
    assert "was already revoked" in again
    [(name, revoked_at)] = _keys(tenant_a)
    assert name == "Old script" and revoked_at is not None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"scopes": []}, "Choose at least one scope."),
        ({"scopes": ["catalog:read", "root:write"]}, "Select a valid choice. root:write is not one of"),
        ({"name": ""}, "This field is required."),
        ({"name": "x" * 101}, "Ensure this value has at most 100 characters"),
        ({"expires_at": timezone.localdate().isoformat()}, "The expiry must be in the future."),
        ({"expires_at": "2999-01-01"}, "A key expires at most 365 days after it is made."),
        ({"expires_at": "not a date"}, "Enter a valid date."),
    ],
)
def test_a_bad_key_form_is_answered_with_its_error_and_makes_no_key(owner, tenant_a, fields, message):
    response = _create(owner, **fields)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _keys(tenant_a) == []


def test_the_key_list_runs_a_constant_number_of_queries(owner, tenant_a, owner_a):
    make_api_key(tenant_a, name="first", user=owner_a.user)
    before = page_queries(owner, KEYS)
    for n in range(5):
        key, _ = make_api_key(tenant_a, name=f"more {n}", user=make_member(tenant_a, Role.ADMIN).user)
        if n % 2:
            with tenant_context(tenant_a):
                from tenants.services import api_key_revoke

                api_key_revoke(key_id=key.pk, user=owner_a.user)
    assert page_queries(owner, KEYS) == before


# --- The audit log ----------------------------------------------------------------------


def test_an_update_shows_who_when_from_where_and_the_changes(owner, owner_a, tenant_a):
    with tenant_context(tenant_a):
        product = make_product(sku="AUD-1", selling_price=Decimal("1.00"))
    owner_a.user.full_name = "Olga Owner"
    owner_a.user.save(update_fields=["full_name"])
    api = client_for(owner_a)
    response = api.patch(
        f"/api/v1/products/{product.id}/", {"selling_price": "1.50"}, format="json", HTTP_X_REQUEST_ID="req-audit-1"
    )
    assert response.status_code == 200
    page = owner.get(AUDIT).content.decode()
    row = page[page.index('data-event="product.updated"') :]
    row = row[: row.index("</tr>\n")]
    assert f"Olga Owner ({owner_a.user.email})" in row
    assert "127.0.0.1" in row and "req-audit-1" in row
    assert "1 change" in row and "selling_price" in row and "1.00" in row and "1.50" in row
    assert f'href="/app/alpha/products/{product.id}/"' in row
    assert "Stockroom (no user)" in page  # the factory's product.created, written outside a request


def test_a_member_who_left_is_still_named(owner, tenant_a):
    leaver = make_member(tenant_a, Role.MANAGER, user=make_user(email="lena@example.com"))
    with tenant_context(tenant_a):
        product = make_product(sku="LEFT-1")
    assert (
        client_for(leaver).patch(f"/api/v1/products/{product.id}/", {"name": "By Lena"}, format="json").status_code
        == 200
    )
    with tenant_context(tenant_a):
        leaver.delete()
    page = owner.get(AUDIT, {"type": "product.updated"}).content.decode()
    assert "lena@example.com" in page


def test_the_filters_are_the_apis(owner, owner_a, tenant_a):
    with tenant_context(tenant_a):
        first = make_product(sku="F-1")
        catalog.product_update(product=first, name="Renamed")
        make_product(sku="F-2")
    key, raw = make_api_key(tenant_a, ["catalog:write"], name="Robot")
    robot = APIClient()
    robot.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert robot.post("/api/v1/products/", {"sku": "F-3", "name": "By the robot"}, format="json").status_code == 201

    def types(**query):
        page = owner.get(AUDIT, query).content.decode()
        return re.findall(r'data-event="([^"]+)"', page)

    assert types(type="product.updated") == ["product.updated"]
    assert types(type="product.") == ["product.created", "product.created", "product.updated", "product.created"]
    assert types(subject=str(first.id)) == ["product.updated", "product.created"]
    assert types(actor=str(key.id)) == ["product.created"]
    assert types(actor=str(owner_a.user_id)) == []
    today = timezone.localdate()
    assert len(types(date_from=today.isoformat(), date_to=today.isoformat())) == 5  # with api_key.created
    assert types(date_from=(today + timedelta(days=1)).isoformat()) == []
    assert types(date_to=(today - timedelta(days=1)).isoformat()) == []
    # The actor picker offers the members and the keys.
    form = owner.get(AUDIT).content.decode()
    assert f'<option value="{owner_a.user_id}">' in form and f"API key {key.prefix}… (Robot)" in form


@pytest.mark.parametrize(
    "query",
    [
        {"actor": "not-a-uuid"},
        {"type": "x" * 100},
        {"date_from": "yesterday"},
        {"date_from": "2026-05-02", "date_to": "2026-05-01"},
        {"page": "garbage"},
        {"subject": "\x00" * 3},
    ],
)
def test_a_bad_filter_is_shown_and_not_applied(owner, tenant_a, query):
    with tenant_context(tenant_a):
        make_product(sku="BAD-1")
    response = owner.get(AUDIT, query)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-event="product.created"' in page
    if "page" not in query and "subject" not in query:
        assert "invalid-feedback" in page


def test_htmx_gets_only_the_table(owner, tenant_a):
    with tenant_context(tenant_a):
        make_product(sku="HX-1")
    response = owner.get(AUDIT, {"type": "product."}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="audit-table">') and "<html" not in page
    assert f'href="{EXPORT}?type=product."' in page


def test_the_audit_log_runs_a_constant_number_of_queries(owner, owner_a, tenant_a):
    with tenant_context(tenant_a):
        make_product(sku="Q-0")
    before = page_queries(owner, AUDIT)
    api = client_for(owner_a)
    for n in range(4):
        member = make_member(tenant_a, Role.MANAGER)
        with tenant_context(tenant_a):
            product = make_product(sku=f"Q-{n + 1}")
        client_for(member).patch(f"/api/v1/products/{product.id}/", {"name": f"Q {n}"}, format="json")
        _, raw = make_api_key(tenant_a, ["catalog:write"], name=f"k{n}")
        key_client = APIClient()
        key_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        key_client.patch(f"/api/v1/products/{product.id}/", {"name": f"K {n}"}, format="json")
    api.get("/api/v1/products/")
    assert page_queries(owner, AUDIT) == before


# --- The CSV export ---------------------------------------------------------------------


def test_the_export_holds_the_filtered_events_with_the_lists_columns(owner, owner_a, tenant_a, tenant_b):
    owner_a.user.full_name = "=HYPERLINK(1)"
    owner_a.user.save(update_fields=["full_name"])
    with tenant_context(tenant_a):
        product = make_product(sku="CSV-1", name="First")
    response = client_for(owner_a).patch(
        f"/api/v1/products/{product.id}/", {"name": "Second"}, format="json", HTTP_X_REQUEST_ID="req-csv"
    )
    assert response.status_code == 200
    with tenant_context(tenant_b):
        make_product(sku="OTHER-WORKSPACE")
    response = owner.get(EXPORT, {"type": "product."})
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="audit-log-alpha-{today}.csv"'
    header, *rows = _csv(response)
    assert header == audit.CSV_HEADER
    assert [row[3] for row in rows] == ["product.updated", "product.created"]
    updated = dict(zip(header, rows[0], strict=True))
    assert updated["actor"] == f"'=HYPERLINK(1) ({owner_a.user.email})"  # a formula is neutralized
    assert updated["actor_id"] == str(owner_a.user_id)
    assert updated["subject_type"] == "product" and updated["subject_id"] == str(product.id)
    assert updated["ip"] == "127.0.0.1" and updated["request_id"] == "req-csv"
    assert '"name": ["First", "Second"]' in updated["changes"]
    assert "OTHER-WORKSPACE" not in "".join(",".join(r) for r in rows)


def test_the_export_reads_every_page_in_the_workspace_after_the_view_returned(owner, tenant_a, tenant_b, monkeypatch):
    monkeypatch.setattr(audit, "CSV_CHUNK", 2)  # several pages from a few events
    with tenant_context(tenant_a):
        skus = [make_product(sku=f"PAGE-{n}").sku for n in range(5)]
    with tenant_context(tenant_b):
        for n in range(3):
            make_product(sku=f"B-{n}")
    _, *rows = _csv(owner.get(EXPORT))
    assert sorted(json.loads(row[9])["sku"] for row in rows) == sorted(skus)
    assert len({row[5] for row in rows}) == 5  # no event twice, none left out
