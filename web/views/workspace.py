"""Workspace settings: the name and currency (``tenants.services.tenant_update``) and the
order-number prefixes (``orders.services.sequence_update``). Every member reads them;
admins and owners change them, as in the API (``PATCH /tenant/``, ``PATCH /orders/numbering/``)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.errors import DomainError
from orders import services as order_services
from orders.models import SequenceKind
from tenants import services as tenant_services
from tenants.models import Role
from web.console import console_view, membership_of
from web.forms import NumberingForm, WorkspaceForm, apply_error

_PREFIX_FIELDS = {SequenceKind.SALES: "sales_prefix", SequenceKind.PURCHASE: "purchase_prefix"}


def _page(
    request: HttpRequest,
    *,
    workspace_form: WorkspaceForm | None = None,
    numbering_form: NumberingForm | None = None,
    status: int = 200,
) -> HttpResponse:
    tenant = membership_of(request).tenant
    sequences = order_services.sequences()
    prefixes = {field: sequences[kind].prefix for kind, field in _PREFIX_FIELDS.items()}
    return render(
        request,
        "web/console/workspace.html",
        {
            "workspace_form": workspace_form
            or WorkspaceForm(initial={"name": tenant.name, "currency": tenant.currency}),
            "numbering_form": numbering_form or NumberingForm(initial=prefixes),
            "next_sales": order_services.next_number(sequences[SequenceKind.SALES]),
            "next_purchase": order_services.next_number(sequences[SequenceKind.PURCHASE]),
            "section": "workspace",
        },
        status=status,
    )


@console_view(write=Role.ADMIN)
def workspace_settings(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request)
    form = WorkspaceForm(request.POST)
    if form.is_valid():
        try:
            tenant = tenant_services.tenant_update(**form.cleaned_data)
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, f"Workspace settings saved: {tenant.name}, amounts in {tenant.currency}.")
            return redirect("web:workspace-settings", slug=tenant.slug)
    return _page(request, workspace_form=form, status=400)


@console_view(write=Role.ADMIN)
@require_POST
def numbering_update(request: HttpRequest) -> HttpResponse:
    form = NumberingForm(request.POST)
    if form.is_valid():
        sequences = order_services.sequences()
        try:
            for kind, field in _PREFIX_FIELDS.items():
                if form.cleaned_data[field] != sequences[kind].prefix:
                    order_services.sequence_update(kind=kind, prefix=form.cleaned_data[field])
        except DomainError as exc:
            apply_error(form, exc)
        else:
            saved = order_services.sequences()
            sales, purchase = (order_services.next_number(saved[kind]) for kind in _PREFIX_FIELDS)
            messages.success(
                request, f"Order numbering saved: the next sales order is {sales}, the next purchase order {purchase}."
            )
            return redirect("web:workspace-settings", slug=membership_of(request).tenant.slug)
    return _page(request, numbering_form=form, status=400)
