"""A second workspace for an existing user, and the workspace currency."""

import pytest

from tenants.context import tenant_context, user_context
from tenants.models import Membership, Tenant
from tenants.tests.factories import client_for

pytestmark = pytest.mark.django_db

TENANTS = "/api/v1/tenants/"
TENANT = "/api/v1/tenant/"
ME = "/api/v1/auth/me/"


# --- POST /tenants/ ----------------------------------------------------------------


def test_create_workspace_makes_the_caller_owner_and_returns_tokens_for_it(client_a, owner_a, api):
    response = client_a.post(TENANTS, {"name": "Alpha Trading", "slug": "alpha-trading"})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["tenant"]["slug"] == "alpha-trading" and body["tenant"]["name"] == "Alpha Trading"
    assert body["role"] == "owner" and body["user"]["id"] == str(owner_a.user_id)
    new = Tenant.objects.get(slug="alpha-trading")
    with tenant_context(new):
        assert list(Membership.objects.values_list("user_id", "role")) == [(owner_a.user_id, "owner")]
    me = api.get(ME, HTTP_AUTHORIZATION=f"Bearer {body['access']}").json()
    assert me["tenant"]["slug"] == "alpha-trading"
    assert {m["slug"] for m in me["memberships"]} == {"alpha", "alpha-trading"}
    # The caller's token for the first workspace still works.
    assert client_a.get(ME).json()["tenant"]["slug"] == "alpha"


def test_create_workspace_without_slug_makes_one_from_the_name(client_a, owner_a):
    response = client_a.post(TENANTS, {"name": "Alpha Ltd"})

    assert response.status_code == 201
    assert response.json()["tenant"]["slug"] == "alpha-ltd"


def test_create_workspace_with_taken_or_invalid_slug_creates_nothing(client_a, owner_a, tenant_b):
    before = Tenant.objects.count()

    taken = client_a.post(TENANTS, {"name": "Beta Two", "slug": "beta"})
    invalid = client_a.post(TENANTS, {"name": "Bad", "slug": "-Bad slug-"})
    reserved = client_a.post(TENANTS, {"name": "Admin", "slug": "admin"})
    nameless = client_a.post(TENANTS, {"slug": "nameless"})

    assert taken.status_code == invalid.status_code == reserved.status_code == nameless.status_code == 400
    assert taken.json()["fields"]["slug"][0]["code"] == "slug_taken"
    assert invalid.json()["fields"]["slug"][0]["code"] == "invalid"
    assert "lowercase letters, digits and hyphens" in invalid.json()["message"]
    assert reserved.json()["fields"]["slug"][0]["code"] == "invalid"
    assert "name" in nameless.json()["fields"]
    assert Tenant.objects.count() == before
    with user_context(owner_a.user_id):
        assert Membership.objects.filter(user=owner_a.user).count() == 1


def test_create_workspace_needs_login(api):
    response = api.post(TENANTS, {"name": "Anonymous Co"})

    assert response.status_code == 401
    assert not Tenant.objects.filter(name="Anonymous Co").exists()


def test_any_member_may_create_a_workspace_of_their_own(owner_a):
    from tenants.tests.factories import make_member

    viewer = make_member(owner_a.tenant, "viewer")

    response = client_for(viewer).post(TENANTS, {"name": "Viewer's Own"})

    assert response.status_code == 201 and response.json()["role"] == "owner"


# --- Currency -----------------------------------------------------------------------


@pytest.mark.parametrize("code", ["XYZ", "eur", "EURO", "XXX", "XTS", ""])
def test_currency_must_be_an_iso_4217_code(client_a, owner_a, code):
    response = client_a.patch(TENANT, {"currency": code})

    assert response.status_code == 400
    error = response.json()["fields"]["currency"][0]
    assert error["code"] == "invalid_choice"
    assert "ISO 4217" in error["message"] and "three capital letters" in error["message"]
    assert response.json()["message"].startswith("currency: ")
    assert Tenant.objects.get(pk=owner_a.tenant_id).currency == "USD"


def test_currency_changes_to_an_iso_4217_code_while_nothing_holds_amounts(client_a, owner_a):
    response = client_a.patch(TENANT, {"currency": "CHF"})

    assert response.status_code == 200 and response.json()["currency"] == "CHF"
    assert Tenant.objects.get(pk=owner_a.tenant_id).currency == "CHF"


def test_service_refuses_a_code_outside_iso_4217(owner_a):
    from core.errors import ValidationFailed
    from tenants.services import tenant_update

    with tenant_context(owner_a.tenant), pytest.raises(ValidationFailed) as raised:
        tenant_update(currency="XYZ")

    assert raised.value.fields["currency"][0]["code"] == "invalid_choice"
    assert Tenant.objects.get(pk=owner_a.tenant_id).currency == "USD"
