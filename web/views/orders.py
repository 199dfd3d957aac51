"""Sales and purchase orders: the lists (status tabs, search, pages swapped in place by
HTMX), the editor of drafts (lines added and removed in place, totals priced by the
server exactly as the services will price them), the order page (lines, totals, the
timeline, the actions the state machine allows now) and the actions: confirm or place,
ship or receive (part or all, per line), return, cancel, delete a draft.

Both kinds share the code; ``Kind`` holds what differs. Every write is one service
call; its domain errors keep their meaning: ``insufficient_stock`` lists what is
available per line, ``invalid_transition`` says the state now and what it allows."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q, TextChoices
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.errors import DomainError, NotFound, PermissionDenied
from inventory import selectors as inventory
from inventory.errors import InsufficientStock
from orders import errors as order_errors
from orders import selectors, services
from orders.models import PurchaseOrder, PurchaseStatus, SalesOrder, SalesStatus
from orders.states import InvalidTransition
from tenants.models import Role
from web.console import can, console_view, membership_of
from web.order_forms import (
    LINE_FIELDS,
    MAX_LINES,
    OrderForm,
    OrderLineForm,
    ReceiptForm,
    ReturnForm,
    ShipmentForm,
    line_quantities_form,
    plain,
)
from web.pages import error_page, render_list
from web.templatetags.stockroom import money, qty

PAGE_SIZE = 25
PRODUCT_SUGGESTIONS = 1000  # SKUs offered in the product box; any other is typed or scanned
ACTION_LABELS = {
    "confirm": "Confirm",
    "order": "Place order",
    "ship": "Ship",
    "receive": "Receive",
    "return": "Return",
    "cancel": "Cancel",
    "edit": "Edit",
    "delete": "Delete",
}
LINE_KEY = re.compile(r"^lines\.(\d+)\.(\w+)$")
Order = SalesOrder | PurchaseOrder


@dataclass(frozen=True)
class Kind:
    key: str  # "sales" | "purchase"
    title: str
    singular: str
    party: str  # the order's customer or supplier field
    statuses: type[TextChoices]
    moved: str  # the column of what left or arrived

    @property
    def name(self) -> str:
        """The URL names: ``web:<name>s``, ``web:<name>``, ``web:<name>-<action>``."""
        return f"{self.key}-order"

    @property
    def section(self) -> str:
        return f"{self.key}-orders"

    @property
    def id_name(self) -> str:
        return f"{self.key}_order_id"


SALES = Kind("sales", "Sales orders", "sales order", "customer", SalesStatus, "Shipped")
PURCHASE = Kind("purchase", "Purchase orders", "purchase order", "supplier", PurchaseStatus, "Received")


def _slug(request: HttpRequest) -> str:
    return str(request.resolver_match.kwargs["slug"])  # type: ignore[union-attr]


def _url(kind: Kind, request: HttpRequest, order_id: Any, action: str = "") -> str:
    name = f"web:{kind.name}-{action}" if action else f"web:{kind.name}"
    return reverse(name, kwargs={"slug": _slug(request), kind.id_name: order_id})


def _order(kind: Kind, order_id: Any) -> Any:
    """The order with everything its page shows (a fixed number of queries), or 404."""
    try:
        if kind is SALES:
            return selectors.sales_order_page(id=order_id)
        return selectors.purchase_order_page(id=order_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _name(kind: Kind, order: Order) -> str:
    """``SO-000042``, or ``Draft sales order`` before it has a number."""
    return order.number or f"Draft {kind.singular}"


def _party(kind: Kind, order: Order) -> Any:
    return getattr(order, kind.party)


def _status_label(kind: Kind, status: str) -> str:
    return str(kind.statuses(status).label) if status in kind.statuses.values else status


def _uuids(values: Sequence[str]) -> list[uuid.UUID]:
    found = []
    for value in values:
        try:
            found.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return found


# --- Lists ------------------------------------------------------------------------------


def _list(kind: Kind) -> Callable[..., HttpResponse]:
    @console_view()
    def view(request: HttpRequest) -> HttpResponse:
        params = request.GET
        text = params.get("q", "").replace("\x00", "").strip()[:200]
        status = params.get("status", "")
        status = status if status in kind.statuses.values else ""
        search = selectors.sales_order_search if kind is SALES else selectors.purchase_order_search
        page = Paginator(search(text=text, status=status), PAGE_SIZE).get_page(params.get("page"))
        counts = selectors.order_status_counts(kind=kind.key, text=text)
        tabs = [{"value": "", "label": "All", "count": sum(counts.values())}] + [
            {"value": value, "label": label, "count": counts.get(value, 0)} for value, label in kind.statuses.choices
        ]
        context = {
            "kind": kind,
            "page": page,
            "q": text,
            "status": status,
            "status_label": _status_label(kind, status) if status else "",
            "tabs": tabs,
            "filtered": bool(text or status),
            "section": kind.section,
        }
        return render_list(request, "web/console/orders.html", "table", context)

    view.__name__ = f"{kind.key}_order_list"
    return view


# --- The editor of drafts --------------------------------------------------------------


def _raw_lines(data: QueryDict) -> list[dict[str, str]]:
    """The lines as posted (``lines-<i>-<field>``), at most MAX_LINES."""
    try:
        count = int(data.get("lines-TOTAL_FORMS", "0"))
    except ValueError:
        count = 0
    return [
        {name: str(data.get(f"lines-{i}-{name}", "")).replace("\x00", "") for name in LINE_FIELDS}
        for i in range(max(0, min(count, MAX_LINES)))
    ]


def _is_blank(raw: dict[str, str]) -> bool:
    return not (raw["product"].strip() or raw["quantity"].strip() or raw["unit_price"].strip())


def _raw_of(order: Order) -> list[dict[str, str]]:
    return [
        {
            "product": line.product.sku,
            "warehouse": str(line.warehouse_id),
            "quantity": plain(line.quantity),
            "unit_price": plain(line.unit_price),
            "discount_percent": plain(line.discount_percent),
            "tax_rate": plain(line.tax_rate),
        }
        for line in order.lines.all()
    ]


@dataclass
class Choices:
    """What the editor offers, read once per request."""

    parties: list[Any]
    warehouses: list[Any]
    products: dict[str, Any]  # typed code -> product, for the codes of the posted lines

    def blank_line(self) -> dict[str, str]:
        active = [w for w in self.warehouses if w.is_active]
        return {**dict.fromkeys(LINE_FIELDS, ""), "warehouse": str(active[0].pk) if active else ""}


def _choices(kind: Kind, raw: list[dict[str, str]], party_ids: Sequence[str]) -> Choices:
    """Active customers or suppliers and warehouses, plus inactive ones the lines name
    (so a draft shows them and the service says why it refuses them)."""
    parties = inventory.customer_list() if kind is SALES else inventory.supplier_list()
    wanted = _uuids([r["warehouse"] for r in raw])
    codes = [r["product"] for r in raw if 0 < len(r["product"].strip()) <= 64]
    return Choices(
        parties=list(parties.filter(Q(is_active=True) | Q(pk__in=_uuids(party_ids))).order_by("name", "pk")),
        warehouses=list(inventory.warehouse_list().filter(Q(is_active=True) | Q(pk__in=wanted)).order_by("code")),
        products=inventory.products_by_codes(codes=codes),
    )


def _line_forms(raw: list[dict[str, str]], choices: Choices, *, bound: bool) -> list[OrderLineForm]:
    """A form per line; bound ones validate (saving), unbound ones just show the values
    (adding or removing a line shows no errors for lines still being typed)."""
    made = []
    for index, values in enumerate(raw):
        prefix = f"lines-{index}"
        if bound:
            data = {f"{prefix}-{name}": value for name, value in values.items()}
            made.append(OrderLineForm(data, prefix=prefix, products=choices.products, warehouses=choices.warehouses))
        else:
            made.append(
                OrderLineForm(initial=values, prefix=prefix, products=choices.products, warehouses=choices.warehouses)
            )
    return made


def _price(kind: Kind, raw: list[dict[str, str]], choices: Choices, supplier: Any) -> dict[str, Any]:
    """Each line's amount (None while it is incomplete) and the totals, from the service's
    pricing: what saving would store."""
    checked = [OrderLineForm(values, products=choices.products, warehouses=choices.warehouses) for values in raw]
    complete = [(i, f) for i, f in enumerate(checked) if f.is_valid()]
    inputs = [services.LineInput(**f.line_input()) for _, f in complete]
    amounts: list[Any] = [None] * len(raw)
    products = [choices.products.get(values["product"].strip()) for values in raw]
    try:
        if kind is SALES:
            priced, totals = services.sales_order_price(lines=inputs)
        else:
            priced, totals = services.purchase_order_price(lines=inputs, supplier=supplier)
    except DomainError as exc:
        return {"amounts": amounts, "products": products, "totals": None, "error": exc.message}
    for (index, _), line in zip(complete, priced, strict=True):
        amounts[index] = line
    return {"amounts": amounts, "products": products, "totals": totals, "error": ""}


def _supplier(kind: Kind, choices: Choices, raw_id: str) -> Any:
    if kind is SALES:
        return None
    return next((p for p in choices.parties if str(p.pk) == raw_id), None)


def _place_error(exc: DomainError, main: forms.Form, lines: Sequence[forms.Form]) -> None:
    """A service's error on the editor: ``lines.<i>.<field>`` under that line's field,
    the order's own fields under theirs, the rest at the top."""
    placed = False
    for key, problems in (exc.fields or {}).items():
        match = LINE_KEY.match(key)
        form, name = (lines[int(match[1])], match[2]) if match and int(match[1]) < len(lines) else (main, key)
        for problem in problems:
            message = problem.get("message", "") if isinstance(problem, dict) else str(problem)
            form.add_error(name if name in form.fields else None, message)
            placed = True
    if not placed:
        if exc.code == order_errors.DUPLICATE_EXTERNAL_REFERENCE:
            main.add_error("external_reference", exc.message)
        else:
            main.add_error(None, _explain(exc))
    for form in (main, *lines):
        form.mark_errors()  # type: ignore[attr-defined]


