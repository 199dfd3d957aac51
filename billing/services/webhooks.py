"""Stripe's webhook: each event stored once, then processed once by a Celery task.

``webhook_receive`` verifies the signature on the raw body, stores the event with
``INSERT ... ON CONFLICT DO NOTHING`` on its id (a second delivery, even a concurrent
one, stores nothing and answers 200) and queues its processing after the commit. It calls
nothing else, so Stripe gets its 2xx fast.

``event_process`` takes the event's row lock (``FOR UPDATE SKIP LOCKED``: a second worker
given the same event skips it), handles it in a savepoint and marks it processed in the
same transaction as the changes it made. A failure is recorded on the row (attempts, last
error, next attempt with backoff) and the event stays unprocessed: the task retries what a
retry can fix (Stripe unavailable), and the beat sweep (``events_redispatch``) queues
again every event still unprocessed, so none is ever dropped.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from billing import errors, stripe_client
from billing.models import BillingAccount, StripeEvent
from billing.services import subscriptions as subs
from core import metrics
from core.errors import DomainError, ValidationFailed
from core.sql import insert_object_if_absent
from tenants.models import Tenant
from tenants.tasking import enqueue_on_commit

logger = logging.getLogger("stockroom.billing")

PROCESS_TASK = "billing.tasks.process_stripe_event"
# An event still unprocessed this long after it arrived (or after its last failure's
# backoff) is queued again by the sweep.
SWEEP_AFTER = datetime.timedelta(seconds=60)
MAX_BACKOFF = datetime.timedelta(hours=6)


def webhook_receive(*, payload: bytes, signature: str) -> tuple[StripeEvent | None, bool]:
    """Verifies and stores one delivery; returns the event (None for nothing stored) and
    whether it was new. 400 with a code for a bad signature or payload (nothing stored);
    409 ``billing_not_configured`` without ``STRIPE_WEBHOOK_SECRET``."""
    if not signature.strip():  # refused as unsigned whatever this server's configuration
        raise ValidationFailed("The request has no Stripe-Signature header.", code=errors.STRIPE_SIGNATURE_MISSING)
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise errors.BillingNotConfigured("STRIPE_WEBHOOK_SECRET is not set: webhooks cannot be verified.")
    data = stripe_client.event_verify(payload=payload, signature=signature, secret=secret)
    created = subs.timestamp(data["created"])
    assert created is not None
    event = StripeEvent(
        id=data["id"],
        type=data["type"],
        created=created,
        livemode=bool(data.get("livemode")),
        api_version=str(data.get("api_version") or "")[:64],
        payload=data,
        received_at=timezone.now(),
        next_attempt_at=timezone.now(),
    )
    with transaction.atomic():
        inserted = insert_object_if_absent(StripeEvent, event)
        if inserted:
            enqueue_on_commit(PROCESS_TASK, event_id=event.id)
    # Committed: the webhook's view runs outside the request's transaction (non_atomic_requests).
    metrics.stripe_event_committed(event_type_label(event.type), "received" if inserted else "duplicate")
    if not inserted:
        logger.info("stripe event %s delivered again: ignored", event.id)
    return event, inserted


def _backoff(attempts: int) -> datetime.timedelta:
    return min(SWEEP_AFTER * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


# Failures recorded on the event (and retried) rather than raised out of the transaction.
_FAILURES = (DomainError, LookupError, TypeError, ValueError, DatabaseError)


def event_process(*, event_id: str) -> str:
    """Processes a stored event once; returns what it did ("skipped" for an event another
    worker holds or has done). Raises ``StripeUnavailable`` after recording it (the task
    retries it)."""
    failure: Exception | None = None
    with transaction.atomic():
        event = StripeEvent.objects.select_for_update(skip_locked=True).filter(pk=event_id).first()
        if event is None or event.processed_at is not None:
            return "skipped"
        event.attempts += 1
        try:
            with transaction.atomic():
                outcome = _handle(event)
        except _FAILURES as exc:
            failure = exc
            event.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            event.next_attempt_at = timezone.now() + _backoff(event.attempts)
            logger.error(
                "stripe event %s (%s) failed, attempt %s: %s",
                event.id,
                event.type,
                event.attempts,
                event.last_error,
                extra={"dependency": "stripe"},
            )
            outcome = "failed"
        else:
            event.processed_at = timezone.now()
            event.outcome = outcome[:64]
            event.last_error = ""
            event.next_attempt_at = None
        event.save()
    metrics.stripe_event_counted(event_type_label(event.type), outcome)  # counted after the commit
    if isinstance(failure, errors.StripeUnavailable):
        raise failure
    return outcome


def events_redispatch(*, limit: int = 500) -> list[str]:
    """The events still unprocessed whose next attempt is due (arrived more than a minute
    ago, or past their backoff), claimed ``FOR UPDATE SKIP LOCKED`` (a concurrent sweep or a
    worker processing one skips it) and given a new due time; queued after the commit."""
    now = timezone.now()
    with transaction.atomic():
        due = list(
            StripeEvent.objects.select_for_update(skip_locked=True)
            .filter(processed_at__isnull=True, received_at__lte=now - SWEEP_AFTER, next_attempt_at__lte=now)
            .order_by("received_at")
            .values_list("pk", flat=True)[:limit]
        )
        if due:
            StripeEvent.objects.filter(pk__in=due).update(next_attempt_at=now + SWEEP_AFTER)
            for event_id in due:
                enqueue_on_commit(PROCESS_TASK, event_id=event_id)
    return due


# --- Handlers ----------------------------------------------------------------------------


def _object(event: StripeEvent) -> dict[str, Any]:
    return dict(event.payload["data"]["object"])


def _reason(event: StripeEvent) -> str:
    return f"stripe {event.type} {event.id}"


def _tenant_named(value: Any) -> Tenant | None:
    try:
        tenant_id = uuid.UUID(str(value))
    except ValueError:
        return None
    return Tenant.objects.filter(pk=tenant_id).first()


def _account_for(
    *, customer_id: str, metadata: dict[str, Any] | None = None, reference: Any = None
) -> BillingAccount | None:
    """The account of a Stripe customer (locked). Only a customer billing created for a
    workspace (``customer_ensure``, before any Checkout) leads to it: a workspace id in an
    object's metadata or ``client_reference_id`` links nothing, since anyone can put one
    there (a Payment Link's ``?client_reference_id=``); such an event is ignored and logged."""
    account = BillingAccount.objects.filter(stripe_customer_id=customer_id).first() if customer_id else None
    if account is None:
        named = _tenant_named(reference) or _tenant_named((metadata or {}).get("tenant_id"))
        if named is not None:
            logger.warning(
                "stripe customer %r names workspace %s but is not its customer: ignored", customer_id, named.pk
            )
        return None
    locked = subs.account_locked(account.pk)
    if customer_id and locked.stripe_customer_id != customer_id:
        logger.error(
            "stripe customer %s names workspace %s, whose customer is %s: ignored",
            customer_id,
            locked.tenant_id,
            locked.stripe_customer_id,
        )
        return None
    return locked


def _on_checkout_completed(event: StripeEvent) -> str:
    session = _object(event)
    if session.get("mode") not in (None, "subscription"):
        return "ignored_mode"
    account = _account_for(
        customer_id=subs.object_id(session.get("customer")),
        metadata=session.get("metadata"),
        reference=session.get("client_reference_id"),
    )
    if account is None:
        return "unknown_customer"
    event.tenant_id = account.tenant_id
    subscription_id = subs.object_id(session.get("subscription"))
    if not subscription_id:
        return "no_subscription"
    return subs.subscription_fetch_and_sync(account, subscription_id, reason=_reason(event))


def _on_subscription(event: StripeEvent) -> str:
    subscription = _object(event)
    account = _account_for(
        customer_id=subs.object_id(subscription.get("customer")), metadata=subscription.get("metadata")
    )
    if account is None:
        return "unknown_customer"
    event.tenant_id = account.tenant_id
    outcome = subs.subscription_event_apply(
        account, subscription, event_id=event.id, created=event.created, reason=_reason(event)
    )
    if event.type == "customer.subscription.trial_will_end":
        trial_end = subs.timestamp(subscription.get("trial_end"))
        data = {"subscription": subscription.get("id"), "trial_end": trial_end.isoformat() if trial_end else None}
        subs.record_event(account, "billing.trial_will_end", data)
        subs.owners_email(account.tenant, "trial_will_end", data)
    return outcome


def _invoice_account(event: StripeEvent) -> tuple[BillingAccount | None, dict[str, Any]]:
    invoice = _object(event)
    account = _account_for(customer_id=subs.object_id(invoice.get("customer")))
    if account is not None:
        event.tenant_id = account.tenant_id
    return account, invoice


def _invoice_data(invoice: dict[str, Any]) -> dict[str, Any]:
    return {
        "invoice": invoice.get("id"),
        "subscription": subs.invoice_subscription(invoice) or None,
        "amount_due": invoice.get("amount_due"),
        "currency": invoice.get("currency"),
        "hosted_invoice_url": invoice.get("hosted_invoice_url"),
        "attempt_count": invoice.get("attempt_count"),
    }


def _on_invoice_paid(event: StripeEvent) -> str:
    """A paid invoice: the subscription is fetched when the account does not follow it yet
    or is not active (``invoice.paid`` before ``customer.subscription.created``, or the
    payment that ends a past-due period), so the order of the events does not matter."""
    account, invoice = _invoice_account(event)
    if account is None:
        return "unknown_customer"
    subs.record_event(account, "billing.invoice_paid", _invoice_data(invoice))
    subscription_id = subs.invoice_subscription(invoice)
    if subscription_id and (subscription_id != account.stripe_subscription_id or account.status != "active"):
        return subs.subscription_fetch_and_sync(account, subscription_id, reason=_reason(event))
    return "recorded"


def _on_invoice_payment_failed(event: StripeEvent) -> str:
    account, invoice = _invoice_account(event)
    if account is None:
        return "unknown_customer"
    subscription_id = subs.invoice_subscription(invoice)
    outcome = "recorded"
    if subscription_id:  # past due now: the grace period starts
        outcome = subs.subscription_fetch_and_sync(account, subscription_id, reason=_reason(event))
    data = _invoice_data(invoice)
    data["grace_ends_at"] = account.grace_ends_at.isoformat() if account.grace_ends_at else None
    subs.record_event(account, "billing.payment_failed", data)
    subs.owners_email(account.tenant, "payment_failed", data)
    return outcome


def _on_invoice_action_required(event: StripeEvent) -> str:
    account, invoice = _invoice_account(event)
    if account is None:
        return "unknown_customer"
    data = _invoice_data(invoice)
    subs.record_event(account, "billing.payment_action_required", data)
    subs.owners_email(account.tenant, "payment_action_required", data)
    return "recorded"


def _on_entitlements_updated(event: StripeEvent) -> str:
    """Stripe's own entitlements changed (the plan's features as Stripe knows them): the
    plan comes from our catalogue, so this only re-syncs the subscription."""
    summary = _object(event)
    account = _account_for(customer_id=subs.object_id(summary.get("customer")))
    if account is None:
        return "unknown_customer"
    event.tenant_id = account.tenant_id
    if not account.stripe_subscription_id:
        return "acknowledged"
    return subs.subscription_fetch_and_sync(account, account.stripe_subscription_id, reason=_reason(event))


HANDLERS: dict[str, Callable[[StripeEvent], str]] = {
    "checkout.session.completed": _on_checkout_completed,
    "customer.subscription.created": _on_subscription,
    "customer.subscription.updated": _on_subscription,
    "customer.subscription.deleted": _on_subscription,
    "customer.subscription.paused": _on_subscription,
    "customer.subscription.resumed": _on_subscription,
    "customer.subscription.trial_will_end": _on_subscription,
    "invoice.paid": _on_invoice_paid,
    "invoice.payment_failed": _on_invoice_payment_failed,
    "invoice.payment_action_required": _on_invoice_action_required,
    "entitlements.active_entitlement_summary.updated": _on_entitlements_updated,
}


def event_type_label(event_type: str) -> str:
    """The event's type as a metric label: a handled type, else ``other`` (Stripe has hundreds)."""
    return event_type if event_type in HANDLERS else "other"


def _handle(event: StripeEvent) -> str:
    handler = HANDLERS.get(event.type)
    if handler is None:
        return "unhandled_type"  # stored and acknowledged
    return handler(event)
