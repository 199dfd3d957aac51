"""Suppliers and customers: the list (search, active filter, pages swapped in place by
HTMX), the page of one (a supplier's with the prices it supplies at), create, edit,
delete (refused while orders use it: it is deactivated instead), and a supplier's
prices, added and edited."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.errors import DomainError, NotFound
from inventory import errors, selectors
from inventory.models import Customer, Supplier, SupplierProduct
from inventory.services import catalog
from tenants.models import Role
from web.console import console_view
from web.forms import PartyForm, SupplierPriceForm, apply_error, bound
from web.pages import render_list

PAGE_SIZE = 25
View = Callable[..., HttpResponse]


@dataclass(frozen=True)
class Kind:
    """What differs between the supplier pages and the customer pages."""

    name: str  # "supplier"
    model: type[Supplier] | type[Customer]
    scoped: Callable[[], QuerySet[Any]]  # the selector of all of them
    empty: str  # the empty list's sentence

    @property
    def plural(self) -> str:
        return f"{self.name}s"

    @property
    def title(self) -> str:
        return self.plural.capitalize()

    def url(self, action: str, slug: str, party_id: Any = None) -> str:
        """``action``: "" (the list), "new", "detail", "edit", "delete"."""
        if party_id is None:
            return reverse(f"web:{self.plural}" if not action else f"web:{self.name}-{action}", kwargs={"slug": slug})
        name = f"web:{self.name}" if action == "detail" else f"web:{self.name}-{action}"
        return reverse(name, kwargs={"slug": slug, f"{self.name}_id": party_id})


SUPPLIER = Kind(
    "supplier",
    Supplier,
    selectors.supplier_list,
    "Suppliers are who you buy from: add one, then the prices it sells at.",
)
CUSTOMER = Kind(
    "customer",
    Customer,
    selectors.customer_list,
    "Customers are who you sell to: add the first one to take sales orders.",
)


def _slug(request: HttpRequest) -> str:
    return str(request.resolver_match.kwargs["slug"])  # type: ignore[union-attr]


def _party_or_404(kind: Kind, party_id: Any) -> Any:
    try:
        return selectors.get_or_404(kind.scoped(), id=party_id, what=kind.name)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _context(kind: Kind, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "section": kind.plural, **extra}


# --- The list, the page of one -----------------------------------------------------------


def _list(kind: Kind) -> View:
    @console_view()
    def view(request: HttpRequest) -> HttpResponse:
        params = request.GET
        text = params.get("q", "").replace("\x00", "").strip()[:200]  # no NUL: PostgreSQL text refuses it
        active = {"yes": True, "no": False}.get(params.get("active", ""))
        parties = selectors.party_search(model=kind.model, text=text, active=active)
        page = Paginator(parties, PAGE_SIZE).get_page(params.get("page"))
        context = _context(
            kind,
            page=page,
            q=text,
            active=params.get("active", ""),
            filtered=bool(text or active is not None),
            detail=f"web:{kind.name}",
            new_url=kind.url("new", _slug(request)),
        )
        return render_list(request, "web/console/parties.html", "table", context)

    view.__name__ = f"{kind.name}_list"
    return view


def _detail(kind: Kind) -> View:
    @console_view()
    def view(request: HttpRequest, **ids: uuid.UUID) -> HttpResponse:
        party = _party_or_404(kind, ids[f"{kind.name}_id"])
        slug = _slug(request)
        context = _context(kind, party=party, list_url=kind.url("", slug), edit_url=kind.url("edit", slug, party.id))
        if kind is SUPPLIER:
            context["prices"] = Paginator(selectors.supplier_prices(supplier=party), PAGE_SIZE).get_page(
                request.GET.get("page")
            )
        return render(request, "web/console/party.html", context)

    view.__name__ = f"{kind.name}_detail"
    return view


# --- Create, edit, delete ------------------------------------------------------------------


def _form_page(
    request: HttpRequest, kind: Kind, form: Any, *, party: Any = None, refusal: str = "", status: int = 200
) -> HttpResponse:
    slug = _slug(request)
    context = _context(
        kind,
        form=form,
        title=f"Edit {party.name}" if party else f"New {kind.name}",
        crumbs=[(kind.title, kind.url("", slug))]
        + ([(party.name, kind.url("detail", slug, party.id))] if party else []),
        cancel_url=kind.url("detail", slug, party.id) if party else kind.url("", slug),
        refusal=refusal,
    )
    if party is not None:
        context.update(
            delete_url=kind.url("delete", slug, party.id),
            delete_label=f"Delete {kind.name}",
            delete_confirm=f"Delete the {kind.name} {party.name}?",
            delete_help=f"A {kind.name} that orders use cannot be deleted: untick Active to deactivate it instead.",
        )
    if status == 200 and form.errors:
        status = 400
    return render(request, "web/console/edit_form.html", context, status=status)


def _initial(party: Any) -> dict[str, Any]:
    return {name: getattr(party, name) for name in PartyForm.base_fields}


def _create(kind: Kind) -> View:
    @console_view(read=Role.MANAGER)
    def view(request: HttpRequest) -> HttpResponse:
        form = PartyForm(bound(request))
        if request.method == "POST" and form.is_valid():
            try:
                party = catalog.party_create(model=kind.model, **form.cleaned_data)  # type: ignore[type-var]
            except DomainError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, f"{kind.name.capitalize()} {party.name} created.")
                return redirect(kind.url("detail", _slug(request), party.id))
        return _form_page(request, kind, form)

    view.__name__ = f"{kind.name}_create"
    return view


def _edit(kind: Kind) -> View:
    @console_view(read=Role.MANAGER)
    def view(request: HttpRequest, **ids: uuid.UUID) -> HttpResponse:
        party = _party_or_404(kind, ids[f"{kind.name}_id"])
        initial = _initial(party)
        form = PartyForm(bound(request), initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                catalog.party_update(party=party, **form.cleaned_data)
            except DomainError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, f"{kind.name.capitalize()} {party.name} saved.")
                return redirect(kind.url("detail", _slug(request), party.id))
        return _form_page(request, kind, form, party=party)

    view.__name__ = f"{kind.name}_edit"
    return view


def _delete(kind: Kind) -> View:
    @console_view(read=Role.MANAGER)
    @require_POST
    def view(request: HttpRequest, **ids: uuid.UUID) -> HttpResponse:
        party = _party_or_404(kind, ids[f"{kind.name}_id"])
        try:
            catalog.party_delete(party=party)
        except DomainError as exc:
            refusal = exc.message
            if exc.code == errors.IN_USE:
                refusal = (
                    f"{party.name} cannot be deleted: orders use it. "
                    "Untick Active and save to deactivate it instead (it then takes no new orders)."
                )
            return _form_page(
                request, kind, PartyForm(initial=_initial(party)), party=party, refusal=refusal, status=409
            )
        messages.success(request, f"{kind.name.capitalize()} {party.name} deleted.")
        return redirect(kind.url("", _slug(request)))

    view.__name__ = f"{kind.name}_delete"
    return view


supplier_list, supplier_detail = _list(SUPPLIER), _detail(SUPPLIER)
supplier_create, supplier_edit, supplier_delete = _create(SUPPLIER), _edit(SUPPLIER), _delete(SUPPLIER)
customer_list, customer_detail = _list(CUSTOMER), _detail(CUSTOMER)
customer_create, customer_edit, customer_delete = _create(CUSTOMER), _edit(CUSTOMER), _delete(CUSTOMER)


# --- A supplier's prices -----------------------------------------------------------------------


def _price_page(
    request: HttpRequest, form: SupplierPriceForm, supplier: Supplier, item: SupplierProduct | None
) -> HttpResponse:
    slug = _slug(request)
    back = SUPPLIER.url("detail", slug, supplier.id)
    context = _context(
        SUPPLIER,
        form=form,
        title=f"Price of {item.product.sku}" if item else "Add a price",
        crumbs=[(SUPPLIER.title, SUPPLIER.url("", slug)), (supplier.name, back)],
        cancel_url=back,
    )
    return render(request, "web/console/edit_form.html", context, status=400 if form.errors else 200)


@console_view(read=Role.MANAGER)
def supplier_price_create(request: HttpRequest, supplier_id: uuid.UUID) -> HttpResponse:
    supplier = _party_or_404(SUPPLIER, supplier_id)
    form = SupplierPriceForm(bound(request))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        product = selectors.product_by_code(code=data.pop("product"))
        if product is None:
            form.add_error("product", "No product has this SKU or barcode.")
            form.mark_errors()
        else:
            try:
                catalog.supplier_product_create(supplier=supplier, product=product, **data)
            except DomainError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, f"{supplier.name} now supplies {product.sku}.")
                return redirect("web:supplier", slug=_slug(request), supplier_id=supplier.id)
    return _price_page(request, form, supplier, None)


@console_view(read=Role.MANAGER)
def supplier_price_edit(request: HttpRequest, supplier_id: uuid.UUID, supplier_product_id: uuid.UUID) -> HttpResponse:
    supplier = _party_or_404(SUPPLIER, supplier_id)
    try:
        item: SupplierProduct = selectors.get_or_404(
            selectors.supplier_prices(supplier=supplier), id=supplier_product_id, what="supplier price"
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    initial = {"supplier_sku": item.supplier_sku, "price": item.price, "lead_time_days": item.lead_time_days}
    form = SupplierPriceForm(bound(request), initial=initial, with_product=False)
    if request.method == "POST" and form.is_valid():
        try:
            catalog.supplier_product_update(item=item, **form.cleaned_data)
        except DomainError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, f"Price of {item.product.sku} from {supplier.name} saved.")
            return redirect("web:supplier", slug=_slug(request), supplier_id=supplier.id)
    return _price_page(request, form, supplier, item)
