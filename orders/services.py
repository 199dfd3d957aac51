"""Writes for sales and purchase orders. Stock moves only through inventory.services.stock.

Every action locks the order row first (``FOR NO KEY UPDATE``), so shipments,
receipts and cancellations of one order run one after the other; then the
reservations, the products and the stock levels, in the order the stock
services use. Every transition is checked against orders.states and recorded in
the order's history.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.db.models import Model

from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.models import UNSET, Unset, assign
from inventory.models import Customer, Product, Supplier, SupplierProduct, Warehouse
from inventory.services import stock
from inventory.services.stock import LineQuantity, LineStock, check_quantity
from orders import errors, states
from orders.models import (
    DEFAULT_PREFIXES,
    DocumentSequence,
    OrderReturn,
    OrderReturnLine,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseStatus,
    Receipt,
    ReceiptLine,
    ReturnDisposition,
    SalesOrder,
    SalesOrderLine,
    SalesStatus,
    SequenceKind,
    Shipment,
    ShipmentLine,
    StatusChange,
    StockSource,
)
from orders.pricing import LineAmounts, Totals, line_amounts, order_totals
from tenants import events
from tenants.context import get_current_tenant
from tenants.entitlements import Limit, limit_check
from tenants.models import Membership, Role, User

OrderT = TypeVar("OrderT", SalesOrder, PurchaseOrder)
HUNDRED = Decimal("100")


@dataclass
class LineInput:
    product: Product
    warehouse: Warehouse
    quantity: Decimal
    unit_price: Decimal | None = None
    discount_percent: Decimal = Decimal("0")
    tax_rate: Decimal = Decimal("0")


@dataclass
class QuantityInput:
    line: uuid.UUID
    quantity: Decimal
    warehouse: Warehouse | None = None
    disposition: str | None = None  # customer returns: restock or write_off (required)


# --- Numbers -------------------------------------------------------------------------------


def _sequence(kind: str) -> DocumentSequence:
    """The tenant's sequence row for ``kind``, locked (created on first use)."""
    DocumentSequence.objects.bulk_create(
        [DocumentSequence(kind=kind, prefix=DEFAULT_PREFIXES[SequenceKind(kind)])], ignore_conflicts=True
    )
    return DocumentSequence.objects.select_for_update(no_key=True).get(kind=kind)


def format_number(prefix: str, value: int) -> str:
    """An order number: the prefix, a dash and six digits (``SO-000042``)."""
    return f"{prefix}-{value:06d}"


def next_number(sequence: DocumentSequence) -> str:
    """The number the next order of this sequence will get."""
    return format_number(sequence.prefix, sequence.next_value)


def allocate_number(kind: str) -> str:
    """Next number in the caller's transaction: gap-free, since a rollback returns it."""
    sequence = _sequence(kind)
    number = next_number(sequence)
    sequence.next_value += 1
    sequence.save(update_fields=["next_value"])
    return number


@transaction.atomic
def sequence_update(*, kind: str, prefix: str) -> DocumentSequence:
    sequence = _sequence(kind)
    before = events.snapshot(sequence)
    sequence.prefix = prefix
    sequence.save(update_fields=["prefix"])
    events.record_saved(sequence, before, {"kind": sequence.kind}, kind="document_sequence")
    return sequence


def sequences() -> dict[str, DocumentSequence]:
    """The tenant's sequence per kind (unsaved defaults for kinds not used yet)."""
    existing = {s.kind: s for s in DocumentSequence.objects.all()}
    return {
        kind: existing.get(kind) or DocumentSequence(kind=kind, prefix=DEFAULT_PREFIXES[kind]) for kind in SequenceKind
    }


# --- Shared ---------------------------------------------------------------------------------


def _lock(model: type[OrderT], order_id: uuid.UUID) -> OrderT:
    order = model.objects.select_for_update(no_key=True, of=("self",)).filter(pk=order_id).first()
    if order is None:
        raise NotFound("No such order in this workspace.")
    return order


