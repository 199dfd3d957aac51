"""The billing API end to end against the fake Stripe: sign-up, checkout, the webhook's
events, the raised allowance, and the downgrade back to the free plan's limits."""

from __future__ import annotations

import time

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from billing.models import BillingAccount
from billing.tests.helpers import BILLING, checkout_completed, deliver, event
from inventory.models import Warehouse
from tenants.context import tenant_context
from tenants.models import Role, Tenant
from tenants.services import tenant_plan_apply
from tenants.tests.factories import PASSWORD, client_for, client_for_key, make_api_key, make_member

pytestmark = pytest.mark.django_db

CHECKOUT = "/api/v1/billing/checkout/"
PORTAL = "/api/v1/billing/portal/"
WAREHOUSES = "/api/v1/warehouses/"


def _signup(api: APIClient) -> tuple[APIClient, Tenant]:
    response = api.post(
        "/api/v1/signup/", {"company_name": "Corner Shop", "email": "owner@corner.example", "password": PASSWORD}
    )
    assert response.status_code == 201, response.json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    return client, Tenant.objects.get(slug=response.json()["tenant"]["slug"])


def _warehouse(client: APIClient, code: str):
    return client.post(WAREHOUSES, {"code": code, "name": f"Warehouse {code}"}, format="json")


def _usage(body, limit):
    return next(u for u in body["usage"] if u["limit"] == limit)


def test_signup_checkout_webhooks_raise_the_limit_and_the_downgrade_lowers_it_again(
    api, fake_stripe, django_capture_on_commit_callbacks
):
    client, tenant = _signup(api)
    free = client.get(BILLING).json()
    assert free["plan"]["code"] == "free" and free["status"] == "" and free["stripe_configured"] is True
    assert _usage(free, "warehouses")["allowance"] == 1
    assert _warehouse(client, "W1").status_code == 201
    refused = _warehouse(client, "W2")
    assert refused.status_code == 402 and refused.json()["code"] == "plan_limit_reached"

    # The owner subscribes: Stripe's Checkout URL.
    checkout = client.post(CHECKOUT, {"plan": "starter"}, format="json")
    assert checkout.status_code == 200, checkout.json()
    assert checkout.json()["url"].startswith("https://checkout.stripe.com/")
    [session] = fake_stripe.posts("/v1/checkout/sessions")
    customer = BillingAccount.objects.get(tenant=tenant).stripe_customer_id
    assert session.params["customer"] == customer and session.params["mode"] == "subscription"
    assert session.params["line_items[0][price]"] == "price_starter"
    assert session.params["client_reference_id"] == str(tenant.pk)
    assert session.params["metadata[tenant_id]"] == str(tenant.pk)
    assert session.params["subscription_data[metadata][tenant_id]"] == str(tenant.pk)
    assert session.params["subscription_data[trial_period_days]"] == "14"

    # Stripe: the customer paid; the events arrive.
    subscription = fake_stripe.subscription_put(
        "sub_1", customer=customer, status="trialing", price="price_starter", tenant_id=str(tenant.pk)
    )
    with django_capture_on_commit_callbacks(execute=True):
        completed = deliver(
            api,
            event(
                "checkout.session.completed",
                checkout_completed(tenant_id=str(tenant.pk), customer=customer, subscription="sub_1"),
            ),
        )
        created = deliver(api, event("customer.subscription.created", subscription))
    assert completed.status_code == 200 and created.status_code == 200

    paid = client.get(BILLING).json()
    assert paid["plan"]["code"] == "starter" and paid["status"] == "trialing"
    assert paid["subscribed_plan"] == "starter" and paid["current_period_end"] is not None
    assert _usage(paid, "warehouses") == {"limit": "warehouses", "label": "Warehouses", "used": 1, "allowance": 3}
    assert paid["features"]["api_keys"] is True
    assert _warehouse(client, "W2").status_code == 201
    assert _warehouse(client, "W3").status_code == 201
    assert _warehouse(client, "W4").status_code == 402

    # Stripe: the subscription ends.
    canceled = fake_stripe.subscription_put("sub_1", customer=customer, status="canceled", price="price_starter")
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(api, event("customer.subscription.deleted", canceled)).status_code == 200

    down = client.get(BILLING).json()
    assert down["plan"]["code"] == "free" and down["status"] == "canceled" and down["subscribed_plan"] == "starter"
    assert _usage(down, "warehouses") == {"limit": "warehouses", "label": "Warehouses", "used": 3, "allowance": 1}
    listed = client.get(WAREHOUSES)
    assert listed.status_code == 200 and listed.json()["count"] == 3
    blocked = _warehouse(client, "W5")
    assert blocked.status_code == 402 and blocked.json()["code"] == "plan_limit_reached"
    assert blocked.json()["details"] == {
        "limit": "warehouses",
        "usage": 3,
        "allowance": 1,
        "adding": 1,
        "plan": "free",
        "upgrade_to": "pro",  # 4 warehouses: more than Starter's 3
    }
    with tenant_context(tenant):
        last = Warehouse.objects.get(code="W3")
    assert client.delete(f"{WAREHOUSES}{last.pk}/").status_code == 204
    with tenant_context(tenant), transaction.atomic():
        assert Warehouse.objects.count() == 2

    # A second subscription gets no trial.
    again = client.post(CHECKOUT, {"plan": "pro"}, format="json")
    assert again.status_code == 200
    assert "subscription_data[trial_period_days]" not in fake_stripe.posts("/v1/checkout/sessions")[-1].params


