"""Real threads, real commits: Stripe delivering one event several times at once, and
several workers given the same stored event, change the workspace once."""

from __future__ import annotations

from django.utils import timezone
from rest_framework.test import APIClient

from billing.models import StripeEvent
from billing.services import webhooks
from billing.services.subscriptions import timestamp
from billing.tests.helpers import deliver
from billing.tests.test_webhook import _plan_changes, _subscribed_event
from tenants.models import Tenant
from tenants.tests.factories import make_member, make_tenant
from tenants.tests.threads import in_threads


def test_the_same_event_delivered_concurrently_is_stored_and_processed_once(committed, fake_stripe):
    tenant = make_tenant()
    make_member(tenant)
    evt = _subscribed_event(fake_stripe, tenant)
    answers = []

    def delivery():
        answers.append(deliver(APIClient(), evt).json())

    in_threads(*[delivery] * 6)

    assert sorted(a["duplicate"] for a in answers) == [False] + [True] * 5
    stored = StripeEvent.objects.get()
    assert stored.processed_at is not None and stored.attempts == 1
    assert _plan_changes(Tenant.objects.get(pk=tenant.pk)) == 1


def test_one_stored_event_processed_by_several_workers_at_once_is_applied_once(committed, fake_stripe):
    tenant = make_tenant()
    evt = _subscribed_event(fake_stripe, tenant)
    # Stored as the webhook stores it, but not queued: the workers below are given it at once.
    StripeEvent.objects.create(
        id=evt["id"], type=evt["type"], created=timestamp(evt["created"]) or timezone.now(), payload=evt
    )
    outcomes = []

    in_threads(*[lambda: outcomes.append(webhooks.event_process(event_id=evt["id"]))] * 5)

    assert sorted(outcomes).count("skipped") == 4
    assert StripeEvent.objects.get().attempts == 1
    assert _plan_changes(Tenant.objects.get(pk=tenant.pk)) == 1
