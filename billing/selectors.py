"""What ``GET /api/v1/billing/`` and the console's billing page show."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from billing import stripe_client
from billing.models import BillingAccount
from billing.plans import price_of
from tenants.entitlements import LimitUsage, effective_plan, in_grace, usage_report
from tenants.models import Tenant
from tenants.plans import FEATURE_LABELS, LIMIT_LABELS, PLANS, Plan, plan_get


@dataclass(frozen=True)
class PlanSummary:
    code: str
    name: str
    tagline: str
    monthly_price_usd: int
    trial_days: int
    limits: dict[str, int | None]
    features: list[str]
    purchasable: bool  # a paid plan with a Stripe price on this server


@dataclass(frozen=True)
class BillingOverview:
    plan: PlanSummary  # the plan whose entitlements apply now
    subscribed_plan: str  # the plan of the subscription (or as set by staff), whatever its status
    status: str  # the subscription's status ("" for none)
    trial_end: datetime.datetime | None
    current_period_end: datetime.datetime | None
    cancel_at_period_end: bool
    grace_ends_at: datetime.datetime | None
    in_grace: bool
    stripe_configured: bool
    has_customer: bool
    usage: list[LimitUsage]
    features: dict[str, bool]
    plans: list[PlanSummary] = field(default_factory=list)


def plan_summary(plan: Plan) -> PlanSummary:
    return PlanSummary(
        code=plan.code,
        name=plan.name,
        tagline=plan.tagline,
        monthly_price_usd=plan.monthly_price_usd,
        trial_days=plan.trial_days,
        limits={limit.value: allowance for limit, allowance in plan.limits.items()},
        features=sorted(feature.value for feature in plan.features),
        purchasable=not plan.is_free and bool(price_of(plan.code)) and stripe_client.configured(),
    )


def plan_catalogue() -> list[PlanSummary]:
    """Every plan, cheapest first (the pricing table)."""
    return [plan_summary(plan) for plan in PLANS]


def billing_overview(*, tenant: Tenant) -> BillingOverview:
    """The workspace's plan, subscription, usage against every limit and the catalogue (in
    the workspace's context: usage is counted under Row Level Security)."""
    account = BillingAccount.objects.filter(tenant=tenant).first()
    plan = effective_plan(tenant)
    return BillingOverview(
        plan=plan_summary(plan),
        subscribed_plan=plan_get(tenant.plan_code).code,
        status=tenant.billing_status,
        trial_end=account.trial_end if account else None,
        current_period_end=account.current_period_end if account else None,
        cancel_at_period_end=account.cancel_at_period_end if account else False,
        grace_ends_at=tenant.grace_ends_at,
        in_grace=in_grace(tenant),
        stripe_configured=stripe_client.configured(),
        has_customer=bool(account and account.stripe_customer_id),
        usage=usage_report(tenant),
        features={feature.value: plan.has(feature) for feature in FEATURE_LABELS},
        plans=plan_catalogue(),
    )


def labels() -> dict[str, Any]:
    """Human names of limits and features (for the console)."""
    return {
        "limits": {limit.value: label for limit, label in LIMIT_LABELS.items()},
        "features": {feature.value: label for feature, label in FEATURE_LABELS.items()},
    }