def test_stripe_requests_carry_the_pinned_version_and_stable_idempotency_keys(fake_stripe, client_a, tenant_a):
    first = client_a.post(CHECKOUT, {"plan": "pro"}, format="json")
    second = client_a.post(CHECKOUT, {"plan": "pro"}, format="json")

    assert first.status_code == second.status_code == 200
    assert first.json()["url"] != second.json()["url"]  # two sessions (a nonce per click)...
    [customer] = fake_stripe.posts("/v1/customers")  # ...for one customer
    assert customer.idempotency_key == f"customer-{tenant_a.pk}"
    sessions = fake_stripe.posts("/v1/checkout/sessions")
    assert all(s.idempotency_key and s.idempotency_key.startswith(f"checkout-{tenant_a.pk}-pro-") for s in sessions)
    assert all(call.stripe_version == "2026-10-28.endive" for call in fake_stripe.calls)


def test_the_customer_is_created_once_even_when_its_first_answer_is_lost(fake_stripe, tenant_a, client_a):
    """A retry of the customer's creation (the answer lost, the row not written) uses the
    same idempotency key: Stripe answers with the customer it made."""
    from billing import stripe_client

    first = stripe_client.customer_create(tenant_id=str(tenant_a.pk), name="Alpha", email="a@example.com")
    assert client_a.post(CHECKOUT, {"plan": "starter"}, format="json").status_code == 200

    assert BillingAccount.objects.get(tenant=tenant_a).stripe_customer_id == first
    assert len(fake_stripe.customers) == 1


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER, Role.VIEWER])
def test_only_owners_start_a_checkout(fake_stripe, tenant_a, role):
    response = client_for(make_member(tenant_a, role)).post(CHECKOUT, {"plan": "starter"}, format="json")

    assert response.status_code == 403 and response.json()["code"] == "role_required"
    assert fake_stripe.calls == []


def test_checkout_of_the_free_or_an_unknown_plan_is_400(fake_stripe, client_a):
    for plan in ("free", "platinum"):
        response = client_a.post(CHECKOUT, {"plan": plan}, format="json")
        assert response.status_code == 400 and response.json()["fields"]["plan"]
    assert fake_stripe.calls == []


def test_checkout_while_subscribed_is_409_already_subscribed(
    fake_stripe, client_a, tenant_a, api, django_capture_on_commit_callbacks
):
    assert client_a.post(CHECKOUT, {"plan": "starter"}, format="json").status_code == 200
    customer = BillingAccount.objects.get(tenant=tenant_a).stripe_customer_id
    subscription = fake_stripe.subscription_put("sub_1", customer=customer, status="active", price="price_starter")
    with django_capture_on_commit_callbacks(execute=True):
        deliver(api, event("customer.subscription.created", subscription))

    response = client_a.post(CHECKOUT, {"plan": "pro"}, format="json")

    assert response.status_code == 409 and response.json()["code"] == "already_subscribed"


def test_checkout_when_stripe_is_down_is_503_stripe_unavailable(fake_stripe, client_a, tenant_a):
    fake_stripe.fail_with = 503

    response = client_a.post(CHECKOUT, {"plan": "starter"}, format="json")

    assert response.status_code == 503 and response.json()["code"] == "stripe_unavailable"
    assert BillingAccount.objects.get(tenant=tenant_a).stripe_customer_id is None


def test_a_price_stripe_does_not_know_is_400_stripe_request_invalid(fake_stripe, client_a, settings):
    settings.STRIPE_API_BASE = fake_stripe.url + "/nowhere"

    response = client_a.post(CHECKOUT, {"plan": "starter"}, format="json")

    assert response.status_code == 400 and response.json()["code"] == "stripe_request_invalid"


def test_free_only_mode_says_so_and_refuses_checkout_and_portal(client_a, settings):
    settings.STRIPE_SECRET_KEY = ""

    overview = client_a.get(BILLING)
    checkout = client_a.post(CHECKOUT, {"plan": "starter"}, format="json")
    portal = client_a.post(PORTAL)

    assert overview.status_code == 200 and overview.json()["stripe_configured"] is False
    assert all(plan["purchasable"] is False for plan in overview.json()["plans"])
    assert checkout.status_code == 409 and checkout.json()["code"] == "billing_not_configured"
    assert portal.status_code == 409 and portal.json()["code"] == "billing_not_configured"


