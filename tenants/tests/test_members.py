"""Members and invitations: roles, the last owner, single-use expiring invitations."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tenants.context import tenant_context, user_context
from tenants.models import Invitation, Membership, Role, User
from tenants.tests.factories import PASSWORD, client_for, make_member, make_user

pytestmark = pytest.mark.django_db

MEMBERS = "/api/v1/members/"
INVITATIONS = "/api/v1/invitations/"
ACCEPT = "/api/v1/invitations/accept/"


def _member_url(membership):
    return f"{MEMBERS}{membership.pk}/"


# --- Listing ---------------------------------------------------------------------


def test_members_list_is_paginated_searchable_and_filterable(owner_a, owner_b):
    make_member(owner_a.tenant, Role.CLERK, user=make_user(email="carla.clerk@example.com"))
    make_member(owner_a.tenant, Role.VIEWER, user=make_user(email="victor.viewer@example.com"))
    api = client_for(make_member(owner_a.tenant, Role.VIEWER))

    everyone = api.get(MEMBERS).json()
    clerks = api.get(MEMBERS, {"role": "clerk"}).json()
    search = api.get(MEMBERS, {"search": "victor"}).json()
    paged = api.get(MEMBERS, {"page_size": "2", "ordering": "user__email"}).json()

    assert everyone["count"] == 4
    assert owner_b.user.email not in str(everyone)
    assert [m["user"]["email"] for m in clerks["results"]] == ["carla.clerk@example.com"]
    assert [m["user"]["email"] for m in search["results"]] == ["victor.viewer@example.com"]
    assert len(paged["results"]) == 2 and paged["next"]


def test_page_size_is_capped(client_a):
    response = client_a.get(MEMBERS, {"page_size": "100000"})
    assert response.status_code == 200


# --- Roles --------------------------------------------------------------------------


def test_admin_changes_a_role_up_to_their_own(owner_a):
    admin = make_member(owner_a.tenant, Role.ADMIN)
    clerk = make_member(owner_a.tenant, Role.CLERK)
    api = client_for(admin)

    promoted = api.patch(_member_url(clerk), {"role": "admin"})
    too_high = api.patch(_member_url(clerk), {"role": "owner"})

    assert promoted.status_code == 200 and promoted.json()["role"] == "admin"
    assert too_high.status_code == 403 and too_high.json()["code"] == "role_above_own"
    with tenant_context(owner_a.tenant):
        clerk.refresh_from_db()
    assert clerk.role == Role.ADMIN


def test_admin_cannot_touch_an_owner(owner_a):
    admin = make_member(owner_a.tenant, Role.ADMIN)
    api = client_for(admin)

    demote = api.patch(_member_url(owner_a), {"role": "viewer"})
    remove = api.delete(_member_url(owner_a))

    assert demote.status_code == remove.status_code == 403
    with tenant_context(owner_a.tenant):
        owner_a.refresh_from_db()
    assert owner_a.role == Role.OWNER


def test_manager_cannot_change_roles(owner_a):
    manager = make_member(owner_a.tenant, Role.MANAGER)
    clerk = make_member(owner_a.tenant, Role.CLERK)

    response = client_for(manager).patch(_member_url(clerk), {"role": "viewer"})

    assert response.status_code == 403 and response.json()["code"] == "role_required"
    with tenant_context(owner_a.tenant):
        clerk.refresh_from_db()
    assert clerk.role == Role.CLERK


def test_last_owner_can_neither_be_demoted_nor_leave(client_a, owner_a):
    demote = client_a.patch(_member_url(owner_a), {"role": "admin"})
    leave = client_a.delete(_member_url(owner_a))

    assert demote.status_code == leave.status_code == 409
    assert demote.json()["code"] == leave.json()["code"] == "last_owner"
    with tenant_context(owner_a.tenant):
        assert Membership.objects.filter(pk=owner_a.pk, role=Role.OWNER).exists()


def test_an_owner_can_step_down_once_there_is_another(client_a, owner_a):
    second = make_member(owner_a.tenant, Role.OWNER)
    assert client_a.patch(_member_url(owner_a), {"role": "admin"}).status_code == 200
    # Now the second owner is the last one.
    response = client_for(second).delete(_member_url(second))
    assert response.status_code == 409


def test_any_member_can_leave(owner_a):
    viewer = make_member(owner_a.tenant, Role.VIEWER)
    api = client_for(viewer)

    assert api.delete(_member_url(viewer)).status_code == 204
    with tenant_context(owner_a.tenant):
        assert not Membership.objects.filter(pk=viewer.pk).exists()
        assert Membership.objects.filter(pk=owner_a.pk).exists()
    assert api.get("/api/v1/auth/me/").status_code == 401


def test_admin_removes_a_member(client_a, owner_a):
    clerk = make_member(owner_a.tenant, Role.CLERK)
    assert client_a.delete(_member_url(clerk)).status_code == 204
    with tenant_context(owner_a.tenant):
        assert not Membership.objects.filter(pk=clerk.pk).exists()
        assert Membership.objects.filter(pk=owner_a.pk).exists()


def test_invalid_role_value_is_a_field_error(client_a, owner_a):
    clerk = make_member(owner_a.tenant, Role.CLERK)
    response = client_a.patch(_member_url(clerk), {"role": "emperor"})
    assert response.status_code == 400 and response.json()["fields"]["role"][0]["code"] == "invalid_choice"


# --- Invitations ----------------------------------------------------------------------


def _invite(api, django_capture_on_commit_callbacks, email="new.person@example.com", role="clerk"):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(INVITATIONS, {"email": email, "role": role})
    assert response.status_code == 201, response.json()
    token = mail.outbox[-1].body.split("with the token\n")[1].split("\n")[0]
    return response.json(), token


def test_invitation_emails_a_token_that_creates_user_and_membership(
    api, client_a, owner_a, django_capture_on_commit_callbacks
):
    invitation, token = _invite(client_a, django_capture_on_commit_callbacks)

    assert invitation["status"] == "pending"
    assert mail.outbox[0].to == ["new.person@example.com"]
    assert "Alpha Ltd" in mail.outbox[0].subject
    accepted = api.post(ACCEPT, {"token": token, "password": PASSWORD, "full_name": "New Person"})
    assert accepted.status_code == 200, accepted.json()
    body = accepted.json()
    assert body["user_created"] is True and body["role"] == "clerk"
    user = User.objects.get(email="new.person@example.com")
    with tenant_context(owner_a.tenant):
        assert Membership.objects.get(user=user).role == Role.CLERK
    me = api.get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Bearer {body['session']['access']}")
    assert me.json()["tenant"]["slug"] == "alpha"


def test_invitation_token_is_single_use(api, client_a, django_capture_on_commit_callbacks):
    _, token = _invite(client_a, django_capture_on_commit_callbacks)
    assert api.post(ACCEPT, {"token": token, "password": PASSWORD}).status_code == 200

    again = api.post(ACCEPT, {"token": token, "password": PASSWORD})

    assert again.status_code == 409 and again.json()["code"] == "invitation_accepted"


def test_invitation_for_existing_user_adds_membership_without_password(
    api, client_a, owner_b, django_capture_on_commit_callbacks
):
    _, token = _invite(client_a, django_capture_on_commit_callbacks, email=owner_b.user.email.upper())

    accepted = api.post(ACCEPT, {"token": token})

    assert accepted.status_code == 200
    assert accepted.json()["user_created"] is False and accepted.json()["session"] is None
    with user_context(owner_b.user_id):  # the user's own memberships, in every workspace
        slugs = set(Membership.objects.filter(user=owner_b.user).values_list("tenant__slug", flat=True))
    assert slugs == {"alpha", "beta"}


def test_expired_invitation_is_refused(api, client_a, owner_a, django_capture_on_commit_callbacks):
    invitation, token = _invite(client_a, django_capture_on_commit_callbacks)
    with tenant_context(owner_a.tenant):
        Invitation.objects.filter(pk=invitation["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = api.post(ACCEPT, {"token": token, "password": PASSWORD})

    assert response.status_code == 409 and response.json()["code"] == "invitation_expired"
    assert not User.objects.filter(email="new.person@example.com").exists()


def test_revoked_invitation_is_refused(api, client_a, django_capture_on_commit_callbacks):
    invitation, token = _invite(client_a, django_capture_on_commit_callbacks)
    assert client_a.delete(f"{INVITATIONS}{invitation['id']}/").status_code == 204

    response = api.post(ACCEPT, {"token": token, "password": PASSWORD})

    assert response.status_code == 409 and response.json()["code"] == "invitation_revoked"


def test_reinviting_replaces_the_pending_invitation(api, client_a, django_capture_on_commit_callbacks):
    _, first_token = _invite(client_a, django_capture_on_commit_callbacks)
    _, second_token = _invite(client_a, django_capture_on_commit_callbacks, role="viewer")

    assert api.post(ACCEPT, {"token": first_token, "password": PASSWORD}).json()["code"] == "invitation_revoked"
    assert api.post(ACCEPT, {"token": second_token, "password": PASSWORD}).json()["role"] == "viewer"


def test_new_user_must_choose_a_valid_password(api, client_a, django_capture_on_commit_callbacks):
    _, token = _invite(client_a, django_capture_on_commit_callbacks)

    missing = api.post(ACCEPT, {"token": token})
    weak = api.post(ACCEPT, {"token": token, "password": "123"})

    assert missing.status_code == weak.status_code == 400
    assert "password" in missing.json()["fields"] and "password" in weak.json()["fields"]
    assert not User.objects.filter(email="new.person@example.com").exists()


def test_forged_or_tampered_invitation_tokens_are_refused(api, client_a, django_capture_on_commit_callbacks):
    _, token = _invite(client_a, django_capture_on_commit_callbacks)
    for forged in ["garbage", token[:-2] + "xx", "", "a:b:c"]:
        response = api.post(ACCEPT, {"token": forged, "password": PASSWORD})
        assert response.status_code == 400, forged


def test_cannot_invite_above_own_role_or_an_existing_member(owner_a, django_capture_on_commit_callbacks):
    admin = make_member(owner_a.tenant, Role.ADMIN)
    api = client_for(admin)

    above = api.post(INVITATIONS, {"email": "boss@example.com", "role": "owner"})
    member = api.post(INVITATIONS, {"email": owner_a.user.email, "role": "clerk"})

    assert above.status_code == 403 and above.json()["code"] == "role_above_own"
    assert member.status_code == 409 and member.json()["code"] == "already_member"
    with tenant_context(owner_a.tenant):
        assert Invitation.objects.count() == 0


def test_clerk_cannot_invite_or_list_invitations(owner_a):
    api = client_for(make_member(owner_a.tenant, Role.CLERK))
    assert api.get(INVITATIONS).status_code == 403
    assert api.post(INVITATIONS, {"email": "x@example.com", "role": "viewer"}).status_code == 403


def test_revoke_invitation_removes_it_from_the_api(api, client_a, django_capture_on_commit_callbacks):
    invitation, token = _invite(client_a, django_capture_on_commit_callbacks)
    assert client_a.delete(f"{INVITATIONS}{invitation['id']}/").status_code == 204

    assert client_a.get(f"{INVITATIONS}{invitation['id']}/").status_code == 404
    assert client_a.get(INVITATIONS).json()["count"] == 0
    assert client_a.delete(f"{INVITATIONS}{invitation['id']}/").status_code == 404
    assert api.post(ACCEPT, {"token": token, "password": PASSWORD}).json()["code"] == "invitation_revoked"


def test_invitation_list_filters_pending(client_a, owner_a, django_capture_on_commit_callbacks):
    pending, _ = _invite(client_a, django_capture_on_commit_callbacks, email="one@example.com")
    revoked, _ = _invite(client_a, django_capture_on_commit_callbacks, email="two@example.com")
    client_a.delete(f"{INVITATIONS}{revoked['id']}/")

    listed = client_a.get(INVITATIONS, {"pending": "true"}).json()

    assert [i["id"] for i in listed["results"]] == [pending["id"]]


# --- Workspace settings ----------------------------------------------------------------


def test_admin_renames_workspace_and_viewer_cannot(owner_a):
    viewer = client_for(make_member(owner_a.tenant, Role.VIEWER))

    assert (
        client_for(owner_a).patch("/api/v1/tenant/", {"name": "Alpha Group", "currency": "EUR"}).json()["currency"]
        == "EUR"
    )
    assert viewer.get("/api/v1/tenant/").json()["name"] == "Alpha Group"
    assert viewer.patch("/api/v1/tenant/", {"name": "Hacked"}).status_code == 403


def test_patch_member_without_a_role_changes_nothing(client_a, owner_a):
    response = client_a.patch(f"{MEMBERS}{owner_a.id}/", {})
    assert response.status_code == 200 and response.json()["role"] == "owner"
