"""Stock writes. The public services take ids, resolve them in the current tenant and
take their own locks; every change of quantity goes through ``apply_changes``:

1. products whose average cost changes are locked (``SELECT ... FOR UPDATE``,
   ordered by id), then the stock levels touched, ordered by (product, warehouse):
   one global order, so concurrent calls cannot deadlock;
2. the changes are applied in memory, in the order given, and every rule is
   checked (active product and warehouse, available stock, reservations, whole units);
3. the ledger rows are inserted and the levels updated in the same transaction.

A shortage raises ``InsufficientStock`` naming every short line, before anything
is written. The CHECK constraints on ``StockLevel`` are the last word.

Two families of services:

- the stock operations of the API (``stock_receive``, ``stock_issue``, ``stock_adjust``,
  ``stock_transfer``), by product and warehouse ids;
- the stock of document lines for other apps (orders): ``stock_receive_for_lines``,
  ``stock_issue_for_lines``, ``stock_reserve``, ``stock_release``, ``stock_issue_reserved``.
  The caller names its source (``reference_type``, e.g. ``sales_order_line``) and its own
  id per line (``reference_id``); inventory stores both in the ledger and the
  reservations and knows nothing else about them.

``apply_changes`` itself is inventory's engine (the stock services and the CSV import),
not an API for other apps.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import BooleanField, Q, Sum
from django.db.models.expressions import RawSQL
from django.utils import timezone

from core import metrics
from core.errors import Conflict, ValidationFailed
from core.sql import PreparedSelect, insert_objects_sql, mark_inserted
from inventory import errors
from inventory.errors import InsufficientStock, Shortage
from inventory.models import (
    MovementKind,
    Product,
    ReferenceType,
    Reservation,
    StockLevel,
    StockMovement,
    Warehouse,
)
from tenants import events
from tenants.context import get_current_tenant
from tenants.models import User

ZERO = Decimal("0")
QUANTUM = Decimal("0.0001")
COST_QUANTUM = Decimal("0.0001")
# A source (``reference_type``) is the caller's name for what caused a movement.
SOURCE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@dataclass
class Change:
    """One signed change to one level: ``on_hand`` for receipt, issue, adjustment and
    transfers; ``reserved`` for reservation and release. ``fields`` name the input fields
    of the product and the warehouse in error messages."""

    product: Product
    warehouse: Warehouse
    kind: MovementKind
    quantity: Decimal
    unit_cost: Decimal | None = None
    reason: str = ""
    reference_type: str = ReferenceType.MANUAL
    reference_id: uuid.UUID | None = None
    note: str = ""
    fields: tuple[str, str] = ("product", "warehouse")

    @property
    def key(self) -> tuple[uuid.UUID, uuid.UUID]:
        return (self.product.id, self.warehouse.id)

    @property
    def changes_reserved(self) -> bool:
        return self.kind in {MovementKind.RESERVATION, MovementKind.RELEASE}


@dataclass
class _Level:
    row: StockLevel
    on_hand: Decimal
    reserved: Decimal
    touched: bool = False
    movements: list[StockMovement] = field(default_factory=list)


def check_quantity(product: Product, quantity: Decimal, field_name: str = "quantity") -> Decimal:
    """Quantities have at most 4 decimals; whole-number units take whole numbers."""
    if quantity != quantity.quantize(QUANTUM):
        raise ValidationFailed.for_field(field_name, errors.MAX_DECIMAL_PLACES, "Use at most 4 decimal places.")
    if product.whole_units_only and quantity != quantity.to_integral_value():
        raise ValidationFailed.for_field(
            field_name,
            errors.FRACTIONAL_QUANTITY,
            f"{product.sku} is counted in {product.get_unit_display().lower()}: use a whole number.",
        )
    return quantity


def _check_active(changes: Sequence[Change]) -> None:
    """Archived products and inactive warehouses take no stock in: a change that adds to
    ``on_hand`` or ``reserved`` (receipt, transfer in, upward adjustment, reservation) is
    refused. Moving stock out (issue, transfer out, release, adjusting down to zero) is
    allowed, so what is left can be cleared."""
    fields: dict[str, list[dict[str, str]]] = {}
    for change in changes:
        if change.quantity <= 0:
            continue
        product_field, warehouse_field = change.fields
        if not change.product.is_active:
            message = f"{change.product.sku} is archived: it takes no stock in."
            fields.setdefault(product_field, [{"code": errors.INACTIVE, "message": message}])
        if not change.warehouse.is_active:
            message = f"Warehouse {change.warehouse.code} is inactive: it takes no stock in."
            fields.setdefault(warehouse_field, [{"code": errors.INACTIVE, "message": message}])
    if fields:
        raise ValidationFailed(next(iter(fields.values()))[0]["message"], fields=fields)


def _pairs_condition(keys: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> Any:
    """``(product_id, warehouse_id) IN (VALUES ...)``: one hash lookup per row, where an OR
    of pairs is quadratic for import-sized batches."""
    if len(keys) == 1:
        ((product_id, warehouse_id),) = keys
        return Q(product_id=product_id, warehouse_id=warehouse_id)
    table = StockLevel._meta.db_table
    values = ", ".join(["(%s::uuid, %s::uuid)"] * len(keys))
    # Only placeholders and the model's own table name are interpolated; values are parameters.
    return RawSQL(  # noqa: S611
        f'("{table}"."product_id", "{table}"."warehouse_id") IN (VALUES {values})',
        [str(part) for key in keys for part in key],
        output_field=BooleanField(),
    )


def _select_levels(keys: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> list[StockLevel]:
    # FOR NO KEY UPDATE: foreign-key checks (FOR KEY SHARE) of other writers never wait on it.
    return list(
        StockLevel.objects.select_for_update(no_key=True)
        .filter(_pairs_condition(keys))
        .order_by("product_id", "warehouse_id")
    )


def _update_levels_sql(rows: Sequence[StockLevel]) -> tuple[str, list[Any]]:
    """One UPDATE of on_hand and reserved of locked levels."""
    table = StockLevel._meta.db_table
    values = ", ".join(["(%s::uuid, %s::numeric, %s::numeric, %s::timestamptz)"] * len(rows))
    params: list[Any] = []
    for row in rows:
        params += [str(row.pk), row.on_hand, row.reserved, row.updated_at]
    # only placeholders are interpolated; values are parameters
    sql = (
        f'UPDATE "{table}" AS level SET on_hand = v.on_hand, reserved = v.reserved, '  # noqa: S608
        f"updated_at = v.updated_at FROM (VALUES {values}) AS v(id, on_hand, reserved, updated_at) "
        "WHERE level.id = v.id"
    )
    return sql, params


def _write(movements: list[StockMovement], rows: Sequence[StockLevel]) -> None:
    """The ledger rows and the levels they change in one statement (the UPDATE in a WITH
    clause of the INSERT): one round trip on every stock operation."""
    if not movements:
        return
    update_sql, update_params = _update_levels_sql(rows)
    insert_sql, insert_params = insert_objects_sql(StockMovement, movements, tenant_id=get_current_tenant().id)
    # One stock.changed event per movement, in the same statement (tenants.events).
    events_sql, events_params = events.record_sql(
        [
            events.Event(
                "stock.changed",
                "product",
                movement.product_id,
                {
                    "movement": movement.pk,
                    "kind": movement.kind,
                    "warehouse": movement.warehouse_id,
                    "quantity": movement.quantity,
                    "on_hand_after": movement.on_hand_after,
                    "reserved_after": movement.reserved_after,
                    "reference_type": movement.reference_type,
                    "reference_id": movement.reference_id,
                },
            )
            for movement in movements
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH levels AS ({update_sql}), events AS ({events_sql}) {insert_sql}",
            update_params + events_params + insert_params,
        )
    mark_inserted(movements)
    metrics.stock_movements_written(movement.kind for movement in movements)  # counted after the commit


def _lock_levels(keys: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> dict[tuple[uuid.UUID, uuid.UUID], StockLevel]:
    """Locks the levels of ``keys`` in (product, warehouse) order, creating missing ones.

    Existing levels are locked first, in order; only then are missing levels inserted
    (sorted, ON CONFLICT DO NOTHING) and locked. Inserting over an existing row that
    another transaction is updating would wait on that transaction outside the
    lock order, which is how deadlocks start."""
    ordered = sorted(set(keys))
    levels = {(row.product_id, row.warehouse_id): row for row in _select_levels(ordered)}
    missing = [key for key in ordered if key not in levels]
    if missing:
        StockLevel.objects.bulk_create(
            [StockLevel(product_id=p, warehouse_id=w) for p, w in missing], ignore_conflicts=True
        )
        levels.update({(row.product_id, row.warehouse_id): row for row in _select_levels(missing)})
    return levels


def _lock_products(product_ids: set[uuid.UUID]) -> dict[uuid.UUID, Product]:
    rows = Product.objects.select_for_update(no_key=True).filter(pk__in=product_ids).order_by("pk")
    return {row.pk: row for row in rows}


def _new_average_costs(changes: Sequence[Change], products: dict[uuid.UUID, Product]) -> dict[uuid.UUID, Decimal]:
    """Weighted average cost per product after its receipts (all warehouses)."""
    totals = dict(
        StockLevel.objects.filter(product_id__in=products)
        .values("product_id")
        .annotate(total=Sum("on_hand"))
        .values_list("product_id", "total")
    )
    averages: dict[uuid.UUID, Decimal] = {}
    quantities: dict[uuid.UUID, Decimal] = {}
    for change in changes:
        if change.kind != MovementKind.RECEIPT or change.unit_cost is None:
            continue
        pid = change.product.id
        quantity = quantities.get(pid, totals.get(pid) or ZERO)
        average = averages.get(pid, products[pid].average_cost)
        new_quantity = quantity + change.quantity
        if new_quantity > 0:
            average = (quantity * average + change.quantity * change.unit_cost) / new_quantity
        averages[pid] = average.quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)
        quantities[pid] = new_quantity
    return averages


def apply_changes(
    changes: Sequence[Change],
    *,
    user: User | None = None,
    locked: dict[tuple[uuid.UUID, uuid.UUID], StockLevel] | None = None,
) -> list[StockMovement]:
    """The one way stock quantities change (inventory's engine, not a public service).
    Atomic; raises before writing anything.

    ``locked``: levels this module (or the import) already locked with ``_lock_levels``
    or ``_resolve`` in this transaction."""
    if not changes:
        return []
    for change in changes:
        check_quantity(change.product, abs(change.quantity))
        if change.quantity == 0:
            raise ValidationFailed.for_field("quantity", errors.ZERO_QUANTITY, "The quantity must not be zero.")
    _check_active(changes)
    with _atomic():
        costed = {c.product.id for c in changes if c.kind == MovementKind.RECEIPT and c.unit_cost is not None}
        products = _lock_products(costed) if costed else {}
        keys = [c.key for c in changes]
        rows = locked if locked is not None and all(key in locked for key in keys) else _lock_levels(keys)
        levels = {key: _Level(row, row.on_hand, row.reserved) for key, row in rows.items()}
        shortages: list[Shortage] = []
        movements: list[StockMovement] = []
        now = timezone.now()
        for change in changes:
            level = levels[change.key]
            if change.changes_reserved:
                new_reserved = level.reserved + change.quantity
                if new_reserved > level.on_hand:
                    shortages.append(Shortage.of(change, level.on_hand - level.reserved))
                    continue
                if new_reserved < 0:
                    raise Conflict("Cannot release more than is reserved.", code=errors.RESERVATION_MISMATCH)
                level.reserved = new_reserved
            else:
                new_on_hand = level.on_hand + change.quantity
                if new_on_hand < level.reserved:
                    shortages.append(Shortage.of(change, level.on_hand - level.reserved))
                    continue
                level.on_hand = new_on_hand
            level.touched = True
            movements.append(
                StockMovement(
                    kind=change.kind,
                    product=change.product,
                    warehouse=change.warehouse,
                    quantity=change.quantity,
                    on_hand_after=level.on_hand,
                    reserved_after=level.reserved,
                    unit_cost=change.unit_cost,
                    reason=change.reason,
                    note=change.note,
                    reference_type=change.reference_type,
                    reference_id=change.reference_id,
                    user=user,
                    created_at=now,
                )
            )
        if shortages:
            raise InsufficientStock(shortages)
        if products:
            for product_id, average in _new_average_costs(changes, products).items():
                product = products[product_id]
                if product.average_cost != average:
                    product.average_cost = average
                    product.save(update_fields=["average_cost", "updated_at"])
        touched = [level for level in levels.values() if level.touched]
        for level in touched:
            level.row.on_hand, level.row.reserved, level.row.updated_at = level.on_hand, level.reserved, now
        _write(movements, [level.row for level in touched])
        return movements


# --- Resolving ids ------------------------------------------------------------------------


@dataclass
class _Targets:
    """What one stock operation acts on: a product, its warehouses by input field, and
    the levels already locked (those that exist)."""

    product: Product
    warehouses: dict[str, Warehouse]
    locked: dict[tuple[uuid.UUID, uuid.UUID], StockLevel]


_MISSING = "No such object in this workspace."


class _LevelQueries(dict[str, PreparedSelect]):
    """One level with its product and warehouse, by (product, warehouse); built on first use."""

    def __missing__(self, key: str) -> PreparedSelect:
        self[key] = PreparedSelect(
            StockLevel,
            related=("product", "warehouse"),
            where=("product", "warehouse"),
            tenant_scoped=True,
            lock="NO KEY UPDATE" if key == "lock" else "",
        )
        return self[key]


_level_queries = _LevelQueries()


def _does_not_exist(names: Sequence[str]) -> ValidationFailed:
    return ValidationFailed(
        "Invalid input.", fields={name: [{"code": errors.DOES_NOT_EXIST, "message": _MISSING}] for name in names}
    )


def _resolve(*, product_id: uuid.UUID, warehouse_ids: Mapping[str, uuid.UUID], lock: bool) -> _Targets:
    """Looks up a product and warehouses of the current tenant, by the input fields that
    named them. With ``lock``, their existing levels are locked (``FOR NO KEY UPDATE``, in
    (product, warehouse) order, as ``_lock_levels`` does) by the same query, so the usual
    case (the levels exist) costs one query. Unknown ids, or another tenant's, raise a 400
    naming each field with ``does_not_exist``.

    ``lock`` must be off when the operation locks products first (receipts with a cost):
    the global lock order is products, then levels."""
    levels: list[StockLevel]
    if len(set(warehouse_ids.values())) == 1:  # the common case, prepared (core/sql.py)
        query = _level_queries["lock" if lock else "read"]
        level = query.first(product_id, next(iter(warehouse_ids.values())), tenant_id=get_current_tenant().id)
        levels = [level] if level is not None else []
    else:
        rows = StockLevel.objects.select_related("product", "warehouse").filter(
            product_id=product_id, warehouse_id__in=set(warehouse_ids.values())
        )
        if lock:
            rows = rows.select_for_update(no_key=True, of=("self",))
        levels = list(rows.order_by("product_id", "warehouse_id"))
    by_id = {level.warehouse_id: level.warehouse for level in levels}
    product = levels[0].product if levels else Product.objects.filter(pk=product_id).first()
    wanted = set(warehouse_ids.values()) - set(by_id)
    if wanted:
        by_id.update({w.pk: w for w in Warehouse.objects.filter(pk__in=wanted)})
    missing = [name for name, pk in warehouse_ids.items() if pk not in by_id]
    if product is None:
        missing.insert(0, "product")
    if missing:
        raise _does_not_exist(missing)
    assert product is not None
    return _Targets(
        product=product,
        warehouses={name: by_id[pk] for name, pk in warehouse_ids.items()},
        locked={(level.product_id, level.warehouse_id): level for level in levels} if lock else {},
    )


# --- The operations of the API --------------------------------------------------------------


def stock_receive(
    *,
    product_id: uuid.UUID,
    warehouse_id: uuid.UUID,
    quantity: Decimal,
    unit_cost: Decimal | None = None,
    note: str = "",
    user: User | None = None,
) -> list[StockMovement]:
    """A receipt at ``unit_cost`` (default: the product's cost price), updating the
    product's average cost."""
    _positive(quantity)
    with _atomic():
        # Not locked here: a receipt with a cost locks the product first (apply_changes).
        targets = _resolve(product_id=product_id, warehouse_ids={"warehouse": warehouse_id}, lock=False)
        product = targets.product
        return apply_changes(
            [
                Change(
                    product,
                    targets.warehouses["warehouse"],
                    MovementKind.RECEIPT,
                    quantity,
                    unit_cost=product.cost_price if unit_cost is None else unit_cost,
                    note=note,
                )
            ],
            user=user,
        )


def stock_issue(
    *,
    product_id: uuid.UUID,
    warehouse_id: uuid.UUID,
    quantity: Decimal,
    note: str = "",
    user: User | None = None,
) -> list[StockMovement]:
    _positive(quantity)
    with _atomic():
        targets = _resolve(product_id=product_id, warehouse_ids={"warehouse": warehouse_id}, lock=True)
        product = targets.product
        return apply_changes(
            [
                Change(
                    product,
                    targets.warehouses["warehouse"],
                    MovementKind.ISSUE,
                    -quantity,
                    unit_cost=product.average_cost,
                    note=note,
                )
            ],
            user=user,
            locked=targets.locked,
        )


def stock_adjust(
    *,
    product_id: uuid.UUID,
    warehouse_id: uuid.UUID,
    reason: str,
    counted_quantity: Decimal | None = None,
    delta: Decimal | None = None,
    note: str = "",
    user: User | None = None,
) -> list[StockMovement]:
    """To a counted quantity, or by a delta. Counting the same quantity writes nothing."""
    if (counted_quantity is None) == (delta is None):
        raise ValidationFailed.for_field(
            "non_field_errors", errors.COUNTED_OR_DELTA, "Give either counted_quantity or delta, not both."
        )
    with _atomic():
        targets = _resolve(product_id=product_id, warehouse_ids={"warehouse": warehouse_id}, lock=True)
        product, warehouse, locked = targets.product, targets.warehouses["warehouse"], targets.locked
        if counted_quantity is not None:
            if counted_quantity < 0:
                raise ValidationFailed.for_field("counted_quantity", errors.MIN_VALUE, "A count cannot be negative.")
            check_quantity(product, counted_quantity, "counted_quantity")
            key = (product.id, warehouse.id)
            if key not in locked:
                locked = _lock_levels([key])
            change = count_change(product, warehouse, counted_quantity, locked[key], reason=reason, note=note)
            if change is None:
                return []
        else:
            assert delta is not None
            change = Change(
                product,
                warehouse,
                MovementKind.ADJUSTMENT,
                delta,
                unit_cost=product.average_cost,
                reason=reason,
                note=note,
            )
        return apply_changes([change], user=user, locked=locked)


def count_change(
    product: Product,
    warehouse: Warehouse,
    counted: Decimal,
    level: StockLevel,
    *,
    reason: str,
    note: str = "",
    reference_type: str = ReferenceType.MANUAL,
    reference_id: uuid.UUID | None = None,
) -> Change | None:
    """The adjustment that brings ``level`` (locked by the caller) to a counted quantity,
    valued at the product's average cost; None when it holds that quantity already (a
    count of the same quantity writes nothing). For ``stock_adjust`` and the import."""
    delta = counted - level.on_hand
    if not delta:
        return None
    return Change(
        product,
        warehouse,
        MovementKind.ADJUSTMENT,
        delta,
        unit_cost=product.average_cost,
        reason=reason,
        note=note,
        reference_type=reference_type,
        reference_id=reference_id,
    )


def stock_transfer(
    *,
    product_id: uuid.UUID,
    from_warehouse_id: uuid.UUID,
    to_warehouse_id: uuid.UUID,
    quantity: Decimal,
    note: str = "",
    user: User | None = None,
) -> list[StockMovement]:
    """A ``transfer_out`` and a ``transfer_in`` sharing a new ``reference_id``."""
    _positive(quantity)
    if from_warehouse_id == to_warehouse_id:
        raise ValidationFailed.for_field("to_warehouse", errors.SAME_WAREHOUSE, "Transfer to a different warehouse.")
    with _atomic():
        targets = _resolve(
            product_id=product_id,
            warehouse_ids={"from_warehouse": from_warehouse_id, "to_warehouse": to_warehouse_id},
            lock=True,
        )
        product = targets.product
        transfer_id = uuid.uuid4()
        common: dict[str, Any] = {
            "unit_cost": product.average_cost,
            "note": note,
            "reference_type": ReferenceType.TRANSFER,
            "reference_id": transfer_id,
        }
        out_of, into = targets.warehouses["from_warehouse"], targets.warehouses["to_warehouse"]
        return apply_changes(
            [
                Change(
                    product,
                    out_of,
                    MovementKind.TRANSFER_OUT,
                    -quantity,
                    fields=("product", "from_warehouse"),
                    **common,
                ),
                Change(product, into, MovementKind.TRANSFER_IN, quantity, fields=("product", "to_warehouse"), **common),
            ],
            user=user,
            locked=targets.locked,
        )


# --- The stock of document lines (orders) ---------------------------------------------------


@dataclass(frozen=True)
class LineStock:
    """One document line's stock. ``reference_id`` is the caller's id for the line;
    ``field`` is the line's path in the caller's input (``lines.2``), for error messages
    (default: ``lines.<index in the call>``)."""

    reference_id: uuid.UUID
    product_id: uuid.UUID
    warehouse_id: uuid.UUID
    quantity: Decimal
    unit_cost: Decimal | None = None
    field: str = ""


@dataclass(frozen=True)
class LineQuantity:
    """A quantity of what is reserved for one line (``reference_id``) of a source."""

    reference_id: uuid.UUID
    quantity: Decimal
    field: str = ""


def _check_source(source: str) -> None:
    if not SOURCE_PATTERN.match(source):
        raise ValueError(f"A stock source is a short lowercase name, not {source!r}.")


def _line_changes(
    *, source: str, lines: Sequence[LineStock], kind: MovementKind, reason: str, note: str
) -> list[Change]:
    """The changes of ``lines``, their products and warehouses looked up (2 queries)."""
    _check_source(source)
    if not lines:
        return []
    products = Product.objects.in_bulk({line.product_id for line in lines})
    warehouses = Warehouse.objects.in_bulk({line.warehouse_id for line in lines})
    changes = []
    for index, line in enumerate(lines):
        path = line.field or f"lines.{index}"
        product, warehouse = products.get(line.product_id), warehouses.get(line.warehouse_id)
        if product is None or warehouse is None:
            raise _does_not_exist([f"{path}.product" if product is None else f"{path}.warehouse"])
        if line.quantity <= 0:
            raise ValidationFailed.for_field(f"{path}.quantity", errors.MIN_VALUE, "Must be greater than zero.")
        unit_cost = line.unit_cost
        if unit_cost is None and kind in {MovementKind.RECEIPT, MovementKind.ISSUE}:
            unit_cost = product.average_cost
        sign = 1 if kind in {MovementKind.RECEIPT, MovementKind.RESERVATION} else -1
        changes.append(
            Change(
                product,
                warehouse,
                kind,
                sign * line.quantity,
                unit_cost=unit_cost,
                reason=reason,
                reference_type=source,
                reference_id=line.reference_id,
                note=note,
                fields=(f"{path}.product", f"{path}.warehouse"),
            )
        )
    return changes


def stock_receive_for_lines(
    *, source: str, lines: Sequence[LineStock], user: User | None = None, note: str = "", reason: str = ""
) -> list[StockMovement]:
    """A receipt per line (all or none). A line's ``unit_cost`` updates the product's
    average cost; without one the goods come back at the average cost (a return)."""
    with _atomic():
        return apply_changes(
            _line_changes(source=source, lines=lines, kind=MovementKind.RECEIPT, reason=reason, note=note), user=user
        )


def stock_issue_for_lines(
    *, source: str, lines: Sequence[LineStock], user: User | None = None, note: str = "", reason: str = ""
) -> list[StockMovement]:
    """An issue per line (all or none; a shortage names each short line). The ledger
    records ``unit_cost`` (default: the product's average cost)."""
    with _atomic():
        return apply_changes(
            _line_changes(source=source, lines=lines, kind=MovementKind.ISSUE, reason=reason, note=note), user=user
        )


def stock_reserve(*, source: str, lines: Sequence[LineStock], user: User | None = None) -> list[Reservation]:
    """Reserves every line or none (InsufficientStock names each short line): an open
    reservation per line, by (``source``, ``reference_id``)."""
    with transaction.atomic():
        changes = _line_changes(source=source, lines=lines, kind=MovementKind.RESERVATION, reason="", note="")
        apply_changes(changes, user=user)
        return Reservation.objects.bulk_create(
            [
                Reservation(
                    product=change.product,
                    warehouse=change.warehouse,
                    quantity=change.quantity,
                    reference_type=source,
                    reference_id=line.reference_id,
                )
                for change, line in zip(changes, lines, strict=True)
            ]
        )


def _locked_reservations(source: str, reference_ids: Sequence[uuid.UUID]) -> list[Reservation]:
    _check_source(source)
    return list(
        Reservation.objects.select_for_update(no_key=True, of=("self",))
        .select_related("product", "warehouse")
        .filter(reference_type=source, reference_id__in=reference_ids, closed_at__isnull=True)
        .order_by("pk")
    )


def stock_release(
    *, source: str, reference_ids: Sequence[uuid.UUID], user: User | None = None, note: str = ""
) -> list[StockMovement]:
    """Releases what the open reservations of these lines still hold and closes them
    (lines without one are skipped)."""
    with transaction.atomic():
        locked = _locked_reservations(source, reference_ids)
        movements = apply_changes(
            [
                Change(
                    r.product,
                    r.warehouse,
                    MovementKind.RELEASE,
                    -r.quantity,
                    reference_type=r.reference_type,
                    reference_id=r.reference_id,
                    note=note,
                )
                for r in locked
                if r.quantity > 0
            ],
            user=user,
        )
        Reservation.objects.filter(pk__in=[r.pk for r in locked]).update(quantity=ZERO, closed_at=timezone.now())
        return movements


def stock_issue_reserved(
    *, source: str, lines: Sequence[LineQuantity], user: User | None = None, note: str = ""
) -> list[StockMovement]:
    """Ships reserved stock: a release and an issue per line, and its reservation shrinks
    (closed at zero). More than is reserved, or no open reservation, is a 409
    ``reservation_mismatch``."""
    with transaction.atomic():
        locked = {r.reference_id: r for r in _locked_reservations(source, [line.reference_id for line in lines])}
        changes: list[Change] = []
        for index, line in enumerate(lines):
            reservation = locked.get(line.reference_id)
            if reservation is None or line.quantity > reservation.quantity:
                raise Conflict("The quantity is more than is reserved for this line.", code=errors.RESERVATION_MISMATCH)
            if line.quantity <= 0:
                path = line.field or f"lines.{index}"
                raise ValidationFailed.for_field(f"{path}.quantity", errors.MIN_VALUE, "Must be greater than zero.")
            common: dict[str, Any] = {
                "reference_type": reservation.reference_type,
                "reference_id": reservation.reference_id,
                "note": note,
            }
            changes.append(
                Change(reservation.product, reservation.warehouse, MovementKind.RELEASE, -line.quantity, **common)
            )
            changes.append(
                Change(
                    reservation.product,
                    reservation.warehouse,
                    MovementKind.ISSUE,
                    -line.quantity,
                    unit_cost=reservation.product.average_cost,
                    **common,
                )
            )
            reservation.quantity -= line.quantity
        movements = apply_changes(changes, user=user)
        now = timezone.now()
        for reservation in locked.values():
            if reservation.quantity == 0:
                reservation.closed_at = now
            reservation.save(update_fields=["quantity", "closed_at"])
        return movements


def _atomic() -> Any:
    """A transaction when there is none; inside the caller's, no savepoint. The services
    here check everything before they write, so a domain error leaves the caller's
    transaction usable, and the savepoint would only cost two round trips."""
    return transaction.atomic() if not connection.in_atomic_block else nullcontext()


def _positive(quantity: Decimal) -> None:
    if quantity <= 0:
        raise ValidationFailed.for_field("quantity", errors.MIN_VALUE, "The quantity must be greater than zero.")