# The domain event of each status an order reaches (tenants.events): a sale is shipped when
# partly or wholly fulfilled (and fulfilled when wholly), a purchase received either way.
_STATUS_EVENTS: dict[tuple[str, str], list[str]] = {
    ("sales_order", SalesStatus.DRAFT): ["sales_order.created"],
    ("sales_order", SalesStatus.CONFIRMED): ["sales_order.confirmed"],
    ("sales_order", SalesStatus.PARTIALLY_FULFILLED): ["sales_order.shipped"],
    ("sales_order", SalesStatus.FULFILLED): ["sales_order.shipped", "sales_order.fulfilled"],
    ("sales_order", SalesStatus.CANCELLED): ["sales_order.cancelled"],
    ("purchase_order", PurchaseStatus.DRAFT): ["purchase_order.created"],
    ("purchase_order", PurchaseStatus.ORDERED): ["purchase_order.ordered"],
    ("purchase_order", PurchaseStatus.PARTIALLY_RECEIVED): ["purchase_order.received"],
    ("purchase_order", PurchaseStatus.RECEIVED): ["purchase_order.received"],
    ("purchase_order", PurchaseStatus.CANCELLED): ["purchase_order.cancelled"],
}


def _order_event_data(order: SalesOrder | PurchaseOrder, from_status: str) -> dict[str, Any]:
    return {"number": order.number, "status": order.status, "from_status": from_status, "total": order.total}


def _history(order: SalesOrder | PurchaseOrder, from_status: str, user: User | None, note: str = "") -> None:
    kind = "sales_order" if isinstance(order, SalesOrder) else "purchase_order"
    link = {kind: order}
    StatusChange.objects.create(from_status=from_status, to_status=order.status, user=user, note=note[:500], **link)
    data = _order_event_data(order, from_status)
    events.record_many(
        [events.Event(name, kind, order.pk, data) for name in _STATUS_EVENTS.get((kind, order.status), [])]
    )


def _order_event(order: SalesOrder | PurchaseOrder, name: str, **extra: Any) -> None:
    """An event of an order whose status did not change (a second partial shipment, a return)."""
    kind = "sales_order" if isinstance(order, SalesOrder) else "purchase_order"
    events.record_many([events.Event(name, kind, order.pk, {**_order_event_data(order, order.status), **extra})])


def _check_line_input(index: int, line: LineInput) -> None:
    if not line.product.is_active:
        raise ValidationFailed.for_field(f"lines.{index}.product", errors.INACTIVE, f"{line.product.sku} is archived.")
    if not line.warehouse.is_active:
        raise ValidationFailed.for_field(
            f"lines.{index}.warehouse", errors.INACTIVE, f"Warehouse {line.warehouse.code} is inactive."
        )
    try:
        check_quantity(line.product, line.quantity)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, fields={f"lines.{index}.{k}": v for k, v in exc.fields.items()}) from exc


@dataclass(frozen=True)
class PricedLine:
    unit_price: Decimal  # the line's own, or the default price when it gave none
    amounts: LineAmounts


def _price_line(line: LineInput, default_price: Any) -> PricedLine:
    unit_price = default_price(line.product) if line.unit_price is None else line.unit_price
    amounts = line_amounts(
        quantity=line.quantity,
        unit_price=unit_price,
        discount_percent=line.discount_percent,
        tax_rate=line.tax_rate,
    )
    return PricedLine(unit_price, amounts)


def _price_lines(lines: Sequence[LineInput], default_price: Any) -> tuple[list[PricedLine], Totals]:
    priced = [_price_line(line, default_price) for line in lines]
    return priced, order_totals(p.amounts for p in priced)


def _write_lines(order: SalesOrder | PurchaseOrder, lines: Sequence[LineInput], default_price: Any) -> None:
    if not lines:
        raise ValidationFailed.for_field("lines", errors.REQUIRED, "An order needs at least one line.")
    line_model: type[SalesOrderLine | PurchaseOrderLine] = (
        SalesOrderLine if isinstance(order, SalesOrder) else PurchaseOrderLine
    )
    rows = []
    for index, line in enumerate(lines):
        _check_line_input(index, line)
        priced = _price_line(line, default_price)
        unit_price, amounts = priced.unit_price, priced.amounts
        rows.append(
            line_model(
                order=order,  # type: ignore[misc]
                position=index + 1,
                product=line.product,
                warehouse=line.warehouse,
                quantity=line.quantity,
                unit_price=unit_price,
                discount_percent=line.discount_percent,
                tax_rate=line.tax_rate,
                line_subtotal=amounts.subtotal,
                line_discount=amounts.discount,
                line_tax=amounts.tax,
                line_total=amounts.total,
            )
        )
    order.lines.all().delete()
    line_model.objects.bulk_create(rows)
    totals = order_totals(_amounts(rows))
    order.subtotal, order.discount_total, order.tax_total, order.total = (
        totals.subtotal,
        totals.discount,
        totals.tax,
        totals.total,
    )


