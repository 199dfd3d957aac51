from __future__ import annotations

from typing import Any

from rest_framework import serializers

from tenants.plans import FEATURE_LABELS, PAID_PLAN_CODES, Limit


class PlanSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()
    tagline = serializers.CharField()
    monthly_price_usd = serializers.IntegerField(
        help_text="List price in US dollars a month (Stripe charges the price)."
    )
    trial_days = serializers.IntegerField(help_text="Free trial days on a workspace's first subscription.")
    limits = serializers.DictField(
        child=serializers.IntegerField(allow_null=True),
        help_text="Allowance of each limit (" + ", ".join(limit.value for limit in Limit) + "); null: unlimited.",
    )
    features = serializers.ListField(
        child=serializers.ChoiceField(choices=[f.value for f in FEATURE_LABELS]), help_text="Features the plan has."
    )
    purchasable = serializers.BooleanField(help_text="A paid plan this server can sell (Stripe configured, price set).")


class LimitUsageSerializer(serializers.Serializer[Any]):
    limit = serializers.ChoiceField(choices=[limit.value for limit in Limit])
    label = serializers.CharField()  # type: ignore[assignment]
    used = serializers.IntegerField(allow_null=True, help_text="Current usage; null for a limit not counted here.")
    allowance = serializers.IntegerField(allow_null=True, help_text="The plan's allowance; null: unlimited.")


class BillingOverviewSerializer(serializers.Serializer[Any]):
    plan = PlanSerializer(help_text="The plan whose entitlements apply now (free when the subscription lapsed).")
    subscribed_plan = serializers.CharField(help_text="The subscription's plan, whatever its status.")
    status = serializers.CharField(
        help_text="The subscription's Stripe status (trialing, active, past_due, unpaid, canceled, incomplete, "
        "incomplete_expired, paused); empty: no subscription."
    )
    trial_end = serializers.DateTimeField(allow_null=True)
    current_period_end = serializers.DateTimeField(allow_null=True)
    cancel_at_period_end = serializers.BooleanField()
    grace_ends_at = serializers.DateTimeField(
        allow_null=True, help_text="Past due: the plan stays in force until then."
    )
    in_grace = serializers.BooleanField(help_text="Past due and within the grace period.")
    stripe_configured = serializers.BooleanField(help_text='False: "free only" mode, nothing can be bought.')
    has_customer = serializers.BooleanField(help_text="The workspace has a Stripe customer (the portal works).")
    usage = LimitUsageSerializer(many=True)
    features = serializers.DictField(child=serializers.BooleanField(), help_text="Each feature: on the plan or not.")
    plans = PlanSerializer(many=True, help_text="The catalogue, cheapest first (a pricing table).")


class CheckoutInputSerializer(serializers.Serializer[Any]):
    plan = serializers.ChoiceField(choices=list(PAID_PLAN_CODES))


class SessionUrlSerializer(serializers.Serializer[Any]):
    url = serializers.URLField(help_text="Send the owner's browser there (Stripe's page).")


class WebhookReceiptSerializer(serializers.Serializer[Any]):
    received = serializers.BooleanField()
    duplicate = serializers.BooleanField(help_text="The event was delivered before: nothing was done.")
