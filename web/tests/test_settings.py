"""The console's settings on the real stack (sessions, Row Level Security, services):
members and invitations, the workspace, the profile, and email verification. Roles as
in the API, the last owner, hostile input answered with form errors, query counts that
do not grow with the data; each refusal also checks that nothing was written."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.tests.factories import make_product, make_warehouse, receive
from orders.models import DocumentSequence, SequenceKind
from tenants.context import tenant_context
from tenants.models import Invitation, Membership, Role, Tenant, User
from tenants.tests.factories import PASSWORD, make_member, make_user
from web.tests.helpers import console_client

pytestmark = pytest.mark.django_db

MEMBERS = "/app/alpha/settings/members/"
INVITE = "/app/alpha/settings/members/invite/"
WORKSPACE = "/app/alpha/settings/workspace/"
NUMBERING = "/app/alpha/settings/workspace/numbering/"
PROFILE = "/app/alpha/settings/profile/"
PASSWORD_CHANGE = "/app/alpha/settings/profile/password/"
RESEND = "/app/alpha/settings/profile/verify-email/"
NEW_PASSWORD = "a brand new passphrase 7"


@pytest.fixture
def owner(owner_a):
    return console_client(owner_a)


def _member(membership: Membership, action: str = "") -> str:
    return f"{MEMBERS}{membership.id}/{action}"


def _invitations(tenant: Tenant) -> list[tuple[str, str, bool]]:
    with tenant_context(tenant):
        return [(i.email, i.role, i.revoked_at is not None) for i in Invitation.objects.order_by("email")]


def _role(membership: Membership) -> str | None:
    with tenant_context(membership.tenant):
        return Membership.objects.filter(pk=membership.pk).values_list("role", flat=True).first()


def _invite(tenant: Tenant, email: str, role: str = Role.CLERK) -> Invitation:
    with tenant_context(tenant):
        return Invitation.objects.create(email=email, role=role, expires_at=timezone.now() + timedelta(days=7))


def _link(path: str) -> str:
    match = re.search(rf"https?://[^/\s]+({re.escape(path)}\?token=\S+)", str(mail.outbox[-1].body))
    assert match, mail.outbox[-1].body
    return match.group(1)


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries)


# --- Members ---------------------------------------------------------------------------


def test_members_page_lists_members_roles_and_pending_invitations(owner, tenant_a):
    clerk = make_member(tenant_a, Role.CLERK, user=make_user(email="carl@example.com", full_name="Carl Clerk"))
    _invite(tenant_a, "new.person@example.com", Role.VIEWER)
    page = owner.get(MEMBERS).content.decode()
    assert "<title>Members · Alpha Ltd · Stockroom</title>" in page
    assert "Carl Clerk" in page and "carl@example.com" in page and ">Clerk</span>" in page
    assert "1\u20132 of 2 members" in page
    assert f'href="{_member(clerk)}"' in page
    assert (
        "new.person@example.com" in page and 'data-confirm="Revoke the invitation to new.person@example.com?"' in page
    )
    assert 'href="/app/alpha/settings/members/" aria-current="page"' in page  # the sidebar entry is a link


def test_members_page_runs_a_constant_number_of_queries(owner, tenant_a):
    make_member(tenant_a, Role.CLERK)
    _invite(tenant_a, "one@example.com")
    few = _queries(owner, MEMBERS)
    for n in range(30):
        make_member(tenant_a, Role.VIEWER)
        _invite(tenant_a, f"more-{n}@example.com")
    assert _queries(owner, MEMBERS) == few
    assert _queries(owner, f"{MEMBERS}?page=2&invitations_page=2") == few


@pytest.mark.parametrize("query", ["?page=-1", "?page=abc", "?page=99999999999999999999", "?invitations_page=%00"])
def test_members_page_answers_hostile_query_strings(owner, query):
    assert owner.get(f"{MEMBERS}{query}").status_code == 200


def test_invite_emails_the_link_and_lists_the_invitation(owner, tenant_a, django_capture_on_commit_callbacks):
    page = owner.get(INVITE).content.decode()
    assert "<title>Invite a member · Alpha Ltd · Stockroom</title>" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(INVITE, {"email": "New.Clerk@Example.com", "role": "clerk"})
    assert response["Location"] == MEMBERS
    assert "Invitation sent to new.clerk@example.com as clerk." in owner.get(MEMBERS).content.decode()
    assert _invitations(tenant_a) == [("new.clerk@example.com", "clerk", False)]
    assert mail.outbox[-1].to == ["new.clerk@example.com"] and "/accept-invitation/?token=" in mail.outbox[-1].body


def test_an_unverified_owner_cannot_invite_and_sees_why(tenant_a, django_capture_on_commit_callbacks):
    unverified = make_member(tenant_a, Role.OWNER, user=make_user(email_verified_at=None))
    client = console_client(unverified)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(INVITE, {"email": "someone@example.com", "role": "viewer"})
    assert response.status_code == 400
    assert "Verify your email address before inviting anyone" in response.content.decode()
    assert _invitations(tenant_a) == [] and mail.outbox == []


@pytest.mark.parametrize(
    "body",
    [
        {"email": "x@example.com", "role": "owner"},  # above an admin's own role
        {"email": "x@example.com", "role": "superuser"},
        {"email": "not an email", "role": "clerk"},
        {"email": "x" * 300 + "@example.com", "role": "clerk"},
        {"email": "x@example.com\x00", "role": "clerk"},
        {"email": ["a@example.com", "b@example.com"], "role": ["clerk", "owner"]},
        {},
    ],
)
def test_invite_answers_hostile_input_with_form_errors(tenant_a, body):
    admin = console_client(make_member(tenant_a, Role.ADMIN))
    response = admin.post(INVITE, body)
    assert response.status_code == 400 and "is-invalid" in response.content.decode()
    assert _invitations(tenant_a) == []


def test_an_admin_is_offered_the_roles_up_to_their_own(tenant_a):
    admin = console_client(make_member(tenant_a, Role.ADMIN))
    page = admin.get(INVITE).content.decode()
    assert '<option value="admin"' in page and '<option value="owner"' not in page


def test_inviting_a_member_is_the_services_error_on_the_form(owner, tenant_a):
    clerk = make_member(tenant_a, Role.CLERK)
    response = owner.post(INVITE, {"email": clerk.user.email, "role": "viewer"})
    assert response.status_code == 400
    assert "This person is already a member of the workspace." in response.content.decode()
    assert _invitations(tenant_a) == []


def test_a_manager_sees_no_invitations_and_is_refused_by_the_server(tenant_a):
    manager = console_client(make_member(tenant_a, Role.MANAGER))
    _invite(tenant_a, "secret.invitee@example.com")
    page = manager.get(MEMBERS).content.decode()
    assert "Invite a member" not in page and "secret.invitee@example.com" not in page
    assert manager.get(INVITE).status_code == 403
    assert manager.post(INVITE, {"email": "x@example.com", "role": "viewer"}).status_code == 403
    assert _invitations(tenant_a) == [("secret.invitee@example.com", "clerk", False)]


def test_an_owner_changes_a_members_role(owner, tenant_a):
    clerk = make_member(tenant_a, Role.CLERK, user=make_user(full_name="Carl Clerk"))
    page = owner.get(_member(clerk)).content.decode()
    assert "<title>Carl Clerk · Alpha Ltd · Stockroom</title>" in page and "Save the role" in page
    response = owner.post(_member(clerk), {"role": "manager"})
    assert response["Location"] == _member(clerk)
    assert "Carl Clerk is now manager." in owner.get(_member(clerk)).content.decode()
    assert _role(clerk) == Role.MANAGER


@pytest.mark.parametrize("role", ["superuser", "", "OWNER", "x" * 1000])
def test_a_bad_role_is_a_form_error(owner, tenant_a, role):
    clerk = make_member(tenant_a, Role.CLERK)
    response = owner.post(_member(clerk), {"role": role})
    assert response.status_code == 400 and 'id="id_role_error"' in response.content.decode()
    assert _role(clerk) == Role.CLERK


def test_an_admin_can_neither_change_nor_remove_an_owner(owner_a, tenant_a):
    admin = console_client(make_member(tenant_a, Role.ADMIN))
    page = admin.get(_member(owner_a)).content.decode()
    assert "Save the role" not in page and "Remove" not in page
    assert admin.post(_member(owner_a), {"role": "viewer"}).status_code == 403
    assert admin.post(_member(owner_a, "remove/")).status_code == 403
    assert _role(owner_a) == Role.OWNER


def test_a_clerk_can_change_nobodys_role(tenant_a):
    clerk = make_member(tenant_a, Role.CLERK)
    viewer = make_member(tenant_a, Role.VIEWER)
    client = console_client(clerk)
    assert "Save the role" not in client.get(_member(viewer)).content.decode()
    assert client.post(_member(viewer), {"role": "clerk"}).status_code == 403
    assert client.post(_member(clerk), {"role": "owner"}).status_code == 403
    assert _role(viewer) == Role.VIEWER and _role(clerk) == Role.CLERK


def test_the_last_owner_can_neither_step_down_nor_leave(owner, owner_a):
    stepping_down = owner.post(_member(owner_a), {"role": "admin"})
    assert stepping_down.status_code == 400
    assert "A workspace must keep at least one owner." in stepping_down.content.decode()
    leaving = owner.post(_member(owner_a, "remove/"))
    assert leaving.status_code == 409 and "A workspace must keep at least one owner." in leaving.content.decode()
    assert _role(owner_a) == Role.OWNER


def test_an_owner_steps_down_once_there_is_another(owner, owner_a, tenant_a):
    make_member(tenant_a, Role.OWNER)
    assert owner.post(_member(owner_a), {"role": "admin"}).status_code == 302
    assert _role(owner_a) == Role.ADMIN


def test_removing_a_member_asks_first_naming_them(owner, tenant_a):
    clerk = make_member(tenant_a, Role.CLERK, user=make_user(email="carl@example.com", full_name="Carl Clerk"))
    page = owner.get(_member(clerk)).content.decode()
    assert 'data-confirm="Remove Carl Clerk (carl@example.com) from Alpha Ltd?"' in page
    response = owner.post(_member(clerk, "remove/"))
    assert response["Location"] == MEMBERS
    assert "Carl Clerk was removed from Alpha Ltd." in owner.get(MEMBERS).content.decode()
    assert _role(clerk) is None
    assert owner.post(_member(clerk, "remove/")).status_code == 404  # already gone
    assert User.objects.filter(pk=clerk.user_id).exists()  # the account stays


def test_any_member_can_leave_and_no_one_else_can_be_removed_by_them(tenant_a):
    viewer = make_member(tenant_a, Role.VIEWER)
    clerk = make_member(tenant_a, Role.CLERK)
    client = console_client(viewer)
    assert client.post(_member(clerk, "remove/")).status_code == 403
    assert _role(clerk) == Role.CLERK
    assert 'data-confirm="Leave Alpha Ltd?"' in client.get(_member(viewer)).content.decode()
    response = client.post(_member(viewer, "remove/"))
    assert response["Location"] == "/app/"
    assert _role(viewer) is None
    assert client.get("/app/alpha/").status_code == 404


def test_remove_and_revoke_take_only_posts(owner, owner_a, tenant_a):
    invitation = _invite(tenant_a, "x@example.com")
    assert owner.get(_member(owner_a, "remove/")).status_code == 405
    assert owner.get(f"{MEMBERS}invitations/{invitation.id}/revoke/").status_code == 405
    assert _role(owner_a) == Role.OWNER and _invitations(tenant_a) == [("x@example.com", "clerk", False)]


def test_revoke_an_invitation(owner, tenant_a):
    invitation = _invite(tenant_a, "gone@example.com")
    url = f"{MEMBERS}invitations/{invitation.id}/revoke/"
    assert owner.post(url)["Location"] == MEMBERS
    assert "The invitation to gone@example.com is revoked." in owner.get(MEMBERS).content.decode()
    assert _invitations(tenant_a) == [("gone@example.com", "clerk", True)]
    assert owner.post(url).status_code == 404


def test_an_accepted_invitation_cannot_be_revoked(owner, tenant_a):
    invitation = _invite(tenant_a, "took@example.com")
    with tenant_context(tenant_a):
        Invitation.objects.filter(pk=invitation.pk).update(accepted_at=timezone.now())
    response = owner.post(f"{MEMBERS}invitations/{invitation.id}/revoke/", follow=True)
    assert "was not revoked: Only a pending invitation can be revoked." in response.content.decode()
    assert _invitations(tenant_a) == [("took@example.com", "clerk", False)]


def test_a_clerk_cannot_revoke_invitations(tenant_a):
    invitation = _invite(tenant_a, "stay@example.com")
    clerk = console_client(make_member(tenant_a, Role.CLERK))
    assert clerk.post(f"{MEMBERS}invitations/{invitation.id}/revoke/").status_code == 403
    assert _invitations(tenant_a) == [("stay@example.com", "clerk", False)]


def test_settings_posts_without_a_csrf_token_are_refused(owner_a, tenant_a):
    client = Client(enforce_csrf_checks=True)
    token = client.get("/login/").cookies["csrftoken"].value
    client.post("/login/", {"email": owner_a.user.email, "password": PASSWORD, "csrfmiddlewaretoken": token})
    assert client.post(INVITE, {"email": "x@example.com", "role": "clerk"}).status_code == 403
    assert client.post(WORKSPACE, {"name": "Hijacked", "currency": "EUR"}).status_code == 403
    assert _invitations(tenant_a) == []
    assert Tenant.objects.get(pk=tenant_a.pk).name == "Alpha Ltd"


# --- Workspace ---------------------------------------------------------------------------


def test_an_admin_renames_the_workspace_and_changes_its_currency(tenant_a):
    admin = console_client(make_member(tenant_a, Role.ADMIN))
    page = admin.get(WORKSPACE).content.decode()
    assert "<title>Workspace settings · Alpha Ltd · Stockroom</title>" in page and "SO-000001" in page
    response = admin.post(WORKSPACE, {"name": "Alpha Trading", "currency": "EUR"})
    assert response["Location"] == WORKSPACE
    assert "Workspace settings saved: Alpha Trading, amounts in EUR." in admin.get(WORKSPACE).content.decode()
    tenant = Tenant.objects.get(pk=tenant_a.pk)
    assert (tenant.name, tenant.currency) == ("Alpha Trading", "EUR")


def test_the_currency_cannot_change_once_there_is_stock(owner, tenant_a):
    with tenant_context(tenant_a):
        receive(make_product(sku="HELD-1"), make_warehouse("MAIN"), 3)
    response = owner.post(WORKSPACE, {"name": "Alpha Ltd", "currency": "EUR"})
    assert response.status_code == 400 and "The currency cannot change once the workspace has stock" in (
        response.content.decode()
    )
    assert Tenant.objects.get(pk=tenant_a.pk).currency == "USD"


@pytest.mark.parametrize(
    "body",
    [
        {"name": "", "currency": "USD"},
        {"name": "x" * 201, "currency": "USD"},
        {"name": "Fine", "currency": "XXX"},
        {"name": "Fine", "currency": "usd"},
        {"name": "Fine", "currency": "\x00"},
    ],
)
def test_workspace_settings_answer_hostile_input_with_form_errors(owner, tenant_a, body):
    response = owner.post(WORKSPACE, body)
    assert response.status_code == 400 and "is-invalid" in response.content.decode()
    tenant = Tenant.objects.get(pk=tenant_a.pk)
    assert (tenant.name, tenant.currency) == ("Alpha Ltd", "USD")


def test_an_admin_sets_the_order_number_prefixes(tenant_a):
    admin = console_client(make_member(tenant_a, Role.ADMIN))
    response = admin.post(NUMBERING, {"sales_prefix": "INV", "purchase_prefix": "BUY"})
    assert response["Location"] == WORKSPACE
    page = admin.get(WORKSPACE).content.decode()
    assert 'data-next="sales">INV-000001</span>' in page and 'data-next="purchase">BUY-000001</span>' in page
    assert "the next sales order is INV-000001, the next purchase order BUY-000001." in page
    with tenant_context(tenant_a):
        assert dict(DocumentSequence.objects.values_list("kind", "prefix")) == {
            SequenceKind.SALES: "INV",
            SequenceKind.PURCHASE: "BUY",
        }


@pytest.mark.parametrize(
    "body",
    [
        {"sales_prefix": "S O", "purchase_prefix": "PO"},
        {"sales_prefix": "X" * 13, "purchase_prefix": "PO"},
        {"sales_prefix": "", "purchase_prefix": "PO"},
        {"sales_prefix": "SO", "purchase_prefix": "P/O"},
        {"sales_prefix": "SØ", "purchase_prefix": "PO"},
    ],
)
def test_bad_prefixes_are_form_errors(owner, tenant_a, body):
    response = owner.post(NUMBERING, body)
    assert response.status_code == 400 and "is-invalid" in response.content.decode()
    with tenant_context(tenant_a):
        assert not DocumentSequence.objects.exists()


def test_a_manager_reads_the_workspace_settings_but_cannot_change_them(tenant_a):
    manager = console_client(make_member(tenant_a, Role.MANAGER))
    page = manager.get(WORKSPACE).content.decode()
    assert "Alpha Ltd" in page and "Save the workspace" not in page and "Save the numbering" not in page
    assert manager.post(WORKSPACE, {"name": "Mine now", "currency": "USD"}).status_code == 403
    assert manager.post(NUMBERING, {"sales_prefix": "MINE", "purchase_prefix": "MINE"}).status_code == 403
    assert Tenant.objects.get(pk=tenant_a.pk).name == "Alpha Ltd"
    with tenant_context(tenant_a):
        assert not DocumentSequence.objects.exists()


# --- Profile ---------------------------------------------------------------------------


def test_a_viewer_changes_their_name(tenant_a):
    viewer = make_member(tenant_a, Role.VIEWER)
    client = console_client(viewer)
    page = client.get(PROFILE).content.decode()
    assert "<title>Your profile · Alpha Ltd · Stockroom</title>" in page
    assert client.post(PROFILE, {"full_name": "Vera Viewer"})["Location"] == PROFILE
    assert User.objects.get(pk=viewer.user_id).full_name == "Vera Viewer"
    too_long = client.post(PROFILE, {"full_name": "x" * 201})
    assert too_long.status_code == 400 and 'id="id_full_name_error"' in too_long.content.decode()
    assert User.objects.get(pk=viewer.user_id).full_name == "Vera Viewer"


def test_a_password_change_keeps_this_session_and_ends_the_others(owner_a):
    this, other = console_client(owner_a), console_client(owner_a)
    response = this.post(PASSWORD_CHANGE, {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert response["Location"] == PROFILE
    page = this.get(PROFILE)
    assert page.status_code == 200
    assert "Your password is changed. Your other sessions were logged out." in page.content.decode()
    ended = other.get("/app/alpha/")
    assert ended.status_code == 302 and ended["Location"].startswith("/login/")
    assert Client().post("/login/", {"email": owner_a.user.email, "password": NEW_PASSWORD}).status_code == 302


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"current_password": "not it at all", "new_password": NEW_PASSWORD}, "current_password"),
        ({"current_password": PASSWORD, "new_password": "short"}, "new_password"),
        ({"current_password": PASSWORD, "new_password": "password123"}, "new_password"),
        ({"current_password": PASSWORD, "new_password": "x" * 129}, "new_password"),
        ({"current_password": PASSWORD}, "new_password"),
    ],
)
def test_a_refused_password_change_is_a_field_error_and_changes_nothing(owner_a, body, field):
    client = console_client(owner_a)
    response = client.post(PASSWORD_CHANGE, body)
    assert response.status_code == 400 and f'id="id_{field}_error"' in response.content.decode()
    user = User.objects.get(pk=owner_a.user_id)
    assert user.token_version == owner_a.user.token_version and user.check_password(PASSWORD)
    assert client.get(PROFILE).status_code == 200


def test_password_changes_share_the_apis_rate(owner_a, monkeypatch):
    from core.api.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"password_change": "1/hour"})
    client = console_client(owner_a)
    wrong = {"current_password": "not it at all", "new_password": NEW_PASSWORD}
    assert client.post(PASSWORD_CHANGE, wrong).status_code == 400
    refused = client.post(PASSWORD_CHANGE, {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert refused.status_code == 429 and "Too many password changes" in refused.content.decode()
    assert User.objects.get(pk=owner_a.user_id).check_password(PASSWORD)


# --- Email verification ------------------------------------------------------------------


def test_the_banner_shows_until_the_address_is_verified(tenant_a):
    unverified = console_client(make_member(tenant_a, Role.OWNER, user=make_user(email_verified_at=None)))
    verified = console_client(make_member(tenant_a, Role.VIEWER))
    assert 'data-banner="verify-email"' in unverified.get("/app/alpha/").content.decode()
    assert 'data-banner="verify-email"' not in verified.get("/app/alpha/").content.decode()


def test_signing_up_on_the_web_emails_a_link_that_verifies_the_address(django_capture_on_commit_callbacks):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/signup/",
            {"company_name": "Gamma Co", "email": "gina@gamma.example", "password": "a sturdy passphrase 42"},
        )
    assert response["Location"] == "/app/gamma-co/"
    assert 'data-banner="verify-email"' in client.get("/app/gamma-co/").content.decode()
    assert mail.outbox[-1].to == ["gina@gamma.example"]
    verified = client.get(_link("/verify-email/"))
    assert verified["Location"] == "/app/"
    assert User.objects.get(email="gina@gamma.example").email_verified_at is not None
    page = client.get("/app/gamma-co/").content.decode()
    assert "Thank you: gina@gamma.example is verified." in page and 'data-banner="verify-email"' not in page


def test_resend_emails_a_new_link_and_returns_to_the_page(tenant_a, django_capture_on_commit_callbacks):
    unverified = make_member(tenant_a, Role.CLERK, user=make_user(email_verified_at=None))
    client = console_client(unverified)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RESEND, {"next": "/app/alpha/products/?q=bolt"})
    assert response["Location"] == "/app/alpha/products/?q=bolt"
    assert mail.outbox[-1].to == [unverified.user.email]
    assert f"We sent a new link to {unverified.user.email}." in client.get("/app/alpha/").content.decode()
    anonymous = Client().get(_link("/verify-email/"))  # opened on another device: verified all the same
    assert anonymous["Location"] == "/login/"
    assert User.objects.get(pk=unverified.user_id).email_verified_at is not None


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/app/alpha/", "/app/beta/", "", "/\\evil"])
def test_resend_returns_only_to_this_workspaces_pages(tenant_a, target):
    client = console_client(make_member(tenant_a, Role.CLERK, user=make_user(email_verified_at=None)))
    assert client.post(RESEND, {"next": target})["Location"] == PROFILE


def test_resend_once_verified_says_so_and_sends_nothing(owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(RESEND, follow=True)
    assert "Your email address is already verified." in response.content.decode()
    assert mail.outbox == []


def test_resend_shares_the_apis_rate(tenant_a, monkeypatch, django_capture_on_commit_callbacks):
    from core.api.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"email_verification": "1/hour"})
    client = console_client(make_member(tenant_a, Role.CLERK, user=make_user(email_verified_at=None)))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(RESEND)
        refused = client.post(RESEND, follow=True)
    assert "We sent several links already." in refused.content.decode()
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("token", ["", "garbage", "a" * 5000, "%00", "eyJ1IjoiMSJ9:1abc:forged"])
def test_a_broken_verification_link_gets_a_clear_page(token):
    response = Client().get(f"/verify-email/?token={token}")
    assert response.status_code == 400
    assert "This verification link is invalid or has expired." in response.content.decode()
