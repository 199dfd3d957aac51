"""Sign-up, login, lockout, refresh rotation, logout, me, switch-tenant, password reset."""

import pytest
from django.core import mail
from django.test import override_settings

from tenants.context import tenant_context
from tenants.models import Membership, Role, Tenant, TenantStatus, User
from tenants.tests.factories import PASSWORD, client_for, make_member, make_tenant, make_user

pytestmark = pytest.mark.django_db

SIGNUP = "/api/v1/signup/"
TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
LOGOUT = "/api/v1/auth/logout/"
ME = "/api/v1/auth/me/"
SWITCH = "/api/v1/auth/switch-tenant/"


def _bearer(api, access):
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return api


# --- Sign-up --------------------------------------------------------------------


def test_signup_creates_tenant_owner_and_returns_tokens(api):
    response = api.post(
        SIGNUP,
        {"company_name": "Acme Hardware", "email": "Owner@Acme.example", "password": PASSWORD},
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["tenant"]["slug"] == "acme-hardware"
    assert body["role"] == "owner"
    assert body["user"]["email"] == "owner@acme.example"
    with tenant_context(Tenant.objects.get(slug="acme-hardware")):
        membership = Membership.objects.get(user__email="owner@acme.example")
    assert membership.role == Role.OWNER and membership.tenant.name == "Acme Hardware"
    me = api.get(ME, HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert me.status_code == 200 and me.json()["tenant"]["slug"] == "acme-hardware"


def test_signup_with_taken_slug_and_email_gives_field_errors_and_creates_nothing(api):
    make_member(make_tenant(slug="acme"), user=make_user(email="taken@example.com"))
    before = (Tenant.objects.count(), User.objects.count())

    response = api.post(
        SIGNUP,
        {"company_name": "Acme", "slug": "acme", "email": "TAKEN@example.com", "password": PASSWORD},
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["fields"]["slug"][0]["code"] == "slug_taken"
    assert body["fields"]["email"][0]["code"] == "email_taken"
    assert (Tenant.objects.count(), User.objects.count()) == before


def test_signup_rejects_weak_password_with_django_validators(api):
    response = api.post(
        SIGNUP,
        {"company_name": "Weak Co", "email": "weak@example.com", "password": "12345678"},
    )

    assert response.status_code == 400
    codes = {error["code"] for error in response.json()["fields"]["password"]}
    assert {"password_too_short", "password_too_common", "password_entirely_numeric"} <= codes
    assert not User.objects.filter(email="weak@example.com").exists()


def test_signup_without_slug_picks_a_free_one(api):
    make_tenant(slug="acme")
    response = api.post(
        SIGNUP,
        {"company_name": "Acme", "email": "second@example.com", "password": PASSWORD},
    )
    assert response.status_code == 201
    assert response.json()["tenant"]["slug"] == "acme-2"


# --- Login ----------------------------------------------------------------------


def test_login_with_single_membership_chooses_it(api, owner_a):
    response = api.post(TOKEN, {"email": owner_a.user.email.upper(), "password": PASSWORD})

    assert response.status_code == 200
    assert response.json()["tenant"]["id"] == str(owner_a.tenant_id)
    assert response.json()["role"] == "owner"


def test_login_with_several_memberships_needs_a_tenant(api, owner_a, tenant_b):
    make_member(tenant_b, Role.CLERK, user=owner_a.user)

    without = api.post(TOKEN, {"email": owner_a.user.email, "password": PASSWORD})
    chosen = api.post(TOKEN, {"email": owner_a.user.email, "password": PASSWORD, "tenant": "beta"})

    assert without.status_code == 400
    assert without.json()["fields"]["tenant"][0]["code"] == "tenant_required"
    assert {t["slug"] for t in without.json()["details"]["tenants"]} == {"alpha", "beta"}
    assert chosen.status_code == 200 and chosen.json()["role"] == "clerk"


def test_login_wrong_password_is_401_without_saying_which_part(api, owner_a):
    wrong_password = api.post(TOKEN, {"email": owner_a.user.email, "password": "nope"})
    no_account = api.post(TOKEN, {"email": "ghost@example.com", "password": "nope"})

    assert wrong_password.status_code == no_account.status_code == 401
    assert wrong_password.json()["code"] == no_account.json()["code"] == "invalid_credentials"


@override_settings(LOGIN_MAX_FAILURES_PER_ACCOUNT=3)
def test_login_locks_the_account_after_repeated_failures(api, owner_a):
    for _ in range(3):
        assert api.post(TOKEN, {"email": owner_a.user.email, "password": "nope"}).status_code == 401

    locked = api.post(TOKEN, {"email": owner_a.user.email, "password": PASSWORD})

    assert locked.status_code == 429
    body = locked.json()
    assert body["code"] == "login_locked"
    assert body["details"]["scope"] == "account"
    assert "Too many failed login attempts for this account" in body["message"]
    assert int(locked["Retry-After"]) > 0
    # Another account from the same address is not locked by this one.
    other = make_member(owner_a.tenant, Role.CLERK)
    assert api.post(TOKEN, {"email": other.user.email, "password": PASSWORD}).status_code == 200


@override_settings(LOGIN_MAX_FAILURES_PER_IP=4, LOGIN_MAX_FAILURES_PER_ACCOUNT=100)
def test_login_locks_an_ip_address_trying_many_accounts(api, owner_a):
    for n in range(4):
        api.post(TOKEN, {"email": f"guess{n}@example.com", "password": "nope"}, REMOTE_ADDR="10.0.0.9")

    locked = api.post(TOKEN, {"email": owner_a.user.email, "password": PASSWORD}, REMOTE_ADDR="10.0.0.9")
    elsewhere = api.post(TOKEN, {"email": owner_a.user.email, "password": PASSWORD}, REMOTE_ADDR="10.0.0.10")

    assert locked.status_code == 429 and locked.json()["details"]["scope"] == "ip"
    assert elsewhere.status_code == 200


def test_login_to_suspended_tenant_is_refused(api, owner_a):
    Tenant.objects.filter(pk=owner_a.tenant_id).update(status=TenantStatus.SUSPENDED)
    response = api.post(TOKEN, {"email": owner_a.user.email, "password": PASSWORD})
    assert response.status_code == 403 and response.json()["code"] == "tenant_suspended"


# --- Tokens -----------------------------------------------------------------------


def test_access_token_carries_tenant_and_role(api, owner_a):
    from rest_framework_simplejwt.tokens import AccessToken

    access = api.post(TOKEN, {"email": owner_a.user.email, "password": PASSWORD}).json()["access"]
    token = AccessToken(access)
    assert token["tenant_id"] == str(owner_a.tenant_id)
    assert token["role"] == "owner"


def test_refresh_rotates_and_old_refresh_token_is_rejected(api, owner_a):
    first = api.post(TOKEN, {"email": owner_a.user.email, "password": PASSWORD}).json()

    rotated = api.post(REFRESH, {"refresh": first["refresh"]})
    reused = api.post(REFRESH, {"refresh": first["refresh"]})

    assert rotated.status_code == 200
    assert rotated.json()["refresh"] != first["refresh"]
    assert reused.status_code == 401 and reused.json()["code"] == "token_not_valid"
    assert api.post(REFRESH, {"refresh": rotated.json()["refresh"]}).status_code == 200


def test_logout_blacklists_refresh_token(api, owner_a):
    tokens = api.post(TOKEN, {"email": owner_a.user.email, "password": PASSWORD}).json()

    assert api.post(LOGOUT, {"refresh": tokens["refresh"]}).status_code == 204
    assert api.post(REFRESH, {"refresh": tokens["refresh"]}).status_code == 401


def test_garbage_tokens_are_401_with_code(api):
    for header in ["Bearer nonsense", "Bearer ", "Bearer a.b.c"]:
        response = api.get(ME, HTTP_AUTHORIZATION=header)
        assert response.status_code == 401, header
        assert response.json()["code"] == "token_not_valid"
    assert api.post(REFRESH, {"refresh": "nonsense"}).json()["code"] == "token_not_valid"


def test_refresh_token_is_not_accepted_as_access_token(api, owner_a):
    tokens = api.post(TOKEN, {"email": owner_a.user.email, "password": PASSWORD}).json()
    response = api.get(ME, HTTP_AUTHORIZATION=f"Bearer {tokens['refresh']}")
    assert response.status_code == 401


def test_no_credentials_is_401_not_authenticated(api):
    response = api.get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_token_rejected_once_membership_removed(owner_a):
    clerk = make_member(owner_a.tenant, Role.CLERK)
    api = client_for(clerk)
    assert api.get(ME).status_code == 200

    with tenant_context(owner_a.tenant):
        clerk.delete()

    response = api.get(ME)
    assert response.status_code == 401 and response.json()["code"] == "membership_revoked"


def test_token_and_refresh_rejected_once_tenant_suspended(api, owner_a):
    tokens = api.post(TOKEN, {"email": owner_a.user.email, "password": PASSWORD}).json()
    Tenant.objects.filter(pk=owner_a.tenant_id).update(status=TenantStatus.SUSPENDED)

    me = api.get(ME, HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    refreshed = api.post(REFRESH, {"refresh": tokens["refresh"]})

    assert me.status_code == 403 and me.json()["code"] == "tenant_suspended"
    assert refreshed.status_code == 403 and refreshed.json()["code"] == "tenant_suspended"


def test_refresh_rejected_once_membership_removed(api, owner_a):
    clerk = make_member(owner_a.tenant, Role.CLERK)
    tokens = api.post(TOKEN, {"email": clerk.user.email, "password": PASSWORD}).json()
    with tenant_context(owner_a.tenant):
        clerk.delete()
    response = api.post(REFRESH, {"refresh": tokens["refresh"]})
    assert response.status_code == 401 and response.json()["code"] == "membership_revoked"


def test_role_change_applies_to_existing_token(owner_a):
    """Permissions use the membership's current role, not the role in an older token."""
    admin = make_member(owner_a.tenant, Role.ADMIN)
    api = client_for(admin)
    assert api.get("/api/v1/invitations/").status_code == 200

    with tenant_context(owner_a.tenant):
        Membership.objects.filter(pk=admin.pk).update(role=Role.VIEWER)

    response = api.get("/api/v1/invitations/")
    assert response.status_code == 403 and response.json()["code"] == "role_required"


# --- Me and switch-tenant ----------------------------------------------------------


def test_me_lists_user_tenant_role_and_other_memberships(client_a, owner_a, tenant_b):
    make_member(tenant_b, Role.VIEWER, user=owner_a.user)

    body = client_a.get(ME).json()

    assert body["user"]["email"] == owner_a.user.email
    assert body["tenant"]["slug"] == "alpha" and body["role"] == "owner"
    assert {(m["slug"], m["role"]) for m in body["memberships"]} == {("alpha", "owner"), ("beta", "viewer")}


def test_switch_tenant_issues_tokens_for_the_other_membership(client_a, owner_a, tenant_b):
    make_member(tenant_b, Role.VIEWER, user=owner_a.user)

    response = client_a.post(SWITCH, {"tenant": "beta"})

    assert response.status_code == 200
    assert response.json()["tenant"]["slug"] == "beta" and response.json()["role"] == "viewer"
    me = _bearer(client_a, response.json()["access"]).get(ME).json()
    assert me["tenant"]["slug"] == "beta"


def test_switch_to_tenant_without_membership_is_refused(client_a, tenant_b):
    response = client_a.post(SWITCH, {"tenant": "beta"})
    assert response.status_code == 400
    assert response.json()["fields"]["tenant"][0]["code"] == "not_a_member"


# --- Password reset ----------------------------------------------------------------


def _reset_token(django_capture_on_commit_callbacks, api, email):
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/api/v1/auth/password-reset/", {"email": email}).status_code == 202
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    return body.split("with the token\n")[1].split("\n")[0]


def test_password_reset_by_emailed_single_use_token(api, owner_a, django_capture_on_commit_callbacks):
    old = api.post(TOKEN, {"email": owner_a.user.email, "password": PASSWORD}).json()
    token = _reset_token(django_capture_on_commit_callbacks, api, owner_a.user.email)
    new_password = "a brand new passphrase"

    done = api.post("/api/v1/auth/password-reset/confirm/", {"token": token, "new_password": new_password})
    again = api.post("/api/v1/auth/password-reset/confirm/", {"token": token, "new_password": "another one 123"})

    assert done.status_code == 204
    assert again.status_code == 400 and again.json()["fields"]["token"][0]["code"] == "invalid_token"
    assert api.post(TOKEN, {"email": owner_a.user.email, "password": new_password}).status_code == 200
    assert api.post(TOKEN, {"email": owner_a.user.email, "password": PASSWORD}).status_code == 401
    # Every earlier session ended.
    assert api.post(REFRESH, {"refresh": old["refresh"]}).status_code == 401


def test_password_reset_for_unknown_email_says_the_same_and_sends_nothing(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/auth/password-reset/", {"email": "nobody@example.com"})
    assert response.status_code == 202
    assert mail.outbox == []


def test_password_reset_rejects_weak_password_and_keeps_old(api, owner_a, django_capture_on_commit_callbacks):
    token = _reset_token(django_capture_on_commit_callbacks, api, owner_a.user.email)
    response = api.post("/api/v1/auth/password-reset/confirm/", {"token": token, "new_password": "password"})
    assert response.status_code == 400 and "new_password" in response.json()["fields"]
    assert api.post(TOKEN, {"email": owner_a.user.email, "password": PASSWORD}).status_code == 200


def test_password_reset_with_forged_token(api, owner_a):
    for token in ["garbage", "abc.def", "", "%%%.%%%"]:
        response = api.post("/api/v1/auth/password-reset/confirm/", {"token": token, "new_password": "x" * 12})
        assert response.status_code == 400, token


# --- Every token ends on a password change or reset -------------------------------

PASSWORD_CHANGE = "/api/v1/auth/password/"
NEW_PASSWORD = "a brand new passphrase"


def _login(api, membership, tenant=None):
    body = {"email": membership.user.email, "password": PASSWORD}
    if tenant:
        body["tenant"] = tenant
    response = api.post(TOKEN, body)
    assert response.status_code == 200, response.json()
    return response.json()


def _me_status(api, access):
    return api.get(ME, HTTP_AUTHORIZATION=f"Bearer {access}").status_code


def test_password_reset_ends_every_access_token_at_once(api, owner_a, tenant_b, django_capture_on_commit_callbacks):
    make_member(tenant_b, Role.CLERK, user=owner_a.user)
    in_a, in_b = _login(api, owner_a, "alpha"), _login(api, owner_a, "beta")
    token = _reset_token(django_capture_on_commit_callbacks, api, owner_a.user.email)

    assert (
        api.post("/api/v1/auth/password-reset/confirm/", {"token": token, "new_password": NEW_PASSWORD}).status_code
        == 204
    )

    for session in (in_a, in_b):
        response = api.get(ME, HTTP_AUTHORIZATION=f"Bearer {session['access']}")
        assert response.status_code == 401 and response.json()["code"] == "session_ended"
        refreshed = api.post(REFRESH, {"refresh": session["refresh"]})
        assert refreshed.status_code == 401
    fresh = api.post(TOKEN, {"email": owner_a.user.email, "password": NEW_PASSWORD, "tenant": "alpha"}).json()
    assert _me_status(api, fresh["access"]) == 200


def test_refresh_token_of_an_older_token_version_is_refused_even_if_not_blacklisted(api, owner_a):
    session = _login(api, owner_a)
    User.objects.filter(pk=owner_a.user_id).update(token_version=1)  # what a password change does

    response = api.post(REFRESH, {"refresh": session["refresh"]})

    assert response.status_code == 401 and response.json()["code"] == "session_ended"


def test_token_without_a_version_counts_as_version_zero(api, owner_a):
    from rest_framework_simplejwt.tokens import RefreshToken

    refresh = RefreshToken.for_user(owner_a.user)  # as issued before token versions existed
    refresh["tenant_id"] = str(owner_a.tenant_id)
    access = str(refresh.access_token)
    assert _me_status(api, access) == 200

    User.objects.filter(pk=owner_a.user_id).update(token_version=1)

    assert _me_status(api, access) == 401


def test_password_change_ends_other_sessions_and_returns_fresh_tokens(api, owner_a):
    mine, other = _login(api, owner_a), _login(api, owner_a)

    response = _bearer(api, mine["access"]).post(
        PASSWORD_CHANGE, {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 200, response.json()
    fresh = response.json()
    assert fresh["tenant"]["slug"] == "alpha" and fresh["role"] == "owner"
    api.credentials()
    for session in (mine, other):
        assert _me_status(api, session["access"]) == 401
        assert api.post(REFRESH, {"refresh": session["refresh"]}).status_code == 401
    assert _me_status(api, fresh["access"]) == 200
    assert api.post(REFRESH, {"refresh": fresh["refresh"]}).status_code == 200
    assert api.post(TOKEN, {"email": owner_a.user.email, "password": PASSWORD}).status_code == 401
    assert api.post(TOKEN, {"email": owner_a.user.email, "password": NEW_PASSWORD}).status_code == 200


def test_password_change_with_wrong_current_password_changes_nothing(client_a, owner_a):
    response = client_a.post(PASSWORD_CHANGE, {"current_password": "not it at all", "new_password": NEW_PASSWORD})

    assert response.status_code == 400
    assert response.json()["fields"]["current_password"][0]["code"] == "wrong_password"
    owner_a.user.refresh_from_db()
    assert owner_a.user.check_password(PASSWORD) and owner_a.user.token_version == 0
    assert client_a.get(ME).status_code == 200


def test_password_change_rejects_a_weak_password_and_keeps_the_old(client_a, owner_a):
    response = client_a.post(PASSWORD_CHANGE, {"current_password": PASSWORD, "new_password": "12345678"})

    assert response.status_code == 400
    assert "password_too_common" in {error["code"] for error in response.json()["fields"]["new_password"]}
    owner_a.user.refresh_from_db()
    assert owner_a.user.check_password(PASSWORD) and owner_a.user.token_version == 0


def test_password_change_needs_login(api):
    response = api.post(PASSWORD_CHANGE, {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert response.status_code == 401


def test_me_patch_changes_my_name(client_a, owner_a):
    response = client_a.patch(ME, {"full_name": "Ada Lovelace"})

    assert response.status_code == 200
    assert response.json()["user"]["full_name"] == "Ada Lovelace"
    assert User.objects.get(pk=owner_a.user_id).full_name == "Ada Lovelace"


def test_me_patch_with_a_too_long_name_changes_nothing(client_a, owner_a):
    response = client_a.patch(ME, {"full_name": "x" * 201})

    assert response.status_code == 400 and "full_name" in response.json()["fields"]
    assert User.objects.get(pk=owner_a.user_id).full_name == ""


# --- Memberships under Row Level Security: the flows that read them by user ----------


def test_login_refresh_switch_and_me_read_memberships_across_workspaces_under_rls(api, owner_a, tenant_b):
    make_member(tenant_b, Role.VIEWER, user=owner_a.user)

    session = _login(api, owner_a, "alpha")
    refreshed = api.post(REFRESH, {"refresh": session["refresh"]}).json()
    switched = _bearer(api, refreshed["access"]).post(SWITCH, {"tenant": "beta"}).json()
    me = _bearer(api, switched["access"]).get(ME).json()

    assert refreshed["tenant"]["slug"] == "alpha"
    assert switched["tenant"]["slug"] == "beta" and switched["role"] == "viewer"
    assert me["tenant"]["slug"] == "beta"
    assert {(m["slug"], m["role"]) for m in me["memberships"]} == {("alpha", "owner"), ("beta", "viewer")}


def test_me_does_not_list_other_users_memberships(client_a, owner_a, owner_b):
    body = client_a.get(ME).json()
    assert [m["slug"] for m in body["memberships"]] == ["alpha"]


def test_patch_me_without_a_name_changes_nothing(client_a, owner_a):
    response = client_a.patch(ME, {})
    assert response.status_code == 200
    owner_a.user.refresh_from_db()
    assert response.json()["user"]["full_name"] == owner_a.user.full_name


# --- Verified tokens kept per process ------------------------------------------


def test_a_token_seen_before_still_expires(api, owner_a):
    """The signature of a token is checked once per process; its expiry on every request."""
    import time
    from datetime import timedelta

    from rest_framework_simplejwt.tokens import AccessToken

    issued = AccessToken(api.post(TOKEN, {"email": owner_a.user.email, "password": PASSWORD}).json()["access"])
    issued.set_exp(lifetime=timedelta(seconds=1))
    short_lived = str(issued)
    assert _bearer(api, short_lived).get(ME).status_code == 200  # verified and kept
    time.sleep(1.1)
    response = api.get(ME)
    assert response.status_code == 401 and response.json()["code"] == "token_not_valid"


def test_a_token_differing_by_one_character_from_a_kept_one_is_refused(api, owner_a):
    access = api.post(TOKEN, {"email": owner_a.user.email, "password": PASSWORD}).json()["access"]
    assert _bearer(api, access).get(ME).status_code == 200
    header, payload, signature = access.split(".")
    forged_signature = signature[:-2] + ("AA" if not signature.endswith("AA") else "BB")
    for forged in [f"{header}.{payload}.{forged_signature}", f"{header}.{payload}x.{signature}", access + "x"]:
        response = _bearer(api, forged).get(ME)
        assert response.status_code == 401, forged
        assert response.json()["code"] == "token_not_valid"


def test_the_kept_tokens_are_bounded():
    from rest_framework_simplejwt.tokens import AccessToken

    from tenants import tokens

    tokens.forget_verified_tokens()
    raws = []
    for _ in range(tokens._VERIFIED_MAX + 10):
        token = AccessToken()
        raws.append(str(token))
    for raw in raws:
        assert tokens.verified_access_token(raw).payload["jti"]
    assert len(tokens._verified) == tokens._VERIFIED_MAX
    assert raws[0] not in tokens._verified and raws[-1] in tokens._verified
    kept = tokens.verified_access_token(raws[-1])
    kept.payload["jti"] = "changed"  # a caller's copy: the kept payload stays as verified
    assert tokens.verified_access_token(raws[-1]).payload["jti"] != "changed"
    tokens.forget_verified_tokens()
