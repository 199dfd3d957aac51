"""Celery tasks of outbound webhooks: one attempt at a message, the disabled-endpoint
email, the beat sweep that queues again what a lost task left behind, and the beat task
that deletes the delivery log past its retention."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integrations.models import MessageStatus, WebhookDelivery, WebhookDisabledNotice, WebhookMessage
from integrations.services import delivery
from tenants.models import TenantStatus
from tenants.tasking import TenantTask, dispatch, ops_database, redispatch_claim


# Not one transaction: the HTTP request runs outside any (the service takes and records the
# attempt in short transactions of its own), so a slow receiver holds no lock or snapshot.
@shared_task(base=TenantTask, atomic=False)
def send_webhook_message(*, tenant_id: str, message_id: str) -> str:
    """One attempt at the message (idempotent: a message not due, done, or taken by
    another worker is skipped)."""
    return delivery.message_send(message_id=message_id)


@shared_task(base=TenantTask, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_webhook_disabled_email(*, tenant_id: str, notice_id: str) -> None:
    delivery.disabled_notice_send(notice_id=notice_id)


@shared_task
def webhook_sweep() -> int:
    """Celery beat: queues again, across tenants on the ops alias, the webhook messages due
    for an attempt whose task was lost (broker down, worker killed mid-attempt), and the
    disabled-endpoint emails still unsent. Returns how many messages were queued."""
    ops = ops_database()
    if ops is None:
        return 0
    due = WebhookMessage.unscoped.using(ops).filter(
        status=MessageStatus.PENDING, next_attempt_at__lte=timezone.now(), tenant__status=TenantStatus.ACTIVE
    )
    messages = redispatch_claim(due)
    for message in messages:
        dispatch(send_webhook_message, tenant_id=str(message.tenant_id), message_id=str(message.id))
    notices = WebhookDisabledNotice.unscoped.using(ops).filter(sent_at__isnull=True, tenant__status=TenantStatus.ACTIVE)
    for notice in redispatch_claim(notices):
        dispatch(send_webhook_disabled_email, tenant_id=str(notice.tenant_id), notice_id=str(notice.id))
    return len(messages)


WEBHOOK_DELETE_BATCH = 1000


@shared_task
def delete_old_webhook_messages() -> int:
    """Celery beat: deletes, across tenants on the ops alias, the webhook messages finished
    (delivered or failed) more than WEBHOOK_LOG_RETENTION_DAYS ago, with their attempts
    (the delivery log), in batches of short transactions. Pending messages are kept
    whatever their age. Returns how many messages were deleted."""
    ops = ops_database()
    if ops is None:
        return 0
    cutoff = timezone.now() - timedelta(days=settings.WEBHOOK_LOG_RETENTION_DAYS)
    old = WebhookMessage.unscoped.using(ops).filter(created_at__lt=cutoff).exclude(status=MessageStatus.PENDING)
    deleted = 0
    while True:
        with transaction.atomic(using=ops):
            batch = list(old.values_list("pk", flat=True)[:WEBHOOK_DELETE_BATCH])
            if batch:
                WebhookDelivery.unscoped.using(ops).filter(message_id__in=batch).delete()
                WebhookMessage.unscoped.using(ops).filter(pk__in=batch).delete()
        deleted += len(batch)
        if len(batch) < WEBHOOK_DELETE_BATCH:
            return deleted
