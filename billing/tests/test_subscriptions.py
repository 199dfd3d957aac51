"""Subscription events applied under the per-subscription watermark: out-of-order
deliveries converge; past due keeps the plan for the grace period; the daily
reconciliation heals a webhook that never came."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from billing import tasks
from billing.models import BillingAccount, StripeEvent
from billing.services import accounts, subscriptions
from billing.tests.helpers import BILLING, deliver, event, invoice
from tenants.context import tenant_context
from tenants.entitlements import effective_plan
from tenants.models import DomainEvent

pytestmark = pytest.mark.django_db

T0 = int(time.time()) - 100


@pytest.fixture
def customer(fake_stripe, tenant_a):
    return accounts.customer_ensure(tenant=tenant_a, email="owner@example.com").stripe_customer_id


@pytest.fixture
def send(api, django_capture_on_commit_callbacks):
    """Delivers an event through the webhook and runs what it queued (the processing task)."""

    def run(evt):
        with django_capture_on_commit_callbacks(execute=True):
            response = deliver(api, evt)
        assert response.status_code == 200, response.json()
        return StripeEvent.objects.get(pk=evt["id"])

    return run


def _state(tenant):
    tenant.refresh_from_db()
    return tenant.plan_code, tenant.billing_status


def _events(tenant, type):
    with tenant_context(tenant), transaction.atomic():
        return list(DomainEvent.objects.filter(type=type).order_by("created_at"))


def test_an_old_updated_delivered_after_deleted_changes_nothing(fake_stripe, tenant_a, customer, send):
    active = fake_stripe.subscription_put("sub_1", customer=customer, status="active", price="price_pro")
    send(event("customer.subscription.created", active, created=T0))
    canceled = fake_stripe.subscription_put("sub_1", customer=customer, status="canceled", price="price_pro")
    send(event("customer.subscription.deleted", canceled, created=T0 + 20))

    late = send(event("customer.subscription.updated", active, created=T0 + 10))

    assert late.processed_at is not None and late.outcome == "ignored_stale"
    assert _state(tenant_a) == ("pro", "canceled")
    assert effective_plan(tenant_a).code == "free"


def test_invoice_paid_before_subscription_created_converges(fake_stripe, tenant_a, customer, send):
    incomplete = fake_stripe.subscription_put("sub_1", customer=customer, status="incomplete", price="price_starter")
    fake_stripe.subscription_put("sub_1", customer=customer, status="active", price="price_starter")

    paid = send(event("invoice.paid", invoice(customer=customer, subscription="sub_1"), created=T0 + 2))
    created = send(event("customer.subscription.created", incomplete, created=T0))

    assert paid.outcome == "synced" and created.outcome == "ignored_stale"
    assert _state(tenant_a) == ("starter", "active")
    assert len(_events(tenant_a, "billing.invoice_paid")) == 1


def test_an_older_updated_after_a_newer_one_changes_nothing(fake_stripe, tenant_a, customer, send):
    starter = fake_stripe.subscription_put("sub_1", customer=customer, status="active", price="price_starter")
    pro = fake_stripe.subscription_put("sub_1", customer=customer, status="active", price="price_pro")
    send(event("customer.subscription.updated", pro, created=T0 + 10))

    older = send(event("customer.subscription.updated", starter, created=T0 + 5))

    assert older.outcome == "ignored_stale"
    assert _state(tenant_a) == ("pro", "active")
    account = BillingAccount.objects.get(tenant=tenant_a)
    assert account.stripe_price_id == "price_pro"


def test_two_events_of_the_same_second_are_settled_by_fetching_the_subscription(fake_stripe, tenant_a, customer, send):
    starter = fake_stripe.subscription_put("sub_1", customer=customer, status="active", price="price_starter")
    send(event("customer.subscription.created", starter, created=T0))
    fake_stripe.subscription_put("sub_1", customer=customer, status="active", price="price_pro")

    tie = send(event("customer.subscription.updated", starter, created=T0))

    assert tie.outcome == "synced"
    assert _state(tenant_a) == ("pro", "active")


def test_the_events_of_an_older_canceled_subscription_do_not_touch_the_new_one(fake_stripe, tenant_a, customer, send):
    old = fake_stripe.subscription_put("sub_old", customer=customer, status="canceled", price="price_starter")
    send(event("customer.subscription.deleted", old, created=T0))
    new = fake_stripe.subscription_put("sub_new", customer=customer, status="active", price="price_pro")
    send(event("customer.subscription.created", new, created=T0 + 10))

    late = send(event("customer.subscription.deleted", old, created=T0 + 20))

    assert late.outcome == "ignored_other_subscription"
    assert _state(tenant_a) == ("pro", "active")
    assert BillingAccount.objects.get(tenant=tenant_a).stripe_subscription_id == "sub_new"


def test_past_due_keeps_the_plan_until_the_grace_period_ends(
    fake_stripe, tenant_a, owner_a, client_a, customer, send, mailoutbox, django_capture_on_commit_callbacks
):
    """The grace period starts when Stripe marked the subscription past due (the event's
    time), not when a late event is processed."""
    send(
        event(
            "customer.subscription.created",
            fake_stripe.subscription_put("sub_1", customer=customer, status="active", price="price_pro"),
            created=T0,
        )
    )
    past_due = fake_stripe.subscription_put("sub_1", customer=customer, status="past_due", price="price_pro")

    send(event("customer.subscription.updated", past_due, created=T0 + 10))

    tenant_a.refresh_from_db()
    grace = tenant_a.grace_ends_at
    assert tenant_a.billing_status == "past_due" and grace is not None
    assert grace == datetime.fromtimestamp(T0 + 10, tz=UTC) + timedelta(days=7)
    body = client_a.get(BILLING).json()
    assert body["plan"]["code"] == "pro" and body["in_grace"] is True and body["status"] == "past_due"
    assert effective_plan(tenant_a, now=grace - timedelta(seconds=1)).code == "pro"
    assert effective_plan(tenant_a, now=grace + timedelta(seconds=1)).code == "free"

    send(event("customer.subscription.updated", past_due, created=T0 + 20))  # still past due: the same end

    tenant_a.refresh_from_db()
    assert tenant_a.grace_ends_at == grace

    # The end of the grace period is recorded and announced once, by the beat task.
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert subscriptions.grace_ends_announce(now=grace - timedelta(seconds=1)) == 0
        assert subscriptions.grace_ends_announce(now=grace + timedelta(seconds=1)) == 1
        assert subscriptions.grace_ends_announce(now=grace + timedelta(hours=1)) == 0
    [ended] = _events(tenant_a, "billing.grace_ended")
    assert ended.data["plan"] == "free" and ended.data["subscribed_plan"] == "pro"
    assert len(mailoutbox) == 1 and "/settings/billing/" in mailoutbox[0].body


def test_a_payment_paid_after_past_due_ends_the_grace_period(fake_stripe, tenant_a, customer, send):
    send(
        event(
            "customer.subscription.updated",
            fake_stripe.subscription_put("sub_1", customer=customer, status="past_due", price="price_pro"),
            created=T0,
        )
    )
    fake_stripe.subscription_put("sub_1", customer=customer, status="active", price="price_pro")

    send(event("invoice.paid", invoice(customer=customer, subscription="sub_1"), created=T0 + 10))

    tenant_a.refresh_from_db()
    assert (tenant_a.billing_status, tenant_a.grace_ends_at) == ("active", None)


def test_a_failed_payment_is_recorded_emailed_to_the_owners_and_syncs_the_status(
    fake_stripe, tenant_a, owner_a, customer, send, mailoutbox
):
    send(
        event(
            "customer.subscription.created",
            fake_stripe.subscription_put("sub_1", customer=customer, status="active", price="price_starter"),
            created=T0,
        )
    )
    fake_stripe.subscription_put("sub_1", customer=customer, status="past_due", price="price_starter")

    send(event("invoice.payment_failed", invoice(customer=customer, subscription="sub_1"), created=T0 + 10))

    assert _state(tenant_a) == ("starter", "past_due")
    [failed] = _events(tenant_a, "billing.payment_failed")
    assert failed.data["subscription"] == "sub_1" and failed.subject_type == "billing_account"
    tenant_a.refresh_from_db()
    assert failed.data["grace_ends_at"] == tenant_a.grace_ends_at.isoformat()
    [mail] = [m for m in mailoutbox if "failed" in m.subject]
    assert mail.to == [owner_a.user.email]
    assert tenant_a.grace_ends_at.isoformat() in mail.body


def test_trial_will_end_is_recorded_and_emailed(fake_stripe, tenant_a, owner_a, customer, send, mailoutbox):
    trial_end = int(time.time()) + 3 * 86400
    trialing = fake_stripe.subscription_put(
        "sub_1", customer=customer, status="trialing", price="price_starter", trial_end=trial_end
    )

    send(event("customer.subscription.trial_will_end", trialing, created=T0))

    assert _state(tenant_a) == ("starter", "trialing")
    assert len(_events(tenant_a, "billing.trial_will_end")) == 1
    assert any("trial" in m.subject for m in mailoutbox)
    account = BillingAccount.objects.get(tenant=tenant_a)
    assert account.trial_end is not None and int(account.trial_end.timestamp()) == trial_end


def test_paused_gives_the_free_plan_and_resumed_gives_the_plan_back(fake_stripe, tenant_a, customer, send):
    paused = fake_stripe.subscription_put("sub_1", customer=customer, status="paused", price="price_pro")
    send(event("customer.subscription.paused", paused, created=T0))
    assert effective_plan(tenant_a).code == "free"

    active = fake_stripe.subscription_put("sub_1", customer=customer, status="active", price="price_pro")
    send(event("customer.subscription.resumed", active, created=T0 + 10))

    tenant_a.refresh_from_db()
    assert effective_plan(tenant_a).code == "pro"


def test_entitlements_summary_updated_is_acknowledged_and_resyncs(fake_stripe, tenant_a, customer, send):
    send(
        event(
            "customer.subscription.created",
            fake_stripe.subscription_put("sub_1", customer=customer, status="active", price="price_starter"),
            created=T0,
        )
    )
    fake_stripe.subscription_put("sub_1", customer=customer, status="active", price="price_pro")

    summary = send(
        event(
            "entitlements.active_entitlement_summary.updated",
            {"object": "entitlements.active_entitlement_summary", "customer": customer, "entitlements": {"data": []}},
            created=T0 + 10,
        )
    )

    assert summary.outcome == "synced"
    assert _state(tenant_a) == ("pro", "active")


def test_an_event_for_a_customer_we_do_not_know_is_acknowledged_and_changes_nothing(fake_stripe, tenant_a, send):
    other = fake_stripe.subscription_put("sub_x", customer="cus_stranger", status="active", price="price_pro")

    stored = send(event("customer.subscription.created", other, created=T0))

    assert stored.processed_at is not None and stored.outcome == "unknown_customer" and stored.tenant_id is None
    assert _state(tenant_a) == ("free", "")


def test_reconciliation_heals_a_missed_webhook_and_records_what_it_corrected(
    fake_stripe, tenant_a, customer, send, django_capture_on_commit_callbacks
):
    send(
        event(
            "customer.subscription.created",
            fake_stripe.subscription_put("sub_1", customer=customer, status="active", price="price_pro"),
            created=T0,
        )
    )
    fake_stripe.subscription_put("sub_1", customer=customer, status="canceled", price="price_pro")  # webhook lost

    with django_capture_on_commit_callbacks(execute=True):
        result = tasks.reconcile_subscriptions()

    assert result == {"checked": 1, "corrected": 1, "failed": 0}
    assert _state(tenant_a) == ("pro", "canceled")
    [reconciled] = _events(tenant_a, "billing.reconciled")
    assert reconciled.data["changes"]["status"] == ["active", "canceled"]

    # Ended ones are read again too (a new subscription whose webhooks never came): nothing to correct.
    assert tasks.reconcile_subscriptions() == {"checked": 1, "corrected": 0, "failed": 0}
    assert len(_events(tenant_a, "billing.reconciled")) == 1


def test_reconciliation_finds_the_subscription_of_a_checkout_whose_webhooks_never_came(fake_stripe, tenant_a, customer):
    fake_stripe.subscription_put("sub_1", customer=customer, status="trialing", price="price_starter")

    assert tasks.reconcile_subscriptions() == {"checked": 1, "corrected": 1, "failed": 0}

    assert _state(tenant_a) == ("starter", "trialing")
    assert BillingAccount.objects.get(tenant=tenant_a).stripe_subscription_id == "sub_1"
    assert len(_events(tenant_a, "billing.reconciled")) == 1


def test_reconciliation_with_nothing_to_correct_records_nothing(fake_stripe, tenant_a, customer, send):
    send(
        event(
            "customer.subscription.created",
            fake_stripe.subscription_put("sub_1", customer=customer, status="active", price="price_pro"),
            created=T0,
        )
    )

    assert tasks.reconcile_subscriptions() == {"checked": 1, "corrected": 0, "failed": 0}
    assert _events(tenant_a, "billing.reconciled") == []


def test_reconciliation_goes_on_when_stripe_fails_for_one_account(fake_stripe, tenant_a, customer, send):
    send(
        event(
            "customer.subscription.created",
            fake_stripe.subscription_put("sub_1", customer=customer, status="active", price="price_pro"),
            created=T0,
        )
    )
    fake_stripe.fail_with = 503

    assert tasks.reconcile_subscriptions() == {"checked": 1, "corrected": 0, "failed": 1}
    assert _state(tenant_a) == ("pro", "active")


def test_owners_are_emailed_when_the_plan_in_force_changes_and_only_then(
    fake_stripe, tenant_a, owner_a, customer, send, mailoutbox
):
    active = fake_stripe.subscription_put("sub_1", customer=customer, status="active", price="price_pro")
    send(event("customer.subscription.created", active, created=T0))
    send(event("customer.subscription.updated", {**active, "cancel_at_period_end": True}, created=T0 + 5))
    canceled = fake_stripe.subscription_put("sub_1", customer=customer, status="canceled", price="price_pro")
    send(event("customer.subscription.deleted", canceled, created=T0 + 10))

    assert [m.subject for m in mailoutbox] == ["Alpha Ltd is now on the Pro plan", "Alpha Ltd is now on the Free plan"]
    assert all(m.to == [owner_a.user.email] for m in mailoutbox)
    assert len(_events(tenant_a, "workspace.plan_changed")) == 2


def test_stripe_down_while_processing_leaves_the_event_for_the_sweep_and_answers_200(
    fake_stripe, tenant_a, customer, send, django_capture_on_commit_callbacks
):
    from billing.tests.helpers import checkout_completed

    fake_stripe.subscription_put("sub_down", customer=customer, status="active", price="price_pro")
    fake_stripe.fail_with = 503  # Stripe unreachable when the processing fetches the subscription

    stored = send(event("checkout.session.completed", checkout_completed(
        tenant_id=str(tenant_a.pk), customer=customer, subscription="sub_down")))  # fmt: skip

    assert stored.processed_at is None and "StripeUnavailable" in stored.last_error
    assert _state(tenant_a) == ("free", "")
    fake_stripe.fail_with = None
    a_while_ago = timezone.now() - timedelta(minutes=2)  # the sweep takes events a minute old
    StripeEvent.objects.filter(pk=stored.pk).update(received_at=a_while_ago, next_attempt_at=a_while_ago)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.stripe_event_sweep()
    assert _state(tenant_a) == ("pro", "active")


def test_a_late_event_of_an_earlier_subscription_does_not_take_over_the_new_one(fake_stripe, tenant_a, customer, send):
    old_active = fake_stripe.subscription_put("sub_old", customer=customer, status="active", price="price_pro")
    send(event("customer.subscription.created", old_active, created=T0))
    canceled = fake_stripe.subscription_put("sub_old", customer=customer, status="canceled", price="price_pro")
    send(event("customer.subscription.deleted", canceled, created=T0 + 10))
    new = fake_stripe.subscription_put("sub_new", customer=customer, status="active", price="price_starter")
    send(event("customer.subscription.created", new, created=T0 + 20))

    # Stripe retries an old "updated" of the first subscription whose payload still says active.
    late = send(event("customer.subscription.updated", old_active, created=T0 + 30))

    assert late.outcome == "ignored_other_subscription"  # Stripe's current state: sub_old is canceled
    assert _state(tenant_a) == ("starter", "active")
    assert BillingAccount.objects.get(tenant=tenant_a).stripe_subscription_id == "sub_new"


def test_a_reconciliation_that_read_stripe_before_a_newer_event_keeps_the_event(fake_stripe, tenant_a, customer, send):
    active = fake_stripe.subscription_put("sub_1", customer=customer, status="active", price="price_pro")
    send(event("customer.subscription.created", active, created=T0))
    # The customer cancels after the reconciliation has read Stripe, before it takes the lock:
    # the deleted event (newer than the read) is applied first.
    future = int(time.time()) + 30
    canceled = dict(active, status="canceled")
    send(event("customer.subscription.deleted", canceled, created=future))

    tasks.reconcile_subscriptions()  # reads "active" (the fake was not told), older than the event

    assert _state(tenant_a) == ("pro", "canceled")


def test_a_paying_subscription_counts_over_a_newer_one_that_does_not_pay(fake_stripe):
    from billing.services.subscriptions import current_subscription

    paying = {"id": "sub_a", "status": "active", "created": T0}
    newer_unpaid = {"id": "sub_b", "status": "incomplete", "created": T0 + 50}
    ended = {"id": "sub_c", "status": "canceled", "created": T0 + 90}

    assert current_subscription([newer_unpaid, paying, ended]) == paying
    assert current_subscription([newer_unpaid, ended]) == newer_unpaid
    assert current_subscription([ended]) == ended


def test_a_checkout_of_a_customer_billing_did_not_create_links_no_workspace(fake_stripe, tenant_a, send):
    from billing.tests.helpers import checkout_completed

    fake_stripe.subscription_put("sub_x", customer="cus_stranger", status="active", price="price_pro")

    # A Payment Link anyone can open with ?client_reference_id=<our workspace id>.
    stored = send(event("checkout.session.completed", checkout_completed(
        tenant_id=str(tenant_a.pk), customer="cus_stranger", subscription="sub_x")))  # fmt: skip

    assert stored.outcome == "unknown_customer"
    assert _state(tenant_a) == ("free", "")
    assert not BillingAccount.objects.filter(stripe_customer_id="cus_stranger").exists()