def _explain(exc: DomainError) -> str:
    """An invalid transition in words: what the order is now and what it allows."""
    if isinstance(exc, InvalidTransition):
        allowed = [ACTION_LABELS.get(a, a).lower() for a in exc.details.get("allowed_actions", [])]
        return f"{exc.message} Allowed now: {', '.join(allowed) or 'nothing'}."
    return exc.message


def _editor_context(
    kind: Kind,
    request: HttpRequest,
    *,
    main: OrderForm,
    line_forms: list[OrderLineForm],
    raw: list[dict[str, str]],
    choices: Choices,
    order: Order | None,
) -> dict[str, Any]:
    supplier = _supplier(kind, choices, str(main[kind.party].value() or ""))
    pricing = _price(kind, raw, choices, supplier)
    rows = [
        {"form": form, "amount": pricing["amounts"][i], "product": pricing["products"][i]}
        for i, form in enumerate(line_forms)
    ]

    def suggestions() -> list[tuple[str, str]]:  # read only when the whole page is drawn
        products = inventory.product_list().filter(is_active=True).order_by("sku")
        return list(products.values_list("sku", "name")[:PRODUCT_SUGGESTIONS])

    return {
        "kind": kind,
        "order": order,
        "form": main,
        "rows": rows,
        "pricing": pricing,
        "suggestions": suggestions,
        "warehouses": choices.warehouses,
        "has_parties": bool(choices.parties),
        "max_lines": MAX_LINES,
        "preview_url": reverse(f"web:{kind.name}-lines", kwargs={"slug": _slug(request)}),
        "currency": order.currency if order else membership_of(request).tenant.currency,
        "section": kind.section,
        "title": f"Edit draft {kind.singular}" if order else f"New {kind.singular}",
        "back": _url(kind, request, order.pk) if order else reverse(f"web:{kind.section}", args=[_slug(request)]),
    }


