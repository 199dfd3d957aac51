"""Emails of the accounts module, sent by Celery after the writing transaction commits,
and the beat sweep that queues again the ones still unsent (tenants.tasking)."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tenants import emails
from tenants.context import get_current_tenant
from tenants.models import (
    EmailVerificationRequest,
    IdempotentResponse,
    Invitation,
    PasswordResetRequest,
    TenantStatus,
)
from tenants.tasking import TenantTask, dispatch, ops_database, redispatch_claim

logger = logging.getLogger(__name__)

# Password reset and email verification rows are kept this long, then deleted by the sweep
# (an address still unverified by then asks for a new link: "Resend").
RESET_REQUEST_RETENTION = timedelta(days=1)


@shared_task(base=TenantTask, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_invitation_email(*, tenant_id: str, invitation_id: str) -> None:
    """Idempotent: the invitation is locked, and one already emailed, accepted, revoked or
    expired is skipped (a message queued twice sends one email)."""
    invitation = (
        Invitation.objects.select_for_update(of=("self",)).select_related("invited_by").filter(pk=invitation_id).first()
    )
    if invitation is None or invitation.email_sent_at or invitation.accepted_at or invitation.revoked_at:
        return
    if invitation.expires_at <= timezone.now():
        return
    emails.send_invitation(invitation, tenant=get_current_tenant())
    invitation.email_sent_at = timezone.now()
    invitation.save(update_fields=["email_sent_at"])


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_password_reset_email(*, request_id: str) -> None:
    """Idempotent like the invitation: a request already emailed, or older than a reset
    link lives, is skipped."""
    with transaction.atomic():
        request = (
            PasswordResetRequest.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(pk=request_id)
            .first()
        )
        if request is None or request.sent_at or not request.user.is_active:
            return
        if request.created_at <= timezone.now() - timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT):
            return
        emails.send_password_reset(request.user)
        request.sent_at = timezone.now()
        request.save(update_fields=["sent_at"])


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_verification_email(*, request_id: str) -> None:
    """Idempotent like the others: a request already emailed, for an address verified
    meanwhile, or older than its link lives, is skipped."""
    with transaction.atomic():
        request = (
            EmailVerificationRequest.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(pk=request_id)
            .first()
        )
        if request is None or request.sent_at or not request.user.is_active or request.user.email_verified_at:
            return
        if request.created_at <= timezone.now() - settings.EMAIL_VERIFICATION_TTL:
            return
        emails.send_email_verification(request.user)
        request.sent_at = timezone.now()
        request.save(update_fields=["sent_at"])


@shared_task
def redispatch_pending_emails() -> None:
    """Celery beat: queues again the invitation, password reset and email verification
    emails still unsent after the grace period (the broker was down when they were asked for)."""
    ops = ops_database()
    if ops is None:
        return
    now = timezone.now()
    invitations = Invitation.unscoped.using(ops).filter(
        email_sent_at__isnull=True,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=now,
        tenant__status=TenantStatus.ACTIVE,
    )
    for invitation in redispatch_claim(invitations):
        dispatch(send_invitation_email, tenant_id=str(invitation.tenant_id), invitation_id=str(invitation.id))
    resets = PasswordResetRequest.objects.using(ops).filter(
        sent_at__isnull=True, created_at__gt=now - timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
    )
    for request in redispatch_claim(resets):
        dispatch(send_password_reset_email, request_id=str(request.id))
    PasswordResetRequest.objects.using(ops).filter(created_at__lt=now - RESET_REQUEST_RETENTION).delete()
    verifications = EmailVerificationRequest.objects.using(ops).filter(
        sent_at__isnull=True, user__email_verified_at__isnull=True, created_at__gt=now - RESET_REQUEST_RETENTION
    )
    for request in redispatch_claim(verifications):
        dispatch(send_verification_email, request_id=str(request.id))
    EmailVerificationRequest.objects.using(ops).filter(created_at__lt=now - RESET_REQUEST_RETENTION).delete()


@shared_task(base=TenantTask)
def relay_events(*, tenant_id: str) -> dict[str, int]:
    """Hands the tenant's new domain events to the subscribers (tenants.events.relay)."""
    from tenants.events import relay

    return relay()


# Per tenant with events, its newest event (one probe of the (tenant, txid, seq) index),
# and whether a subscriber's cursor is short of it: a few index probes per tenant and
# subscriber, whatever the number of events.
_BEHIND_SQL = """
SELECT t.id FROM {tenant} t
CROSS JOIN LATERAL (
    SELECT e.txid, e.seq FROM {event} e WHERE e.tenant_id = t.id ORDER BY e.txid DESC, e.seq DESC LIMIT 1
) AS newest
WHERE EXISTS (
    SELECT 1 FROM unnest(%s::text[]) AS s(name)
    WHERE NOT EXISTS (
        SELECT 1 FROM {cursor} c
        WHERE c.tenant_id = t.id AND c.subscriber = s.name AND (c.txid, c.seq) >= (newest.txid, newest.seq)
    )
)
LIMIT 1000
"""


@shared_task
def relay_sweep() -> int:
    """Celery beat, every few seconds: queues the relay for each tenant whose newest event
    is beyond a subscriber's cursor (a kick lost with the broker, or a subscriber that
    failed). Reads across tenants, so it needs the operations role (DATABASE_OPS_URL).
    Its cost grows with the tenants, not with the events (``_BEHIND_SQL``)."""
    from django.db import connections

    from tenants.events import subscribers
    from tenants.models import DomainEvent, EventCursor, Tenant

    ops = ops_database()
    if ops is None:
        return 0
    names = list(subscribers())
    if not names:
        return 0
    sql = _BEHIND_SQL.format(
        tenant=Tenant._meta.db_table, event=DomainEvent._meta.db_table, cursor=EventCursor._meta.db_table
    )
    with connections[ops].cursor() as cursor:
        cursor.execute(sql, [names])
        tenants = [row[0] for row in cursor.fetchall()]
    for tenant in tenants:
        dispatch(relay_events, tenant_id=str(tenant))
    return len(tenants)


IDEMPOTENCY_DELETE_BATCH = 5000


@shared_task
def delete_expired_idempotency_keys() -> int:
    """Celery beat: deletes the stored responses of ``Idempotency-Key`` requests older than
    IDEMPOTENCY_KEY_TTL_SECONDS, across tenants on the ops alias, in batches (each its own
    short transaction, by the ``created_at`` index). The middleware already ignores an expired
    one, so a late sweep changes nothing a client sees. Returns how many were deleted."""
    ops = ops_database()
    if ops is None:
        return 0
    cutoff = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS)
    expired = IdempotentResponse.unscoped.using(ops).filter(created_at__lte=cutoff)
    deleted = 0
    while True:
        with transaction.atomic(using=ops):
            batch = list(expired.values_list("pk", flat=True)[:IDEMPOTENCY_DELETE_BATCH])
            if batch:
                IdempotentResponse.unscoped.using(ops).filter(pk__in=batch).delete()
        deleted += len(batch)
        if len(batch) < IDEMPOTENCY_DELETE_BATCH:
            return deleted
