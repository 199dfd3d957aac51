"""The workspace's Stripe customer (created lazily, once) and the sessions that send an
owner to Stripe: Checkout to subscribe, the Customer Portal to manage payment methods,
invoices and cancellation."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import IntegrityError, transaction

from billing import errors, stripe_client
from billing.models import BillingAccount
from billing.plans import price_of
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tenants import errors as tenant_errors
from tenants.models import BillingStatus, Membership, Role, Tenant, User
from tenants.plans import PAID_PLAN_CODES, plan_get

# Statuses of a subscription that still exists at Stripe: a new Checkout would make a second one.
# Subscriptions that pay, or will (a trial): their plan applies.
PAYING_STATUSES = frozenset({BillingStatus.TRIALING, BillingStatus.ACTIVE, BillingStatus.PAST_DUE})
LIVE_STATUSES = frozenset(
    {
        BillingStatus.TRIALING,
        BillingStatus.ACTIVE,
        BillingStatus.PAST_DUE,
        BillingStatus.UNPAID,
        BillingStatus.PAUSED,
        BillingStatus.INCOMPLETE,
    }
)


def account_get_or_create(*, tenant: Tenant) -> BillingAccount:
    """The workspace's billing account row (no Stripe call)."""
    account = BillingAccount.objects.filter(tenant=tenant).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return BillingAccount.objects.create(tenant=tenant)
    except IntegrityError:  # created by a concurrent request
        return BillingAccount.objects.get(tenant=tenant)


def customer_ensure(*, tenant: Tenant, email: str) -> BillingAccount:
    """The account with its Stripe customer, created at the first need. The idempotency key
    is the workspace's id, so two concurrent first checkouts make one customer."""
    account = account_get_or_create(tenant=tenant)
    if account.stripe_customer_id:
        return account
    customer_id = stripe_client.customer_create(tenant_id=str(tenant.pk), name=tenant.name, email=email)
    with transaction.atomic():
        BillingAccount.objects.filter(pk=account.pk, stripe_customer_id__isnull=True).update(
            stripe_customer_id=customer_id
        )
    account.refresh_from_db()
    return account


def _require_role(*, tenant: Tenant, user: User, role: Role) -> None:
    membership = Membership.objects.filter(tenant=tenant, user=user).only("role").first()
    if membership is None or not Role(membership.role).at_least(role):
        raise PermissionDenied(
            f"This action needs the {role.label.lower()} role or higher.", code=tenant_errors.ROLE_REQUIRED
        )


def _url(template: str, tenant: Tenant) -> str:
    return template.format(site=settings.FRONTEND_URL.rstrip("/"), slug=tenant.slug)


def checkout_session_create(
    *, tenant: Tenant, user: User, plan: str, success_url: str = "", cancel_url: str = ""
) -> str:
    """The URL of a Stripe Checkout Session that subscribes the workspace to ``plan``
    (owners only). Subscription mode, the plan's price, the plan's trial on the workspace's
    first subscription only, the workspace's id as ``client_reference_id`` and in the
    session's and the subscription's metadata. 409 ``already_subscribed`` while a
    subscription exists (changing plan is the Portal's job), 400 ``plan_not_for_sale``
    for the free plan, 409 ``billing_not_configured`` without a Stripe key or without the
    plan's price (``STRIPE_PRICE_<PLAN>``)."""
    _require_role(tenant=tenant, user=user, role=Role.OWNER)
    if not stripe_client.configured():
        raise errors.BillingNotConfigured()
    if plan not in PAID_PLAN_CODES:
        raise ValidationFailed.for_field("plan", errors.PLAN_NOT_FOR_SALE, f"{plan!r} is not a paid plan.")
    price_id = price_of(plan)
    if not price_id:
        raise errors.BillingNotConfigured(
            f"No Stripe price is configured for the {plan_get(plan).name} plan (STRIPE_PRICE_{plan.upper()}).",
            details={"plan": plan},
        )
    account = account_get_or_create(tenant=tenant)
    if account.stripe_subscription_id and account.status in LIVE_STATUSES:
        raise Conflict(
            "The workspace has a subscription already: change its plan in the billing portal.",
            code=errors.ALREADY_SUBSCRIBED,
            details={"plan": account.plan_code, "status": account.status},
        )
    account = customer_ensure(tenant=tenant, email=user.email)
    assert account.stripe_customer_id
    if account.checkout_session_id and stripe_client.checkout_session_close(account.checkout_session_id) == "complete":
        raise Conflict(
            "A checkout of this workspace was paid already: its subscription shows here within a minute.",
            code=errors.ALREADY_SUBSCRIBED,
            details={"checkout_session": account.checkout_session_id},
        )
    session = stripe_client.checkout_session_create(
        tenant_id=str(tenant.pk),
        customer_id=account.stripe_customer_id,
        price_id=price_id,
        plan_code=plan,
        trial_days=0 if account.has_subscribed else plan_get(plan).trial_days,
        success_url=success_url or _url(settings.BILLING_SUCCESS_URL, tenant),
        cancel_url=cancel_url or _url(settings.BILLING_CANCEL_URL, tenant),
        nonce=secrets.token_hex(8),
    )
    BillingAccount.objects.filter(pk=account.pk).update(checkout_session_id=str(session["id"]))
    return str(session["url"])


def portal_session_create(*, tenant: Tenant, user: User, return_url: str = "") -> str:
    """The URL of a Stripe Customer Portal session for the workspace (owners only: plan
    changes and cancelling happen there). 404 ``no_billing_account`` before the workspace has a Stripe customer."""
    _require_role(tenant=tenant, user=user, role=Role.OWNER)
    if not stripe_client.configured():
        raise errors.BillingNotConfigured()
    account = BillingAccount.objects.filter(tenant=tenant).first()
    if account is None or not account.stripe_customer_id:
        raise NotFound("The workspace has no billing account yet: subscribe first.", code=errors.NO_BILLING_ACCOUNT)
    session = stripe_client.portal_session_create(
        tenant_id=str(tenant.pk),
        customer_id=account.stripe_customer_id,
        return_url=return_url or _url(settings.BILLING_PORTAL_RETURN_URL, tenant),
        nonce=secrets.token_hex(8),
    )
    return str(session["url"])
