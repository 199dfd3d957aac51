"""The public site: landing, sign-up, login (with the API's lockout), logout, the
workspace chooser, error pages, and the security headers of every page."""

from __future__ import annotations

import pytest
from django.test import Client

from tenants.models import Tenant, User
from tenants.tests.factories import PASSWORD, make_member, make_user
from web.tests.helpers import console_client

pytestmark = pytest.mark.django_db


def test_landing_page_says_what_stockroom_does_and_links_to_sign_up():
    response = Client().get("/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Stockroom" in text and 'href="/signup/"' in text and "Plans" in text


def test_every_page_sends_a_content_security_policy_without_inline_scripts():
    response = Client().get("/login/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert "<script>" not in response.content.decode()


def test_signup_creates_the_workspace_and_signs_in():
    client = Client()
    response = client.post(
        "/signup/",
        {"company_name": "Acme Tools", "email": "Ann@Acme.example", "password": "a sturdy passphrase 42"},
    )
    tenant = Tenant.objects.get(name="Acme Tools")
    assert response.status_code == 302 and response["Location"] == f"/app/{tenant.slug}/"
    dashboard = client.get(response["Location"])
    assert dashboard.status_code == 200
    assert "Getting started" in dashboard.content.decode()
    assert User.objects.filter(email="ann@acme.example").exists()


def test_signup_shows_the_services_errors_next_to_the_fields():
    make_user(email="taken@example.com")
    response = Client().post("/signup/", {"company_name": "X", "email": "taken@example.com", "password": "short"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "An account with this email already exists" in text
    assert 'aria-invalid="true"' in text
    assert not Tenant.objects.filter(name="X").exists()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"company_name": "x" * 5000, "email": "a@b.c", "password": "p" * 20},
        {"company_name": "\x00", "email": "not-an-email", "password": ""},
        {"company_name": "Long", "email": "a@example.com", "password": "p" * 100_000},
    ],
)
def test_signup_answers_hostile_input_with_form_errors(body):
    response = Client().post("/signup/", body)
    assert response.status_code == 400
    assert not Tenant.objects.exists()


def test_login_with_one_workspace_goes_straight_to_its_dashboard(tenant_a):
    owner = make_member(tenant_a, "owner")
    client = Client()
    response = client.post("/login/", {"email": owner.user.email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/app/"
    assert client.get("/app/")["Location"] == "/app/alpha/"


def test_login_with_several_workspaces_offers_a_choice(tenant_a, tenant_b):
    owner = make_member(tenant_a, "owner")
    make_member(tenant_b, "viewer", user=owner.user)
    client = console_client(owner)
    page = client.get("/app/").content.decode()
    assert "/app/alpha/" in page and "/app/beta/" in page


def test_login_returns_to_the_page_asked_for_but_never_to_another_site(owner_a):
    client = Client()
    response = client.post("/login/?next=/app/alpha/products/", {"email": owner_a.user.email, "password": PASSWORD})
    assert response["Location"] == "/app/alpha/products/"
    client = Client()
    response = client.post(
        "/login/", {"email": owner_a.user.email, "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/app/"


def test_wrong_password_is_refused_and_counts_towards_the_apis_lockout(owner_a, settings):
    settings.LOGIN_MAX_FAILURES_PER_ACCOUNT = 2
    client = Client()
    for _ in range(2):
        response = client.post("/login/", {"email": owner_a.user.email, "password": "wrong"})
        assert response.status_code == 400
        assert "The email or password is not correct." in response.content.decode()
    # The API's login now refuses too: one counter for both doors.
    api = Client().post(
        "/api/v1/auth/token/",
        {"email": owner_a.user.email, "password": PASSWORD},
        content_type="application/json",
    )
    assert api.status_code == 429
    locked = client.post("/login/", {"email": owner_a.user.email, "password": PASSWORD})
    assert locked.status_code == 400 and "Too many failed login attempts" in locked.content.decode()


def test_logout_ends_the_session_on_the_server(owner_a):
    client = console_client(owner_a)
    assert client.get("/app/alpha/").status_code == 200
    assert client.get("/logout/").status_code == 405  # a link cannot log anybody out
    assert client.post("/logout/")["Location"] == "/login/"
    response = client.get("/app/alpha/")
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")


def test_a_password_change_ends_console_sessions(owner_a):
    from tenants import services

    client = console_client(owner_a)
    services.password_change(membership=owner_a, current_password=PASSWORD, new_password="a brand new passphrase 7")
    response = client.get("/app/alpha/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_console_asks_anonymous_visitors_to_log_in(tenant_a):
    response = Client().get("/app/alpha/products/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=%2Fapp%2Falpha%2Fproducts%2F"


def test_unknown_pages_get_an_html_page_and_the_api_keeps_json():
    page = Client().get("/no-such-page/")
    assert page.status_code == 404 and "text/html" in page["Content-Type"]
    api = Client().get("/api/v1/no-such-thing/")
    assert api.status_code == 404 and api.json()["code"] == "not_found"


def test_terms_and_privacy_say_they_are_placeholders():
    for path in ("/terms/", "/privacy/"):
        assert "This is a placeholder" in Client().get(path).content.decode()


def test_a_suspended_workspace_shows_a_403_page(owner_a):
    client = console_client(owner_a)
    Tenant.objects.filter(pk=owner_a.tenant_id).update(status="suspended")
    response = client.get("/app/alpha/")
    assert response.status_code == 403 and "suspended" in response.content.decode()


def test_signups_share_the_apis_rate(monkeypatch):
    from core.api.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"signup": "2/hour"})
    api = Client().post(
        "/api/v1/signup/",
        {"company_name": "One", "email": "one@example.com", "password": "a sturdy passphrase 42"},
        content_type="application/json",
    )
    assert api.status_code == 201
    web = Client().post(
        "/signup/", {"company_name": "Two", "email": "two@example.com", "password": "a sturdy passphrase 42"}
    )
    assert web.status_code == 302
    refused = Client().post(
        "/signup/", {"company_name": "Three", "email": "three@example.com", "password": "a sturdy passphrase 42"}
    )
    assert refused.status_code == 429 and "Too many sign-ups" in refused.content.decode()
    assert not Tenant.objects.filter(name="Three").exists()


def test_with_redis_down_people_still_sign_up_log_in_and_work(redis_down, tenant_a):
    """The throttles and the login lockout count per process while Redis is unreachable."""
    client = Client()
    response = client.post(
        "/signup/", {"company_name": "Offline Co", "email": "off@example.com", "password": "a sturdy passphrase 42"}
    )
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200
    owner = make_member(tenant_a, "owner")
    signed_in = Client()
    assert signed_in.post("/login/", {"email": owner.user.email, "password": PASSWORD}).status_code == 302
    assert signed_in.get("/app/alpha/products/").status_code == 200


def test_the_console_reads_only_its_session_whatever_authorization_says(owner_a, tenant_b):
    from tenants.tests.factories import make_member as member
    from tenants.tests.factories import tokens_for_membership

    token = tokens_for_membership(owner_a)["access"]
    response = Client().get("/app/beta/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 302 and response["Location"].startswith("/login/")  # a token is no session
    client = console_client(owner_a)
    member(tenant_b, "viewer")
    assert client.get("/app/beta/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 404


@pytest.mark.parametrize("path", ["/app/%00/", "/app/alp%00ha/products/", "/app/" + "a" * 300 + "/"])
def test_a_console_address_that_cannot_name_a_workspace_is_a_404(owner_a, path):
    client = console_client(owner_a)
    assert client.get(path).status_code == 404


def test_console_pages_are_not_stored(owner_a):
    response = console_client(owner_a).get("/app/alpha/")
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_the_pricing_table_is_the_plan_catalogue(client):
    from tenants.plans import PLANS

    page = client.get("/").content.decode()

    for plan in PLANS:
        assert f"${plan.monthly_price_usd}" in page and plan.name in page
    assert "100 products" in page and "2,000 products" in page and "Unlimited products" in page
    assert page.count('class="card card-md h-100"') == len(PLANS)
