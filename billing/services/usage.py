"""Usage reporting: sales orders as Stripe Billing Meter events (``BILLING_METER_EVENT_NAME``;
empty turns it off).

An outbox subscriber (``tenants.events.subscribe``, registered by billing's ``ready`` when
the setting is set) turns each ``sales_order.created`` of a workspace with a Stripe
customer into a ``MeterReport`` row, in the relay's transaction: the relay moves its
cursor in that same transaction, so each event makes one row. A Celery task sends the
pending rows after the commit, the domain event's id as the meter event's
``identifier`` (Stripe counts an identifier once), and the beat sweep sends what a
failure left behind. The meter sums the values: the workspace's monthly orders.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing import errors, stripe_client
from billing.models import BillingAccount, MeterReport
from tenants.context import current_tenant_id
from tenants.models import DomainEvent
from tenants.tasking import enqueue_on_commit

logger = logging.getLogger("stockroom.billing")

SUBSCRIBER = "billing_usage"
METERED_EVENT_TYPES = frozenset({"sales_order.created"})
SEND_TASK = "billing.tasks.send_meter_reports"


def meter_subscriber(batch: list[DomainEvent]) -> None:
    """The relay's handler (in the tenant's context and the relay's transaction)."""
    if not settings.BILLING_METER_EVENT_NAME:
        return
    metered = [event for event in batch if event.type in METERED_EVENT_TYPES]
    if not metered:
        return
    tenant_id = current_tenant_id()
    if tenant_id is None:
        return
    if not BillingAccount.objects.filter(tenant_id=tenant_id, stripe_customer_id__isnull=False).exists():
        return  # a workspace that never subscribed has nothing to be billed for
    MeterReport.objects.bulk_create(
        [
            MeterReport(event_id=event.id, tenant_id=tenant_id, event_type=event.type, occurred_at=event.created_at)
            for event in metered
        ],
        ignore_conflicts=True,
    )
    enqueue_on_commit(SEND_TASK)


def meter_reports_send(*, limit: int = 500) -> int:
    """Sends the pending meter reports (claimed ``FOR UPDATE SKIP LOCKED``); returns how many
    were sent. One that Stripe refuses keeps its error and is tried again by the next run;
    Stripe unavailable stops the run (the task retries)."""
    event_name = settings.BILLING_METER_EVENT_NAME
    if not event_name or not stripe_client.configured():
        return 0
    sent = 0
    unavailable: errors.StripeUnavailable | None = None
    with transaction.atomic():
        reports = list(
            MeterReport.objects.select_for_update(skip_locked=True)
            .filter(sent_at__isnull=True)
            .order_by("created_at")[:limit]
        )
        customers = dict(
            BillingAccount.objects.filter(tenant_id__in={r.tenant_id for r in reports}).values_list(
                "tenant_id", "stripe_customer_id"
            )
        )
        for report in reports:
            report.attempts += 1
            customer_id = customers.get(report.tenant_id)
            try:
                if customer_id:
                    stripe_client.meter_event_create(
                        event_name=event_name,
                        customer_id=customer_id,
                        value=report.value,
                        identifier=str(report.event_id),
                        timestamp=int(report.occurred_at.timestamp()),
                    )
            except errors.StripeUnavailable as exc:
                report.last_error = str(exc)
                report.save(update_fields=["attempts", "last_error"])
                unavailable = exc
                break
            except (errors.StripeRequestInvalid, errors.StripeFailed) as exc:
                report.last_error = f"{exc.code}: {exc}"
                report.save(update_fields=["attempts", "last_error"])
                logger.error("meter event %s refused: %s", report.event_id, exc, extra={"dependency": "stripe"})
                continue
            report.sent_at = timezone.now()
            report.last_error = ""
            report.save(update_fields=["attempts", "sent_at", "last_error"])
            sent += 1
    if unavailable is not None:  # what was sent stays marked; the rest waits for the retry
        raise unavailable
    return sent
