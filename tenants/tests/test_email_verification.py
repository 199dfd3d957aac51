"""Email verification: sign-up emails a signed link; until the address is verified the
user cannot invite anyone (403 ``email_not_verified``, in the service, so the API and the
console obey it alike); accepting an invitation or a password reset proves the address
too; the email survives a broker outage like the others."""

import io
import re
from datetime import timedelta

import pytest
from django.core import mail, signing
from django.core.management import call_command

from tenants.context import tenant_context
from tenants.emails import EMAIL_VERIFICATION_SALT
from tenants.models import EmailVerificationRequest, Invitation, Role, Tenant, User
from tenants.tests.factories import PASSWORD, client_for, make_member, make_tenant, make_user

pytestmark = pytest.mark.django_db

SIGNUP = "/api/v1/signup/"
ME = "/api/v1/auth/me/"
VERIFY = "/api/v1/auth/verify-email/"
RESEND = "/api/v1/auth/verify-email/resend/"
INVITATIONS = "/api/v1/invitations/"
ACCEPT = "/api/v1/invitations/accept/"


def _token() -> str:
    """The token of the last email's verification link."""
    body = mail.outbox[-1].body
    assert "/verify-email/?token=" in body, body
    return body.split("with the token\n")[1].split("\n")[0]


def _signup(api, capture, email="olga@orbit.example"):
    with capture(execute=True):
        response = api.post(SIGNUP, {"company_name": "Orbit Supplies", "email": email, "password": PASSWORD})
    assert response.status_code == 201, response.json()
    body = response.json()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    return body


def _invitations(slug: str) -> int:
    with tenant_context(Tenant.objects.get(slug=slug)):
        return Invitation.objects.count()


def test_signup_emails_a_verification_link_and_the_owner_starts_unverified(api, django_capture_on_commit_callbacks):
    body = _signup(api, django_capture_on_commit_callbacks)

    assert body["user"]["email_verified_at"] is None
    assert [m.to for m in mail.outbox] == [["olga@orbit.example"]]
    assert mail.outbox[0].subject == "Confirm your email address for Stockroom"
    assert re.search(r"https?://\S+/verify-email/\?token=\S+", str(mail.outbox[0].body))
    request = EmailVerificationRequest.objects.get()
    assert request.user.email == "olga@orbit.example" and request.sent_at is not None


