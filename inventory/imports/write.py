"""Writing one batch of valid rows in the current transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django.db.models.functions import Lower
from django.utils import timezone

from core import metrics
from core.errors import ValidationFailed
from core.sql import insert_columns, insert_columns_sql
from inventory.imports.parse import PRODUCT_COLUMNS, ParsedBatch, Row
from inventory.models import (
    Category,
    ImportJob,
    MovementKind,
    Product,
    ReferenceType,
    StockLevel,
    StockMovement,
    Warehouse,
)
from inventory.services.catalog import category_create
from inventory.services.stock import _lock_levels, apply_changes, count_change
from tenants import events
from tenants.context import get_current_tenant
from tenants.models import User

ZERO = Decimal("0")


class ChangedDuringImport(Exception):
    """A product changed between validation and writing (a concurrent edit)."""


@dataclass
class Batch:
    """The valid rows of one batch, ready to write: new products and existing ones."""

    first_line: int
    size: int  # rows of the file in this batch, invalid ones included (the progress counter)
    new: list[Row]
    existing: list[tuple[Row, Product]]


def resolve_categories(
    paths: set[tuple[str, ...]], cache: dict[tuple[str, ...], Category], created: list[Category]
) -> None:
    """Resolves category paths (names from the top, as written) into ``cache``, creating
    what is missing with the names as written. Names match case-insensitively, so the cache
    holds each path under its lowercase names and under the spelling of the file. Each
    category made is committed at once (the writers' connections must see it) and
    appended to ``created``, so that a job that fails can remove it again."""
    for names in sorted(paths):
        parent: Category | None = None
        for depth in range(1, len(names) + 1):
            key = tuple(name.lower() for name in names[:depth])
            if key not in cache:
                cache[key] = _category_get_or_create(names[depth - 1], parent, created)
            parent = cache[key]
        if parent is not None:
            cache[names] = parent


def _category_get_or_create(name: str, parent: Category | None, created: list[Category]) -> Category:
    def existing() -> Category | None:
        siblings = Category.objects.annotate(name_ci=Lower("name")).filter(parent=parent, name_ci=name.lower())
        return siblings.first()

    found = existing()
    if found is not None:
        return found
    try:
        category = category_create(name=name, parent=parent)
    except ValidationFailed:  # a concurrent writer made the same sibling first
        if (found := existing()) is None:
            raise
        return found
    created.append(category)
    return category


def categories_remove(created: list[Category]) -> None:
    """Removes the categories a failed job made, lowest first, unless something was put
    in one of them meanwhile (their rows are locked first, so nothing can be)."""
    if not created:
        return
    with transaction.atomic():
        ids = [category.pk for category in created]
        list(Category.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))
        for category in sorted(created, key=lambda c: -c.depth):
            if not (
                Category.objects.filter(parent_id=category.pk).exists()
                or Product.objects.filter(category_id=category.pk).exists()
            ):
                Category.objects.filter(pk=category.pk).delete()


def prepare_batch(
    batch: ParsedBatch,
    invalid: set[int],
    cache: dict[tuple[str, ...], Category],
    created: list[Category],
    found: dict[str, Product],
) -> Batch:
    """In the job's thread, after ``validate.validate_batch``: drops the invalid rows,
    resolves (and creates) categories, and splits new from existing products (``found``
    by validation)."""
    rows = [row for row, _ in batch if row[0] not in invalid]
    missing = {names for _, values, _ in rows if (names := values.get("category")) and names not in cache}
    if missing:
        resolve_categories(missing, cache, created)
    for _, values, _ in rows:
        if "category" in values:
            names = values["category"]
            values["category"] = cache[names] if names else None
    new: list[Row] = []
    existing: list[tuple[Row, Product]] = []
    for row in rows:
        product = found.get(row[1]["sku"].lower())
        if product is None:
            new.append(row)
        else:
            existing.append((row, product))
    return Batch(batch[0][0][0], batch.lines, new, existing)


def insert_new_products(rows: list[Row], job: ImportJob, warehouses: dict[str, Warehouse]) -> dict[type[Model], int]:
    """New products, their levels (at the counted quantity) and one movement per non-zero
    count: three set-based INSERTs (core.sql.insert_columns). The rows are new, so there is
    nothing to lock; a concurrent insert of the same SKU or barcode fails the batch.
    Returns the rows inserted per model."""
    if any("name" not in values for _, values, _ in rows):
        raise ChangedDuringImport("a product was deleted during the import")
    now = timezone.now()
    ids = [uuid.uuid4() for _ in rows]
    columns: dict[str, list[Any]] = {"id": ids}
    constants: dict[str, Any] = {}
    for model_field in Product._meta.concrete_fields:
        name = model_field.name
        if name in ("id", "tenant", "average_cost"):
            continue
        default = model_field.get_default()
        if name == "category":
            columns[name] = [c.pk if (c := values.get(name)) is not None else None for _, values, _ in rows]
        elif name in PRODUCT_COLUMNS:
            columns[name] = [values.get(name, default) for _, values, _ in rows]
        elif getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
            constants[name] = now
        else:
            constants[name] = default
    columns["average_cost"] = columns["cost_price"]  # a new product's average cost is its cost price
    inserted: dict[type[Model], int] = {
        Product: insert_columns(Product, tenant_id=get_current_tenant().id, columns=columns, constants=constants)
    }
    cells = [
        (product_id, warehouses[code].id, quantity, cost)
        for product_id, cost, (_, _, stock) in zip(ids, columns["cost_price"], rows, strict=True)
        for code, quantity in stock.items()
    ]
    if not cells:
        return inserted
    # A level for every stock cell given, as apply_changes would leave it (a zero count too).
    inserted[StockLevel] = insert_columns(
        StockLevel,
        tenant_id=get_current_tenant().id,
        columns={
            "product": [c[0] for c in cells],
            "warehouse": [c[1] for c in cells],
            "on_hand": [c[2] for c in cells],
        },
        constants={"reserved": ZERO, "updated_at": now},
    )
    moved = [c for c in cells if c[2]]
    if not moved:
        return inserted
    quantities = [c[2] for c in moved]
    movement_ids = [uuid.uuid4() for _ in moved]
    movements = insert_columns_sql(
        StockMovement,
        tenant_id=get_current_tenant().id,
        columns={
            "id": movement_ids,
            "product": [c[0] for c in moved],
            "warehouse": [c[1] for c in moved],
            "quantity": quantities,
            "on_hand_after": quantities,
            "unit_cost": [c[3] for c in moved],
        },
        constants={
            "kind": MovementKind.ADJUSTMENT.value,
            "reserved_after": ZERO,
            "reason": "import",
            "note": "",
            "reference_type": ReferenceType.IMPORT_JOB.value,
            "reference_id": job.id,
            "user": job.created_by_id,
            "created_at": now,
        },
    )
    # One stock.changed per movement, as the stock service's _write records them, in the
    # same statement (a data-modifying WITH clause): set-based, one round trip per batch.
    changed = events.record_columns_sql(
        "stock.changed",
        "product",
        [c[0] for c in moved],
        {
            "movement": movement_ids,
            "kind": MovementKind.ADJUSTMENT.value,
            "warehouse": [c[1] for c in moved],
            "quantity": quantities,
            "on_hand_after": quantities,
            "reserved_after": str(ZERO),
            "reference_type": ReferenceType.IMPORT_JOB.value,
            "reference_id": str(job.id),
        },
    )
    assert movements is not None and changed is not None
    with connection.cursor() as cursor:
        cursor.execute(f"WITH events AS ({changed[0]}) {movements[0]}", changed[1] + movements[1])
        inserted[StockMovement] = int(cursor.rowcount)
    metrics.count_after_commit(metrics.stock_movements, len(moved), kind=MovementKind.ADJUSTMENT.value)
    return inserted


def update_existing_products(
    rows: list[tuple[Row, Product]], job: ImportJob, user: User | None, warehouses: dict[str, Warehouse]
) -> dict[type[Model], int]:
    """Products that exist: the ORM and inventory.services.stock (levels locked, counts
    turned into deltas), so an update or a re-run writes only what changed: a product
    whose values are all as in the file keeps its ``updated_at``. Returns the rows
    inserted per model (the ledger's movements)."""
    now = timezone.now()
    updates: list[Product] = []
    update_fields: set[str] = set()
    for (_, values, _), product in rows:
        changed = [name for name, value in values.items() if name != "sku" and _differs(product, name, value)]
        if not changed:
            continue
        for name in changed:
            setattr(product, name, values[name])
        product.updated_at = now  # bulk_update does not apply auto_now
        update_fields.update(changed)
        updates.append(product)
    if updates:
        Product.objects.bulk_update(updates, [*sorted(update_fields), "updated_at"], batch_size=200)
    return {StockMovement: apply_counts(rows, job, user, warehouses)}


def _differs(product: Product, name: str, value: Any) -> bool:
    if name == "category":
        return product.category_id != (value.pk if value is not None else None)
    return bool(getattr(product, name) != value)


def apply_counts(
    rows: list[tuple[Row, Product]], job: ImportJob, user: User | None, warehouses: dict[str, Warehouse]
) -> int:
    """Adjusts each level to the counted quantity through apply_changes (levels locked).
    Returns the movements written."""
    stock_rows = [
        (product, warehouses[code], quantity) for (_, _, stock), product in rows for code, quantity in stock.items()
    ]
    if not stock_rows:
        return 0
    levels = _lock_levels([(p.id, w.id) for p, w, _ in stock_rows])
    changes = [
        change
        for product, warehouse, counted in stock_rows
        if (
            change := count_change(
                product,
                warehouse,
                counted,
                levels[(product.id, warehouse.id)],
                reason="import",
                reference_type=ReferenceType.IMPORT_JOB,
                reference_id=job.id,
            )
        )
        is not None
    ]
    return len(apply_changes(changes, user=user, locked=levels))


def discard_cached_plans() -> None:
    """An import fills tables that may have started empty. PostgreSQL caches the plans of
    its foreign-key checks per connection; planned against a nearly empty table they read
    every row of the tenant, and each batch gets slower as the table grows. Discarding
    the cached plans each time the tables have doubled keeps them current at little cost
    (docs/performance.md compares it with re-planning every statement)."""
    with connection.cursor() as cursor:
        cursor.execute("DISCARD PLANS")
