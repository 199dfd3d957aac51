"""CSV import and export jobs, run by Celery (inventory.tasks).

Import: the file is stored under ``imports/<tenant>/<job>.csv``; the task reads it
as a stream twice. Pass 1 validates every row (row number, column, message) without
writing. If a row is invalid and ``skip_invalid_rows`` is off, nothing is imported.
Pass 2 upserts by SKU (case-insensitive) in batches of ``BATCH`` rows, one
transaction each, with the job's progress; opening stock (``stock:<WAREHOUSE>``
columns) is a count: the level is adjusted to it, so re-running a file is safe.
Neither pass holds more than one batch of rows in memory.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import DataError, IntegrityError, connection, transaction
from django.db.models.functions import Lower
from django.http import FileResponse
from django.utils import timezone

from config.errors import Conflict, ValidationFailed
from inventory.models import (
    WHOLE_UNITS,
    Category,
    ExportJob,
    ExportKind,
    ImportJob,
    JobStatus,
    MovementKind,
    Product,
    ReferenceType,
    StockLevel,
    StockMovement,
    Unit,
    Warehouse,
)
from inventory.services.stock import Change, _lock_levels, apply_changes
from tenants.context import get_current_tenant
from tenants.models import User
from tenants.tasking import enqueue_on_commit

BATCH = 1000
MAX_STORED_ERRORS = 1000
STOCK_PREFIX = "stock:"
MAX_DECIMAL = Decimal("99999999999999.9999")

PRODUCT_COLUMNS = [
    "sku",
    "name",
    "description",
    "category",
    "unit",
    "barcode",
    "cost_price",
    "selling_price",
    "reorder_point",
    "reorder_quantity",
    "lead_time_days",
    "is_active",
    "image_url",
    "attributes",
]
# Read-only columns of a products export, accepted and ignored so an export imports as it is.
IGNORED_COLUMNS = {"average_cost"}
DECIMAL_COLUMNS = {"cost_price", "selling_price", "reorder_point", "reorder_quantity"}
MAX_LENGTHS = {"sku": 64, "name": 200, "barcode": 64, "image_url": 500, "category": 1000}
TRUE = {"1", "true", "yes", "y", "t"}
FALSE = {"0", "false", "no", "n", "f"}


def _storage_key(folder: str, job_id: Any) -> str:
    return f"{folder}/{get_current_tenant().id}/{job_id}.csv"


# --- Creating jobs -------------------------------------------------------------------


@transaction.atomic
def import_job_create(*, upload: UploadedFile, skip_invalid_rows: bool, user: User | None) -> ImportJob:
    from inventory.tasks import run_import

    if upload.size and upload.size > settings.IMPORT_MAX_BYTES:
        raise ValidationFailed.for_field(
            "file", "file_too_large", f"The file is larger than {settings.IMPORT_MAX_BYTES // 1_000_000} MB."
        )
    job = ImportJob(file_name=(upload.name or "upload.csv")[:255], skip_invalid_rows=skip_invalid_rows, created_by=user)
    job.storage_key = default_storage.save(_storage_key("imports", job.id), upload)
    job.save()
    enqueue_on_commit(run_import, job_id=str(job.id))
    return job


@transaction.atomic
def export_job_create(*, kind: str, user: User | None, **filters: Any) -> ExportJob:
    from inventory.tasks import run_export

    stored = {key: str(getattr(value, "pk", value)) for key, value in filters.items() if value is not None}
    if "created_after" in filters:
        stored["created_after"] = filters["created_after"].isoformat()
    if "created_before" in filters:
        stored["created_before"] = filters["created_before"].isoformat()
    job = ExportJob.objects.create(kind=kind, filters=stored, created_by=user)
    enqueue_on_commit(run_export, job_id=str(job.id))
    return job


def export_file_response(*, job: ExportJob) -> FileResponse:
    if job.status != JobStatus.SUCCEEDED or not job.storage_key:
        raise Conflict("This export has not finished.", code="export_not_ready")
    return FileResponse(
        default_storage.open(job.storage_key, "rb"),
        as_attachment=True,
        filename=f"{job.kind}-{job.created_at:%Y%m%d-%H%M%S}.csv",
        content_type="text/csv",
    )


# --- Import --------------------------------------------------------------------------------


@dataclass
class ParsedRow:
    number: int
    values: dict[str, Any]
    stock: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


class ImportFileError(Exception):
    """The file as a whole cannot be read (encoding, header)."""


def _open_rows(job: ImportJob) -> tuple[IO[bytes], csv.DictReader[str]]:
    raw = default_storage.open(job.storage_key, "rb")
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
    return raw, csv.DictReader(text)


def _header(reader: csv.DictReader[str], warehouses: dict[str, Warehouse]) -> tuple[list[str], dict[str, str]]:
    try:
        names = reader.fieldnames
    except UnicodeDecodeError as exc:
        raise ImportFileError("The file is not UTF-8 text.") from exc
    if not names:
        raise ImportFileError("The file is empty: the first line must name the columns.")
    columns, stock_columns, unknown = [], {}, []
    for name in names:
        key = (name or "").strip()
        if key.lower().startswith(STOCK_PREFIX):
            code = key[len(STOCK_PREFIX) :].strip().lower()
            if code not in warehouses:
                raise ImportFileError(f"Column {key!r}: there is no warehouse with code {code!r}.")
            stock_columns[name] = code
        elif key.lower() in PRODUCT_COLUMNS:
            columns.append(key.lower())
        elif key.lower() in IGNORED_COLUMNS:
            continue
        else:
            unknown.append(key)
    if unknown:
        raise ImportFileError(
            f"Unknown columns: {', '.join(unknown)}. Known: {', '.join(PRODUCT_COLUMNS)}, stock:<WAREHOUSE CODE>."
        )
    if "sku" not in columns:
        raise ImportFileError("The column 'sku' is required.")
    return columns, stock_columns


def _decimal(value: str, column: str, errors: list[RowError], row: int) -> Decimal | None:
    try:
        number = Decimal(value)
    except InvalidOperation:
        errors.append(RowError(row, column, "Not a number."))
        return None
    if not number.is_finite() or number < 0 or number > MAX_DECIMAL:
        errors.append(RowError(row, column, "Must be a number from 0 to 99,999,999,999,999."))
        return None
    if number != number.quantize(Decimal("0.0001")):
        errors.append(RowError(row, column, "Use at most 4 decimal places."))
        return None
    return number


def _parse_row(
    number: int, raw: dict[str | None, Any], columns: list[str], stock_columns: dict[str, str]
) -> tuple[ParsedRow, list[RowError]]:
    errors: list[RowError] = []
    values: dict[str, Any] = {}
    if None in raw:
        errors.append(RowError(number, "", "The row has more fields than the header."))
    lookup = {(k or "").strip().lower(): v for k, v in raw.items() if k is not None}
    for column in columns:
        value = (lookup.get(column) or "").strip()
        if "\x00" in value:
            errors.append(RowError(number, column, "Contains a NUL character."))
            continue
        if column in MAX_LENGTHS and len(value) > MAX_LENGTHS[column]:
            errors.append(RowError(number, column, f"Longer than {MAX_LENGTHS[column]} characters."))
            continue
        if column in DECIMAL_COLUMNS:
            if value:
                values[column] = _decimal(value, column, errors, number)
        elif column == "lead_time_days":
            if value:
                if not value.isdigit() or int(value) > 3650:
                    errors.append(RowError(number, column, "Must be a whole number of days from 0 to 3650."))
                else:
                    values[column] = int(value)
        elif column == "unit":
            if value:
                if value.lower() not in Unit.values:
                    errors.append(RowError(number, column, f"Unknown unit. Use one of: {', '.join(Unit.values)}."))
                else:
                    values[column] = value.lower()
        elif column == "is_active":
            if value:
                if value.lower() not in TRUE | FALSE:
                    errors.append(RowError(number, column, "Use true or false."))
                else:
                    values[column] = value.lower() in TRUE
        elif column == "attributes":
            if value:
                try:
                    attributes = json.loads(value)
                except ValueError:
                    attributes = None
                if not isinstance(attributes, dict):
                    errors.append(RowError(number, column, "Must be a JSON object."))
                else:
                    values[column] = attributes
        elif value:  # an empty text cell leaves the product's value as it is
            values[column] = value
    if not values.get("sku"):
        errors.append(RowError(number, "sku", "The SKU is required."))
    stock: dict[str, Decimal] = {}
    unit = values.get("unit")
    for column, code in stock_columns.items():
        value = (raw.get(column) or "").strip()
        if value:
            quantity = _decimal(value, column, errors, number)
            if quantity is not None:
                if unit in WHOLE_UNITS and quantity != quantity.to_integral_value():
                    errors.append(RowError(number, column, f"{unit} takes whole numbers."))
                else:
                    stock[code] = quantity
    return ParsedRow(number, values, stock), errors


def _batches(
    reader: csv.DictReader[str], columns: list[str], stock_columns: dict[str, str]
) -> Iterator[list[tuple[ParsedRow, list[RowError]]]]:
    batch: list[tuple[ParsedRow, list[RowError]]] = []
    try:
        for raw in reader:
            batch.append(_parse_row(reader.line_num, raw, columns, stock_columns))
            if len(batch) >= BATCH:
                yield batch
                batch = []
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"The file is not UTF-8 text (near line {reader.line_num + 1}).") from exc
    except csv.Error as exc:
        raise ImportFileError(f"The CSV is malformed near line {reader.line_num}: {exc}.") from exc
    if batch:
        yield batch


def _existing_products(skus: list[str]) -> dict[str, Product]:
    rows = Product.objects.annotate(sku_ci=Lower("sku")).filter(sku_ci__in=[s.lower() for s in skus])
    return {p.sku.lower(): p for p in rows}


def _validate_batch(
    batch: list[tuple[ParsedRow, list[RowError]]], seen: set[str], seen_barcodes: set[str]
) -> tuple[list[ParsedRow], list[RowError]]:
    """Row-level checks that need the database or the rest of the file."""
    good: list[ParsedRow] = []
    errors: list[RowError] = []
    existing = _existing_products([row.values["sku"] for row, errs in batch if not errs])
    barcodes = [row.values["barcode"] for row, errs in batch if not errs and row.values.get("barcode")]
    barcode_owner = dict(
        Product.objects.filter(barcode__in=barcodes).annotate(sku_ci=Lower("sku")).values_list("barcode", "sku_ci")
    )
    for row, row_errors in batch:
        if row_errors:
            errors.extend(row_errors)
            continue
        sku = row.values["sku"].lower()
        if sku in seen:
            errors.append(RowError(row.number, "sku", "This SKU appears earlier in the file."))
            continue
        barcode = row.values.get("barcode")
        if barcode and (barcode in seen_barcodes or barcode_owner.get(barcode, sku) != sku):
            errors.append(RowError(row.number, "barcode", "Another product already has this barcode."))
            continue
        seen.add(sku)
        if barcode:
            seen_barcodes.add(barcode)
        product = existing.get(sku)
        if product is None and not row.values.get("name"):
            errors.append(RowError(row.number, "name", "A new product needs a name."))
            continue
        unit = row.values.get("unit") or (product.unit if product else Unit.PIECE)
        bad_stock = [c for c, q in row.stock.items() if unit in WHOLE_UNITS and q != q.to_integral_value()]
        if bad_stock:
            errors.append(RowError(row.number, f"{STOCK_PREFIX}{bad_stock[0]}", f"{unit} takes whole numbers."))
            continue
        good.append(row)
    return good, errors


def _categories(paths: dict[str, str], cache: dict[str, Category]) -> None:
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


def _write_batch(
    rows: list[ParsedRow], job: ImportJob, warehouses: dict[str, Warehouse], cache: dict[str, Any]
) -> tuple[int, int]:
    existing = _existing_products([row.values["sku"] for row in rows])
    paths = {
        _category_key(row.values["category"]): row.values["category"] for row in rows if row.values.get("category")
    }
    _categories({key: path for key, path in paths.items() if key}, cache)
    creates: list[Product] = []
    updates: list[Product] = []
    update_fields: set[str] = set()
    for row in rows:
        values = dict(row.values)
        if "category" in values:
            key = _category_key(values["category"])
            values["category"] = cache.get(key) if key else None
        product = existing.get(values["sku"].lower())
        if product is None:
            product = Product(**values)
            product.average_cost = product.cost_price
            creates.append(product)
        else:
            values.pop("sku")
            for name, value in values.items():
                setattr(product, name, value)
            update_fields.update(values)
            updates.append(product)
        row.values["_product"] = product
    Product.objects.bulk_create(creates)
    if updates and update_fields:
        Product.objects.bulk_update(updates, [*sorted(update_fields), "updated_at"], batch_size=200)
    stock_rows = [
        (row.values["_product"], warehouses[code], quantity) for row in rows for code, quantity in row.stock.items()
    ]
    if stock_rows:
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
        apply_changes(changes, user=job.created_by, locked=levels)
    return len(creates), len(updates)


def run_import_job(*, job: ImportJob) -> ImportJob:
    """Runs in the job's tenant context, outside a transaction (it commits per batch)."""
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, started_at=timezone.now())
    warehouses = {w.code.lower(): w for w in Warehouse.objects.all()}
    errors: list[dict[str, Any]] = []
    error_count = total = 0
    try:
        raw, reader = _open_rows(job)
        with raw:
            columns, stock_columns = _header(reader, warehouses)
            seen: set[str] = set()
            seen_barcodes: set[str] = set()
            for batch in _batches(reader, columns, stock_columns):
                total += len(batch)
                _, batch_errors = _validate_batch(batch, seen, seen_barcodes)
                error_count += len(batch_errors)
                errors.extend(e.as_dict() for e in batch_errors[: MAX_STORED_ERRORS - len(errors)])
        ImportJob.objects.filter(pk=job.pk).update(total_rows=total, error_count=error_count, errors=errors)
        if error_count and not job.skip_invalid_rows:
            return _finish(job, JobStatus.FAILED, f"{error_count} invalid rows: nothing was imported.")
        created = updated = processed = 0
        raw, reader = _open_rows(job)
        cache: dict[str, Any] = {}
        with raw:
            columns, stock_columns = _header(reader, warehouses)
            seen, seen_barcodes = set(), set()
            for number, batch in enumerate(_batches(reader, columns, stock_columns), start=1):
                try:
                    with transaction.atomic():
                        if number > 1 and number & (number - 1) == 0:  # batches 2, 4, 8, 16, ...
                            _discard_cached_plans()
                        good, _ = _validate_batch(batch, seen, seen_barcodes)
                        made, changed = _write_batch(good, job, warehouses, cache)
                        ImportJob.objects.filter(pk=job.pk).update(
                            processed_rows=processed + len(batch),
                            created_count=created + made,
                            updated_count=updated + changed,
                        )
                except (IntegrityError, DataError) as exc:
                    # A concurrent edit may take a SKU or barcode between validation and writing.
                    return _finish(
                        job,
                        JobStatus.FAILED,
                        f"Rows from line {batch[0][0].number} could not be written ({exc.__class__.__name__}); "
                        f"{processed} rows were imported before. Re-run the file to finish (it is safe to repeat).",
                    )
                created, updated, processed = created + made, updated + changed, processed + len(batch)
    except ImportFileError as exc:
        return _finish(job, JobStatus.FAILED, str(exc))
    skipped = f" {error_count} invalid rows skipped." if error_count else ""
    return _finish(job, JobStatus.SUCCEEDED, f"{created} products created, {updated} updated.{skipped}")


