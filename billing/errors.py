"""Billing's error codes and the errors Stripe's failures become (billing/stripe_client.py)."""

from __future__ import annotations

from core.errors import Conflict, DomainError

BILLING_NOT_CONFIGURED = "billing_not_configured"  # no STRIPE_SECRET_KEY (free-only mode) or no price
STRIPE_UNAVAILABLE = "stripe_unavailable"  # Stripe could not be reached, or failed (5xx, 429)
STRIPE_REQUEST_INVALID = "stripe_request_invalid"  # Stripe refused what we sent (400)
STRIPE_RESOURCE_MISSING = "stripe_resource_missing"  # the customer or subscription is unknown to Stripe
STRIPE_AUTHENTICATION_FAILED = "stripe_authentication_failed"  # our key is wrong or revoked
STRIPE_IDEMPOTENCY_CONFLICT = "stripe_idempotency_conflict"
STRIPE_SIGNATURE_MISSING = "stripe_signature_missing"
STRIPE_SIGNATURE_INVALID = "stripe_signature_invalid"
STRIPE_SIGNATURE_EXPIRED = "stripe_signature_expired"  # signed, but outside the 300 s tolerance
STRIPE_PAYLOAD_INVALID = "stripe_payload_invalid"
PLAN_NOT_FOR_SALE = "plan_not_for_sale"  # the free plan (a paid plan without a price: billing_not_configured)
ALREADY_SUBSCRIBED = "already_subscribed"  # checkout while a subscription is live: use the portal
NO_BILLING_ACCOUNT = "no_billing_account"  # the portal before any checkout


class BillingNotConfigured(Conflict):
    """409: this server's configuration (not the request) does not allow it."""

    status_code = 409
    code = BILLING_NOT_CONFIGURED
    default_message = "Billing is not configured on this server: only the free plan is available."


class StripeUnavailable(DomainError):
    """Stripe could not be reached or answered 5xx/429: worth retrying."""

    status_code = 503
    code = STRIPE_UNAVAILABLE
    default_message = "The payment provider is unavailable. Try again shortly."


class StripeFailed(DomainError):
    """Stripe refused our credentials (or failed in a way retrying will not help)."""

    status_code = 502
    code = STRIPE_AUTHENTICATION_FAILED
    default_message = "The payment provider refused the request."


class StripeRequestInvalid(DomainError):
    """Stripe answered 400 to what we sent (e.g. a price id that does not exist)."""

    status_code = 400
    code = STRIPE_REQUEST_INVALID
    default_message = "The payment provider refused the request as invalid."


class StripeResourceMissing(StripeRequestInvalid):
    status_code = 404
    code = STRIPE_RESOURCE_MISSING
    default_message = "The payment provider does not know this customer or subscription."


class StripeIdempotencyConflict(Conflict):
    code = STRIPE_IDEMPOTENCY_CONFLICT
    default_message = "The payment provider saw this request before with other parameters."