def _edit_op(op: str, raw: list[dict[str, str]], choices: Choices) -> list[dict[str, str]] | None:
    """``add`` and ``remove-<i>`` change the lines without saving; None: save."""
    if op == "add":
        return [*raw, choices.blank_line()] if len(raw) < MAX_LINES else raw
    if op.startswith("remove-"):
        try:
            index = int(op.removeprefix("remove-"))
        except ValueError:
            return raw
        kept = [values for i, values in enumerate(raw) if i != index]
        return kept or [choices.blank_line()]
    return None


def _editor(kind: Kind, *, edit: bool) -> Callable[..., HttpResponse]:
    @console_view(read=Role.CLERK)
    def view(request: HttpRequest, **ids: Any) -> HttpResponse:
        order = _order(kind, ids[kind.id_name]) if edit else None
        if order is not None and "edit" not in selectors.order_actions(order):
            messages.warning(
                request,
                f"{_name(kind, order)} is {_status_label(kind, order.status).lower()}: only drafts can be edited.",
            )
            return redirect(_url(kind, request, order.pk))
        posted = request.POST if request.method == "POST" else None
        party_field = kind.party
        if posted is not None:
            raw = _raw_lines(posted)
            party_ids = [str(posted.get(party_field, ""))]
        elif order is not None:
            raw = _raw_of(order)
            party_ids = [str(_party(kind, order).pk)]
        else:
            raw, party_ids = [], []
        choices = _choices(kind, raw, party_ids)
        op = str(posted.get("op", "save")) if posted is not None else "show"
        changed = _edit_op(op, raw, choices)
        form_kwargs: dict[str, Any] = {"party": party_field, "parties": choices.parties, "purchase": kind is PURCHASE}
        if posted is None or changed is not None:
            # Showing the form, or a line added or removed (shown, not saved).
            raw = changed if changed is not None else (raw or [choices.blank_line()])
            initial = _initial(kind, order) if posted is None else posted.dict()
            main = OrderForm(initial=initial, **form_kwargs)
            line_forms = _line_forms(raw, choices, bound=False)
            context = _editor_context(
                kind, request, main=main, line_forms=line_forms, raw=raw, choices=choices, order=order
            )
            return render(request, "web/console/order_form.html", context)
        raw = [values for values in raw if not _is_blank(values)]
        main = OrderForm(posted, **form_kwargs)
        line_forms = _line_forms(raw, choices, bound=True)
        valid = [main.is_valid(), *(f.is_valid() for f in line_forms)]
        if all(valid):
            try:
                saved = _save(kind, request, main, line_forms, order)
            except DomainError as exc:
                _place_error(exc, main, line_forms)
            else:
                messages.success(
                    request,
                    f"{_name(kind, saved)} for {_party(kind, saved).name} saved: "
                    f"{len(line_forms)} line{'s' if len(line_forms) != 1 else ''}, "
                    f"{money(saved.total, saved.currency)}.",
                )
                return redirect(_url(kind, request, saved.pk))
        if not raw:
            raw = [choices.blank_line()]
            line_forms = _line_forms(raw, choices, bound=False)
        context = _editor_context(
            kind, request, main=main, line_forms=line_forms, raw=raw, choices=choices, order=order
        )
        return render(request, "web/console/order_form.html", context, status=400)

    view.__name__ = f"{kind.key}_order_{'edit' if edit else 'create'}"
    return view


