"""Delivery of webhook messages (Standard Webhooks 1.0).

- ``webhook_fanout`` is the relay's subscriber (``tenants.events.subscribe("webhooks",
  ...)``): inside the relay's transaction it makes one message per (event, active
  endpoint whose filters match), so each exists exactly once (the relay moves its cursor
  in the same transaction; a unique constraint backs it), and queues a send task for
  each on commit.
- ``message_send`` (the task's body) makes one attempt: it takes the message in a short
  transaction (a lease: ``next_attempt_at`` moves past the timeout), sends outside any
  transaction (a slow receiver holds no lock and no snapshot), and records the attempt in
  another. A failed attempt is retried on WEBHOOK_RETRY_SCHEDULE_SECONDS with jitter,
  never sooner than the receiver's ``Retry-After``; a 410 disables the endpoint at once,
  and so does failing for WEBHOOK_DISABLE_AFTER_SECONDS. Each message is its own task:
  a dead endpoint delays no other.
"""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from core import metrics
from integrations import emails, event_types, ssrf, webhook_http
from integrations.models import (
    DisabledReason,
    MessageStatus,
    WebhookDelivery,
    WebhookDisabledNotice,
    WebhookEndpoint,
    WebhookMessage,
)
from integrations.services.endpoints import SEND_TASK, message_body
from tenants import events as domain_events
from tenants.context import current_tenant_id, get_current_tenant
from tenants.entitlements import Feature, feature_enabled
from tenants.models import DomainEvent, Membership, Role
from tenants.tasking import BROKER_ERRORS, enqueue_on_commit, task_by_name

logger = logging.getLogger("stockroom.webhooks")

SUBSCRIBER = "webhooks"
# A worker that took a message holds it this long past the timeout; then the sweep may queue it again.
LEASE_MARGIN_SECONDS = 60
JITTER = 0.1  # each retry delay is the schedule's +/- 10 %
USER_AGENT = "Stockroom-Webhooks/1.0"


# --- Fan-out: the relay's subscriber -----------------------------------------------------


def event_data(event: DomainEvent) -> dict[str, Any]:
    """The ``data`` of an event's message: the subject, the event's own data, and for an
    update the changed fields."""
    data: dict[str, Any] = dict(event.data)
    if event.changes is not None:
        data["changes"] = event.changes
    data.update({"subject_type": event.subject_type, "subject_id": event.subject_id, "event_id": str(event.pk)})
    return data


def webhook_fanout(batch: list[DomainEvent]) -> None:
    """One message per (event, active endpoint that wants it and existed when the event
    happened), in the relay's transaction; each is queued for sending on commit."""
    tenant_id = current_tenant_id()
    if tenant_id is None or not feature_enabled(tenant_id, Feature.WEBHOOKS):
        return
    endpoints = list(WebhookEndpoint.objects.filter(is_active=True).only("id", "events", "created_at"))
    if not endpoints:
        return
    now = timezone.now()
    messages = []
    for event in batch:
        body = None
        for endpoint in endpoints:
            if event.created_at < endpoint.created_at or not event_types.matches(endpoint.events, event.type):
                continue
            body = body or message_body(type=event.type, timestamp=event.created_at, data=event_data(event))
            messages.append(
                WebhookMessage(
                    endpoint=endpoint,
                    event_id=event.pk,
                    event_type=event.type,
                    body=body,
                    next_attempt_at=now,
                    dispatched_at=now,
                )
            )
    if not messages:
        return
    # The relay hands a batch over once; a conflict here is a batch handed over again after
    # a crash between this insert and the cursor's move, which rolled both back anyway.
    WebhookMessage.objects.bulk_create(messages, ignore_conflicts=True)
    for message in messages:
        enqueue_on_commit(SEND_TASK, message_id=str(message.pk))


# --- One attempt ---------------------------------------------------------------------------


def signature_header(*, secrets: list[str], webhook_id: str, timestamp: datetime, body: str) -> str:
    """``v1,<base64 HMAC-SHA256 of id.timestamp.body>`` per secret, space-separated."""
    return " ".join(Webhook(secret).sign(msg_id=webhook_id, timestamp=timestamp, data=body) for secret in secrets)


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The current secret, and the previous one while a rotation's overlap lasts."""
    secrets = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > now:
        secrets.append(endpoint.previous_secret)
    return secrets


