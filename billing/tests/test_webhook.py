"""Stripe's webhook: verified on the raw body, stored once, processed once."""

from __future__ import annotations

import json
import time

import pytest
from django.db import transaction

from billing.models import BillingAccount, StripeEvent
from billing.services import accounts, webhooks
from billing.tests.helpers import checkout_completed, deliver, event, post_raw, signed
from tenants.context import tenant_context
from tenants.models import DomainEvent
from tenants.tests.factories import make_tenant

pytestmark = pytest.mark.django_db


def _subscribed_event(fake, tenant):
    """A customer for ``tenant`` at the fake, its trialing starter subscription, and the
    checkout.session.completed event that announces it."""
    account = accounts.customer_ensure(tenant=tenant, email="owner@example.com")
    fake.subscription_put(
        "sub_1", customer=account.stripe_customer_id, status="trialing", price="price_starter", tenant_id=str(tenant.pk)
    )
    return event(
        "checkout.session.completed",
        checkout_completed(tenant_id=str(tenant.pk), customer=account.stripe_customer_id, subscription="sub_1"),
    )


def _plan_changes(tenant):
    with tenant_context(tenant), transaction.atomic():
        return DomainEvent.objects.filter(type="workspace.plan_changed").count()


@pytest.mark.parametrize(
    ("signature", "code"),
    [
        (None, "stripe_signature_missing"),
        ("", "stripe_signature_missing"),
        ("t=1,v1=deadbeef", "stripe_signature_invalid"),
        ("garbage", "stripe_signature_invalid"),
        ("t=1,v1=\u00e9\u00e9", "stripe_signature_invalid"),  # not ASCII: the library's compare raises TypeError
        (f"t={int(time.time())},v1=\u00e9", "stripe_signature_invalid"),
    ],
)
def test_webhook_without_a_valid_signature_is_400_and_stores_nothing(api, fake_stripe, tenant_a, signature, code):
    payload = json.dumps(_subscribed_event(fake_stripe, tenant_a))

    response = post_raw(api, payload, signature)

    assert response.status_code == 400, response.json()
    assert response.json()["code"] == code
    assert StripeEvent.objects.count() == 0
    tenant_a.refresh_from_db()
    assert tenant_a.billing_status == "" and tenant_a.plan_code == "free"


def test_webhook_signed_with_another_secret_is_400_signature_invalid(api, fake_stripe, tenant_a):
    payload = json.dumps(_subscribed_event(fake_stripe, tenant_a))

    response = post_raw(api, payload, signed(payload, secret="whsec_forged"))

    assert response.status_code == 400 and response.json()["code"] == "stripe_signature_invalid"
    assert StripeEvent.objects.count() == 0


def test_webhook_with_a_body_changed_after_signing_is_400(api, fake_stripe, tenant_a):
    evt = _subscribed_event(fake_stripe, tenant_a)
    signature = signed(json.dumps(evt))
    evt["data"]["object"]["client_reference_id"] = str(make_tenant().pk)

    response = post_raw(api, json.dumps(evt), signature)

    assert response.status_code == 400 and response.json()["code"] == "stripe_signature_invalid"
    assert StripeEvent.objects.count() == 0


def test_webhook_signed_more_than_300_seconds_ago_is_400_signature_expired(api, fake_stripe, tenant_a):
    payload = json.dumps(_subscribed_event(fake_stripe, tenant_a))

    response = post_raw(api, payload, signed(payload, timestamp=int(time.time()) - 301))

    assert response.status_code == 400 and response.json()["code"] == "stripe_signature_expired"
    assert StripeEvent.objects.count() == 0


@pytest.mark.parametrize(
    "payload",
    [
        "not json",
        "[]",
        '{"id": "evt_1", "type": "invoice.paid"}',
        '{"id": "evt_1", "type": "invoice.paid", "created": "yesterday", "data": {"object": {}}}',
        '{"id": "", "type": "invoice.paid", "created": 1, "data": {"object": {}}}',
    ],
)
def test_webhook_with_a_signed_malformed_payload_is_400_payload_invalid(api, fake_stripe, payload):
    response = post_raw(api, payload, signed(payload))

    assert response.status_code == 400 and response.json()["code"] == "stripe_payload_invalid"
    assert StripeEvent.objects.count() == 0