def _initial(kind: Kind, order: Order | None) -> dict[str, Any]:
    if order is None:
        return {}
    initial = {
        kind.party: str(_party(kind, order).pk),
        "expected_date": order.expected_date,
        "external_reference": order.external_reference,
        "notes": order.notes,
    }
    if isinstance(order, PurchaseOrder):
        initial["over_receipt_tolerance_percent"] = plain(order.over_receipt_tolerance_percent)
    return initial


def _save(kind: Kind, request: HttpRequest, main: OrderForm, line_forms: list[OrderLineForm], order: Any) -> Any:
    data = main.cleaned_data
    lines = [services.LineInput(**form.line_input()) for form in line_forms]
    fields: dict[str, Any] = {
        kind.party: data[kind.party],
        "lines": lines,
        "notes": data["notes"],
        "expected_date": data["expected_date"],
        "external_reference": data["external_reference"],
    }
    if kind is PURCHASE:
        fields["over_receipt_tolerance_percent"] = data.get("over_receipt_tolerance_percent") or Decimal(0)
    user = membership_of(request).user
    if kind is SALES:
        if order is None:
            return services.sales_order_create(user=user, **fields)
        return services.sales_order_update(order_id=order.pk, **fields)
    if order is None:
        return services.purchase_order_create(user=user, **fields)
    return services.purchase_order_update(order_id=order.pk, **fields)