def _amounts(rows: Sequence[SalesOrderLine | PurchaseOrderLine]) -> list[LineAmounts]:
    return [LineAmounts(r.line_subtotal, r.line_discount, r.line_tax, r.line_total) for r in rows]


def _check_external_reference(model: type[Model], reference: str, exclude: Any = None) -> None:
    if not reference:
        return
    existing = model._default_manager.filter(external_reference=reference).exclude(pk=exclude).first()
    if existing is not None:
        raise Conflict(
            "An order with this external reference exists already.",
            code=errors.DUPLICATE_EXTERNAL_REFERENCE,
            details={"order": str(existing.pk), "number": existing.number},  # type: ignore[attr-defined]
        )


def _save_new(order: SalesOrder | PurchaseOrder, lines: Sequence[LineInput], default_price: Any) -> None:
    try:
        with transaction.atomic():
            if isinstance(order, SalesOrder):
                limit_check(tenant=get_current_tenant(), limit=Limit.SALES_ORDERS_PER_MONTH)
            order.save()
            _write_lines(order, lines, default_price)
            order.save(update_fields=["subtotal", "discount_total", "tax_total", "total", "updated_at"])
            _history(order, "", order.created_by)
    except IntegrityError as exc:  # a concurrent request with the same external reference won
        _check_external_reference(type(order), order.external_reference)
        raise Conflict("The order conflicts with existing data.") from exc


def _quantities_by_line(
    order_lines: dict[uuid.UUID, Any], inputs: Sequence[QuantityInput]
) -> list[tuple[Any, QuantityInput]]:
    if not inputs:
        raise ValidationFailed.for_field("lines", errors.REQUIRED, "Give at least one line and quantity.")
    seen: set[uuid.UUID] = set()
    pairs = []
    for index, item in enumerate(inputs):
        line = order_lines.get(item.line)
        if line is None:
            raise ValidationFailed.for_field(
                f"lines.{index}.line", errors.DOES_NOT_EXIST, "No such line on this order."
            )
        if item.line in seen:
            raise ValidationFailed.for_field(f"lines.{index}.line", errors.DUPLICATE, "Each line at most once.")
        seen.add(item.line)
        if item.quantity <= 0:
            raise ValidationFailed.for_field(f"lines.{index}.quantity", errors.MIN_VALUE, "Must be greater than zero.")
        try:
            check_quantity(line.product, item.quantity)
        except ValidationFailed as exc:
            raise ValidationFailed(exc.message, fields={f"lines.{index}.quantity": exc.fields["quantity"]}) from exc
        pairs.append((line, item))
    return pairs


@transaction.atomic
def _update_draft(
    model: type[OrderT],
    *,
    order_id: uuid.UUID,
    party: tuple[str, Customer | Supplier | Unset],
    lines: Sequence[LineInput] | Unset,
    price_for: Any,
    notes: str | Unset,
    expected_date: date | Unset | None,
    external_reference: str | Unset,
    over_receipt_tolerance_percent: Decimal | Unset = UNSET,
) -> OrderT:
    """Edits a draft: the fields given, and the lines when given (priced for the order
    as edited)."""
    order = _lock(model, order_id)
    states.check_transition(_machine(order), "edit", order.status)
    before = events.snapshot(order)
    party_name, party_value = party
    if not isinstance(party_value, Unset) and not party_value.is_active:
        raise ValidationFailed.for_field(party_name, errors.INACTIVE, f"This {party_name} is deactivated.")
    if not isinstance(external_reference, Unset):
        _check_external_reference(model, external_reference, exclude=order.pk)
    assign(
        order,
        **{party_name: party_value},
        notes=notes,
        expected_date=expected_date,
        external_reference=external_reference,
        over_receipt_tolerance_percent=over_receipt_tolerance_percent,
    )
    if not isinstance(lines, Unset):
        _write_lines(order, lines, price_for(order))
    order.save()
    changed = events.changes_of(order, before, [name for name in before if name != "updated_at"])
    if changed or not isinstance(lines, Unset):
        kind = "sales_order" if isinstance(order, SalesOrder) else "purchase_order"
        data = {**_order_event_data(order, order.status), "lines_replaced": not isinstance(lines, Unset)}
        events.record(f"{kind}.updated", order, data, changes=changed)
    return order


