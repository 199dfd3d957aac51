"""Outbound webhooks (admins and owners, as ``/api/v1/webhook-endpoints/``; the rules are
``integrations.services.endpoints``'): the endpoints with their status, a new endpoint
(its secret shown once, in the answer to the form), an endpoint's page with its
delivery log (25 attempts a page, newest first) and the actions: edit, send a test
event, rotate the secret (the new one shown once), send again what failed since a
moment, redeliver one attempt's message, delete. The plan's ``webhooks`` feature gates
the pages."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.cache import counter_incr
from core.errors import DomainError, NotFound
from integrations import selectors
from integrations.models import DisabledReason, WebhookDelivery, WebhookEndpoint
from integrations.services import endpoints as services
from tenants.entitlements import Feature, feature_enabled
from tenants.models import Role
from web.console import console_view, membership_of
from web.forms import WebhookEndpointForm, WebhookRecoverForm, apply_error, bound
from web.pages import render_list
from web.plans import plan_lacks_message

PAGE_SIZE = 25
PLAN_LACKS_IT = plan_lacks_message(Feature.WEBHOOKS)
ALREADY_SENT = (
    "This form was already sent and its secret shown once. If you did not copy it, rotate the secret on the "
    "endpoint's page."
)
ROTATE_ALREADY_SENT = "This rotation was already done and its secret shown once. If you did not copy it, rotate again."


def _slug(request: HttpRequest) -> str:
    return str(request.resolver_match.kwargs["slug"])  # type: ignore[union-attr]


def _enabled(request: HttpRequest) -> bool:
    return feature_enabled(membership_of(request).tenant, Feature.WEBHOOKS)


def _first_submission(kind: str, submission: Any) -> bool:
    """Whether this rendering of a form is sent for the first time (as the API keys'
    form: a day's memory in Redis). A form without a usable id is taken as new."""
    try:
        value = uuid.UUID(str(submission))
    except ValueError:
        return True
    count, _ = counter_incr(f"web:webhook-{kind}:{value.hex}", timeout=86400)
    return count == 1


def _endpoint_or_404(endpoint_id: Any) -> WebhookEndpoint:
    try:
        return selectors.webhook_endpoint_get(id=endpoint_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _to_endpoint(request: HttpRequest, endpoint: WebhookEndpoint) -> HttpResponse:
    return redirect("web:webhook", slug=_slug(request), webhook_endpoint_id=endpoint.pk)


def _refused_by_plan(request: HttpRequest) -> HttpResponse | None:
    if _enabled(request):
        return None
    messages.error(request, PLAN_LACKS_IT)
    return redirect("web:webhooks", slug=_slug(request))


def endpoint_status(endpoint: WebhookEndpoint) -> dict[str, str]:
    """The badge: active, or disabled with the reason in words."""
    if endpoint.is_active:
        return {"status": "active", "label": "Active", "reason": ""}
    reason = DisabledReason(endpoint.disabled_reason).label if endpoint.disabled_reason else ""
    return {
        "status": "failed" if endpoint.disabled_reason != "manual" else "inactive",
        "label": "Disabled",
        "reason": reason,
    }


def _events_label(endpoint: WebhookEndpoint) -> str:
    return "All events" if "*" in endpoint.events else ", ".join(endpoint.events)


@console_view(read=Role.ADMIN)
def webhook_list(request: HttpRequest) -> HttpResponse:
    enabled = _enabled(request)
    queryset = selectors.webhook_endpoint_list().order_by("-created_at", "-id") if enabled else None
    page = Paginator(queryset if queryset is not None else WebhookEndpoint.objects.none(), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [{"endpoint": e, "events": _events_label(e), **endpoint_status(e)} for e in page]
    return render(
        request,
        "web/console/webhooks.html",
        {"page": page, "rows": rows, "enabled": enabled, "plan_message": PLAN_LACKS_IT, "section": "webhooks"},
    )


def _form_page(request: HttpRequest, form: WebhookEndpointForm, status: int, endpoint: Any = None) -> HttpResponse:
    return render(
        request,
        "web/console/webhook_form.html",
        {"form": form, "endpoint": endpoint, "section": "webhooks"},
        status=status,
    )


def _secret_page(
    request: HttpRequest, endpoint: WebhookEndpoint, secret: str, *, rotated: bool, status: int
) -> HttpResponse:
    """The secret, this once. The page is the answer to the POST; app.js replaces the
    address with the endpoint's, so reloading shows the endpoint without the secret."""
    return render(
        request,
        "web/console/webhook_secret.html",
        {
            "endpoint": endpoint,
            "secret": secret,
            "rotated": rotated,
            "section": "webhooks",
            "endpoint_url": reverse("web:webhook", kwargs={"slug": _slug(request), "webhook_endpoint_id": endpoint.pk}),
        },
        status=status,
    )


def _renew_submission(form: WebhookEndpointForm, request: HttpRequest) -> None:
    form.data = request.POST.copy()  # the corrected form is a new submission
    form.data["submission"] = str(uuid.uuid4())


@console_view(read=Role.ADMIN)
def webhook_create(request: HttpRequest) -> HttpResponse:
    refused = _refused_by_plan(request)
    if refused is not None:
        return refused
    form = WebhookEndpointForm(bound(request), creating=True)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not _first_submission("form", data["submission"]):
            messages.info(request, ALREADY_SENT)
            return redirect("web:webhooks", slug=_slug(request))
        try:
            endpoint, secret = services.webhook_endpoint_create(
                url=data["url"],
                events=data["events"],
                description=data["description"],
                user=membership_of(request).user,
            )
        except DomainError as exc:
            apply_error(form, exc)
            _renew_submission(form, request)
        else:
            return _secret_page(request, endpoint, secret, rotated=False, status=201)
    return _form_page(request, form, 400 if form.errors else 200)


@console_view(read=Role.ADMIN)
def webhook_edit(request: HttpRequest, webhook_endpoint_id: uuid.UUID) -> HttpResponse:
    endpoint = _endpoint_or_404(webhook_endpoint_id)
    refused = _refused_by_plan(request)
    if refused is not None:
        return refused
    initial = {"url": endpoint.url, "description": endpoint.description, "events": endpoint.events}
    form = WebhookEndpointForm(bound(request), creating=False, initial={**initial, "is_active": endpoint.is_active})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changes = {name: data[name] for name in ("events", "description", "is_active")}
        if data["url"] != endpoint.url:  # an unchanged URL is not looked up again
            changes["url"] = data["url"]
        try:
            services.webhook_endpoint_update(endpoint_id=endpoint.pk, **changes)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, f"The webhook endpoint {data['url']} is saved.")
            return _to_endpoint(request, endpoint)
    return _form_page(request, form, 400 if form.errors else 200, endpoint)


def _delivery_rows(page: Any) -> list[dict[str, Any]]:
    return [{"delivery": d, "webhook_id": d.message.webhook_id} for d in page]


@console_view(read=Role.ADMIN)
def webhook_detail(request: HttpRequest, webhook_endpoint_id: uuid.UUID) -> HttpResponse:
    endpoint = _endpoint_or_404(webhook_endpoint_id)
    deliveries = selectors.webhook_delivery_list(endpoint=endpoint).order_by("-created_at", "-id")
    page = Paginator(deliveries, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    rotating = bool(endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > now)
    context = {
        "endpoint": endpoint,
        "events": _events_label(endpoint),
        "state": endpoint_status(endpoint),
        "rotating": rotating,
        "page": page,
        "rows": _delivery_rows(page),
        "enabled": _enabled(request),
        # From the start of the failure streak, else a day back.
        "recover_form": WebhookRecoverForm(
            initial={"since": timezone.localtime(endpoint.failing_since or now - timedelta(days=1))}
        ),
        "submission": uuid.uuid4(),
        "section": "webhooks",
    }
    return render_list(request, "web/console/webhook.html", "deliveries", context)


def _act(request: HttpRequest, endpoint: WebhookEndpoint, action: Any, done: Any) -> HttpResponse:
    """Runs a service action: its success or its refusal (a disabled endpoint) as a toast."""
    refused = _refused_by_plan(request)
    if refused is not None:
        return refused
    try:
        result = action()
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done(result))
    return _to_endpoint(request, endpoint)


@console_view(read=Role.ADMIN)
@require_POST
def webhook_test(request: HttpRequest, webhook_endpoint_id: uuid.UUID) -> HttpResponse:
    endpoint = _endpoint_or_404(webhook_endpoint_id)
    return _act(
        request,
        endpoint,
        lambda: services.webhook_endpoint_test(endpoint_id=endpoint.pk),
        lambda message: (
            f"A webhook.test event ({message.webhook_id}) is on its way to {endpoint.url}: its attempt "
            "appears in the delivery log below."
        ),
    )


@console_view(read=Role.ADMIN)
@require_POST
def webhook_rotate(request: HttpRequest, webhook_endpoint_id: uuid.UUID) -> HttpResponse:
    endpoint = _endpoint_or_404(webhook_endpoint_id)
    refused = _refused_by_plan(request)
    if refused is not None:
        return refused
    if not _first_submission("rotate", request.POST.get("submission", "")):
        messages.info(request, ROTATE_ALREADY_SENT)
        return _to_endpoint(request, endpoint)
    try:
        endpoint, secret = services.webhook_endpoint_rotate_secret(endpoint_id=endpoint.pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return _secret_page(request, endpoint, secret, rotated=True, status=200)


@console_view(read=Role.ADMIN)
@require_POST
def webhook_recover(request: HttpRequest, webhook_endpoint_id: uuid.UUID) -> HttpResponse:
    endpoint = _endpoint_or_404(webhook_endpoint_id)
    form = WebhookRecoverForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the date and time from which to send the failed messages again.")
        return _to_endpoint(request, endpoint)
    since = form.cleaned_data["since"]
    return _act(
        request,
        endpoint,
        lambda: services.webhook_endpoint_recover(endpoint_id=endpoint.pk, since=since),
        lambda queued: (
            f"{queued} failed message{'' if queued == 1 else 's'} since "
            f"{timezone.localtime(since):%d %b %Y, %H:%M} sent again."
            if queued
            else f"No message failed since {timezone.localtime(since):%d %b %Y, %H:%M}: nothing to send again."
        ),
    )


def _delivery_or_404(endpoint: WebhookEndpoint, delivery_id: Any) -> WebhookDelivery:
    try:
        delivery = selectors.webhook_delivery_get(id=delivery_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    if delivery.endpoint_id != endpoint.pk:
        raise Http404("No such attempt for this endpoint.")
    return delivery


@console_view(read=Role.ADMIN)
@require_POST
def webhook_redeliver(
    request: HttpRequest, webhook_endpoint_id: uuid.UUID, webhook_delivery_id: uuid.UUID
) -> HttpResponse:
    endpoint = _endpoint_or_404(webhook_endpoint_id)
    delivery = _delivery_or_404(endpoint, webhook_delivery_id)
    return _act(
        request,
        endpoint,
        lambda: services.webhook_delivery_redeliver(delivery_id=delivery.pk),
        lambda message: f"The message {message.webhook_id} ({message.event_type}) is sent again.",
    )


@console_view(read=Role.ADMIN)
@require_POST
def webhook_delete(request: HttpRequest, webhook_endpoint_id: uuid.UUID) -> HttpResponse:
    endpoint = _endpoint_or_404(webhook_endpoint_id)
    refused = _refused_by_plan(request)
    if refused is not None:
        return refused
    try:
        services.webhook_endpoint_delete(endpoint_id=endpoint.pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    messages.success(request, f"The webhook endpoint {endpoint.url} is deleted with its delivery log.")
    return redirect("web:webhooks", slug=_slug(request))
