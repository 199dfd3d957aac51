"""The plan catalogue (tenants.plans) as the site's pricing cards: the landing page's
table and the console's billing page draw the same cards."""

from __future__ import annotations

from dataclasses import dataclass

from tenants.plans import FEATURE_LABELS, FEATURE_PHRASES, LIMIT_LABELS, PLANS, Feature, Limit, Plan, cheapest_plan_with


@dataclass(frozen=True)
class PlanCard:
    plan: Plan
    limits: list[str]  # "100 products", "Unlimited warehouses"
    features: list[tuple[str, bool]]  # (label, included)
    cta: str

    @property
    def code(self) -> str:
        return self.plan.code

    @property
    def name(self) -> str:
        return self.plan.name

    @property
    def price(self) -> int:
        return self.plan.monthly_price_usd


def _limit_line(limit: Limit, allowance: int | None) -> str:
    label = LIMIT_LABELS[limit]
    if allowance is None:
        return f"Unlimited {label.lower()}"
    if limit == Limit.API_REQUESTS_PER_MINUTE:
        return f"{allowance:,} API requests a minute"
    if limit == Limit.SALES_ORDERS_PER_MONTH:
        return f"{allowance:,} sales orders a month"
    noun = label.lower()
    return f"{allowance:,} {noun[:-1] if allowance == 1 else noun}"


def _cta(plan: Plan) -> str:
    if plan.is_free:
        return "Start free"
    return f"Start a {plan.trial_days}-day trial" if plan.trial_days else f"Choose {plan.name}"


def plan_cards() -> list[PlanCard]:
    return [
        PlanCard(
            plan=plan,
            limits=[_limit_line(limit, plan.limits[limit]) for limit in Limit],
            features=[(FEATURE_LABELS[feature], feature in plan.features) for feature in Feature],
            cta="Start free"
            if plan.is_free
            else f"Start a {plan.trial_days}-day trial"
            if plan.trial_days
            else "Choose",
        )
        for plan in PLANS
    ]


def plan_lacks_message(feature: Feature) -> str:
    """What a page of a feature off the workspace's plan says, naming the cheapest plan with it."""
    upgrade = cheapest_plan_with(feature)
    phrase = FEATURE_PHRASES[feature]
    if upgrade is None:
        return f"Your plan does not include {phrase}."
    return f"Your plan does not include {phrase}: {upgrade.name} and the plans above it do."
