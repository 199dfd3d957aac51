"""Writing one batch of valid rows in the current transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models.functions import Lower
from django.utils import timezone

from core.sql import insert_columns
from inventory.imports.parse import PRODUCT_COLUMNS, Row, RowError
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
from inventory.services.stock import Change, _lock_levels, apply_changes
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


def categories(paths: dict[str, str], cache: dict[str, Category]) -> None:
    """Resolves category paths like ``Hardware > Bolts`` (keyed by their normalized
    form), creating what is missing with the names as written."""
    from inventory.services.catalog import category_create

    for key_path, path in sorted(paths.items()):
        if key_path in cache:
            continue
        parent: Category | None = None
        walked: list[str] = []
        for name in [part.strip() for part in path.replace("/", ">").split(">") if part.strip()]:
            walked.append(name.lower())
            key = " > ".join(walked)
            if key not in cache:
                found = Category.objects.annotate(name_ci=Lower("name")).filter(parent=parent, name_ci=name.lower())
                cache[key] = found.first() or category_create(name=name, parent=parent)
            parent = cache[key]
        if parent is not None:
            cache[key_path] = parent


def _category_key(path: str) -> str:
    return " > ".join(part.strip().lower() for part in path.replace("/", ">").split(">") if part.strip())


def prepare_batch(
    batch: list[tuple[Row, list[RowError]]],
    invalid: set[int],
    cache: dict[str, Category],
    by_path: dict[str, Category | None],
    found: dict[str, Product],
) -> Batch:
    """In the job's thread, after ``validate.validate_batch``: drops the invalid rows,
    resolves (and creates) categories, and splits new from existing products (``found``
    by validation)."""
    rows = [row for row, _ in batch if row[0] not in invalid]
    keys = {
        path: _category_key(path)
        for path in {values["category"] for _, values, _ in rows if "category" in values}
        if path not in by_path
    }
    if keys:
        categories({key: path for path, key in keys.items() if key}, cache)
        by_path.update({path: cache.get(key) if key else None for path, key in keys.items()})
    for _, values, _ in rows:
        if "category" in values:
            values["category"] = by_path[values["category"]]
    new: list[Row] = []
    existing: list[tuple[Row, Product]] = []
    for row in rows:
        product = found.get(row[1]["sku"].lower())
        if product is None:
            new.append(row)
        else:
            existing.append((row, product))
    return Batch(batch[0][0][0], len(batch), new, existing)


def insert_new_products(rows: list[Row], job: ImportJob, warehouses: dict[str, Warehouse]) -> None:
    """New products, their levels (at the counted quantity) and one movement per non-zero
    count: three set-based INSERTs (core.sql.insert_columns). The rows are new, so there is
    nothing to lock; a concurrent insert of the same SKU or barcode fails the batch."""
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
    insert_columns(Product, tenant_id=get_current_tenant().id, columns=columns, constants=constants)
    cells = [
        (product_id, warehouses[code].id, quantity, cost)
        for product_id, cost, (_, _, stock) in zip(ids, columns["cost_price"], rows, strict=True)
        for code, quantity in stock.items()
    ]
    if not cells:
        return
    # A level for every stock cell given, as apply_changes would leave it (a zero count too).
    insert_columns(
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
    quantities = [c[2] for c in moved]
    insert_columns(
        StockMovement,
        tenant_id=get_current_tenant().id,
        columns={
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


def update_existing_products(
    rows: list[tuple[Row, Product]], job: ImportJob, user: User | None, warehouses: dict[str, Warehouse]
) -> None:
    """Products that exist: the ORM and inventory.services.stock (levels locked, counts
    turned into deltas), so an update or a re-run writes only the movements it needs."""
    updates: list[Product] = []
    update_fields: set[str] = set()
    for (_, values, _), product in rows:
        changed = {name: value for name, value in values.items() if name != "sku"}
        for name, value in changed.items():
            setattr(product, name, value)
        update_fields.update(changed)
        updates.append(product)
    if update_fields:
        Product.objects.bulk_update(updates, [*sorted(update_fields), "updated_at"], batch_size=200)
    apply_counts(rows, job, user, warehouses)


def apply_counts(
    rows: list[tuple[Row, Product]], job: ImportJob, user: User | None, warehouses: dict[str, Warehouse]
) -> None:
    """Adjusts each level to the counted quantity through apply_changes (levels locked)."""
    stock_rows = [
        (product, warehouses[code], quantity) for (_, _, stock), product in rows for code, quantity in stock.items()
    ]
    if not stock_rows:
        return
    levels = _lock_levels([(p.id, w.id) for p, w, _ in stock_rows])
    changes = []
    for product, warehouse, counted in stock_rows:
        delta = counted - levels[(product.id, warehouse.id)].on_hand
        if delta:
            changes.append(
                Change(
                    product,
                    warehouse,
                    MovementKind.ADJUSTMENT,
                    delta,
                    unit_cost=product.average_cost,
                    reason="import",
                    reference_type=ReferenceType.IMPORT_JOB,
                    reference_id=job.id,
                )
            )
    apply_changes(changes, user=user, locked=levels)


def discard_cached_plans() -> None:
    """An import fills tables that may have started empty. PostgreSQL caches the plans of
    its foreign-key checks per connection; planned against a nearly empty table they read
    every row of the tenant, and each batch gets slower as the table grows. Discarding
    the cached plans each time the tables have doubled keeps them current at little cost
    (docs/performance.md compares it with re-planning every statement)."""
    with connection.cursor() as cursor:
        cursor.execute("DISCARD PLANS")
