"""The one module that talks to Stripe (style.md, habit 9).

A ``stripe.StripeClient`` per call with the key from the settings and the API version
pinned here (``STRIPE_API_VERSION``): a Stripe account upgraded in the dashboard does not
change what we receive from the API. ``STRIPE_API_BASE`` points it at another server
(the tests' fake Stripe). Every POST carries an idempotency key made from our own ids,
so a retry (the library's own, a Celery retry, a double click) makes one object.
Stripe's errors become ours (billing.errors): 503 ``stripe_unavailable`` for what a retry
may fix (no connection, 5xx, 429), 400 ``stripe_request_invalid`` / 404
``stripe_resource_missing`` for what it will not, 502 for a key Stripe refuses.

Everything returned is plain data (``dict``), never a Stripe object: the rest of billing
does not depend on the library's types. Webhook signatures are verified here too
(``event_verify``) with the library's own ``WebhookSignature``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import stripe
from django.conf import settings

from billing import errors
from core.errors import ValidationFailed

logger = logging.getLogger("stockroom.billing")

# The Stripe API version every request asks for (and the version the webhook endpoint in
# Stripe's dashboard must send events in; docs/billing.md). The version the installed
# library was generated for: change both together.
STRIPE_API_VERSION = "2026-10-28.endive"
# Stripe's default tolerance for a webhook's signed timestamp.
WEBHOOK_TOLERANCE_SECONDS = 300

T = TypeVar("T")


def configured() -> bool:
    """Whether billing can talk to Stripe (a secret key is set): else free-only mode."""
    return bool(settings.STRIPE_SECRET_KEY)


def _client() -> stripe.StripeClient:
    if not configured():
        raise errors.BillingNotConfigured()
    base = settings.STRIPE_API_BASE
    kwargs: dict[str, Any] = {}
    if base:
        kwargs["base_addresses"] = {"api": base, "meter_events": base, "files": base, "connect": base}
    return stripe.StripeClient(
        api_key=settings.STRIPE_SECRET_KEY,
        stripe_version=STRIPE_API_VERSION,
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        **kwargs,
    )


@contextmanager
def _translated(what: str) -> Iterator[None]:
    """Stripe's errors as ours, logged with what we were doing."""
    try:
        yield
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
        logger.warning("stripe %s failed: %s", what, exc, extra={"dependency": "stripe"})
        raise errors.StripeUnavailable(details={"operation": what}) from exc
    except stripe.IdempotencyError as exc:
        raise errors.StripeIdempotencyConflict(details={"operation": what}) from exc
    except stripe.InvalidRequestError as exc:
        logger.error("stripe %s refused: %s", what, exc, extra={"dependency": "stripe"})
        if exc.code == "resource_missing":
            raise errors.StripeResourceMissing(details={"operation": what, "param": exc.param}) from exc
        raise errors.StripeRequestInvalid(
            details={"operation": what, "param": exc.param, "stripe_code": exc.code}
        ) from exc
    except stripe.StripeError as exc:  # authentication, permission, card...
        logger.error("stripe %s failed: %s", what, exc, extra={"dependency": "stripe"})
        status = exc.http_status or 0
        if status >= 500:
            raise errors.StripeUnavailable(details={"operation": what}) from exc
        raise errors.StripeFailed(details={"operation": what, "stripe_code": exc.code}) from exc


def _call(what: str, request: Callable[[stripe.StripeClient], Any]) -> dict[str, Any]:
    client = _client()
    with _translated(what):
        result = request(client)
    return dict(result.to_dict())


def _options(idempotency_key: str) -> stripe.RequestOptions:
    return {"idempotency_key": idempotency_key}


# --- Customers, Checkout, the Customer Portal ---------------------------------------------


def customer_create(*, tenant_id: str, name: str, email: str) -> str:
    """The workspace's Stripe customer (one per workspace: the key is the workspace's id);
    returns its id."""
    customer = _call(
        "customers.create",
        lambda c: c.v1.customers.create(
            {"name": name, "email": email, "metadata": {"tenant_id": tenant_id}},
            _options(f"customer-{tenant_id}"),
        ),
    )
    return str(customer["id"])