@transaction.atomic
def _delete_draft(model: type[OrderT], order_id: uuid.UUID) -> None:
    order = _lock(model, order_id)
    states.check_transition(_machine(order), "delete", order.status)
    kind = "sales_order" if isinstance(order, SalesOrder) else "purchase_order"
    events.record_deleted(order, _order_event_data(order, order.status), kind=kind)
    order.delete()


# --- Sales orders -----------------------------------------------------------------------------


def _sales_price(product: Product) -> Decimal:
    return product.selling_price


@transaction.atomic
def sales_order_create(
    *,
    customer: Customer,
    lines: Sequence[LineInput],
    user: User | None,
    notes: str = "",
    expected_date: date | None = None,
    external_reference: str = "",
) -> SalesOrder:
    if not customer.is_active:
        raise ValidationFailed.for_field("customer", errors.INACTIVE, "This customer is deactivated.")
    _check_external_reference(SalesOrder, external_reference)
    order = SalesOrder(
        customer=customer,
        notes=notes,
        expected_date=expected_date,
        external_reference=external_reference,
        currency=get_current_tenant().currency,
        created_by=user,
    )
    _save_new(order, lines, _sales_price)
    return order


def sales_order_update(
    *,
    order_id: uuid.UUID,
    customer: Customer | Unset = UNSET,
    lines: Sequence[LineInput] | Unset = UNSET,
    notes: str | Unset = UNSET,
    expected_date: date | Unset | None = UNSET,
    external_reference: str | Unset = UNSET,
) -> SalesOrder:
    return _update_draft(
        SalesOrder,
        order_id=order_id,
        party=("customer", customer),
        lines=lines,
        price_for=lambda _: _sales_price,
        notes=notes,
        expected_date=expected_date,
        external_reference=external_reference,
    )


def sales_order_delete(*, order_id: uuid.UUID) -> None:
    _delete_draft(SalesOrder, order_id)


def sales_order_price(*, lines: Sequence[LineInput]) -> tuple[list[PricedLine], Totals]:
    """The unit prices and amounts a sales order would get for ``lines``, with the
    defaults and the pricing of ``sales_order_create``/``_update``; writes nothing (the
    console's live totals). Raises ``AmountTooLarge`` as they do."""
    return _price_lines(lines, _sales_price)


def _machine(order: SalesOrder | PurchaseOrder) -> states.Machine:
    return states.SALES if isinstance(order, SalesOrder) else states.PURCHASE


def _facts(order: SalesOrder | PurchaseOrder) -> Any:
    """The facts about ``order`` that the state machine may ask for (one query, when asked)."""
    if isinstance(order, SalesOrder):
        return lambda: {states.SHIPPED} if order.lines.filter(shipped_quantity__gt=0).exists() else set()
    return lambda: {states.RECEIVED} if order.lines.filter(received_quantity__gt=0).exists() else set()


def _check(order: SalesOrder | PurchaseOrder, action: str, target: str | None = None) -> None:
    states.check_transition(_machine(order), action, order.status, target, facts=_facts(order))


@transaction.atomic
def sales_order_confirm(*, order_id: uuid.UUID, user: User | None) -> SalesOrder:
    """Reserves every line or none: a shortage raises InsufficientStock naming each short line."""
    order = _lock(SalesOrder, order_id)
    _check(order, "confirm")
    stock.stock_reserve(
        source=StockSource.SALES_ORDER_LINE,
        lines=[
            LineStock(line.id, line.product_id, line.warehouse_id, line.quantity, field=f"lines.{index}")
            for index, line in enumerate(order.lines.order_by("position"))
        ],
        user=user,
    )
    previous = order.status
    order.status = SalesStatus.CONFIRMED
    order.number = allocate_number(SequenceKind.SALES)
    order.save(update_fields=["status", "number", "updated_at"])
    _history(order, previous, user)
    return order


def _require_cancel_role(actor: Membership | None, status: str) -> None:
    if status != SalesStatus.DRAFT and actor is not None and not Role(actor.role).at_least(Role.MANAGER):
        raise PermissionDenied("Only managers and up cancel a confirmed order.", code=errors.ROLE_REQUIRED)


