"""The console's billing page on the real stack, with Stripe replaced at the network
boundary (billing/tests/fake_stripe.py): plan, status and usage; owners go to Checkout,
owners and admins to the Portal; others are refused and nothing reaches Stripe; the
subscription that arrives by webhook shows on the page; past due shows everywhere."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from billing.tests.helpers import checkout_completed, deliver, event
from inventory.tests.factories import make_warehouse
from tenants.context import tenant_context
from tenants.models import BillingStatus, Role
from tenants.services import tenant_plan_apply
from tenants.tests.factories import make_member, make_tenant
from web.tests.helpers import console_client, page_queries

pytestmark = pytest.mark.django_db

PAGE = "/app/shop/settings/billing/"
CHECKOUT = "/app/shop/settings/billing/checkout/"
PORTAL = "/app/shop/settings/billing/portal/"


@pytest.fixture
def shop():
    return make_tenant(name="Corner Shop", slug="shop", plan_code="free")


@pytest.fixture
def owner(shop):
    return make_member(shop, Role.OWNER)


def test_the_page_shows_the_plan_the_usage_and_the_plans_to_subscribe_to(fake_stripe, shop, owner):
    with tenant_context(shop):
        make_warehouse("MAIN")
    client = console_client(owner)

    page = client.get(PAGE).content.decode()

    assert 'data-plan="free"' in page and "No subscription" in page
    assert 'data-limit="warehouses"' in page and "Over the limit" not in page
    for code in ("starter", "pro", "enterprise"):
        assert f'data-plan-card="{code}"' in page
    assert "Start a 14-day trial" in page
    assert "Billing is not set up" not in page


def test_an_owner_goes_to_stripe_checkout_for_the_plan_chosen(fake_stripe, shop, owner):
    client = console_client(owner)

    response = client.post(CHECKOUT, {"plan": "pro"})

    assert response.status_code == 303
    assert response["Location"].startswith("https://checkout.stripe.com/c/pay/cs_test_")
    (session,) = fake_stripe.posts("/v1/checkout/sessions")
    assert session.params["client_reference_id"] == str(shop.pk)
    assert session.params["line_items[0][price]"] == "price_pro"
    assert session.params["success_url"] == "http://testserver/app/shop/settings/billing/?checkout=success"


@pytest.mark.parametrize(("role", "page_status"), [(Role.ADMIN, 200), (Role.MANAGER, 404), (Role.VIEWER, 404)])
def test_only_an_owner_subscribes_and_others_reach_nothing(fake_stripe, shop, owner, role, page_status):
    client = console_client(make_member(shop, role))

    page = client.get(PAGE)
    refused = client.post(CHECKOUT, {"plan": "pro"})

    assert page.status_code in {page_status, 403}
    if page_status == 200:
        assert "An owner can subscribe." in page.content.decode()
    assert refused.status_code in {403, 404}
    assert fake_stripe.posts("/v1/checkout/sessions") == []


def test_a_plan_that_is_not_for_sale_is_refused_before_stripe(fake_stripe, shop, owner):
    client = console_client(owner)

    for plan in ("free", "gold", ""):
        response = client.post(CHECKOUT, {"plan": plan}, follow=True)
        assert "Choose one of the paid plans." in response.content.decode()
    assert fake_stripe.posts("/v1/checkout/sessions") == []


def test_without_a_stripe_key_the_page_says_billing_is_not_set_up(settings, shop, owner):
    settings.STRIPE_SECRET_KEY = ""
    client = console_client(owner)

    page = client.get(PAGE).content.decode()
    response = client.post(CHECKOUT, {"plan": "pro"}, follow=True)

    assert "Billing is not set up on this server" in page
    assert "Start a 14-day trial" not in page
    assert response.status_code == 200 and "not configured" in response.content.decode().lower()


def test_the_subscription_stripe_reports_shows_on_the_page_with_the_raised_limits(
    fake_stripe, shop, owner, django_capture_on_commit_callbacks
):
    client = console_client(owner)
    client.post(CHECKOUT, {"plan": "pro"})
    customer = next(iter(fake_stripe.customers))
    trial_end = int((timezone.now() + timedelta(days=14)).timestamp())
    subscription = fake_stripe.subscription_put(
        "sub_web", customer=customer, price="price_pro", status="trialing", tenant_id=str(shop.pk), trial_end=trial_end
    )
    api = APIClient()

    completed = checkout_completed(tenant_id=str(shop.pk), customer=customer, subscription=subscription["id"])
    with django_capture_on_commit_callbacks(execute=True):  # the processing task, queued on commit
        deliver(api, event("checkout.session.completed", completed))
    with django_capture_on_commit_callbacks(execute=True):
        deliver(api, event("customer.subscription.created", subscription))
    page = client.get(PAGE).content.decode()

    assert 'data-plan="pro"' in page and "Trialing" in page
    assert 'data-banner="trial"' in page
    assert "Change plan in the billing portal." in page
    portal = client.post(PORTAL)
    assert portal.status_code == 303 and portal["Location"].startswith("https://billing.stripe.com/p/session/")


def test_past_due_shows_a_banner_on_every_console_page_until_the_grace_ends(fake_stripe, shop, owner):
    grace = timezone.now() + timedelta(days=3)
    tenant_plan_apply(tenant_id=shop.pk, plan_code="pro", billing_status=BillingStatus.PAST_DUE, grace_ends_at=grace)
    client = console_client(owner)

    dashboard = client.get("/app/shop/").content.decode()
    billing = client.get(PAGE).content.decode()

    assert 'data-banner="past-due"' in dashboard and "Go to billing" in dashboard
    assert 'data-banner="past-due"' in billing and 'data-plan="pro"' in billing
    tenant_plan_apply(
        tenant_id=shop.pk,
        plan_code="pro",
        billing_status=BillingStatus.PAST_DUE,
        grace_ends_at=timezone.now() - timedelta(minutes=1),
    )
    assert 'data-plan="free"' in client.get(PAGE).content.decode()


def test_a_downgraded_workspace_sees_its_usage_over_the_limit(fake_stripe, shop, owner):
    shop, _ = tenant_plan_apply(tenant_id=shop.pk, plan_code="pro", billing_status=BillingStatus.ACTIVE)
    with tenant_context(shop):
        make_warehouse("A"), make_warehouse("B")
    tenant_plan_apply(tenant_id=shop.pk, plan_code="pro", billing_status=BillingStatus.CANCELED)

    page = console_client(owner).get(PAGE).content.decode()

    assert 'data-banner="ended"' in page and "Over the limit" in page


def test_the_page_runs_a_constant_number_of_queries(fake_stripe, shop, owner):
    client = console_client(owner)
    before = page_queries(client, PAGE)
    with tenant_context(shop):
        make_warehouse("A")
    after = page_queries(client, PAGE)

    assert before == after


def test_the_pages_of_features_off_the_plan_point_to_billing(shop, owner):
    client = console_client(owner)

    for section, text in (("api-keys", "API keys"), ("webhooks", "webhooks"), ("connectors", "the Shopify connector")):
        page = client.get(f"/app/shop/settings/{section}/").content.decode()
        assert 'data-banner="plan"' in page and "See plans" in page, section
        assert text.lower() in page.lower()
    audit = client.get("/app/shop/settings/audit/")
    assert audit.status_code == 403 and "See plans" in audit.content.decode()