def test_an_unverified_owner_cannot_invite_and_nothing_is_written(api, django_capture_on_commit_callbacks):
    _signup(api, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(INVITATIONS, {"email": "colleague@orbit.example", "role": "clerk"})

    assert response.status_code == 403
    assert response.json()["code"] == "email_not_verified"
    assert "Verify your email address" in response.json()["message"]
    assert _invitations("orbit-supplies") == 0
    assert len(mail.outbox) == 1  # the verification email only


def test_the_emailed_token_verifies_the_address_and_then_the_owner_invites(api, django_capture_on_commit_callbacks):
    _signup(api, django_capture_on_commit_callbacks)
    assert api.get(ME).json()["user"]["email_verified_at"] is None  # cached membership, read again below

    verified = api.post(VERIFY, {"token": _token()})
    me = api.get(ME).json()
    with django_capture_on_commit_callbacks(execute=True):
        invited = api.post(INVITATIONS, {"email": "colleague@orbit.example", "role": "clerk"})

    assert verified.status_code == 204
    assert me["user"]["email_verified_at"] is not None  # the same access token goes on working
    assert invited.status_code == 201, invited.json()
    assert mail.outbox[-1].to == ["colleague@orbit.example"]


def test_following_the_link_again_changes_nothing(api, django_capture_on_commit_callbacks):
    _signup(api, django_capture_on_commit_callbacks)
    token = _token()
    api.post(VERIFY, {"token": token})
    first = User.objects.get(email="olga@orbit.example").email_verified_at

    again = api.post(VERIFY, {"token": token})

    assert again.status_code == 204
    assert User.objects.get(email="olga@orbit.example").email_verified_at == first


def _tampered(token: str) -> str:
    return token[:-2] + ("AA" if not token.endswith("AA") else "BB")


@pytest.mark.parametrize(
    "make_token",
    [
        lambda token, user: "garbage",
        lambda token, user: _tampered(token),
        lambda token, user: signing.dumps({"u": str(user.pk), "e": user.email}, salt="stockroom.invitation"),
        lambda token, user: signing.dumps({"u": "not-a-uuid", "e": user.email}, salt=EMAIL_VERIFICATION_SALT),
        lambda token, user: signing.dumps(["a", "list"], salt=EMAIL_VERIFICATION_SALT),
        lambda token, user: signing.dumps({"u": str(user.pk), "e": "other@example.com"}, salt=EMAIL_VERIFICATION_SALT),
    ],
    ids=["garbage", "tampered", "an-invitation-salt", "bad-user-id", "not-an-object", "another-address"],
)
def test_forged_or_tampered_tokens_are_refused_and_verify_nothing(api, django_capture_on_commit_callbacks, make_token):
    _signup(api, django_capture_on_commit_callbacks)
    user = User.objects.get(email="olga@orbit.example")

    response = api.post(VERIFY, {"token": make_token(_token(), user)})

    assert response.status_code == 400
    assert response.json()["fields"]["token"][0]["code"] == "invalid_token"
    assert User.objects.get(pk=user.pk).email_verified_at is None


def test_an_expired_token_is_refused(api, django_capture_on_commit_callbacks, settings):
    _signup(api, django_capture_on_commit_callbacks)
    settings.EMAIL_VERIFICATION_TTL = timedelta(seconds=-1)

    response = api.post(VERIFY, {"token": _token()})

    assert response.status_code == 400 and response.json()["fields"]["token"][0]["code"] == "invalid_token"
    assert User.objects.get(email="olga@orbit.example").email_verified_at is None


def test_a_token_for_an_address_the_account_no_longer_has_is_refused(api, django_capture_on_commit_callbacks):
    _signup(api, django_capture_on_commit_callbacks)
    token = _token()
    User.objects.filter(email="olga@orbit.example").update(email="olga@elsewhere.example")

    response = api.post(VERIFY, {"token": token})

    assert response.status_code == 400
    assert User.objects.get(email="olga@elsewhere.example").email_verified_at is None


def test_resend_emails_a_new_link_until_the_address_is_verified(api, django_capture_on_commit_callbacks):
    _signup(api, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        resent = api.post(RESEND)
    api.post(VERIFY, {"token": _token()})
    with django_capture_on_commit_callbacks(execute=True):
        refused = api.post(RESEND)

    assert resent.status_code == 202 and len(mail.outbox) == 2
    assert refused.status_code == 409 and refused.json()["code"] == "email_already_verified"
    assert len(mail.outbox) == 2 and EmailVerificationRequest.objects.count() == 2


def test_resend_is_throttled(api, django_capture_on_commit_callbacks, monkeypatch):
    from core.api.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"email_verification": "1/hour", "signup": "5/hour"})
    _signup(api, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        first = api.post(RESEND)
        second = api.post(RESEND)

    assert (first.status_code, second.status_code) == (202, 429)
    assert len(mail.outbox) == 2 and EmailVerificationRequest.objects.count() == 2


def test_a_user_created_by_accepting_an_invitation_is_verified(owner_a, api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client_for(owner_a).post(INVITATIONS, {"email": "new.person@example.com", "role": "clerk"})
    token = mail.outbox[-1].body.split("with the token\n")[1].split("\n")[0]

    response = api.post(ACCEPT, {"token": token, "password": "a sturdy passphrase 42"})

    assert response.status_code == 200, response.json()
    assert response.json()["session"]["user"]["email_verified_at"] is not None
    assert User.objects.get(email="new.person@example.com").email_verified_at is not None


def test_an_unverified_user_who_accepts_an_invitation_becomes_verified(
    owner_a, api, django_capture_on_commit_callbacks
):
    elsewhere = make_member(make_tenant(), Role.OWNER, user=make_user(email_verified_at=None))
    with django_capture_on_commit_callbacks(execute=True):
        client_for(owner_a).post(INVITATIONS, {"email": elsewhere.user.email, "role": "viewer"})
    token = mail.outbox[-1].body.split("with the token\n")[1].split("\n")[0]

    assert api.post(ACCEPT, {"token": token}).status_code == 200

    assert User.objects.get(pk=elsewhere.user_id).email_verified_at is not None


def test_a_password_reset_verifies_the_address(api, django_capture_on_commit_callbacks):
    user = make_user(email_verified_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/v1/auth/password-reset/", {"email": user.email})
    token = mail.outbox[-1].body.split("with the token\n")[1].split("\n")[0]

    response = api.post("/api/v1/auth/password-reset/confirm/", {"token": token, "new_password": "a new passphrase 9"})

    assert response.status_code == 204
    assert User.objects.get(pk=user.pk).email_verified_at is not None


def test_the_demo_users_are_verified():
    call_command("seed_demo", stdout=io.StringIO())

    assert not User.objects.filter(email_verified_at__isnull=True).exists()
    assert User.objects.count() >= 3