def retry_after_seconds(value: str | None, *, now: datetime) -> float | None:
    """A ``Retry-After`` header (seconds, or an HTTP date) as seconds from now, capped at
    WEBHOOK_RETRY_AFTER_MAX_SECONDS; None when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        seconds = float(text)
    else:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    return max(0.0, min(seconds, float(settings.WEBHOOK_RETRY_AFTER_MAX_SECONDS)))


def retry_delay(attempt: int, *, retry_after: float | None) -> float | None:
    """Seconds until the attempt after ``attempt`` (1-based), or None when none is left."""
    schedule = settings.WEBHOOK_RETRY_SCHEDULE_SECONDS
    if attempt > len(schedule):
        return None
    delay = float(schedule[attempt - 1]) * random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311 - jitter, not security
    return max(delay, retry_after or 0.0)


def _take(message_id: Any) -> tuple[WebhookMessage, WebhookEndpoint] | None:
    """The message, if it is pending and due and no other worker has it; its lease taken."""
    now = timezone.now()
    with transaction.atomic():
        message = (
            WebhookMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .filter(pk=message_id, status=MessageStatus.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if message is None:
            return None
        endpoint = message.endpoint
        if not endpoint.is_active:
            message.status, message.next_attempt_at = MessageStatus.FAILED, None
            message.save(update_fields=["status", "next_attempt_at"])
            return None
        message.attempts += 1
        message.last_attempt_at = now
        message.next_attempt_at = now + timedelta(
            seconds=float(settings.WEBHOOK_TIMEOUT_SECONDS) + LEASE_MARGIN_SECONDS
        )
        message.save(update_fields=["attempts", "last_attempt_at", "next_attempt_at"])
    return message, endpoint


def _attempt(message: WebhookMessage, endpoint: WebhookEndpoint) -> webhook_http.Answer:
    try:
        target = ssrf.resolve_target(endpoint.url, allow_private=settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS)
    except ssrf.TargetRefused as exc:
        return webhook_http.Answer(status_code=None, duration_ms=0, error=f"refused ({exc.reason}): {exc.message}")
    now = timezone.now()
    headers = {
        "webhook-id": message.webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature_header(
            secrets=signing_secrets(endpoint, now), webhook_id=message.webhook_id, timestamp=now, body=message.body
        ),
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }
    return webhook_http.post(
        target, body=message.body.encode(), headers=headers, timeout=float(settings.WEBHOOK_TIMEOUT_SECONDS)
    )


def message_send(*, message_id: Any) -> str:
    """One attempt at the message: ``skipped`` (not due, taken by another worker, done,
    or its endpoint disabled), ``succeeded``, ``retrying`` or ``failed``."""
    taken = _take(message_id)
    if taken is None:
        return "skipped"
    message, endpoint = taken
    answer = _attempt(message, endpoint)
    with transaction.atomic():
        if not WebhookMessage.objects.select_for_update(of=("self",)).filter(pk=message.pk).exists():
            return "skipped"  # its endpoint was deleted during the attempt: nothing to record
        return _record(message, endpoint, answer)


def _error_of(answer: webhook_http.Answer) -> str:
    if answer.error or answer.status_code is None:
        return answer.error
    if 300 <= answer.status_code < 400:
        return f"HTTP {answer.status_code}: redirects are not followed"
    if not 200 <= answer.status_code < 300:
        return f"HTTP {answer.status_code}"
    return ""


def _record(message: WebhookMessage, endpoint: WebhookEndpoint, answer: webhook_http.Answer) -> str:
    outcome = _record_attempt(message, endpoint, answer)
    metrics.webhook_delivery_recorded(outcome)  # counted after the commit
    return outcome


def _record_attempt(message: WebhookMessage, endpoint: WebhookEndpoint, answer: webhook_http.Answer) -> str:
    succeeded = answer.status_code is not None and 200 <= answer.status_code < 300
    WebhookDelivery.objects.create(
        message=message,
        endpoint=endpoint,
        attempt=message.attempts,
        succeeded=succeeded,
        status_code=answer.status_code,
        duration_ms=answer.duration_ms,
        response_excerpt=answer.excerpt,
        error=_error_of(answer),
    )
    now = timezone.now()
    mine = WebhookMessage.objects.filter(pk=message.pk)
    if succeeded:
        mine.update(status=MessageStatus.SUCCEEDED, next_attempt_at=None)
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=False).update(failing_since=None)
        return "succeeded"
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
    failing_since = WebhookEndpoint.objects.filter(pk=endpoint.pk).values_list("failing_since", flat=True).first()
    reason = None
    if answer.status_code == 410:
        reason = DisabledReason.GONE
    elif failing_since and failing_since <= now - timedelta(seconds=float(settings.WEBHOOK_DISABLE_AFTER_SECONDS)):
        reason = DisabledReason.FAILING
    delay = (
        None if reason else retry_delay(message.attempts, retry_after=retry_after_seconds(answer.retry_after, now=now))
    )
    if delay is None:
        mine.update(status=MessageStatus.FAILED, next_attempt_at=None)
        if reason:
            endpoint_disable(endpoint_id=endpoint.pk, reason=reason)
        return "failed"
    due = now + timedelta(seconds=delay)
    mine.update(next_attempt_at=due, dispatched_at=due, dispatch_attempts=1)
    _queue_retry(message.pk, delay)
    return "retrying"


def _queue_retry(message_id: Any, countdown: float) -> None:
    """The next attempt's task, queued on commit to run in ``countdown`` seconds. A broker
    that is down is logged: the dispatch sweep queues the message once it is due."""
    task = task_by_name(SEND_TASK)
    kwargs = {"tenant_id": str(current_tenant_id()), "message_id": str(message_id)}

    def send() -> None:
        if task.app.conf.task_always_eager and countdown > 0:
            return  # eager mode (tests, no broker) cannot wait: the dispatch sweep queues it when due
        try:
            task.apply_async(kwargs=kwargs, countdown=countdown)
        except BROKER_ERRORS as exc:
            logger.error("could not queue webhook retry %s (%s); the sweep will", message_id, exc)

    transaction.on_commit(send)


# --- Disabling ---------------------------------------------------------------------------


def endpoint_disable(*, endpoint_id: Any, reason: DisabledReason) -> bool:
    """Turns the endpoint off for ``reason`` (410, or failing too long) if it is still on:
    records ``webhook_endpoint.disabled`` and queues the email to the admins and owners.
    False when it was already off."""
    now = timezone.now()
    changed = WebhookEndpoint.objects.filter(pk=endpoint_id, is_active=True).update(
        is_active=False, disabled_at=now, disabled_reason=reason, updated_at=now
    )
    if not changed:
        return False
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
    domain_events.record("webhook_endpoint.disabled", endpoint, {"url": endpoint.url, "reason": reason.value})
    notice = WebhookDisabledNotice.objects.create(endpoint=endpoint, reason=reason)
    enqueue_on_commit("integrations.tasks.send_webhook_disabled_email", notice_id=str(notice.pk))
    logger.warning("webhook endpoint %s disabled (%s)", endpoint_id, reason.value)
    return True


def disabled_notice_send(*, notice_id: Any) -> None:
    """Emails the notice to the workspace's admins and owners once (a notice already sent is skipped)."""
    notice = (
        WebhookDisabledNotice.objects.select_for_update(of=("self",))
        .select_related("endpoint")
        .filter(pk=notice_id)
        .first()
    )
    if notice is None or notice.sent_at is not None:
        return
    tenant = get_current_tenant()
    recipients = list(
        Membership.objects.filter(tenant_id=tenant.pk, role__in=[Role.ADMIN, Role.OWNER], user__is_active=True)
        .order_by("user__email")
        .values_list("user__email", flat=True)
    )
    if recipients:
        emails.send_webhook_disabled(notice.endpoint, reason=notice.reason, tenant=tenant, recipients=recipients)
    notice.sent_at = timezone.now()
    notice.save(update_fields=["sent_at"])
