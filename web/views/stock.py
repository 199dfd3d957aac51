"""Stock operations on a product: receive, issue, adjust (to a count or by a delta),
transfer. Each calls the same service as the API; its errors land next to the fields
(``insufficient_stock`` says what is available)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from core.errors import DomainError, NotFound
from inventory import selectors
from inventory.errors import InsufficientStock
from inventory.services import stock
from tenants.models import Role
from web.console import console_view, membership_of
from web.forms import AdjustForm, IssueForm, ReceiveForm, TransferForm, apply_error, bound
from web.templatetags.stockroom import qty


def _run(form: forms.Form, product: Any, request: HttpRequest, kind: str) -> str:
    """The service call of each operation; returns the toast."""
    data = form.cleaned_data
    user = membership_of(request).user
    unit = product.unit
    if kind == "receive":
        stock.stock_receive(
            product_id=product.id,
            warehouse_id=data["warehouse"].id,
            quantity=data["quantity"],
            unit_cost=data.get("unit_cost"),
            note=data["note"],
            user=user,
        )
        return f"Received {qty(data['quantity'], unit)} of {product.sku} into {data['warehouse'].code}."
    if kind == "issue":
        stock.stock_issue(
            product_id=product.id,
            warehouse_id=data["warehouse"].id,
            quantity=data["quantity"],
            note=data["note"],
            user=user,
        )
        return f"Issued {qty(data['quantity'], unit)} of {product.sku} from {data['warehouse'].code}."
    if kind == "adjust":
        counted = data["mode"] == "counted"
        moved = stock.stock_adjust(
            product_id=product.id,
            warehouse_id=data["warehouse"].id,
            reason=data["reason"],
            counted_quantity=data["quantity"] if counted else None,
            delta=None if counted else data["quantity"],
            note=data["note"],
            user=user,
        )
        if not moved:
            return f"{product.sku} in {data['warehouse'].code} already stands at {qty(data['quantity'], unit)}."
        return f"Adjusted {product.sku} in {data['warehouse'].code}: now {qty(moved[-1].on_hand_after, unit)}."
    stock.stock_transfer(
        product_id=product.id,
        from_warehouse_id=data["from_warehouse"].id,
        to_warehouse_id=data["to_warehouse"].id,
        quantity=data["quantity"],
        note=data["note"],
        user=user,
    )
    return (
        f"Moved {qty(data['quantity'], unit)} of {product.sku} "
        f"from {data['from_warehouse'].code} to {data['to_warehouse'].code}."
    )


FORMS: dict[str, tuple[type[forms.Form], str]] = {
    "receive": (ReceiveForm, "Receive stock"),
    "issue": (IssueForm, "Issue stock"),
    "adjust": (AdjustForm, "Adjust stock"),
    "transfer": (TransferForm, "Transfer stock"),
}


def _operation(kind: str) -> Callable[..., HttpResponse]:
    form_class, title = FORMS[kind]

    @console_view(read=Role.CLERK)
    def view(request: HttpRequest, product_id: uuid.UUID) -> HttpResponse:
        slug = request.resolver_match.kwargs["slug"]  # type: ignore[union-attr]
        try:
            product = selectors.product_get(id=product_id)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        warehouses = selectors.warehouse_list().filter(is_active=True).order_by("code")
        initial = {"warehouse": request.GET.get("warehouse")} if request.GET.get("warehouse") else None
        form = form_class(bound(request), warehouses=warehouses, initial=initial)  # type: ignore[call-arg]
        shortage = None
        if request.method == "POST" and form.is_valid():
            try:
                toast = _run(form, product, request, kind)
            except InsufficientStock as exc:
                shortage = exc.details
                line = exc.details["lines"][0]
                form.add_error(
                    "quantity",
                    f"Not enough stock in {line['warehouse_code']}: {qty(line['available'], product.unit)} available, "
                    f"{qty(line['requested'], product.unit)} requested.",
                )
                form.mark_errors()  # type: ignore[attr-defined]
            except DomainError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, toast)
                return redirect("web:product", slug=slug, product_id=product.id)
        return render(
            request,
            "web/console/stock_form.html",
            {
                "form": form,
                "product": product,
                "title": title,
                "kind": kind,
                "shortage": shortage,
                "section": "products",
                "levels": selectors.product_stock(product=product),
            },
            status=400 if form.errors else 200,
        )

    view.__name__ = f"stock_{kind}"
    return view


stock_receive = _operation("receive")
stock_issue = _operation("issue")
stock_adjust = _operation("adjust")
stock_transfer = _operation("transfer")
