"""Billing's API: the workspace's plan and usage, Checkout and the Customer Portal, and
Stripe's webhook. docs/billing.md."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import selectors
from billing.api import serializers as s
from billing.services import accounts, webhooks
from core.api.errors import raw_body
from core.api.schema import ErrorSerializer
from tenants.context import get_current_tenant
from tenants.models import Role
from tenants.permissions import request_user

NOT_CONFIGURED = OpenApiResponse(
    ErrorSerializer,
    description='`already_subscribed`, or `billing_not_configured`: no Stripe key on this server ("free only" '
    "mode), or no price for the plan.",
)
STRIPE_DOWN = OpenApiResponse(
    ErrorSerializer, description="`stripe_unavailable` (503), `stripe_authentication_failed` (502)."
)


class BillingView(APIView):
    """The workspace's plan, subscription and usage (any member; API keys get 403
    ``members_only``)."""

    @extend_schema(
        responses={200: s.BillingOverviewSerializer},
        summary="The workspace's plan, subscription, usage against every limit, and the plans",
        description=(
            "`plan` is the plan in force: the subscription's plan while `trialing` or `active`, and while "
            "`past_due` until `grace_ends_at`; the free plan once `unpaid`, `canceled`, `incomplete_expired` "
            "or `paused`. `usage` lists every limit with its usage and allowance (null: unlimited). "
            '`stripe_configured` false means "free only" mode. docs/billing.md.'
        ),
        tags=["billing"],
    )
    def get(self, request: Request) -> Response:
        return Response(s.BillingOverviewSerializer(selectors.billing_overview(tenant=get_current_tenant())).data)


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class CheckoutView(APIView):
    write_role = Role.OWNER

    @extend_schema(
        request=s.CheckoutInputSerializer,
        responses={200: s.SessionUrlSerializer, 409: NOT_CONFIGURED, 502: STRIPE_DOWN, 503: STRIPE_DOWN},
        summary="Subscribe the workspace to a paid plan: a Stripe Checkout URL (owner)",
        description=(
            "Creates the workspace's Stripe customer at the first call, then a Checkout Session in subscription "
            "mode for the plan's price (with the plan's free trial on the workspace's first subscription). "
            "The plan applies once Stripe's webhook confirms it. 403 `role_required` for non-owners, "
            "409 `already_subscribed` while a subscription exists (change plans in the portal) or once the "
            "previous Checkout was paid (its subscription is on its way); a new Checkout expires the previous "
            "one if it is still open, "
            "409 `billing_not_configured`, 503 `stripe_unavailable`."
        ),
        tags=["billing"],
    )
    def post(self, request: Request) -> Response:
        data = s.CheckoutInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        url = accounts.checkout_session_create(
            tenant=get_current_tenant(), user=request_user(request), plan=data.validated_data["plan"]
        )
        return Response({"url": url})


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class PortalView(APIView):
    write_role = Role.ADMIN

    @extend_schema(
        request=None,
        responses={
            200: s.SessionUrlSerializer,
            404: OpenApiResponse(ErrorSerializer, description="`no_billing_account`: subscribe first."),
            409: NOT_CONFIGURED,
            502: STRIPE_DOWN,
            503: STRIPE_DOWN,
        },
        summary="Manage payment methods, invoices and the plan: a Stripe Customer Portal URL (admin)",
        tags=["billing"],
    )
    def post(self, request: Request) -> Response:
        url = accounts.portal_session_create(tenant=get_current_tenant(), user=request_user(request))
        return Response({"url": url})


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class StripeWebhookView(APIView):
    """Stripe's webhook: no credentials of ours (the signature is the proof), no throttle
    (Stripe retries for days, but a dropped delivery would only come back later)."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []

    @extend_schema(
        request={"application/json": {"type": "object", "description": "A Stripe event, as Stripe sends it."}},
        parameters=[
            OpenApiParameter(
                "Stripe-Signature",
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="Stripe's signature of the raw body (STRIPE_WEBHOOK_SECRET), at most 300 s old.",
            )
        ],
        responses={200: s.WebhookReceiptSerializer, 409: NOT_CONFIGURED},
        summary="Stripe's webhook (called by Stripe, signed)",
        description=(
            "400 `stripe_signature_missing`, `stripe_signature_invalid`, `stripe_signature_expired` (older "
            "than 300 s) or `stripe_payload_invalid`: nothing is stored. A verified event is stored once "
            "(a second delivery answers 200 with `duplicate` true and does nothing) and processed in the "
            "background, so the answer is fast. Unknown event types are stored and acknowledged. "
            "409 `billing_not_configured` without STRIPE_WEBHOOK_SECRET. docs/billing.md."
        ),
        tags=["billing"],
        auth=[],
    )
    def post(self, request: Request) -> Response:
        _, inserted = webhooks.webhook_receive(
            payload=raw_body(request), signature=request.headers.get("Stripe-Signature", "")
        )
        return Response({"received": True, "duplicate": not inserted})
