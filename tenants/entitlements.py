"""What a workspace's plan allows: the one check every gated feature and limit goes through.

- ``effective_plan(tenant)``: the plan whose entitlements apply now. Billing writes the
  workspace's subscription snapshot onto the tenant row (``plan_code``,
  ``billing_status``, ``grace_ends_at``; ``tenants.services.tenant_plan_apply``), so
  this reads no other table: ``trialing`` and ``active`` get the plan; ``past_due``
  keeps it until the grace period ends; ``unpaid``, ``canceled``, ``incomplete``,
  ``incomplete_expired`` and ``paused`` get the free plan; no subscription at all
  (``billing_status`` empty) gets ``plan_code`` as set by platform staff (free unless
  they gave another).
- ``feature_enabled(tenant, feature)`` / ``require_feature``: API keys, webhooks,
  connectors, exports, forecasting and the audit log. ``require_feature`` raises 403
  ``feature_not_in_plan`` naming the feature and the cheapest plan that has it.
- ``limit_check(tenant=, limit=, adding=)``: called by the services that create a
  limited thing, inside their transaction. It takes a transaction-level advisory lock
  for (workspace, limit), counts the usage and raises 402 ``plan_limit_reached``
  (limit, usage, allowance, the cheapest plan that lifts it) when ``adding`` more would
  exceed the allowance. Two transactions creating the last allowed thing at once
  serialize on the lock: the second counts the first's row once it has committed, so
  the limit admits exactly the allowance. An unlimited plan takes no lock. Reads and
  deletes never call it, so a downgraded workspace over its limits keeps reading and
  can delete down to the limit.
- The usage of each limit is counted by the app that owns the rows, registered at
  start-up (``register_usage``, from each app's ``ready``): this module sits below
  inventory and orders and imports neither. API requests per minute are enforced by
  the API's plan throttle (``core.api.throttling.PlanRateThrottle``), not here.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone

from core.api.idempotency import lock_id
from core.errors import PaymentRequired, PermissionDenied
from core.sql import advisory_xact_lock
from tenants import errors
from tenants.models import BillingStatus, Tenant
from tenants.plans import (
    FEATURE_PHRASES,
    FREE,
    LIMIT_LABELS,
    Feature,
    Limit,
    Plan,
    cheapest_plan_lifting,
    cheapest_plan_with,
    plan_get,
)

__all__ = [
    "Feature",
    "Limit",
    "effective_plan",
    "feature_enabled",
    "limit_check",
    "register_usage",
    "require_feature",
    "usage_of",
]

# Statuses whose subscription's plan applies (past_due: only within the grace period).
_PAID_STATUSES = {BillingStatus.TRIALING, BillingStatus.ACTIVE}

_NOUNS: dict[Limit, tuple[str, str]] = {
    Limit.PRODUCTS: ("product", "products"),
    Limit.WAREHOUSES: ("warehouse", "warehouses"),
    Limit.MEMBERS: ("member (invitations included)", "members (invitations included)"),
    Limit.API_REQUESTS_PER_MINUTE: ("API request a minute", "API requests a minute"),
    Limit.SALES_ORDERS_PER_MONTH: ("sales order a month", "sales orders a month"),
}

UsageCounter = Callable[[Tenant], int]
_USAGE: dict[Limit, UsageCounter] = {}


def register_usage(limit: Limit, counter: UsageCounter) -> None:
    """Registers how ``limit``'s usage is counted (in the current tenant context)."""
    _USAGE[limit] = counter


def in_grace(tenant: Tenant, *, now: datetime.datetime | None = None) -> bool:
    return (
        tenant.billing_status == BillingStatus.PAST_DUE
        and tenant.grace_ends_at is not None
        and (now or timezone.now()) < tenant.grace_ends_at
    )


def effective_plan(tenant: Tenant, *, now: datetime.datetime | None = None) -> Plan:
    status = tenant.billing_status
    if status == BillingStatus.NONE or status in _PAID_STATUSES or in_grace(tenant, now=now):
        return plan_get(tenant.plan_code)
    return plan_get(FREE)


def _tenant(tenant: Tenant | uuid.UUID) -> Tenant:
    if isinstance(tenant, Tenant):
        return tenant
    return Tenant.objects.only("id", "plan_code", "billing_status", "grace_ends_at").get(pk=tenant)


def feature_enabled(tenant: Tenant | uuid.UUID, feature: Feature) -> bool:
    """Whether the workspace's plan includes ``feature``. Given a tenant id rather than the
    tenant, reads its plan columns (one query)."""
    return effective_plan(_tenant(tenant)).has(feature)


def require_feature(tenant: Tenant | uuid.UUID, feature: Feature) -> None:
    """Raises 403 ``feature_not_in_plan`` when the workspace's plan lacks ``feature``."""
    tenant = _tenant(tenant)
    plan = effective_plan(tenant)
    if plan.has(feature):
        return
    upgrade = cheapest_plan_with(feature)
    raise PermissionDenied(
        f"Your plan ({plan.name}) does not include {FEATURE_PHRASES[feature]}."
        + (f" {upgrade.name} and the plans above it do." if upgrade else ""),
        code=errors.FEATURE_NOT_IN_PLAN,
        details={"feature": feature.value, "plan": plan.code, "upgrade_to": upgrade.code if upgrade else None},
    )


def usage_of(tenant: Tenant, limit: Limit) -> int | None:
    """The workspace's current usage of ``limit`` (in its tenant context), or None for a
    limit that is not counted here (API requests per minute)."""
    counter = _USAGE.get(limit)
    return counter(tenant) if counter is not None else None


@dataclass(frozen=True)
class LimitUsage:
    limit: Limit
    label: str
    used: int | None
    allowance: int | None


def usage_report(tenant: Tenant) -> list[LimitUsage]:
    """Every limit of the workspace's plan with its usage (counted limits only)."""
    plan = effective_plan(tenant)
    return [
        LimitUsage(limit=limit, label=LIMIT_LABELS[limit], used=usage_of(tenant, limit), allowance=plan.limit(limit))
        for limit in Limit
    ]


def limit_check(*, tenant: Tenant, limit: Limit, adding: int = 1) -> None:
    """Raises 402 ``plan_limit_reached`` when adding ``adding`` to ``limit``'s usage would
    go past the plan's allowance. Call it inside the transaction that adds them, before
    the insert: the advisory lock it takes is held until that transaction ends."""
    if adding <= 0:
        return
    plan = effective_plan(tenant)
    allowance = plan.limit(limit)
    if allowance is None:
        return
    advisory_xact_lock(lock_id("plan_limit", str(tenant.pk), limit.value))
    used = usage_of(tenant, limit)
    if used is None or used + adding <= allowance:
        return
    upgrade = cheapest_plan_lifting(limit, used + adding)
    singular, plural = _NOUNS[limit]
    raise PaymentRequired(
        f"Your plan ({plan.name}) allows {allowance:,} {singular if allowance == 1 else plural}; you have {used:,}."
        + (f" Upgrade to {upgrade.name} for more." if upgrade else ""),
        code=errors.PLAN_LIMIT_REACHED,
        details={
            "limit": limit.value,
            "usage": used,
            "allowance": allowance,
            "adding": adding,
            "plan": plan.code,
            "upgrade_to": upgrade.code if upgrade else None,
        },
    )
