"""Stock writes. Every change of quantity goes through ``apply_changes``:

1. products whose average cost changes are locked (``SELECT ... FOR UPDATE``,
   ordered by id), then the stock levels touched, ordered by (product, warehouse):
   one global order, so concurrent calls cannot deadlock;
2. the changes are applied in memory, in the order given, and every rule is
   checked (available stock, reservations, whole units);
3. the ledger rows are inserted and the levels updated in the same transaction.

A shortage raises ``InsufficientStock`` naming every short line, before anything
is written. The CHECK constraints on ``StockLevel`` are the last word.
"""

from __future__ import annotations

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

from core.errors import Conflict, ValidationFailed
from core.sql import PreparedSelect, insert_objects, insert_objects_sql, mark_inserted
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
from tenants.context import get_current_tenant
from tenants.models import User

ZERO = Decimal("0")
QUANTUM = Decimal("0.0001")
COST_QUANTUM = Decimal("0.0001")


@dataclass
class Change:
    """One signed change to one level: ``on_hand`` for receipt, issue, adjustment and
    transfers; ``reserved`` for reservation and release."""

    product: Product
    warehouse: Warehouse
    kind: MovementKind
    quantity: Decimal
    unit_cost: Decimal | None = None
    reason: str = ""
    reference_type: str = ReferenceType.MANUAL
    reference_id: uuid.UUID | None = None
    note: str = ""

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
        raise ValidationFailed.for_field(field_name, "max_decimal_places", "Use at most 4 decimal places.")
    if product.whole_units_only and quantity != quantity.to_integral_value():
        raise ValidationFailed.for_field(
            field_name,
            "fractional_quantity",
            f"{product.sku} is counted in {product.get_unit_display().lower()}: use a whole number.",
        )
    return quantity


