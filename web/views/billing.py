"""Billing (admins and owners see it; owners change the plan): the workspace's plan and
subscription status, usage against every limit of the plan, the plans to move to, and
the way out to Stripe: Checkout to subscribe (owners), the Customer Portal to change
plan, pay, update the card, see invoices or cancel (owners). The rules are
billing's services (``billing.services.accounts``); Stripe's answer comes back through
its webhook, so after Checkout the page says so until the subscription arrives."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from billing.selectors import billing_overview
from billing.services.accounts import LIVE_STATUSES, checkout_session_create, portal_session_create
from core.errors import DomainError
from tenants.models import BillingStatus, Role
from tenants.plans import PAID_PLAN_CODES, plan_get
from web.console import console_view, membership_of
from web.plans import plan_cards


def _page_url(request: HttpRequest) -> str:
    return reverse("web:billing", kwargs={"slug": membership_of(request).tenant.slug})


def _absolute(request: HttpRequest, query: str) -> str:
    return request.build_absolute_uri(_page_url(request)) + query


@console_view(read=Role.ADMIN)
def billing_page(request: HttpRequest) -> HttpResponse:
    membership = membership_of(request)
    overview = billing_overview(tenant=membership.tenant)
    purchasable = {plan.code for plan in overview.plans if plan.purchasable}
    usage = []
    for row in overview.usage:
        share = None
        if row.used is not None and row.allowance:
            share = min(100, round(100 * row.used / row.allowance))
        usage.append(
            {
                "row": row,
                "share": share,
                "over": row.allowance is not None and (row.used or 0) > row.allowance,
                "used": "—" if row.used is None else f"{row.used:,}",
                "allowed": "Unlimited" if row.allowance is None else f"{row.allowance:,}",
            }
        )
    subscribed = plan_get(overview.subscribed_plan)
    return render(
        request,
        "web/console/billing.html",
        {
            "section": "billing",
            "overview": overview,
            "usage": usage,
            "cards": plan_cards(),
            "purchasable": purchasable,
            "subscribed": subscribed,
            "live": overview.status in LIVE_STATUSES,  # a subscription Stripe still has: plans change in the portal
            "ended": overview.status not in LIVE_STATUSES
            and overview.status != BillingStatus.NONE
            and not subscribed.is_free,
            "is_owner": Role(membership.role) == Role.OWNER,
            "checkout": request.GET.get("checkout", ""),
        },
    )


@console_view(read=Role.ADMIN, write=Role.OWNER)
@require_POST
def billing_checkout(request: HttpRequest) -> HttpResponse:
    """Owners: off to Stripe Checkout for the plan chosen (303 to Stripe's page)."""
    membership = membership_of(request)
    plan = request.POST.get("plan", "")
    if plan not in PAID_PLAN_CODES:
        messages.error(request, "Choose one of the paid plans.")
        return redirect(_page_url(request))
    try:
        url = checkout_session_create(
            tenant=membership.tenant,
            user=membership.user,
            plan=plan,
            success_url=_absolute(request, "?checkout=success"),
            cancel_url=_absolute(request, "?checkout=cancelled"),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(_page_url(request))
    return HttpResponseRedirect(url, status=303)


@console_view(read=Role.ADMIN, write=Role.OWNER)
@require_POST
def billing_portal(request: HttpRequest) -> HttpResponse:
    """Owners: off to Stripe's Customer Portal (change plan, card, invoices)."""
    membership = membership_of(request)
    try:
        url = portal_session_create(
            tenant=membership.tenant, user=membership.user, return_url=request.build_absolute_uri(_page_url(request))
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(_page_url(request))
    return HttpResponseRedirect(url, status=303)
