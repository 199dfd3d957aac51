"""Stripe events as Stripe sends them, signed with the stripe library's own helper."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import stripe
from rest_framework.test import APIClient

from billing.stripe_client import STRIPE_API_VERSION

WEBHOOK = "/api/v1/billing/webhook/"
BILLING = "/api/v1/billing/"
WEBHOOK_SECRET = "whsec_test_secret"
_ids = itertools.count(1)


def event(type: str, obj: dict[str, Any], *, created: int | None = None, id: str | None = None) -> dict[str, Any]:
    return {
        "id": id or f"evt_{next(_ids):08d}",
        "object": "event",
        "type": type,
        "created": created if created is not None else int(time.time()),
        "livemode": False,
        "api_version": STRIPE_API_VERSION,
        "data": {"object": obj},
    }


def signed(payload: str, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)


def post_raw(client: APIClient, payload: str | bytes, signature: str | None) -> Any:
    headers: dict[str, Any] = {"HTTP_STRIPE_SIGNATURE": signature} if signature is not None else {}
    return client.generic("POST", WEBHOOK, payload, content_type="application/json", **headers)  # type: ignore[arg-type]


def deliver(client: APIClient, evt: dict[str, Any]) -> Any:
    """One signed delivery of ``evt``."""
    payload = json.dumps(evt)
    return post_raw(client, payload, signed(payload))


def checkout_completed(*, tenant_id: str, customer: str | None, subscription: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"cs_test_{next(_ids)}",
        "object": "checkout.session",
        "mode": "subscription",
        "client_reference_id": tenant_id,
        "customer": customer,
        "subscription": subscription,
        "metadata": {"tenant_id": tenant_id},
        **extra,
    }


def invoice(*, customer: str, subscription: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"in_{next(_ids)}",
        "object": "invoice",
        "customer": customer,
        "amount_due": 2900,
        "currency": "usd",
        "hosted_invoice_url": "https://invoice.stripe.test/i/1",
        "parent": {"type": "subscription_details", "subscription_details": {"subscription": subscription}},
        **extra,
    }