def test_the_overview_lists_the_catalogue_and_every_limit(fake_stripe, tenant_a, owner_a):
    viewer = client_for(make_member(tenant_a, Role.VIEWER))

    body = viewer.get(BILLING).json()

    assert [plan["code"] for plan in body["plans"]] == ["free", "starter", "pro", "enterprise"]
    enterprise = body["plans"][3]
    assert enterprise["limits"]["products"] is None and enterprise["purchasable"] is True
    assert body["plans"][0]["purchasable"] is False
    assert {u["limit"] for u in body["usage"]} == {
        "products",
        "warehouses",
        "members",
        "api_requests_per_minute",
        "sales_orders_per_month",
    }
    assert _usage(body, "members")["used"] == 2


def test_api_keys_cannot_read_billing(fake_stripe, tenant_a, owner_a):
    tenant, _ = tenant_plan_apply(tenant_id=tenant_a.pk, plan_code="pro", billing_status="", reason="given by staff")
    _, raw = make_api_key(tenant)

    response = client_for_key(raw).get(BILLING)

    assert response.status_code == 403 and response.json()["code"] == "members_only"


def test_the_portal_needs_a_customer_then_gives_its_url(fake_stripe, client_a, tenant_a):
    before = client_a.post(PORTAL)
    assert before.status_code == 404 and before.json()["code"] == "no_billing_account"
    client_a.post(CHECKOUT, {"plan": "starter"}, format="json")

    response = client_a.post(PORTAL)

    assert response.status_code == 200 and response.json()["url"].startswith("https://billing.stripe.com/")
    [portal] = fake_stripe.posts("/v1/billing_portal/sessions")
    assert portal.params["customer"] == BillingAccount.objects.get(tenant=tenant_a).stripe_customer_id
    assert portal.params["return_url"].endswith(f"/app/{tenant_a.slug}/settings/billing/")


def test_only_owners_open_the_portal_where_plans_change_and_end(fake_stripe, client_a, tenant_a):
    client_a.post(CHECKOUT, {"plan": "starter"}, format="json")

    owner = client_a.post(PORTAL)
    admin = client_for(make_member(tenant_a, Role.ADMIN)).post(PORTAL)
    manager = client_for(make_member(tenant_a, Role.MANAGER)).post(PORTAL)

    assert owner.status_code == 200
    assert admin.status_code == 403 and admin.json()["code"] == "role_required"
    assert manager.status_code == 403 and manager.json()["code"] == "role_required"
    assert len(fake_stripe.posts("/v1/billing_portal/sessions")) == 1


def test_a_second_checkout_expires_the_first_so_two_subscriptions_cannot_be_paid(fake_stripe, client_a):
    first = client_a.post(CHECKOUT, {"plan": "starter"}, format="json").json()["url"]
    second = client_a.post(CHECKOUT, {"plan": "pro"}, format="json")

    assert second.status_code == 200 and second.json()["url"] != first
    statuses = sorted(session["status"] for session in fake_stripe.sessions.values())
    assert statuses == ["expired", "open"]


def test_a_checkout_after_one_was_paid_but_before_its_webhook_is_409(fake_stripe, client_a):
    client_a.post(CHECKOUT, {"plan": "starter"}, format="json")
    (paid,) = fake_stripe.sessions.values()
    paid["status"] = "complete"  # the owner paid; Stripe's webhook has not come yet

    response = client_a.post(CHECKOUT, {"plan": "pro"}, format="json")

    assert response.status_code == 409 and response.json()["code"] == "already_subscribed"
    assert len(fake_stripe.sessions) == 1


@pytest.mark.parametrize(("first_status", "trial_again"), [("incomplete_expired", True), ("canceled", False)])
def test_the_trial_is_for_the_first_subscription_that_got_going(
    fake_stripe, client_a, tenant_a, api, django_capture_on_commit_callbacks, first_status, trial_again
):
    client_a.post(CHECKOUT, {"plan": "starter"}, format="json")
    customer = BillingAccount.objects.get(tenant=tenant_a).stripe_customer_id
    statuses = (
        ["incomplete", "incomplete_expired"] if first_status == "incomplete_expired" else ["trialing", "canceled"]
    )
    for n, status in enumerate(statuses):
        sub = fake_stripe.subscription_put("sub_1", customer=customer, status=status, price="price_starter")
        with django_capture_on_commit_callbacks(execute=True):
            deliver(api, event("customer.subscription.updated", sub, created=int(time.time()) - 100 + n))
    fake_stripe.calls.clear()

    assert client_a.post(CHECKOUT, {"plan": "starter"}, format="json").status_code == 200

    (session,) = fake_stripe.posts("/v1/checkout/sessions")
    assert ("subscription_data[trial_period_days]" in session.params) is trial_again
