"""Billing's emails to a workspace's owners (sent by Celery after the change commits,
billing.tasks): the trial ends soon, a payment failed (with the end of the grace period)
or needs the customer's action, the plan changed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.mail import send_mail

from tenants.models import Tenant
from tenants.plans import plan_get

KINDS = ("trial_will_end", "payment_failed", "payment_action_required", "plan_changed")


def _billing_url(tenant: Tenant) -> str:
    return f"{settings.FRONTEND_URL.rstrip('/')}/app/{tenant.slug}/settings/billing/"


def _message(kind: str, tenant: Tenant, data: dict[str, Any]) -> tuple[str, str]:
    url = _billing_url(tenant)
    if kind == "trial_will_end":
        return (
            f"The trial of {tenant.name} on Stockroom ends soon",
            f"The free trial of {tenant.name} ends on {data.get('trial_end') or 'its last day'}. "
            f"Add a payment method to keep your plan: {url}",
        )
    if kind == "payment_failed":
        link = data.get("hosted_invoice_url") or url
        grace = data.get("grace_ends_at")
        keep = (
            f" Your plan stays in force until {grace}; after that the workspace gets the free plan's limits."
            if grace
            else ""
        )
        return (
            f"A payment for {tenant.name} on Stockroom failed",
            f"We could not take the payment of invoice {data.get('invoice')}.{keep} Update your payment method: {link}",
        )
    if kind == "payment_action_required":
        link = data.get("hosted_invoice_url") or url
        return (
            f"A payment for {tenant.name} on Stockroom needs your confirmation",
            f"Your bank asks you to confirm the payment of invoice {data.get('invoice')}: {link}",
        )
    before, after = plan_get(str(data.get("before"))), plan_get(str(data.get("after")))
    return (
        f"{tenant.name} is now on the {after.name} plan",
        f"The plan of {tenant.name} on Stockroom changed from {before.name} to {after.name}. See it: {url}",
    )


def send_billing_notice(kind: str, *, tenant: Tenant, data: dict[str, Any], recipients: Sequence[str]) -> None:
    subject, message = _message(kind, tenant, data)
    send_mail(subject=subject, message=message, from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=list(recipients))
