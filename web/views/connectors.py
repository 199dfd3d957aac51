"""Connectors (admins and owners, as ``/api/v1/connectors/``; the rules are
``integrations.services.connectors``'): the workspace's Shopify connectors with their
open error count, a new one and a change (the shared secret is write-only: left empty
on a change, the connector keeps its own), delete, and a connector's page with the
webhook URL to paste into Shopify and its error entries (open, resolved, dismissed)
with Retry and Dismiss. The plan's ``connectors`` feature gates the pages."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.errors import DomainError, NotFound
from integrations import selectors
from integrations.models import Connector, ConnectorError, ConnectorErrorStatus
from integrations.services import connectors as services
from inventory import selectors as inventory_selectors
from inventory.models import Warehouse
from tenants.entitlements import Feature, feature_enabled
from tenants.models import Role
from web.console import console_view, membership_of
from web.forms import ConnectorForm, apply_error, bound
from web.pages import render_list
from web.plans import plan_lacks_message

PAGE_SIZE = 25
PLAN_LACKS_IT = plan_lacks_message(Feature.CONNECTORS)
STATES = [("open", "Open"), ("resolved", "Resolved"), ("dismissed", "Dismissed"), ("", "All")]


def _slug(request: HttpRequest) -> str:
    return str(request.resolver_match.kwargs["slug"])  # type: ignore[union-attr]


def _enabled(request: HttpRequest) -> bool:
    return feature_enabled(membership_of(request).tenant, Feature.CONNECTORS)


def _refused_by_plan(request: HttpRequest) -> HttpResponse | None:
    if _enabled(request):
        return None
    messages.error(request, PLAN_LACKS_IT)
    return redirect("web:connectors", slug=_slug(request))


def _connector_or_404(connector_id: Any) -> Connector:
    try:
        return selectors.connector_get(id=connector_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _to_connector(request: HttpRequest, connector: Connector, state: str = "open") -> HttpResponse:
    url = reverse("web:connector", kwargs={"slug": _slug(request), "connector_id": connector.pk})
    return redirect(f"{url}?status={state}" if state else url)


def webhook_url(request: HttpRequest, connector: Connector) -> str:
    """The address to give Shopify for its ``orders/create`` webhook (as the API's ``webhook_url``)."""
    return request.build_absolute_uri(reverse("connector-shopify-orders", kwargs={"id": connector.pk}))


@console_view(read=Role.ADMIN)
def connector_list(request: HttpRequest) -> HttpResponse:
    enabled = _enabled(request)
    queryset = selectors.connector_overview() if enabled else Connector.objects.none()
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "web/console/connectors.html",
        {"page": page, "enabled": enabled, "plan_message": PLAN_LACKS_IT, "section": "connectors"},
    )


def _warehouses(current: Warehouse | None = None) -> QuerySet[Warehouse]:
    """The active warehouses, and the connector's own even when it was deactivated since
    (the service refuses it on a change all the same)."""
    wanted = Q(is_active=True)
    if current is not None:
        wanted |= Q(pk=current.pk)
    return inventory_selectors.warehouse_list().filter(wanted).order_by("code")


def _form_page(request: HttpRequest, form: ConnectorForm, status: int, connector: Connector | None) -> HttpResponse:
    slug = _slug(request)
    crumbs = [("Connectors", reverse("web:connectors", kwargs={"slug": slug}))]
    context: dict[str, Any] = {"form": form, "section": "connectors", "crumbs": crumbs}
    if connector is not None:
        context.update(
            aside_template="web/includes/connector_webhook_url.html", webhook_url=webhook_url(request, connector)
        )
    if connector is None:
        context.update(title="New connector", submit="Create the connector", cancel_url=crumbs[0][1])
    else:
        page = reverse("web:connector", kwargs={"slug": slug, "connector_id": connector.pk})
        crumbs.append((connector.name, page))
        context.update(
            title=f"Edit {connector.name}",
            cancel_url=page,
            delete_url=reverse("web:connector-delete", kwargs={"slug": slug, "connector_id": connector.pk}),
            delete_label="Delete the connector",
            delete_confirm=f"Delete the connector {connector.name} ({connector.shop_domain})? Its error entries go "
            "with it, and Shopify's deliveries to its address are refused from now on. The sales orders it made stay.",
            delete_help="Its error entries and delivery records are deleted; the sales orders it made stay.",
        )
    return render(request, "web/console/edit_form.html", context, status=status)


@console_view(read=Role.ADMIN)
def connector_create(request: HttpRequest) -> HttpResponse:
    refused = _refused_by_plan(request)
    if refused is not None:
        return refused
    form = ConnectorForm(bound(request), warehouses=_warehouses(), creating=True)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            connector = services.connector_create(**data, user=membership_of(request).user)
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(
                request,
                f"The connector {connector.name} is created: give Shopify its webhook address below.",
            )
            return _to_connector(request, connector)
    return _form_page(request, form, 400 if form.errors else 200, None)