def _discard_cached_plans() -> None:
    """An import fills tables that may have started empty. PostgreSQL caches the plans of
    its foreign-key checks per connection; planned against a nearly empty table they read
    every row of the tenant, and each batch's COMMIT gets slower as the table grows.
    Discarding the cached plans each time the tables have doubled keeps them current at
    little cost (docs/performance.md: 1,120 rows/s in-process, against 899 when
    re-planning every statement; without either, commits grew to tens of seconds)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DISCARD PLANS")


def _finish(job: ImportJob, status: str, message: str) -> ImportJob:
    ImportJob.objects.filter(pk=job.pk).update(status=status, message=message, finished_at=timezone.now())
    job.refresh_from_db()
    return job


# --- Export ----------------------------------------------------------------------------------------

EXPORT_COLUMNS: dict[str, list[tuple[str, str]]] = {
    ExportKind.PRODUCTS: [
        ("sku", "sku"),
        ("name", "name"),
        ("description", "description"),
        ("category", "category__name"),
        ("unit", "unit"),
        ("barcode", "barcode"),
        ("cost_price", "cost_price"),
        ("selling_price", "selling_price"),
        ("average_cost", "average_cost"),
        ("reorder_point", "reorder_point"),
        ("reorder_quantity", "reorder_quantity"),
        ("lead_time_days", "lead_time_days"),
        ("is_active", "is_active"),
        ("image_url", "image_url"),
    ],
    ExportKind.STOCK_LEVELS: [
        ("sku", "product__sku"),
        ("product", "product__name"),
        ("warehouse", "warehouse__code"),
        ("on_hand", "on_hand"),
        ("reserved", "reserved"),
        ("updated_at", "updated_at"),
    ],
    ExportKind.MOVEMENTS: [
        ("id", "id"),
        ("created_at", "created_at"),
        ("kind", "kind"),
        ("sku", "product__sku"),
        ("warehouse", "warehouse__code"),
        ("quantity", "quantity"),
        ("on_hand_after", "on_hand_after"),
        ("reserved_after", "reserved_after"),
        ("unit_cost", "unit_cost"),
        ("reason", "reason"),
        ("note", "note"),
        ("reference_type", "reference_type"),
        ("reference_id", "reference_id"),
        ("user", "user__email"),
    ],
}


def _export_queryset(job: ExportJob) -> Any:
    f = job.filters
    if job.kind == ExportKind.PRODUCTS:
        qs: Any = Product.objects.order_by("sku")
        if "product" in f:
            qs = qs.filter(pk=f["product"])
        return qs
    if job.kind == ExportKind.STOCK_LEVELS:
        qs = StockLevel.objects.order_by("product__sku", "warehouse__code")
    else:
        qs = StockMovement.objects.order_by("created_at", "id")
        if "movement_kind" in f:
            qs = qs.filter(kind=f["movement_kind"])
        if "created_after" in f:
            qs = qs.filter(created_at__gte=f["created_after"])
        if "created_before" in f:
            qs = qs.filter(created_at__lt=f["created_before"])
    if "product" in f:
        qs = qs.filter(product_id=f["product"])
    if "warehouse" in f:
        qs = qs.filter(warehouse_id=f["warehouse"])
    return qs


def run_export_job(*, job: ExportJob) -> ExportJob:
    columns = EXPORT_COLUMNS[job.kind]
    rows = _export_queryset(job).values_list(*[path for _, path in columns])
    count = 0
    with tempfile.TemporaryFile("w+b") as handle:
        text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
        writer = csv.writer(text)
        writer.writerow([name for name, _ in columns])
        for row in rows.iterator(chunk_size=2000):
            writer.writerow(["" if value is None else value for value in row])
            count += 1
        text.flush()
        handle.seek(0)
        key = default_storage.save(_storage_key("exports", job.id), File(handle))
        text.detach()
    job.storage_key, job.row_count, job.status, job.finished_at = key, count, JobStatus.SUCCEEDED, timezone.now()
    job.save(update_fields=["storage_key", "row_count", "status", "finished_at"])
    return job