def _pairs_condition(keys: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> Any:
    """``(product_id, warehouse_id) IN (VALUES ...)`` on PostgreSQL: one hash lookup per row,
    where an OR of pairs is quadratic for import-sized batches."""
    if connection.vendor == "postgresql" and len(keys) > 1:
        table = StockLevel._meta.db_table
        values = ", ".join(["(%s::uuid, %s::uuid)"] * len(keys))
        # Only placeholders and the model's own table name are interpolated; values are parameters.
        return RawSQL(  # noqa: S611
            f'("{table}"."product_id", "{table}"."warehouse_id") IN (VALUES {values})',
            [str(part) for key in keys for part in key],
            output_field=BooleanField(),
        )
    condition = Q()
    for product_id, warehouse_id in keys:
        condition |= Q(product_id=product_id, warehouse_id=warehouse_id)
    return condition


def _select_levels(keys: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> list[StockLevel]:
    # FOR NO KEY UPDATE: foreign-key checks (FOR KEY SHARE) of other writers never wait on it.
    return list(
        StockLevel.objects.select_for_update(no_key=True)
        .filter(_pairs_condition(keys))
        .order_by("product_id", "warehouse_id")
    )


def _update_levels_sql(rows: Sequence[StockLevel]) -> tuple[str, list[Any]]:
    """PostgreSQL: one UPDATE of on_hand and reserved of locked levels."""
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
    """The ledger rows and the levels they change. On PostgreSQL one statement (the
    UPDATE in a WITH clause of the INSERT): one round trip on every stock operation."""
    if connection.vendor == "postgresql" and rows:
        update_sql, update_params = _update_levels_sql(rows)
        insert_sql, insert_params = insert_objects_sql(StockMovement, movements, tenant_id=get_current_tenant().id)
        with connection.cursor() as cursor:
            cursor.execute(f"WITH levels AS ({update_sql}) {insert_sql}", update_params + insert_params)
        mark_inserted(movements)
        return
    insert_objects(StockMovement, movements, tenant_id=get_current_tenant().id)
    if len(rows) == 1:
        rows[0].save(update_fields=["on_hand", "reserved", "updated_at"])
    elif rows:
        StockLevel.objects.bulk_update(rows, ["on_hand", "reserved", "updated_at"], batch_size=100)


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
    """The one way stock quantities change. Atomic; raises before writing anything.

    ``locked``: levels the caller already locked with ``_lock_levels`` in this transaction."""
    if not changes:
        return []
    for change in changes:
        check_quantity(change.product, abs(change.quantity))
        if change.quantity == 0:
            raise ValidationFailed.for_field("quantity", "zero_quantity", "The quantity must not be zero.")
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
                    raise Conflict("Cannot release more than is reserved.", code="reservation_mismatch")
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


# --- The operations of the API ---------------------------------------------------------


@dataclass
class Targets:
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
            lock="NO KEY UPDATE" if key == "lock" and connection.features.has_select_for_no_key_update else "",
        )
        return self[key]


_level_queries = _LevelQueries()


def resolve_targets(
    *, product_id: uuid.UUID, warehouse_ids: Mapping[str, uuid.UUID], lock: bool, product_field: str = "product"
) -> Targets:
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
        missing.insert(0, product_field)
    if missing:
        raise ValidationFailed(
            "Invalid input.", fields={name: [{"code": "does_not_exist", "message": _MISSING}] for name in missing}
        )
    assert product is not None
    return Targets(
        product=product,
        warehouses={name: by_id[pk] for name, pk in warehouse_ids.items()},
        locked={(level.product_id, level.warehouse_id): level for level in levels} if lock else {},
    )


def stock_receive(
    *,
    product: Product,
    warehouse: Warehouse,
    quantity: Decimal,
    unit_cost: Decimal | None = None,
    note: str = "",
    user: User | None = None,
    reference_type: str = ReferenceType.MANUAL,
    reference_id: uuid.UUID | None = None,
) -> list[StockMovement]:
    _positive(quantity)
    return apply_changes(
        [
            Change(
                product,
                warehouse,
                MovementKind.RECEIPT,
                quantity,
                unit_cost=product.cost_price if unit_cost is None else unit_cost,
                note=note,
                reference_type=reference_type,
                reference_id=reference_id,
            )
        ],
        user=user,
    )


def stock_issue(
    *,
    product: Product,
    warehouse: Warehouse,
    quantity: Decimal,
    note: str = "",
    user: User | None = None,
    reference_type: str = ReferenceType.MANUAL,
    reference_id: uuid.UUID | None = None,
    locked: dict[tuple[uuid.UUID, uuid.UUID], StockLevel] | None = None,
) -> list[StockMovement]:
    _positive(quantity)
    return apply_changes(
        [
            Change(
                product,
                warehouse,
                MovementKind.ISSUE,
                -quantity,
                unit_cost=product.average_cost,
                note=note,
                reference_type=reference_type,
                reference_id=reference_id,
            )
        ],
        user=user,
        locked=locked,
    )


def stock_adjust(
    *,
    product: Product,
    warehouse: Warehouse,
    reason: str,
    counted_quantity: Decimal | None = None,
    delta: Decimal | None = None,
    note: str = "",
    user: User | None = None,
    locked: dict[tuple[uuid.UUID, uuid.UUID], StockLevel] | None = None,
) -> list[StockMovement]:
    """To a counted quantity, or by a delta. Counting the same quantity writes nothing."""
    if (counted_quantity is None) == (delta is None):
        raise ValidationFailed.for_field(
            "non_field_errors", "counted_or_delta", "Give either counted_quantity or delta, not both."
        )
    with _atomic():
        if counted_quantity is not None:
            if counted_quantity < 0:
                raise ValidationFailed.for_field("counted_quantity", "min_value", "A count cannot be negative.")
            check_quantity(product, counted_quantity, "counted_quantity")
            key = (product.id, warehouse.id)
            if locked is None or key not in locked:
                locked = _lock_levels([key])
            delta = counted_quantity - locked[key].on_hand
            if delta == 0:
                return []
        assert delta is not None
        return apply_changes(
            [
                Change(
                    product,
                    warehouse,
                    MovementKind.ADJUSTMENT,
                    delta,
                    unit_cost=product.average_cost,
                    reason=reason,
                    note=note,
                )
            ],
            user=user,
            locked=locked,
        )


def stock_transfer(
    *,
    product: Product,
    from_warehouse: Warehouse,
    to_warehouse: Warehouse,
    quantity: Decimal,
    note: str = "",
    user: User | None = None,
    locked: dict[tuple[uuid.UUID, uuid.UUID], StockLevel] | None = None,
) -> list[StockMovement]:
    _positive(quantity)
    if from_warehouse.pk == to_warehouse.pk:
        raise ValidationFailed.for_field("to_warehouse", "same_warehouse", "Transfer to a different warehouse.")
    transfer_id = uuid.uuid4()
    common: dict[str, Any] = {
        "unit_cost": product.average_cost,
        "note": note,
        "reference_type": ReferenceType.TRANSFER,
        "reference_id": transfer_id,
    }
    return apply_changes(
        [
            Change(product, from_warehouse, MovementKind.TRANSFER_OUT, -quantity, **common),
            Change(product, to_warehouse, MovementKind.TRANSFER_IN, quantity, **common),
        ],
        user=user,
        locked=locked,
    )


# --- Reservations (used by sales orders) ------------------------------------------------


@dataclass
class ReserveRequest:
    product: Product
    warehouse: Warehouse
    quantity: Decimal
    reference_type: str
    reference_id: uuid.UUID


def stock_reserve(*, requests: Sequence[ReserveRequest], user: User | None = None) -> list[Reservation]:
    """Reserves every line or none (InsufficientStock names each short line)."""
    for request in requests:
        _positive(request.quantity)
    with transaction.atomic():
        apply_changes(
            [
                Change(
                    r.product,
                    r.warehouse,
                    MovementKind.RESERVATION,
                    r.quantity,
                    reference_type=r.reference_type,
                    reference_id=r.reference_id,
                )
                for r in requests
            ],
            user=user,
        )
        return Reservation.objects.bulk_create(
            [
                Reservation(
                    product=r.product,
                    warehouse=r.warehouse,
                    quantity=r.quantity,
                    reference_type=r.reference_type,
                    reference_id=r.reference_id,
                )
                for r in requests
            ]
        )


def _locked_reservations(reservations: Sequence[Reservation]) -> list[Reservation]:
    return list(
        Reservation.objects.select_for_update(no_key=True, of=("self",))
        .select_related("product", "warehouse")
        .filter(pk__in=[r.pk for r in reservations], closed_at__isnull=True)
        .order_by("pk")
    )


def stock_release(
    *, reservations: Sequence[Reservation], user: User | None = None, note: str = ""
) -> list[StockMovement]:
    """Releases what the reservations still hold and closes them."""
    with transaction.atomic():
        locked = _locked_reservations(reservations)
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


@dataclass
class IssueReserved:
    reservation: Reservation
    quantity: Decimal


def stock_issue_reserved(
    *, items: Sequence[IssueReserved], user: User | None = None, note: str = ""
) -> list[StockMovement]:
    """Ships reserved stock: a release and an issue per item, and the reservation shrinks."""
    with transaction.atomic():
        locked = {r.pk: r for r in _locked_reservations([item.reservation for item in items])}
        changes: list[Change] = []
        for item in items:
            reservation = locked.get(item.reservation.pk)
            if reservation is None or item.quantity > reservation.quantity:
                raise Conflict("The quantity is more than is reserved for this line.", code="reservation_mismatch")
            _positive(item.quantity)
            common: dict[str, Any] = {
                "reference_type": reservation.reference_type,
                "reference_id": reservation.reference_id,
                "note": note,
            }
            changes.append(
                Change(reservation.product, reservation.warehouse, MovementKind.RELEASE, -item.quantity, **common)
            )
            changes.append(
                Change(
                    reservation.product,
                    reservation.warehouse,
                    MovementKind.ISSUE,
                    -item.quantity,
                    unit_cost=reservation.product.average_cost,
                    **common,
                )
            )
            reservation.quantity -= item.quantity
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
        raise ValidationFailed.for_field("quantity", "min_value", "The quantity must be greater than zero.")
