"""The pages the emails link to: the links in today's invitation and password-reset
emails open these pages, and following them works end to end."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from tenants import services
from tenants.context import tenant_context
from tenants.tests.factories import PASSWORD, make_member, make_user
from web.tests.helpers import console_client

pytestmark = pytest.mark.django_db


def _invite(owner: Any, email: str, role: str, capture: Any) -> None:
    with tenant_context(owner.tenant), capture(execute=True):
        services.invitation_create(actor=owner, email=email, role=role)


def _link(path: str) -> str:
    """The path and query of the emailed link to ``path``."""
    body = str(mail.outbox[-1].body)
    match = re.search(rf"https?://[^/\s]+({re.escape(path)}\?token=\S+)", body)
    assert match, body
    return match.group(1)


def test_the_password_reset_email_link_lets_the_user_choose_a_new_password(owner_a, django_capture_on_commit_callbacks):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/password-reset/", {"email": owner_a.user.email})
    assert response["Location"] == "/login/"
    link = _link("/reset-password/")
    page = client.get(link)
    assert page.status_code == 200 and "Choose a new password" in page.content.decode()
    weak = client.post(link, {"new_password": "short"})
    assert weak.status_code == 400
    done = client.post(link, {"new_password": "a brand new passphrase 7"})
    assert done["Location"] == "/login/"
    again = client.post(link, {"new_password": "yet another passphrase 8"})
    assert again.status_code == 400 and "invalid or has expired" in again.content.decode()
    assert (
        client.post("/login/", {"email": owner_a.user.email, "password": "a brand new passphrase 7"}).status_code == 302
    )


def test_a_reset_request_for_an_unknown_address_says_the_same_and_sends_nothing():
    response = Client().post("/password-reset/", {"email": "nobody@example.com"}, follow=True)
    assert "If an account exists for that address" in response.content.decode()
    assert mail.outbox == []


def test_an_invited_new_user_creates_an_account_and_lands_in_the_workspace(owner_a, django_capture_on_commit_callbacks):
    _invite(owner_a, "new.clerk@example.com", "clerk", django_capture_on_commit_callbacks)
    link = _link("/accept-invitation/")
    client = Client()
    page = client.get(link).content.decode()
    assert "Join Alpha Ltd" in page and "as <strong>clerk</strong>" in page
    response = client.post(link, {"full_name": "New Clerk", "password": "a sturdy passphrase 42"})
    assert response["Location"] == "/app/alpha/"
    assert client.get("/app/alpha/").status_code == 200
    assert client.get(link).status_code == 409  # used


def test_an_invited_existing_user_accepts_then_logs_in(owner_a, tenant_b, django_capture_on_commit_callbacks):
    existing = make_member(tenant_b, "owner")
    _invite(owner_a, existing.user.email, "viewer", django_capture_on_commit_callbacks)
    link = _link("/accept-invitation/")
    client = Client()
    assert "You already have a Stockroom account" in client.get(link).content.decode()
    response = client.post(link)
    assert response["Location"] == "/login/?next=/app/alpha/"
    signed_in = console_client(existing)
    assert signed_in.get("/app/alpha/").status_code == 200


@pytest.mark.parametrize("token", ["", "garbage", "a" * 5000, "%00"])
def test_a_broken_invitation_link_gets_a_clear_page(token):
    response = Client().get(f"/accept-invitation/?token={token}")
    assert response.status_code == 400 and "This invitation link is invalid." in response.content.decode()


def test_accepting_for_someone_else_never_signs_in_as_them(owner_a, django_capture_on_commit_callbacks):
    other = make_user(email="other@example.com")
    _invite(owner_a, other.email, "viewer", django_capture_on_commit_callbacks)
    link = _link("/accept-invitation/")
    client = Client()
    client.post(link)
    assert client.get("/app/alpha/").status_code == 302  # not signed in
    assert client.post("/login/", {"email": other.email, "password": PASSWORD}).status_code == 302
    assert client.get("/app/alpha/").status_code == 200  # the invitation was accepted for them