def _lines_preview(kind: Kind) -> Callable[..., HttpResponse]:
    """The editor's HTMX endpoint: the totals (and each line's amount, out of band) as
    the lines stand, or the lines again after adding or removing one."""

    @console_view(read=Role.CLERK)
    @require_POST
    def view(request: HttpRequest) -> HttpResponse:
        raw = _raw_lines(request.POST)
        choices = _choices(kind, raw, [str(request.POST.get(kind.party, ""))])
        changed = _edit_op(str(request.POST.get("op", "")), raw, choices)
        main = OrderForm(
            initial=request.POST.dict(), party=kind.party, parties=choices.parties, purchase=kind is PURCHASE
        )
        shown = changed if changed is not None else raw
        context = _editor_context(
            kind,
            request,
            main=main,
            line_forms=_line_forms(shown, choices, bound=False),
            raw=shown,
            choices=choices,
            order=None,
        )
        if changed is not None:
            return render(request, "web/console/order_form.html#lines", context)
        return render(request, "web/console/order_form.html#totals", {**context, "oob": True})

    view.__name__ = f"{kind.key}_order_lines_preview"
    return view


# --- The order page ----------------------------------------------------------------------


def _timeline(kind: Kind, order: Any) -> list[dict[str, Any]]:
    """Status changes, shipments or receipts, and returns, oldest first."""
    lines = {line.id: line for line in order.lines.all()}
    events: list[dict[str, Any]] = []
    for change in order.history.all():
        events.append(
            {
                "at": change.created_at,
                "kind": "status",
                "status": change.to_status,
                "label": _status_label(kind, change.to_status),
                "from": _status_label(kind, change.from_status) if change.from_status else "",
                "user": change.user,
                "note": change.note,
            }
        )
    documents = order.shipments.all() if kind is SALES else order.receipts.all()
    for document in documents:
        events.append(
            {
                "at": document.created_at,
                "kind": "shipment" if kind is SALES else "receipt",
                "items": [(lines[d.order_line_id], d.quantity, "") for d in document.lines.all()],
                "user": document.created_by,
                "carrier": getattr(document, "carrier", ""),
                "tracking": getattr(document, "tracking_number", ""),
                "note": document.note,
            }
        )
    for returned in order.returns.all():
        events.append(
            {
                "at": returned.created_at,
                "kind": "return",
                "items": [
                    (lines[r.sales_line_id or r.purchase_line_id], r.quantity, r.get_disposition_display())
                    for r in returned.lines.all()
                ],
                "user": returned.created_by,
                "note": returned.reason,
            }
        )
    return sorted(events, key=lambda event: event["at"])


def _allowed(kind: Kind, request: HttpRequest, order: Order) -> list[str]:
    """The actions to draw: what the state machine allows now and the member's role may do
    (a confirmed or placed order is cancelled by a manager; the service says so too)."""
    if not can(request, Role.CLERK):
        return []
    actions = selectors.order_actions(order)
    if "cancel" in actions and order.status != SalesStatus.DRAFT and not can(request, Role.MANAGER):
        actions.remove("cancel")
    return actions