def test_webhook_body_not_utf8_is_400_payload_invalid(api, fake_stripe):
    response = post_raw(api, b"\xff\xfe{}", "t=1,v1=00")

    assert response.status_code == 400 and response.json()["code"] == "stripe_payload_invalid"


def test_webhook_without_a_configured_secret_is_409_and_stores_nothing(api, fake_stripe, settings, tenant_a):
    settings.STRIPE_WEBHOOK_SECRET = ""
    evt = _subscribed_event(fake_stripe, tenant_a)

    response = deliver(api, evt)

    assert response.status_code == 409 and response.json()["code"] == "billing_not_configured"
    assert StripeEvent.objects.count() == 0


def test_webhook_stores_and_processes_the_event(api, fake_stripe, tenant_a, django_capture_on_commit_callbacks):
    evt = _subscribed_event(fake_stripe, tenant_a)

    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(api, evt)

    assert response.status_code == 200 and response.json() == {"received": True, "duplicate": False}
    stored = StripeEvent.objects.get()
    assert stored.id == evt["id"] and stored.type == "checkout.session.completed"
    assert stored.processed_at is not None and stored.attempts == 1 and stored.tenant_id == tenant_a.pk
    tenant_a.refresh_from_db()
    assert (tenant_a.plan_code, tenant_a.billing_status) == ("starter", "trialing")
    account = BillingAccount.objects.get(tenant=tenant_a)
    assert account.stripe_subscription_id == "sub_1" and account.has_subscribed


def test_the_same_event_delivered_twice_is_processed_once(
    api, fake_stripe, tenant_a, django_capture_on_commit_callbacks
):
    evt = _subscribed_event(fake_stripe, tenant_a)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(api, evt)
    fetches = len([c for c in fake_stripe.calls if c.method == "GET"])

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = deliver(api, evt)

    assert again.status_code == 200 and again.json() == {"received": True, "duplicate": True}
    assert callbacks == []  # nothing queued
    assert StripeEvent.objects.get().attempts == 1
    assert len([c for c in fake_stripe.calls if c.method == "GET"]) == fetches
    assert _plan_changes(tenant_a) == 1


def test_an_unknown_event_type_is_stored_and_acknowledged(api, fake_stripe, django_capture_on_commit_callbacks):
    evt = event("radar.early_fraud_warning.created", {"id": "issfr_1", "object": "radar.early_fraud_warning"})

    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(api, evt)

    assert response.status_code == 200
    stored = StripeEvent.objects.get()
    assert stored.processed_at is not None and stored.outcome == "unhandled_type"


def test_a_failed_processing_is_recorded_kept_unprocessed_and_retried_by_the_sweep(
    api, fake_stripe, tenant_a, django_capture_on_commit_callbacks
):
    evt = _subscribed_event(fake_stripe, tenant_a)
    fake_stripe.fail_with = 503
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert deliver(api, evt).status_code == 200
    assert len(callbacks) == 1

    with pytest.raises(Exception, match="unavailable"):
        webhooks.event_process(event_id=evt["id"])

    stored = StripeEvent.objects.get()
    assert stored.processed_at is None and stored.attempts == 1 and "StripeUnavailable" in stored.last_error
    tenant_a.refresh_from_db()
    assert tenant_a.billing_status == ""

    fake_stripe.fail_with = None
    StripeEvent.objects.update(
        received_at=stored.received_at.replace(year=2020), next_attempt_at=stored.received_at.replace(year=2020)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks.events_redispatch() == [evt["id"]]

    stored.refresh_from_db()
    assert stored.processed_at is not None and stored.attempts == 2 and stored.last_error == ""
    tenant_a.refresh_from_db()
    assert (tenant_a.plan_code, tenant_a.billing_status) == ("starter", "trialing")