def checkout_session_create(
    *,
    tenant_id: str,
    customer_id: str,
    price_id: str,
    plan_code: str,
    trial_days: int,
    success_url: str,
    cancel_url: str,
    nonce: str,
) -> dict[str, Any]:
    """A Checkout Session in subscription mode for one price; ``{"id", "url"}``."""
    metadata = {"tenant_id": tenant_id, "plan": plan_code}
    subscription_data: dict[str, Any] = {"metadata": metadata}
    if trial_days:
        subscription_data["trial_period_days"] = trial_days
    params: dict[str, Any] = {
        "mode": "subscription",
        "customer": customer_id,
        "client_reference_id": tenant_id,
        "line_items": [{"price": price_id, "quantity": 1}],
        "metadata": metadata,
        "subscription_data": subscription_data,
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    session = _call(
        "checkout.sessions.create",
        lambda c: c.v1.checkout.sessions.create(
            params,  # type: ignore[arg-type]
            _options(f"checkout-{tenant_id}-{plan_code}-{nonce}"),
        ),
    )
    return {"id": session["id"], "url": session["url"]}


def checkout_session_close(session_id: str) -> str:
    """Expires a Checkout Session that is still open, so it can no longer be paid; returns
    its status after that (``expired``, or ``complete`` when it was paid already)."""
    session = _call("checkout.sessions.retrieve", lambda c: c.v1.checkout.sessions.retrieve(session_id))
    if session.get("status") != "open":
        return str(session.get("status") or "")
    try:
        closed = _call(
            "checkout.sessions.expire",
            lambda c: c.v1.checkout.sessions.expire(session_id, options=_options(f"expire-{session_id}")),
        )
    except errors.StripeRequestInvalid:  # paid or expired between the two requests
        closed = _call("checkout.sessions.retrieve", lambda c: c.v1.checkout.sessions.retrieve(session_id))
    return str(closed.get("status") or "")


def portal_session_create(*, tenant_id: str, customer_id: str, return_url: str, nonce: str) -> dict[str, Any]:
    """A Customer Portal session; ``{"id", "url"}``."""
    session = _call(
        "billing_portal.sessions.create",
        lambda c: c.v1.billing_portal.sessions.create(
            {"customer": customer_id, "return_url": return_url}, _options(f"portal-{tenant_id}-{nonce}")
        ),
    )
    return {"id": session["id"], "url": session["url"]}


# --- Subscriptions ----------------------------------------------------------------------------


def subscription_retrieve(subscription_id: str) -> dict[str, Any]:
    return _call("subscriptions.retrieve", lambda c: c.v1.subscriptions.retrieve(subscription_id))


def subscriptions_of_customer(customer_id: str) -> list[dict[str, Any]]:
    """The customer's subscriptions, every status, newest first (the first page: 100)."""
    page = _call(
        "subscriptions.list",
        lambda c: c.v1.subscriptions.list({"customer": customer_id, "status": "all", "limit": 100}),
    )
    return list(page.get("data") or [])


# --- Usage (Billing Meters) ------------------------------------------------------------------


def meter_event_create(*, event_name: str, customer_id: str, value: int, identifier: str, timestamp: int) -> None:
    """One meter event; ``identifier`` (our domain event's id) makes a second send of it a
    no-op at Stripe, and so does the idempotency key."""
    _call(
        "billing.meter_events.create",
        lambda c: c.v1.billing.meter_events.create(
            {
                "event_name": event_name,
                "identifier": identifier,
                "timestamp": timestamp,
                "payload": {"stripe_customer_id": customer_id, "value": str(value)},
            },
            _options(f"meter-{identifier}"),
        ),
    )


# --- Webhooks ----------------------------------------------------------------------------------


def event_verify(*, payload: bytes, signature: str, secret: str) -> dict[str, Any]:
    """The event of a webhook delivery, once ``Stripe-Signature`` is verified on the raw
    body (timestamp within 300 s). Raises 400 with a code (nothing is stored):
    ``stripe_signature_missing``, ``stripe_signature_invalid``, ``stripe_signature_expired``
    (a real signature outside the tolerance: a replay), ``stripe_payload_invalid`` (not a
    JSON event)."""
    if not signature.strip():
        raise ValidationFailed("The request has no Stripe-Signature header.", code=errors.STRIPE_SIGNATURE_MISSING)
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationFailed("The body is not UTF-8.", code=errors.STRIPE_PAYLOAD_INVALID) from exc
    try:
        stripe.WebhookSignature.verify_header(text, signature, secret, WEBHOOK_TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError as exc:
        if _signed_but_stale(text, signature, secret):
            raise ValidationFailed(
                f"The signature is older than {WEBHOOK_TOLERANCE_SECONDS} seconds.",
                code=errors.STRIPE_SIGNATURE_EXPIRED,
            ) from exc
        raise ValidationFailed(
            "The Stripe-Signature header does not match the body.", code=errors.STRIPE_SIGNATURE_INVALID
        ) from exc
    except (ValueError, IndexError, TypeError) as exc:  # a header the library cannot split or compare (non-ASCII)
        raise ValidationFailed(
            "The Stripe-Signature header is malformed.", code=errors.STRIPE_SIGNATURE_INVALID
        ) from exc
    try:
        event = json.loads(text)
    except ValueError as exc:
        raise ValidationFailed("The body is not JSON.", code=errors.STRIPE_PAYLOAD_INVALID) from exc
    if not _is_event(event):
        raise ValidationFailed(
            "The body is not a Stripe event (id, type, created, data.object).", code=errors.STRIPE_PAYLOAD_INVALID
        )
    return dict(event)


def _signed_but_stale(text: str, signature: str, secret: str) -> bool:
    try:
        stripe.WebhookSignature.verify_header(text, signature, secret, None)
    except (stripe.SignatureVerificationError, ValueError, IndexError, TypeError):
        return False
    return True


def _is_event(event: Any) -> bool:
    return (
        isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and 0 < len(event["id"]) <= 255
        and isinstance(event.get("type"), str)
        and 0 < len(event["type"]) <= 100
        and isinstance(event.get("created"), int)
        and not isinstance(event.get("created"), bool)
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    )
