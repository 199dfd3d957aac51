"""The audit log (admins and owners, as ``GET /api/v1/audit-events/``): the workspace's
domain events newest first with the API's filters, 25 a page swapped in place by HTMX,
and the filtered list as a CSV file, streamed in pages that each read under the
workspace's tenant context."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from integrations.selectors import audit_event_search
from inventory.csvformat import neutralize
from tenants import selectors as tenant_selectors
from tenants.context import tenant_context
from tenants.entitlements import Feature, feature_enabled
from tenants.models import DomainEvent, Role, Tenant
from web.console import console_view, membership_of
from web.forms import AuditFilterForm
from web.pages import render_list
from web.plans import plan_lacks_message
from web.views.data import _end_of, _start_of

PAGE_SIZE = 25
CSV_CHUNK = 1000

# Subjects that have a page of their own: subject_type -> (URL name, its id's keyword).
SUBJECT_PAGES = {
    "product": ("web:product", "product_id"),
    "sales_order": ("web:sales-order", "sales_order_id"),
    "purchase_order": ("web:purchase-order", "purchase_order_id"),
    "supplier": ("web:supplier", "supplier_id"),
    "customer": ("web:customer", "customer_id"),
    "membership": ("web:member", "membership_id"),
}

# The types recorded today (docs/integrations.md), offered as suggestions in the type box.
EVENT_TYPES = (
    "product.",
    "product.created",
    "product.updated",
    "product.archived",
    "product.deleted",
    "stock.changed",
    "sales_order.",
    "sales_order.created",
    "sales_order.confirmed",
    "sales_order.shipped",
    "sales_order.fulfilled",
    "sales_order.cancelled",
    "sales_order.returned",
    "purchase_order.",
    "purchase_order.created",
    "purchase_order.ordered",
    "purchase_order.received",
    "purchase_order.cancelled",
    "member.",
    "member.invited",
    "member.joined",
    "member.role_changed",
    "member.removed",
)


def _slug(request: HttpRequest) -> str:
    return str(request.resolver_match.kwargs["slug"])  # type: ignore[union-attr]


def _search(form: AuditFilterForm) -> Any:
    found = form.filters()
    return audit_event_search(
        type=found.get("type", ""),
        subject=found.get("subject", ""),
        actor=found.get("actor"),
        created_after=_start_of(found["date_from"]) if "date_from" in found else None,
        created_before=_end_of(found["date_to"]) if "date_to" in found else None,
    )


def actor_label(event: DomainEvent) -> str:
    """Who, in words: the user's name and email, the API key's prefix and name, or the
    system (a task, an import) when the event has no actor."""
    if event.actor_user_id:
        email = getattr(event, "actor_email", None)
        name = getattr(event, "actor_name", None)
        if email is None:
            return f"User {event.actor_user_id}"
        return f"{name} ({email})" if name else email
    if event.actor_api_key_id:
        prefix = getattr(event, "actor_key_prefix", None)
        if prefix is None:
            return f"API key {event.actor_api_key_id}"
        return f"API key {prefix}… ({getattr(event, 'actor_key_name', '')})"
    return "Stockroom (no user)"


def _subject_url(slug: str, event: DomainEvent) -> str:
    page = SUBJECT_PAGES.get(event.subject_type)
    if page is None:
        return ""
    try:
        return reverse(page[0], kwargs={"slug": slug, page[1]: event.subject_id})
    except NoReverseMatch:  # not a uuid
        return ""


def _changes(event: DomainEvent) -> list[dict[str, Any]]:
    rows = []
    for field, pair in (event.changes or {}).items():
        before, after = [*pair, None, None][:2] if isinstance(pair, list | tuple) else (None, pair)
        rows.append({"field": field, "before": _shown(before), "after": _shown(after)})
    return rows


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _row(slug: str, event: DomainEvent) -> dict[str, Any]:
    return {
        "event": event,
        "actor": actor_label(event),
        "subject_label": event.subject_type.replace("_", " ").capitalize(),
        "subject_url": _subject_url(slug, event),
        "changes": _changes(event),
        "data": [(key, _shown(value)) for key, value in (event.data or {}).items()],
    }


def _filter_form(request: HttpRequest) -> AuditFilterForm:
    return AuditFilterForm(
        request.GET,
        members=tenant_selectors.membership_list(),
        keys=tenant_selectors.api_key_list().order_by("name", "created_at"),
    )


def _plan_lacks_it(request: HttpRequest) -> HttpResponse | None:
    tenant: Tenant = membership_of(request).tenant
    if feature_enabled(tenant, Feature.AUDIT_LOG):
        return None
    context = {"title": "Audit log", "section": "audit", "plan_message": plan_lacks_message(Feature.AUDIT_LOG)}
    return render(request, "web/console/plan_required.html", context, status=403)


@console_view(read=Role.ADMIN)
def audit_list(request: HttpRequest) -> HttpResponse:
    refused = _plan_lacks_it(request)
    if refused is not None:
        return refused
    form = _filter_form(request)
    page = Paginator(_search(form), PAGE_SIZE).get_page(request.GET.get("page"))
    slug = _slug(request)
    context = {
        "page": page,
        "rows": [_row(slug, event) for event in page],
        "form": form,
        "filtered": bool(form.filters()),
        "event_types": EVENT_TYPES,
        "section": "audit",
    }
    return render_list(request, "web/console/audit.html", "table", context)


CSV_HEADER = ["time", "actor", "actor_id", "type", "subject_type", "subject_id", "ip", "request_id", "changes", "data"]


class _Echo:
    """A file for ``csv.writer`` that hands each line back instead of keeping it."""

    def write(self, value: str) -> str:
        return value


def _csv_rows(tenant: Tenant, queryset: Any) -> Iterator[str]:
    """The header, then the events in pages of ``CSV_CHUNK`` (keyset on time and id). The
    response is streamed after the view has returned and the request's tenant context is
    gone, so each page is read inside ``tenant_context`` of the request's workspace: the
    scoped manager and Row Level Security apply to every query as in the view."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    after: tuple[datetime, Any] | None = None
    while True:
        with tenant_context(tenant):
            chunk = queryset
            if after is not None:
                chunk = chunk.filter(Q(created_at__lt=after[0]) | Q(created_at=after[0], id__lt=after[1]))
            events = list(chunk[:CSV_CHUNK])
        for event in events:
            yield writer.writerow(
                [
                    event.created_at.isoformat(),
                    neutralize(actor_label(event)),
                    str(event.actor_user_id or event.actor_api_key_id or ""),
                    neutralize(event.type),
                    neutralize(event.subject_type),
                    neutralize(event.subject_id),
                    event.ip or "",
                    neutralize(event.request_id),
                    neutralize(json.dumps(event.changes, ensure_ascii=False)) if event.changes is not None else "",
                    neutralize(json.dumps(event.data, ensure_ascii=False)),
                ]
            )
        if len(events) < CSV_CHUNK:
            return
        after = (events[-1].created_at, events[-1].id)


@console_view(read=Role.ADMIN)
def audit_export(request: HttpRequest) -> HttpResponse:
    """The filtered log as CSV, every page of it, the same columns as the list."""
    refused = _plan_lacks_it(request)
    if refused is not None:
        return refused
    tenant = membership_of(request).tenant
    queryset = _search(AuditFilterForm(request.GET))
    response = StreamingHttpResponse(_csv_rows(tenant, queryset), content_type="text/csv; charset=utf-8")
    today = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="audit-log-{tenant.slug}-{today}.csv"'
    # A streamed response, not an HttpResponse: the console's views are typed for the usual one.
    return response  # type: ignore[return-value]
