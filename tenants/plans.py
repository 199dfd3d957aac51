"""The plan catalogue: what each plan allows, in code (prices live in Stripe).

Four plans, cheapest first: ``free`` (needs no Stripe at all), ``starter``, ``pro``
and ``enterprise``. Each has limits (``None`` is unlimited) and features. The
catalogue is read by the one entitlement check (``tenants.entitlements``), by
``GET /api/v1/billing/``, by the console's billing page and by the landing page's
pricing table, so a change here changes all of them. The Stripe price each paid plan
is sold at comes from the setting ``STRIPE_PRICE_<PLAN>`` (billing.plans).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Feature(StrEnum):
    API_KEYS = "api_keys"
    WEBHOOKS = "webhooks"
    CONNECTORS = "connectors"
    EXPORTS = "exports"
    FORECASTING = "forecasting"
    AUDIT_LOG = "audit_log"


class Limit(StrEnum):
    PRODUCTS = "products"
    WAREHOUSES = "warehouses"
    MEMBERS = "members"
    API_REQUESTS_PER_MINUTE = "api_requests_per_minute"
    SALES_ORDERS_PER_MONTH = "sales_orders_per_month"


FEATURE_LABELS: dict[Feature, str] = {
    Feature.API_KEYS: "API keys",
    Feature.WEBHOOKS: "Webhooks",
    Feature.CONNECTORS: "Shopify connector",
    Feature.EXPORTS: "CSV exports",
    Feature.FORECASTING: "Demand forecasting",
    Feature.AUDIT_LOG: "Audit log",
}

# The feature as a sentence names it ("Your plan does not include the audit log").
FEATURE_PHRASES: dict[Feature, str] = {
    Feature.API_KEYS: "API keys",
    Feature.WEBHOOKS: "webhooks",
    Feature.CONNECTORS: "the Shopify connector",
    Feature.EXPORTS: "CSV exports",
    Feature.FORECASTING: "demand forecasting",
    Feature.AUDIT_LOG: "the audit log",
}

LIMIT_LABELS: dict[Limit, str] = {
    Limit.PRODUCTS: "Products",
    Limit.WAREHOUSES: "Warehouses",
    Limit.MEMBERS: "Members",
    Limit.API_REQUESTS_PER_MINUTE: "API requests per minute",
    Limit.SALES_ORDERS_PER_MONTH: "Sales orders per month",
}


@dataclass(frozen=True)
class Plan:
    code: str
    name: str
    # The list price shown on the site, in US dollars a month; what is charged is the
    # Stripe price (STRIPE_PRICE_<PLAN>).
    monthly_price_usd: int
    limits: dict[Limit, int | None]
    features: frozenset[Feature]
    # Days of free trial on a workspace's first subscription (0: none).
    trial_days: int = 0
    tagline: str = ""
    rank: int = field(default=0)

    @property
    def is_free(self) -> bool:
        return self.code == FREE

    def limit(self, limit: Limit) -> int | None:
        return self.limits[limit]

    def has(self, feature: Feature) -> bool:
        return feature in self.features


FREE = "free"

PLANS: tuple[Plan, ...] = (
    Plan(
        code=FREE,
        name="Free",
        monthly_price_usd=0,
        tagline="For trying Stockroom with a small catalogue.",
        limits={
            Limit.PRODUCTS: 100,
            Limit.WAREHOUSES: 1,
            Limit.MEMBERS: 3,
            Limit.API_REQUESTS_PER_MINUTE: 300,
            Limit.SALES_ORDERS_PER_MONTH: 100,
        },
        features=frozenset(),
        rank=0,
    ),
    Plan(
        code="starter",
        name="Starter",
        monthly_price_usd=29,
        tagline="For a small shop with one team.",
        limits={
            Limit.PRODUCTS: 2_000,
            Limit.WAREHOUSES: 3,
            Limit.MEMBERS: 10,
            Limit.API_REQUESTS_PER_MINUTE: 1_200,
            Limit.SALES_ORDERS_PER_MONTH: 2_000,
        },
        features=frozenset({Feature.EXPORTS, Feature.API_KEYS, Feature.AUDIT_LOG}),
        trial_days=14,
        rank=1,
    ),
    Plan(
        code="pro",
        name="Pro",
        monthly_price_usd=99,
        tagline="For a growing business connected to its other systems.",
        limits={
            Limit.PRODUCTS: 25_000,
            Limit.WAREHOUSES: 15,
            Limit.MEMBERS: 50,
            Limit.API_REQUESTS_PER_MINUTE: 3_000,
            Limit.SALES_ORDERS_PER_MONTH: 25_000,
        },
        features=frozenset(Feature),
        trial_days=14,
        rank=2,
    ),
    Plan(
        code="enterprise",
        name="Enterprise",
        monthly_price_usd=399,
        tagline="No limits, for large catalogues and many warehouses.",
        limits={
            Limit.PRODUCTS: None,
            Limit.WAREHOUSES: None,
            Limit.MEMBERS: None,
            Limit.API_REQUESTS_PER_MINUTE: 6_000,
            Limit.SALES_ORDERS_PER_MONTH: None,
        },
        features=frozenset(Feature),
        trial_days=14,
        rank=3,
    ),
)

_BY_CODE = {plan.code: plan for plan in PLANS}
PLAN_CODES: tuple[str, ...] = tuple(_BY_CODE)
PAID_PLAN_CODES: tuple[str, ...] = tuple(plan.code for plan in PLANS if not plan.is_free)


def plan_get(code: str) -> Plan:
    """The plan of that code; an unknown code (a plan retired from the catalogue) is the
    free plan, so a workspace never gets more than the catalogue knows."""
    return _BY_CODE.get(code, _BY_CODE[FREE])


def cheapest_plan_lifting(limit: Limit, needed: int) -> Plan | None:
    """The cheapest plan whose ``limit`` admits ``needed``, or None when none does."""
    for plan in PLANS:
        allowance = plan.limits[limit]
        if allowance is None or allowance >= needed:
            return plan
    return None


def cheapest_plan_with(feature: Feature) -> Plan | None:
    for plan in PLANS:
        if feature in plan.features:
            return plan
    return None
