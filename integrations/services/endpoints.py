"""Webhook endpoints: create, change, delete, rotate the secret, and the actions that
queue messages by hand (a test message, a redelivery, a recovery)."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, NotFound, ValidationFailed
from integrations import errors, event_types, ssrf
from integrations.models import DisabledReason, MessageStatus, WebhookDelivery, WebhookEndpoint, WebhookMessage
from tenants import events as domain_events
from tenants.context import current_tenant_id, get_current_tenant
from tenants.entitlements import Feature, require_feature
from tenants.tasking import enqueue_on_commit

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
SECRET_BYTES = 32
SEND_TASK = "integrations.tasks.send_webhook_message"


def generate_secret() -> str:
    """``whsec_`` + the base64 of 32 random bytes (Standard Webhooks' format)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def message_body(*, type: str, timestamp: datetime, data: dict[str, Any]) -> str:
    """The JSON a receiver gets: ``{"type", "timestamp", "data"}``, fixed when the message is made."""
    payload = {"type": type, "timestamp": timestamp.isoformat().replace("+00:00", "Z"), "data": data}
    return json.dumps(payload, cls=DjangoJSONEncoder, separators=(",", ":"))


def check_url(url: str) -> None:
    """400 ``webhook_url_refused`` (on ``url``, ``details.reason``) for a URL the SSRF
    guard refuses (integrations/ssrf.py)."""
    try:
        ssrf.resolve_target(url, allow_private=settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS)
    except ssrf.TargetRefused as exc:
        raise ValidationFailed(
            exc.message,
            code=errors.WEBHOOK_URL_REFUSED,
            details={"reason": exc.reason},
            fields={"url": [{"code": errors.WEBHOOK_URL_REFUSED, "message": exc.message}]},
        ) from exc


def clean_event_filters(values: Sequence[str]) -> list[str]:
    """The filters without duplicates, in the order given; 400 ``invalid_event_type`` on
    ``events`` for one that is not a known type, a known prefix + ``.*``, or ``*``."""
    unknown = [value for value in values if not event_types.is_known_filter(value)]
    if unknown:
        message = (
            f"Unknown event type {unknown[0]!r}: use a type such as product.updated, a prefix such as "
            "product.*, or * for every event."
        )
        raise ValidationFailed(
            message,
            code=errors.INVALID_EVENT_TYPE,
            details={"unknown": unknown},
            fields={"events": [{"code": errors.INVALID_EVENT_TYPE, "message": message}]},
        )
    return list(dict.fromkeys(values))


def _queue_send(message: WebhookMessage) -> None:
    enqueue_on_commit(SEND_TASK, message_id=str(message.pk))


def _locked(endpoint_id: Any) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.select_for_update(of=("self",)).filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound("No such webhook endpoint in this workspace.")
    return endpoint


def _require_active(endpoint: WebhookEndpoint) -> None:
    if not endpoint.is_active:
        raise Conflict(
            "This webhook endpoint is disabled: turn it back on (is_active true) first.",
            code=errors.WEBHOOK_ENDPOINT_DISABLED,
        )


def webhook_endpoint_create(
    *, url: str, events: Sequence[str], description: str = "", is_active: bool = True, user: Any = None
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (the only time the caller gets it, apart from a rotation)."""
    tenant_id = current_tenant_id()
    assert tenant_id is not None
    require_feature(get_current_tenant(), Feature.WEBHOOKS)
    filters = clean_event_filters(events)
    check_url(url)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            url=url,
            events=filters,
            description=description,
            is_active=is_active,
            secret=generate_secret(),
            created_by=user,
            disabled_at=None if is_active else timezone.now(),
            disabled_reason="" if is_active else DisabledReason.MANUAL,
        )
        domain_events.record(
            "webhook_endpoint.created",
            endpoint,
            {"url": url, "events": filters, "description": description, "is_active": is_active},
        )
    return endpoint, endpoint.secret


def webhook_endpoint_update(*, endpoint_id: Any, **changes: Any) -> WebhookEndpoint:
    """Changes ``url`` (checked again), ``events``, ``description``, ``is_active``. Turning
    an endpoint off records ``webhook_endpoint.disabled`` (reason ``manual``); turning it
    on clears the failure streak."""
    if "events" in changes:
        changes["events"] = clean_event_filters(changes["events"])
    if "url" in changes:
        check_url(changes["url"])
    with transaction.atomic():
        endpoint = _locked(endpoint_id)
        was_active = endpoint.is_active
        fields = ["updated_at"]
        for name in ("url", "events", "description", "is_active"):
            if name in changes:
                setattr(endpoint, name, changes[name])
                fields.append(name)
        if was_active and not endpoint.is_active:
            endpoint.disabled_at, endpoint.disabled_reason = timezone.now(), DisabledReason.MANUAL
        elif endpoint.is_active and not was_active:
            endpoint.disabled_at, endpoint.disabled_reason, endpoint.failing_since = None, "", None
        fields += ["disabled_at", "disabled_reason", "failing_since"]
        endpoint.save(update_fields=fields)
        if was_active and not endpoint.is_active:
            domain_events.record(
                "webhook_endpoint.disabled", endpoint, {"url": endpoint.url, "reason": DisabledReason.MANUAL.value}
            )
    return endpoint


def webhook_endpoint_delete(*, endpoint_id: Any) -> None:
    """Deletes the endpoint with its messages and delivery log."""
    with transaction.atomic():
        _locked(endpoint_id).delete()


def webhook_endpoint_rotate_secret(*, endpoint_id: Any) -> tuple[WebhookEndpoint, str]:
    """A new secret; the current one goes on signing too for WEBHOOK_SECRET_OVERLAP_SECONDS
    (24 h), so a receiver can switch without losing a message. Rotating again during
    the overlap ends the oldest secret at once."""
    with transaction.atomic():
        endpoint = _locked(endpoint_id)
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = timezone.now() + timedelta(
            seconds=settings.WEBHOOK_SECRET_OVERLAP_SECONDS
        )
        endpoint.secret = generate_secret()
        endpoint.save(update_fields=["previous_secret", "previous_secret_expires_at", "secret", "updated_at"])
    return endpoint, endpoint.secret


def webhook_endpoint_test(*, endpoint_id: Any) -> WebhookMessage:
    """Queues a ``webhook.test`` message to the endpoint, whatever its filters."""
    with transaction.atomic():
        endpoint = _locked(endpoint_id)
        _require_active(endpoint)
        now = timezone.now()
        message = WebhookMessage.objects.create(
            endpoint=endpoint,
            event_type=event_types.TEST_EVENT_TYPE,
            body=message_body(
                type=event_types.TEST_EVENT_TYPE,
                timestamp=now,
                data={"subject_type": "webhook_endpoint", "subject_id": str(endpoint.pk)},
            ),
            next_attempt_at=now,
            dispatched_at=now,
        )
        _queue_send(message)
    return message


def _requeue(messages: Sequence[WebhookMessage]) -> None:
    """Pending again, due now, with a fresh retry schedule; the ``webhook-id`` stays."""
    now = timezone.now()
    WebhookMessage.objects.filter(pk__in=[m.pk for m in messages]).update(
        status=MessageStatus.PENDING, attempts=0, next_attempt_at=now, dispatched_at=now, dispatch_attempts=1
    )
    for message in messages:
        _queue_send(message)


def webhook_delivery_redeliver(*, delivery_id: Any) -> WebhookMessage:
    """Sends the delivery's message again (same ``webhook-id`` and body), now."""
    with transaction.atomic():
        delivery = WebhookDelivery.objects.filter(pk=delivery_id).first()
        if delivery is None:
            raise NotFound("No such webhook delivery in this workspace.")
        _require_active(_locked(delivery.endpoint_id))
        message = WebhookMessage.objects.select_for_update(of=("self",)).get(pk=delivery.message_id)
        _requeue([message])
        message.refresh_from_db()
    return message


def webhook_endpoint_recover(*, endpoint_id: Any, since: datetime) -> int:
    """Queues again the endpoint's failed messages made since ``since``; returns how many."""
    with transaction.atomic():
        endpoint = _locked(endpoint_id)
        _require_active(endpoint)
        messages = list(
            WebhookMessage.objects.select_for_update(of=("self",))
            .filter(endpoint_id=endpoint.pk, status=MessageStatus.FAILED, created_at__gte=since)
            .order_by("created_at")
        )
        _requeue(messages)
    return len(messages)
