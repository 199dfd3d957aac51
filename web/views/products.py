"""Products: the list (search, filters, sort, pages swapped in place by HTMX), the
product page (stock per warehouse, movements, stock operations), create and edit."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from core.errors import DomainError, NotFound
from inventory import selectors
from inventory.services import catalog
from orders import selectors as order_selectors
from tenants.models import Role
from web.console import console_view
from web.forms import ProductForm, apply_error, bound
from web.pages import render_list

PAGE_SIZE = 25


def _text(raw: str) -> str:
    """A search term from the query string: at most 200 characters, no NUL (PostgreSQL
    refuses it in text)."""
    return raw.replace("\x00", "").strip()[:200]


def _uuid_or_none(raw: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw)) if raw else None
    except ValueError:
        return None


def _product_or_404(product_id: Any) -> Any:
    try:
        return selectors.product_get(id=product_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@console_view()
def product_list(request: HttpRequest) -> HttpResponse:
    params = request.GET
    text = _text(params.get("q", ""))
    active = {"yes": True, "no": False}.get(params.get("active", ""))
    sort = params.get("sort", "sku")
    products = selectors.product_search(
        text=text,
        category_id=_uuid_or_none(params.get("category")),
        active=active,
        low=params.get("low") == "1",
        sort=sort,
    )
    page = Paginator(products, PAGE_SIZE).get_page(params.get("page"))
    context = {
        "page": page,
        "q": text,
        "sort": sort if sort in selectors.PRODUCT_SORTS else "sku",
        "categories": list(selectors.category_list().order_by("path")),
        "section": "products",
        "filtered": bool(text or params.get("category") or params.get("active") or params.get("low")),
    }
    return render_list(request, "web/console/products.html", "table", context)


@console_view()
def product_lookup(request: HttpRequest) -> HttpResponse:
    """The top bar's search: a scanned barcode or an exact SKU jumps to the product;
    anything else lists the matches."""
    code = _text(request.GET.get("q", ""))
    slug = request.resolver_match.kwargs["slug"]  # type: ignore[union-attr]
    product = selectors.product_by_code(code=code) if code else None
    if product is not None:
        return redirect("web:product", slug=slug, product_id=product.id)
    return redirect(f"{reverse('web:products', kwargs={'slug': slug})}?{urlencode({'q': code})}")


@console_view()
def product_detail(request: HttpRequest, product_id: uuid.UUID) -> HttpResponse:
    product = _product_or_404(product_id)
    movements = list(selectors.product_history(product=product).select_related("warehouse", "user")[:20])
    return render(
        request,
        "web/console/product.html",
        {
            "product": product,
            "levels": selectors.product_stock(product=product),
            "movements": movements,
            "warehouses": list(selectors.warehouse_list().filter(is_active=True).order_by("code")),
            "open_lines": order_selectors.product_open_lines(product=product),
            "section": "products",
        },
    )


@console_view(read=Role.MANAGER)
def product_create(request: HttpRequest) -> HttpResponse:
    slug = request.resolver_match.kwargs["slug"]  # type: ignore[union-attr]
    form = ProductForm(bound(request), categories=selectors.category_list().order_by("path"))
    if request.method == "POST" and form.is_valid():
        try:
            product = catalog.product_create(**form.cleaned_data)
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, f"Product {product.sku} created.")
            return redirect("web:product", slug=slug, product_id=product.id)
    return render(
        request,
        "web/console/product_form.html",
        {"form": form, "section": "products", "title": "New product"},
        status=400 if form.errors else 200,
    )


@console_view(read=Role.MANAGER)
def product_edit(request: HttpRequest, product_id: uuid.UUID) -> HttpResponse:
    slug = request.resolver_match.kwargs["slug"]  # type: ignore[union-attr]
    product = _product_or_404(product_id)
    initial = {name: getattr(product, name) for name in ProductForm.base_fields if name != "category"}
    initial["category"] = product.category_id
    form = ProductForm(bound(request), initial=initial, categories=selectors.category_list().order_by("path"))
    if request.method == "POST" and form.is_valid():
        try:
            catalog.product_update(product=product, **form.cleaned_data)
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, f"Product {product.sku} saved.")
            return redirect("web:product", slug=slug, product_id=product.id)
    return render(
        request,
        "web/console/product_form.html",
        {"form": form, "product": product, "section": "products", "title": f"Edit {product.sku}"},
        status=400 if form.errors else 200,
    )