def _problem(kind: Kind, order: Order, exc: DomainError) -> dict[str, Any]:
    """A refused action in words: what is short per line, or what the order allows now."""
    problem: dict[str, Any] = {"message": exc.message, "code": exc.code}
    if isinstance(exc, InsufficientStock):
        units = {str(line.product_id): line.product.unit for line in order.lines.all()}
        problem["shortages"] = [{**row, "unit": units.get(row["product"], "")} for row in exc.details.get("lines", [])]
    if isinstance(exc, InvalidTransition):
        problem["status"] = _status_label(kind, exc.details.get("status", ""))
        problem["allowed"] = [ACTION_LABELS.get(a, a) for a in exc.details.get("allowed_actions", [])]
    return problem


def _steps(kind: Kind, order: Order) -> list[dict[str, Any]]:
    """The way from draft to done, the current status marked (none for a cancelled order)."""
    if order.status == SalesStatus.CANCELLED:
        return []
    return [
        {"label": label, "current": value == order.status}
        for value, label in kind.statuses.choices
        if value != SalesStatus.CANCELLED
    ]


def _order_page(
    kind: Kind, request: HttpRequest, order_id: Any, *, problem: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    order = _order(kind, order_id)
    actions = _allowed(kind, request, order)
    urls = {a: _url(kind, request, order.pk, a) for a in ("edit", "delete", "cancel", "return")}
    urls["confirm"] = _url(kind, request, order.pk, "confirm" if kind is SALES else "place")
    urls["move"] = _url(kind, request, order.pk, "ship" if kind is SALES else "receive")
    name = _name(kind, order)
    party = _party(kind, order)
    return render(
        request,
        "web/console/order.html",
        {
            "kind": kind,
            "order": order,
            "name": name,
            "party": party,
            "lines": list(order.lines.all()),
            "timeline": _timeline(kind, order),
            "actions": actions,
            "urls": urls,
            "problem": problem,
            "status_label": _status_label(kind, order.status),
            "steps": _steps(kind, order),
            "cancel_question": f"Cancel {order.number}?"
            if order.number
            else f"Cancel this draft {kind.singular} for {party.name}?",
            "delete_question": f"Delete this draft {kind.singular} for {party.name}?",
            "section": kind.section,
        },
        status=status,
    )


def _detail(kind: Kind) -> Callable[..., HttpResponse]:
    @console_view()
    def view(request: HttpRequest, **ids: Any) -> HttpResponse:
        return _order_page(kind, request, ids[kind.id_name])

    view.__name__ = f"{kind.key}_order_detail"
    return view


# --- Actions -------------------------------------------------------------------------------


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _summary(pairs: Sequence[tuple[Any, Decimal]]) -> str:
    """``5 pcs BOLT-M8, 2 pcs SAW`` (or ``4 lines`` when there are more than three)."""
    if len(pairs) > 3:
        return _plural(len(pairs), "line")
    return ", ".join(f"{qty(quantity, line.product.unit)} {line.product.sku}" for line, quantity in pairs)


def _refused(kind: Kind, request: HttpRequest, order: Order, exc: DomainError) -> HttpResponse:
    """A refused action: a role the service refuses gets the 403 page; anything else the
    order page again with the reason (409 or 400)."""
    if isinstance(exc, PermissionDenied):
        return error_page(request, 403, message=exc.message)
    return _order_page(kind, request, order.pk, problem=_problem(kind, order, exc), status=exc.status_code)


def _step(kind: Kind) -> Callable[..., HttpResponse]:
    """Confirm a sales order (reserves every line) or place a purchase order."""

    @console_view(read=Role.CLERK)
    @require_POST
    def view(request: HttpRequest, **ids: Any) -> HttpResponse:
        order = _order(kind, ids[kind.id_name])
        user = membership_of(request).user
        count = len(order.lines.all())
        try:
            if kind is SALES:
                done: Any = services.sales_order_confirm(order_id=order.pk, user=user)
                toast = f"{done.number} confirmed: {_plural(count, 'line')} reserved."
            else:
                done = services.purchase_order_place(order_id=order.pk, user=user)
                toast = f"{done.number} ordered from {order.supplier.name}: {_plural(count, 'line')}."
        except DomainError as exc:
            return _refused(kind, request, order, exc)
        messages.success(request, toast)
        return redirect(_url(kind, request, order.pk))

    view.__name__ = f"{kind.key}_order_{'confirm' if kind is SALES else 'place'}"
    return view


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False)


