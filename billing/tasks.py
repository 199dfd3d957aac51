"""Billing's Celery tasks: processing a stored Stripe event (with retries) and the sweep
that queues again what is still unprocessed, the owners' emails, the daily reconciliation,
and sending usage to Stripe's meters."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from billing import emails
from billing.errors import StripeUnavailable
from billing.models import BillingAccount
from billing.services import subscriptions, usage, webhooks
from core.errors import DomainError
from tenants.context import get_current_tenant
from tenants.models import Membership, Role, TenantStatus
from tenants.tasking import TenantTask

logger = logging.getLogger("stockroom.billing")


@shared_task(bind=True, max_retries=8)
def process_stripe_event(self: Any, *, event_id: str) -> str:
    """Idempotent: an event done, or held by another worker, is skipped. A failure stays on
    the event row; Stripe unavailable is retried here (backing off up to 10 minutes),
    everything else by the sweep. Run eagerly (no broker: ``make run``), inside the
    webhook's request, a failure is left on the row for the sweep and never fails the
    request: Stripe got its 200 for an event that is stored."""
    try:
        return webhooks.event_process(event_id=event_id)
    except StripeUnavailable as exc:
        if self.request.is_eager:
            logger.warning("stripe event %s left for the sweep: %s", event_id, exc)
            return "failed"
        raise self.retry(exc=exc, countdown=min(600, 5 * 2**self.request.retries)) from exc


@shared_task
def stripe_event_sweep() -> int:
    """Celery beat: queues again the Stripe events still unprocessed a minute after they
    arrived (a lost task, a worker killed, a failure past its backoff)."""
    return len(webhooks.events_redispatch())


@shared_task(base=TenantTask, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_billing_email(*, tenant_id: str, kind: str, data: dict[str, object]) -> None:
    tenant = get_current_tenant()
    owners = list(
        Membership.objects.filter(tenant=tenant, role=Role.OWNER, user__is_active=True).values_list(
            "user__email", flat=True
        )
    )
    if owners:
        emails.send_billing_notice(kind, tenant=tenant, data=dict(data), recipients=owners)


@shared_task
def reconcile_subscriptions() -> dict[str, int]:
    """Celery beat, daily: re-syncs from Stripe every workspace with a Stripe customer whose
    subscription is not canceled (or who has none yet); a missed webhook heals here. Each
    correction is logged and recorded as ``billing.reconciled``. One account failing does
    not stop the others."""
    # Every customer whose subscription is not over, and every customer with none yet (a
    # checkout whose webhooks never came).
    # Ended subscriptions too: a workspace that subscribes again while the webhook endpoint
    # is broken past Stripe's retries would otherwise stay on Free.
    accounts = BillingAccount.objects.filter(stripe_customer_id__isnull=False, tenant__status=TenantStatus.ACTIVE)
    checked = corrected = failed = 0
    for account_id in accounts.values_list("pk", flat=True).iterator():
        checked += 1
        try:
            if subscriptions.account_reconcile(account_id=account_id):
                corrected += 1
        except (DomainError, LookupError, ValueError) as exc:
            failed += 1
            logger.error("billing reconciliation of account %s failed: %s", account_id, exc)
    logger.info("billing reconciliation: %s checked, %s corrected, %s failed", checked, corrected, failed)
    return {"checked": checked, "corrected": corrected, "failed": failed}


@shared_task(autoretry_for=(StripeUnavailable,), retry_backoff=True, max_retries=5)
def send_meter_reports() -> int:
    """After the outbox subscriber's commit, and from beat: the pending meter reports."""
    return usage.meter_reports_send()


@shared_task
def announce_grace_ends() -> int:
    """Celery beat, every 15 minutes: records and emails the end of each past-due grace period
    once (the free plan's limits apply from then on)."""
    return subscriptions.grace_ends_announce()