@transaction.atomic
def sales_order_cancel(
    *, order_id: uuid.UUID, actor: Membership | None, user: User | None, reason: str = ""
) -> SalesOrder:
    """Cancels and releases what is still reserved; shipped goods stay shipped."""
    order = _lock(SalesOrder, order_id)
    _check(order, "cancel")
    _require_cancel_role(actor, order.status)
    if order.status != SalesStatus.DRAFT:
        stock.stock_release(
            source=StockSource.SALES_ORDER_LINE,
            reference_ids=list(order.lines.values_list("id", flat=True)),
            user=user,
            note=f"Cancelled {order.number or ''}".strip(),
        )
    previous = order.status
    order.status = SalesStatus.CANCELLED
    order.save(update_fields=["status", "updated_at"])
    _history(order, previous, user, reason)
    return order


@transaction.atomic
def sales_order_ship(
    *,
    order_id: uuid.UUID,
    lines: Sequence[QuantityInput],
    user: User | None,
    carrier: str = "",
    tracking_number: str = "",
    note: str = "",
) -> Shipment:
    order = _lock(SalesOrder, order_id)
    _check(order, "ship")
    order_lines = {line.id: line for line in order.lines.select_related("product", "warehouse")}
    pairs = _quantities_by_line(order_lines, lines)
    items = []
    for index, (line, item) in enumerate(pairs):
        outstanding = line.quantity - line.shipped_quantity
        if item.quantity > outstanding:
            raise ValidationFailed.for_field(
                f"lines.{index}.quantity",
                errors.MORE_THAN_OUTSTANDING,
                f"Only {outstanding} left to ship on this line.",
            )
        items.append(LineQuantity(line.id, item.quantity, field=f"lines.{index}"))
    stock.stock_issue_reserved(
        source=StockSource.SALES_ORDER_LINE, lines=items, user=user, note=note or f"Shipment of {order.number}"
    )
    shipment = Shipment.objects.create(
        order=order, carrier=carrier, tracking_number=tracking_number, note=note, created_by=user
    )
    ShipmentLine.objects.bulk_create(
        [ShipmentLine(shipment=shipment, order_line=line, quantity=item.quantity) for line, item in pairs]
    )
    for line, item in pairs:
        line.shipped_quantity += item.quantity
    SalesOrderLine.objects.bulk_update([line for line, _ in pairs], ["shipped_quantity"])
    done = all(line.shipped_quantity >= line.quantity for line in order_lines.values())
    target = SalesStatus.FULFILLED if done else SalesStatus.PARTIALLY_FULFILLED
    _check(order, "ship", target)
    previous = order.status
    order.status = target
    order.save(update_fields=["status", "updated_at"])
    if previous != target:
        _history(order, previous, user)
    else:
        _order_event(order, "sales_order.shipped", shipment=shipment.pk)
    return shipment


@transaction.atomic
def sales_order_return(
    *, order_id: uuid.UUID, lines: Sequence[QuantityInput], user: User | None, reason: str = ""
) -> OrderReturn:
    """A customer return: restocked lines go back into stock (a receipt at average cost);
    written-off lines are recorded with the reason and move no stock. Each line says
    which (``disposition``): nothing goes back into stock unless asked."""
    order = _lock(SalesOrder, order_id)
    _check(order, "return")
    order_lines = {line.id: line for line in order.lines.select_related("product", "warehouse")}
    pairs = _quantities_by_line(order_lines, lines)
    returned = OrderReturn.objects.create(sales_order=order, reason=reason, created_by=user)
    rows: list[OrderReturnLine] = []
    restocked: list[LineStock] = []
    for index, (line, item) in enumerate(pairs):
        if item.disposition not in ReturnDisposition.values:
            raise ValidationFailed.for_field(
                f"lines.{index}.disposition",
                errors.REQUIRED,
                "Say what happens to the returned goods: restock or write_off.",
            )
        returnable = line.shipped_quantity - line.returned_quantity
        if item.quantity > returnable:
            raise ValidationFailed.for_field(
                f"lines.{index}.quantity",
                errors.MORE_THAN_SHIPPED,
                f"Only {returnable} shipped and not yet returned.",
            )
        warehouse = item.warehouse or line.warehouse
        row = OrderReturnLine(
            order_return=returned,
            sales_line=line,
            warehouse=warehouse,
            quantity=item.quantity,
            disposition=item.disposition,
        )
        rows.append(row)
        if item.disposition == ReturnDisposition.RESTOCK:  # at the average cost (no unit_cost)
            restocked.append(LineStock(row.id, line.product_id, warehouse.id, item.quantity, field=f"lines.{index}"))
        line.returned_quantity += item.quantity
    OrderReturnLine.objects.bulk_create(rows)
    stock.stock_receive_for_lines(
        source=StockSource.CUSTOMER_RETURN, lines=restocked, user=user, note=reason, reason="customer_return"
    )
    SalesOrderLine.objects.bulk_update([line for line, _ in pairs], ["returned_quantity"])
    _order_event(order, "sales_order.returned", order_return=returned.pk)
    return returned