@console_view(read=Role.ADMIN)
def connector_edit(request: HttpRequest, connector_id: uuid.UUID) -> HttpResponse:
    connector = _connector_or_404(connector_id)
    refused = _refused_by_plan(request)
    if refused is not None:
        return refused
    initial = {name: getattr(connector, name) for name in ("kind", "name", "shop_domain", "auto_confirm", "is_active")}
    form = ConnectorForm(
        bound(request),
        warehouses=_warehouses(connector.warehouse),
        creating=False,
        initial={**initial, "warehouse": connector.warehouse_id},
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("kind")  # one kind today; a connector keeps its kind
        if not data["shared_secret"]:
            data.pop("shared_secret")  # empty: the connector keeps its secret
        try:
            services.connector_update(connector_id=connector.pk, **data)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, f"The connector {data['name']} is saved.")
            return _to_connector(request, connector)
    return _form_page(request, form, 400 if form.errors else 200, connector)


@console_view(read=Role.ADMIN)
@require_POST
def connector_delete(request: HttpRequest, connector_id: uuid.UUID) -> HttpResponse:
    connector = _connector_or_404(connector_id)
    refused = _refused_by_plan(request)
    if refused is not None:
        return refused
    try:
        services.connector_delete(connector_id=connector.pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    messages.success(request, f"The connector {connector.name} ({connector.shop_domain}) is deleted.")
    return redirect("web:connectors", slug=_slug(request))


def _state(request: HttpRequest) -> str:
    """The entries' filter: ``open`` unless another state (or ``all``) is asked for."""
    asked = request.GET.get("status", "open")
    if asked == "all":
        return ""
    return asked if asked in selectors.ERROR_STATES else "open"


def _entry_state(entry: ConnectorError) -> str:
    if entry.status == ConnectorErrorStatus.OPEN:
        return "open"
    return "resolved" if entry.sales_order_id else "dismissed"


@console_view(read=Role.ADMIN)
def connector_detail(request: HttpRequest, connector_id: uuid.UUID) -> HttpResponse:
    connector = _connector_or_404(connector_id)
    state = _state(request)
    entries = selectors.connector_errors_in_state(connector=connector, state=state)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "connector": connector,
        "webhook_url": webhook_url(request, connector),
        "state": state,
        "states": [(value or "all", label) for value, label in STATES],
        "page": page,
        "rows": [{"entry": entry, "state": _entry_state(entry)} for entry in page],
        "enabled": _enabled(request),
        "section": "connectors",
    }
    return render_list(request, "web/console/connector.html", "entries", context)


def _entry_or_404(connector: Connector, entry_id: Any) -> ConnectorError:
    try:
        entry = selectors.connector_error_get(id=entry_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    if entry.connector_id != connector.pk:
        raise Http404("No such error entry for this connector.")
    return entry


def _label(entry: ConnectorError) -> str:
    return f"Shopify order {entry.external_id}" if entry.external_id else "The delivery"


@console_view(read=Role.ADMIN)
@require_POST
def connector_error_retry(request: HttpRequest, connector_id: uuid.UUID, connector_error_id: uuid.UUID) -> HttpResponse:
    connector = _connector_or_404(connector_id)
    entry = _entry_or_404(connector, connector_error_id)
    refused = _refused_by_plan(request)
    if refused is not None:
        return refused
    try:
        entry = services.connector_error_retry(error_id=entry.pk, user=membership_of(request).user)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except DomainError as exc:
        messages.error(request, exc.message)
        return _to_connector(request, connector)
    if entry.status == ConnectorErrorStatus.RESOLVED:
        number = entry.sales_order.number if entry.sales_order else None
        messages.success(request, f"{_label(entry)} came through: sales order {number or 'made'}.")
    else:
        messages.error(request, f"{_label(entry)} was refused again ({entry.code}): {entry.message}")
    return _to_connector(request, connector)


@console_view(read=Role.ADMIN)
@require_POST
def connector_error_dismiss(
    request: HttpRequest, connector_id: uuid.UUID, connector_error_id: uuid.UUID
) -> HttpResponse:
    connector = _connector_or_404(connector_id)
    entry = _entry_or_404(connector, connector_error_id)
    refused = _refused_by_plan(request)
    if refused is not None:
        return refused
    try:
        services.connector_error_dismiss(error_id=entry.pk, user=membership_of(request).user)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{_label(entry)} is dismissed: no sales order will be made from it.")
    return _to_connector(request, connector)
