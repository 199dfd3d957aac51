"""Warehouses: list, create, edit (a warehouse with stock is deactivated, not deleted)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from core.errors import DomainError, NotFound
from inventory import selectors
from inventory.services import catalog
from tenants.models import Role
from web.console import console_view
from web.forms import WarehouseForm, apply_error, bound


@console_view()
def warehouse_list(request: HttpRequest) -> HttpResponse:
    valued = {row["warehouse"]: row for row in selectors.valuation()["warehouses"]}
    warehouses = list(selectors.warehouse_list().order_by("code"))
    rows = [
        {"warehouse": w, "value": valued.get(w.id, {}).get("value"), "quantity": valued.get(w.id, {}).get("quantity")}
        for w in warehouses
    ]
    return render(request, "web/console/warehouses.html", {"rows": rows, "section": "warehouses"})


@console_view(read=Role.MANAGER)
def warehouse_create(request: HttpRequest) -> HttpResponse:
    slug = request.resolver_match.kwargs["slug"]  # type: ignore[union-attr]
    form = WarehouseForm(bound(request))
    if request.method == "POST" and form.is_valid():
        try:
            warehouse = catalog.warehouse_create(**form.cleaned_data)
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, f"Warehouse {warehouse.code} created.")
            return redirect("web:warehouses", slug=slug)
    return render(
        request,
        "web/console/simple_form.html",
        {"form": form, "section": "warehouses", "title": "New warehouse", "back": "web:warehouses"},
        status=400 if form.errors else 200,
    )


@console_view(read=Role.MANAGER)
def warehouse_edit(request: HttpRequest, warehouse_id: uuid.UUID) -> HttpResponse:
    slug = request.resolver_match.kwargs["slug"]  # type: ignore[union-attr]
    try:
        warehouse = selectors.get_or_404(selectors.warehouse_list(), id=warehouse_id, what="warehouse")
    except NotFound as exc:
        raise Http404(exc.message) from exc
    initial = {name: getattr(warehouse, name) for name in WarehouseForm.base_fields}
    form = WarehouseForm(bound(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            catalog.warehouse_update(warehouse=warehouse, **form.cleaned_data)
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, f"Warehouse {warehouse.code} saved.")
            return redirect("web:warehouses", slug=slug)
    return render(
        request,
        "web/console/simple_form.html",
        {"form": form, "section": "warehouses", "title": f"Edit {warehouse.code}", "back": "web:warehouses"},
        status=400 if form.errors else 200,
    )