def _cancel(kind: Kind) -> Callable[..., HttpResponse]:
    @console_view(read=Role.CLERK)
    @require_POST
    def view(request: HttpRequest, **ids: Any) -> HttpResponse:
        order = _order(kind, ids[kind.id_name])
        membership = membership_of(request)
        form = CancelForm(request.POST)
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        was_draft = order.status == SalesStatus.DRAFT
        cancel = services.sales_order_cancel if kind is SALES else services.purchase_order_cancel
        try:
            cancel(order_id=order.pk, actor=membership, user=membership.user, reason=reason)
        except DomainError as exc:
            return _refused(kind, request, order, exc)
        released = kind is SALES and not was_draft
        messages.success(request, f"{_name(kind, order)} cancelled{': reservations released' if released else ''}.")
        return redirect(_url(kind, request, order.pk))

    view.__name__ = f"{kind.key}_order_cancel"
    return view


def _delete(kind: Kind) -> Callable[..., HttpResponse]:
    @console_view(read=Role.CLERK)
    @require_POST
    def view(request: HttpRequest, **ids: Any) -> HttpResponse:
        order = _order(kind, ids[kind.id_name])
        delete = services.sales_order_delete if kind is SALES else services.purchase_order_delete
        try:
            delete(order_id=order.pk)
        except DomainError as exc:
            return _refused(kind, request, order, exc)
        messages.success(request, f"Draft {kind.singular} for {_party(kind, order).name} deleted.")
        return redirect(f"web:{kind.section}", slug=_slug(request))

    view.__name__ = f"{kind.key}_order_delete"
    return view


# What each per-line action offers: the state machine's action, the form of its own
# fields, the page's words, what is outstanding per line.
LINE_ACTIONS: dict[str, dict[str, Any]] = {
    "ship": {
        "action": "ship",
        "form": ShipmentForm,
        "title": "Ship",
        "column": "To ship",
        "left": lambda line: line.quantity - line.shipped_quantity,
    },
    "receive": {
        "action": "receive",
        "form": ReceiptForm,
        "title": "Receive",
        "column": "To receive",
        "left": lambda line: max(line.quantity - line.received_quantity, Decimal(0)),
    },
    "sales-return": {
        "action": "return",
        "form": ReturnForm,
        "title": "Customer return",
        "column": "Returnable",
        "left": lambda line: line.shipped_quantity - line.returned_quantity,
    },
    "purchase-return": {
        "action": "return",
        "form": ReturnForm,
        "title": "Return to supplier",
        "column": "Returnable",
        "left": lambda line: line.received_quantity - line.returned_quantity,
    },
}


def _run_lines(kind: Kind, key: str, request: HttpRequest, order: Any, inputs: list[Any], data: dict[str, Any]) -> Any:
    user = membership_of(request).user
    if key == "ship":
        return services.sales_order_ship(order_id=order.pk, lines=inputs, user=user, **data)
    if key == "receive":
        return services.purchase_order_receive(order_id=order.pk, lines=inputs, user=user, **data)
    if key == "sales-return":
        return services.sales_order_return(order_id=order.pk, lines=inputs, user=user, **data)
    return services.purchase_order_return(order_id=order.pk, lines=inputs, user=user, **data)


def _toast(kind: Kind, key: str, order: Any, pairs: list[tuple[Any, Decimal]], status: str) -> str:
    moved = _summary(pairs)
    if key == "ship":
        return f"{order.number} shipped: {moved}; now {_status_label(kind, status).lower()}."
    if key == "receive":
        return f"{order.number} received: {moved}; now {_status_label(kind, status).lower()}."
    return f"Return on {order.number} recorded: {moved}."


