"""Which Stripe price sells which plan (``STRIPE_PRICE_<PLAN>``), both ways."""

from __future__ import annotations

from django.conf import settings

from tenants.plans import FREE, PAID_PLAN_CODES


def price_of(plan_code: str) -> str:
    """The Stripe price id of a paid plan, or "" (the free plan; a price not configured)."""
    if plan_code == FREE or plan_code not in PAID_PLAN_CODES:
        return ""
    return str(getattr(settings, f"STRIPE_PRICE_{plan_code.upper()}", "") or "")


def plan_of_price(price_id: str) -> str | None:
    """The plan a Stripe price sells, or None for a price none of the settings names."""
    if not price_id:
        return None
    for code in PAID_PLAN_CODES:
        if price_of(code) == price_id:
            return code
    return None


def prices() -> dict[str, str]:
    """Plan code -> price id, for the paid plans that have one."""
    return {code: price for code in PAID_PLAN_CODES if (price := price_of(code))}