# --- Purchase orders ---------------------------------------------------------------------------


def _purchase_price(supplier: Supplier) -> Any:
    prices = dict(SupplierProduct.objects.filter(supplier=supplier).values_list("product_id", "price"))

    def price(product: Product) -> Decimal:
        return prices.get(product.id, product.cost_price)

    return price


@transaction.atomic
def purchase_order_create(
    *,
    supplier: Supplier,
    lines: Sequence[LineInput],
    user: User | None,
    notes: str = "",
    expected_date: date | None = None,
    external_reference: str = "",
    over_receipt_tolerance_percent: Decimal = Decimal("0"),
) -> PurchaseOrder:
    if not supplier.is_active:
        raise ValidationFailed.for_field("supplier", errors.INACTIVE, "This supplier is deactivated.")
    _check_external_reference(PurchaseOrder, external_reference)
    order = PurchaseOrder(
        supplier=supplier,
        notes=notes,
        expected_date=expected_date,
        external_reference=external_reference,
        over_receipt_tolerance_percent=over_receipt_tolerance_percent,
        currency=get_current_tenant().currency,
        created_by=user,
    )
    _save_new(order, lines, _purchase_price(supplier))
    return order


def purchase_order_update(
    *,
    order_id: uuid.UUID,
    supplier: Supplier | Unset = UNSET,
    lines: Sequence[LineInput] | Unset = UNSET,
    notes: str | Unset = UNSET,
    expected_date: date | Unset | None = UNSET,
    external_reference: str | Unset = UNSET,
    over_receipt_tolerance_percent: Decimal | Unset = UNSET,
) -> PurchaseOrder:
    return _update_draft(
        PurchaseOrder,
        order_id=order_id,
        party=("supplier", supplier),
        lines=lines,
        price_for=lambda order: _purchase_price(order.supplier),
        notes=notes,
        expected_date=expected_date,
        external_reference=external_reference,
        over_receipt_tolerance_percent=over_receipt_tolerance_percent,
    )


def purchase_order_delete(*, order_id: uuid.UUID) -> None:
    _delete_draft(PurchaseOrder, order_id)


def purchase_order_price(*, lines: Sequence[LineInput], supplier: Supplier | None) -> tuple[list[PricedLine], Totals]:
    """As ``sales_order_price`` for a purchase order from ``supplier`` (its prices are
    the defaults; without a supplier, the products' cost prices)."""
    default_price = _purchase_price(supplier) if supplier is not None else (lambda product: product.cost_price)
    return _price_lines(lines, default_price)


@transaction.atomic
def purchase_order_place(*, order_id: uuid.UUID, user: User | None) -> PurchaseOrder:
    """draft -> ordered: the order gets its number."""
    order = _lock(PurchaseOrder, order_id)
    _check(order, "order")
    previous = order.status
    order.status = PurchaseStatus.ORDERED
    order.number = allocate_number(SequenceKind.PURCHASE)
    order.save(update_fields=["status", "number", "updated_at"])
    _history(order, previous, user)
    return order


@transaction.atomic
def purchase_order_cancel(
    *, order_id: uuid.UUID, actor: Membership | None, user: User | None, reason: str = ""
) -> PurchaseOrder:
    order = _lock(PurchaseOrder, order_id)
    _check(order, "cancel")
    if order.status != PurchaseStatus.DRAFT and actor is not None and not Role(actor.role).at_least(Role.MANAGER):
        raise PermissionDenied("Only managers and up cancel a placed order.", code=errors.ROLE_REQUIRED)
    previous = order.status
    order.status = PurchaseStatus.CANCELLED
    order.save(update_fields=["status", "updated_at"])
    _history(order, previous, user, reason)
    return order