def _lines_action(kind: Kind, key: str) -> Callable[..., HttpResponse]:
    spec = LINE_ACTIONS[key]

    @console_view(read=Role.CLERK)
    def view(request: HttpRequest, **ids: Any) -> HttpResponse:
        order = _order(kind, ids[kind.id_name])
        allowed = selectors.order_actions(order)
        if spec["action"] not in allowed:
            messages.warning(
                request,
                f"{_name(kind, order)} is {_status_label(kind, order.status).lower()}: "
                f"{spec['title'].lower()} is not possible now.",
            )
            return redirect(_url(kind, request, order.pk))
        lines = list(order.lines.all())
        left = {line.id: spec["left"](line) for line in lines}
        posted = request.POST if request.method == "POST" else None
        quantities = line_quantities_form(action=key, lines=lines, outstanding=left)(posted)
        details = spec["form"](posted)
        problem = None
        if posted is not None and quantities.is_valid() and details.is_valid():
            given = quantities.given()
            inputs = [
                services.QuantityInput(line=line.id, quantity=quantity, disposition=disposition)
                for _, line, quantity, disposition in given
            ]
            try:
                result = _run_lines(kind, key, request, order, inputs, details.cleaned_data)
            except (InsufficientStock, InvalidTransition) as exc:
                problem = _problem(kind, order, exc)
                quantities.add_error(None, _explain(exc))
            except DomainError as exc:
                if isinstance(exc, PermissionDenied):
                    return error_page(request, 403, message=exc.message)
                _place_line_error(exc, quantities, [name for name, *_ in given])
            else:
                status = getattr(getattr(result, "order", None), "status", order.status)
                pairs = [(line, quantity) for _, line, quantity, _ in given]
                messages.success(request, _toast(kind, key, order, pairs, status))
                return redirect(_url(kind, request, order.pk))
        failed = posted is not None and bool(quantities.errors or details.errors)
        return render(
            request,
            "web/console/order_lines_form.html",
            {
                "kind": kind,
                "order": order,
                "name": _name(kind, order),
                "party": _party(kind, order),
                "quantities": quantities,
                "form": details,
                "spec": spec,
                "key": key,
                "problem": problem,
                "back": _url(kind, request, order.pk),
                "section": kind.section,
            },
            status=(409 if problem else 400) if failed else 200,
        )

    view.__name__ = f"{kind.key}_order_{key.replace('-', '_')}"
    return view


def _place_line_error(exc: DomainError, form: forms.Form, names: Sequence[str]) -> None:
    """``lines.<i>.quantity`` (or ``.disposition``) of the i-th line given, under its field."""
    placed = False
    for key, problems in (exc.fields or {}).items():
        match = LINE_KEY.match(key)
        target = None
        if match and int(match[1]) < len(names):
            field = names[int(match[1])]
            if match[2] == "disposition":
                field = field.replace("quantity_", "disposition_")
            target = field if field in form.fields else None
        for problem in problems:
            form.add_error(target, problem.get("message", "") if isinstance(problem, dict) else str(problem))
            placed = True
    if not placed:
        form.add_error(None, _explain(exc))
    form.mark_errors()  # type: ignore[attr-defined]


# --- The views, per kind -------------------------------------------------------------------

sales_order_list = _list(SALES)
sales_order_create = _editor(SALES, edit=False)
sales_order_lines_preview = _lines_preview(SALES)
sales_order_detail = _detail(SALES)
sales_order_edit = _editor(SALES, edit=True)
sales_order_delete = _delete(SALES)
sales_order_confirm = _step(SALES)
sales_order_ship = _lines_action(SALES, "ship")
sales_order_return = _lines_action(SALES, "sales-return")
sales_order_cancel = _cancel(SALES)

purchase_order_list = _list(PURCHASE)
purchase_order_create = _editor(PURCHASE, edit=False)
purchase_order_lines_preview = _lines_preview(PURCHASE)
purchase_order_detail = _detail(PURCHASE)
purchase_order_edit = _editor(PURCHASE, edit=True)
purchase_order_delete = _delete(PURCHASE)
purchase_order_place = _step(PURCHASE)
purchase_order_receive = _lines_action(PURCHASE, "receive")
purchase_order_return = _lines_action(PURCHASE, "purchase-return")
purchase_order_cancel = _cancel(PURCHASE)
