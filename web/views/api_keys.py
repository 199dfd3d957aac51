"""API keys (admins and owners, as in the API; ``tenants.services.api_key_create`` and
``api_key_revoke`` hold the rules): the workspace's keys with their scopes and last
use, a new key (its name, a grid of scopes, the day it expires), shown once on the
answer to the form and kept nowhere (only its SHA-256 is stored), and revoking a key
after a confirmation that names it. The plan's ``api_keys`` feature gates the page."""

from __future__ import annotations

import uuid
from datetime import datetime
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
from tenants import api_key_format, selectors, services
from tenants.entitlements import Feature, feature_enabled
from tenants.models import ApiKey, Role
from web.console import console_view, membership_of
from web.forms import ApiKeyForm, apply_error, bound
from web.plans import plan_lacks_message
from web.views.data import _start_of

PAGE_SIZE = 25
PLAN_LACKS_IT = plan_lacks_message(Feature.API_KEYS)


def _slug(request: HttpRequest) -> str:
    return str(request.resolver_match.kwargs["slug"])  # type: ignore[union-attr]


def _enabled(request: HttpRequest) -> bool:
    return feature_enabled(membership_of(request).tenant, Feature.API_KEYS)


def key_status(key: ApiKey, now: datetime) -> str:
    """active, revoked or expired (the API's ``status``)."""
    if key.revoked_at is not None:
        return "revoked"
    return "active" if key.expires_at > now else "expired"


def _label(key: ApiKey) -> str:
    return f"{key.name} ({key.prefix}…)"


@console_view(read=Role.ADMIN)
def api_key_list(request: HttpRequest) -> HttpResponse:
    enabled = _enabled(request)
    now = timezone.now()
    page = Paginator(selectors.api_key_list() if enabled else ApiKey.objects.none(), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [{"key": key, "status": key_status(key, now), "label": _label(key)} for key in page]
    return render(
        request,
        "web/console/api_keys.html",
        {"page": page, "rows": rows, "enabled": enabled, "plan_message": PLAN_LACKS_IT, "section": "api-keys"},
    )


def _form_page(request: HttpRequest, form: ApiKeyForm, status: int) -> HttpResponse:
    return render(
        request,
        "web/console/api_key_new.html",
        {"form": form, "section": "api-keys", "groups": api_key_format.SCOPE_GROUPS},
        status=status,
    )


@console_view(read=Role.ADMIN)
def api_key_create(request: HttpRequest) -> HttpResponse:
    """The form; on success the new key, this once. The page is the answer to the POST (not
    a redirect), so the key is never stored to be shown later; app.js then replaces the
    address with the list's, so reloading shows the list, without the key."""
    if not _enabled(request):
        messages.error(request, PLAN_LACKS_IT)
        return redirect("web:api-keys", slug=_slug(request))
    form = ApiKeyForm(bound(request), today=timezone.localdate())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not _first_submission(data["submission"]):
            messages.info(request, ALREADY_SENT)
            return redirect("web:api-keys", slug=_slug(request))
        try:
            key, raw = services.api_key_create(
                name=data["name"],
                scopes=list(data["scopes"]),
                expires_at=_start_of(data["expires_at"]),
                user=membership_of(request).user,
            )
        except DomainError as exc:
            apply_error(form, exc)
            form.data = request.POST.copy()  # the corrected form is a new submission
            form.data["submission"] = str(uuid.uuid4())
        else:
            return render(
                request,
                "web/console/api_key_created.html",
                {
                    "key": key,
                    "raw": raw,
                    "section": "api-keys",
                    "list_url": reverse("web:api-keys", kwargs={"slug": _slug(request)}),
                },
                status=201,
            )
    return _form_page(request, form, 400 if form.errors else 200)


ALREADY_SENT = (
    "This form was already sent and its key shown once. If you did not copy it, revoke it here and create another."
)


def _first_submission(submission: uuid.UUID | None) -> bool:
    """Whether this rendering of the form is sent for the first time (a day's memory, in
    Redis, or in this process while Redis is unreachable). A form without the id (an old
    page) is taken as new."""
    if submission is None:
        return True
    count, _ = counter_incr(f"web:api-key-form:{submission.hex}", timeout=86400)
    return count == 1


def _key_or_404(api_key_id: Any) -> ApiKey:
    try:
        return selectors.api_key_get(id=api_key_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@console_view(read=Role.ADMIN)
@require_POST
def api_key_revoke(request: HttpRequest, api_key_id: uuid.UUID) -> HttpResponse:
    key = _key_or_404(api_key_id)
    if not _enabled(request):
        messages.error(request, PLAN_LACKS_IT)
        return redirect("web:api-keys", slug=_slug(request))
    was_revoked = key.revoked_at is not None
    try:
        key = services.api_key_revoke(key_id=key.pk, user=membership_of(request).user)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    if was_revoked:
        messages.info(request, f"The API key {_label(key)} was already revoked.")
    else:
        messages.success(request, f"The API key {_label(key)} is revoked: requests with it are refused from now on.")
    return redirect("web:api-keys", slug=_slug(request))