def _net_unit_cost(line: PurchaseOrderLine) -> Decimal:
    return (line.unit_price * (HUNDRED - line.discount_percent) / HUNDRED).quantize(Decimal("0.0001"))


@transaction.atomic
def purchase_order_receive(
    *, order_id: uuid.UUID, lines: Sequence[QuantityInput], user: User | None, note: str = ""
) -> Receipt:
    """Receives quantities per line (into the line's warehouse unless another is given),
    at the line's net unit price; refuses more than ordered plus the tolerance."""
    order = _lock(PurchaseOrder, order_id)
    _check(order, "receive")
    order_lines = {line.id: line for line in order.lines.select_related("product", "warehouse")}
    pairs = _quantities_by_line(order_lines, lines)
    receipt = Receipt.objects.create(order=order, note=note, created_by=user)
    rows: list[ReceiptLine] = []
    received: list[LineStock] = []
    for index, (line, item) in enumerate(pairs):
        limit = line.quantity * (HUNDRED + order.over_receipt_tolerance_percent) / HUNDRED
        if line.received_quantity + item.quantity > limit:
            raise ValidationFailed.for_field(
                f"lines.{index}.quantity",
                errors.OVER_RECEIPT,
                f"Receiving {item.quantity} would exceed the ordered {line.quantity}"
                + (f" plus {order.over_receipt_tolerance_percent}%" if order.over_receipt_tolerance_percent else "")
                + f"; {line.received_quantity} received so far.",
            )
        warehouse = item.warehouse or line.warehouse
        unit_cost = _net_unit_cost(line)
        rows.append(
            ReceiptLine(
                receipt=receipt, order_line=line, warehouse=warehouse, quantity=item.quantity, unit_cost=unit_cost
            )
        )
        received.append(
            LineStock(
                line.id, line.product_id, warehouse.id, item.quantity, unit_cost=unit_cost, field=f"lines.{index}"
            )
        )
        line.received_quantity += item.quantity
    stock.stock_receive_for_lines(
        source=StockSource.PURCHASE_ORDER_LINE, lines=received, user=user, note=note or f"Receipt for {order.number}"
    )
    ReceiptLine.objects.bulk_create(rows)
    PurchaseOrderLine.objects.bulk_update([line for line, _ in pairs], ["received_quantity"])
    done = all(line.received_quantity >= line.quantity for line in order_lines.values())
    target = PurchaseStatus.RECEIVED if done else PurchaseStatus.PARTIALLY_RECEIVED
    previous = order.status
    order.status = target
    order.save(update_fields=["status", "updated_at"])
    if previous != target:
        _history(order, previous, user)
    return receipt


@transaction.atomic
def purchase_order_return(
    *, order_id: uuid.UUID, lines: Sequence[QuantityInput], user: User | None, reason: str = ""
) -> OrderReturn:
    """Returns received goods to the supplier: an issue per line, refused when the stock is not there."""
    order = _lock(PurchaseOrder, order_id)
    _check(order, "return")
    order_lines = {line.id: line for line in order.lines.select_related("product", "warehouse")}
    pairs = _quantities_by_line(order_lines, lines)
    returned = OrderReturn.objects.create(purchase_order=order, reason=reason, created_by=user)
    rows: list[OrderReturnLine] = []
    issued: list[LineStock] = []
    for index, (line, item) in enumerate(pairs):
        returnable = line.received_quantity - line.returned_quantity
        if item.quantity > returnable:
            raise ValidationFailed.for_field(
                f"lines.{index}.quantity",
                errors.MORE_THAN_RECEIVED,
                f"Only {returnable} received and not yet returned.",
            )
        warehouse = item.warehouse or line.warehouse
        row = OrderReturnLine(order_return=returned, purchase_line=line, warehouse=warehouse, quantity=item.quantity)
        rows.append(row)
        issued.append(
            LineStock(
                row.id,
                line.product_id,
                warehouse.id,
                item.quantity,
                unit_cost=_net_unit_cost(line),
                field=f"lines.{index}",
            )
        )
        line.returned_quantity += item.quantity
    stock.stock_issue_for_lines(
        source=StockSource.SUPPLIER_RETURN, lines=issued, user=user, note=reason, reason="supplier_return"
    )
    OrderReturnLine.objects.bulk_create(rows)
    PurchaseOrderLine.objects.bulk_update([line for line, _ in pairs], ["returned_quantity"])
    return returned
