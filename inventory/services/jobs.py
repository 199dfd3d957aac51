"""CSV import and export jobs, run by Celery (inventory.tasks).

Import: the file is stored under ``imports/<tenant>/<job>.csv``; the task reads it
as a stream twice. Pass 1 validates every row (row number, column, message) without
writing, and keeps only the line numbers of invalid rows. If a row is invalid and
``skip_invalid_rows`` is off, nothing is imported. Pass 2 upserts by SKU
(case-insensitive) in batches of ``BATCH`` rows, one transaction each, followed by
the job's progress. New products, their levels and opening movements are written
with set-based INSERTs (core.sql.insert_columns); existing products go through the
ORM and inventory.services.stock. Opening stock (``stock:<WAREHOUSE>`` columns) is
a count: the level is adjusted to it, so re-running a file is safe. In the Celery
task, ``WRITERS`` threads with their own connections write batches while the task's
thread parses the next ones. Neither pass holds more than a few batches in memory.
"""

from __future__ import annotations

import contextvars
import csv
import functools
import io
import json
import queue
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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

from core.errors import Conflict, ValidationFailed
from core.numbers import PRICE, QUANTITY, NumberKind
from core.sql import insert_columns
from inventory.errors import InsufficientStock
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
from inventory.services.units import fraction_holders
from tenants.context import get_current_tenant
from tenants.models import User
from tenants.tasking import enqueue_on_commit

BATCH = 5000  # rows per transaction
WRITERS = 2  # writer threads (connections) in the Celery task
MAX_STORED_ERRORS = 1000
STOCK_PREFIX = "stock:"
ZERO = Decimal("0")
UNITS = frozenset(Unit.values)

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
# The kind of number of each decimal column, with its limits (core.numbers); stock:<CODE> are quantities.
DECIMAL_COLUMNS = {"cost_price": PRICE, "selling_price": PRICE, "reorder_point": QUANTITY, "reorder_quantity": QUANTITY}
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

# A parsed row: (line number, product values given in the file, opening stock per warehouse code).
Row = tuple[int, dict[str, Any], dict[str, Decimal]]


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


class ImportFileError(Exception):
    """The file as a whole cannot be read (encoding, header)."""


class _CellError(ValueError):
    """A cell's value is invalid; the message is the row error's."""


class _ChangedDuringImport(Exception):
    """A product changed between validation and writing (a concurrent edit)."""


@dataclass
class _Layout:
    """Where the known columns are in each CSV row."""

    width: int
    # (column, index, converter or None for text); the last of duplicate headers wins.
    columns: list[tuple[str, int, Callable[[str], Any] | None]]
    # (index, warehouse code) of each stock:<CODE> column.
    stock: list[tuple[int, str]]
    stock_names: dict[int, str]  # index -> the header as written, for errors
    stock_headers: dict[str, str]  # warehouse code -> the header as written, for errors


def _open_rows(job: ImportJob) -> tuple[IO[bytes], Any]:
    raw = default_storage.open(job.storage_key, "rb")
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
    return raw, csv.reader(text)


def _decimal(value: str, kind: NumberKind = QUANTITY) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise _CellError("Not a number.") from None
    if not number.is_finite() or number < 0 or number > kind.max_value:
        raise _CellError(f"Must be a number from 0 to {kind.max_value:,f}.")
    if number != number.quantize(kind.quantum):
        raise _CellError(f"Use at most {kind.decimal_places} decimal places.")
    return number


def _days(value: str) -> int:
    if not value.isdigit() or int(value) > 3650:
        raise _CellError("Must be a whole number of days from 0 to 3650.")
    return int(value)


def _unit(value: str) -> str:
    if value.lower() not in UNITS:
        raise _CellError(f"Unknown unit. Use one of: {', '.join(Unit.values)}.")
    return value.lower()


def _boolean(value: str) -> bool:
    if value.lower() not in TRUE | FALSE:
        raise _CellError("Use true or false.")
    return value.lower() in TRUE


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)  # NaN and Infinity are not JSON (PostgreSQL's jsonb refuses them)


def _attributes(value: str) -> dict[str, Any]:
    try:
        attributes = json.loads(value, parse_constant=_refuse_constant)
    except ValueError:
        attributes = None
    if not isinstance(attributes, dict):
        raise _CellError("Must be a JSON object.")
    return attributes


CONVERTERS: dict[str, Callable[[str], Any]] = {
    **{column: functools.partial(_decimal, kind=kind) for column, kind in DECIMAL_COLUMNS.items()},
    "lead_time_days": _days,
    "unit": _unit,
    "is_active": _boolean,
    "attributes": _attributes,
}


def _header(reader: Any, warehouses: dict[str, Warehouse]) -> _Layout:
    try:
        names = next(reader, None)
    except UnicodeDecodeError as exc:
        raise ImportFileError("The file is not UTF-8 text.") from exc
    except csv.Error as exc:
        raise ImportFileError(f"The CSV is malformed near line {reader.line_num}: {exc}.") from exc
    if not names:
        raise ImportFileError("The file is empty: the first line must name the columns.")
    columns: dict[str, int] = {}
    stock: dict[str, tuple[int, str]] = {}
    unknown = []
    for index, name in enumerate(names):
        key = name.strip()
        if key.lower().startswith(STOCK_PREFIX):
            code = key[len(STOCK_PREFIX) :].strip().lower()
            if code not in warehouses:
                raise ImportFileError(f"Column {key!r}: there is no warehouse with code {code!r}.")
            stock[name] = (index, code)
        elif key.lower() in PRODUCT_COLUMNS:
            columns[key.lower()] = index
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
    return _Layout(
        width=len(names),
        columns=[(column, index, CONVERTERS.get(column)) for column, index in columns.items()],
        stock=list(stock.values()),
        stock_names={index: name for name, (index, _) in stock.items()},
        stock_headers={code: name for name, (_, code) in stock.items()},
    )


def _parse_row(line: int, raw: list[str], layout: _Layout, errors: list[RowError]) -> Row:
    """The row's values (only the cells given: an empty cell leaves a product's value as
    it is) and opening stock; its errors are appended to ``errors``."""
    values: dict[str, Any] = {}
    size = len(raw)
    if size > layout.width:
        errors.append(RowError(line, "", "The row has more fields than the header."))
    for column, index, convert in layout.columns:
        value = raw[index].strip() if index < size else ""
        if not value:
            continue
        if "\x00" in value:
            errors.append(RowError(line, column, "Contains a NUL character."))
            continue
        limit = MAX_LENGTHS.get(column)
        if limit is not None and len(value) > limit:
            errors.append(RowError(line, column, f"Longer than {limit} characters."))
            continue
        if convert is None:
            values[column] = value
        else:
            try:
                values[column] = convert(value)
            except _CellError as exc:
                errors.append(RowError(line, column, str(exc)))
    if not values.get("sku"):
        errors.append(RowError(line, "sku", "The SKU is required."))
    stock: dict[str, Decimal] = {}
    whole = values.get("unit") in WHOLE_UNITS
    for index, code in layout.stock:
        value = raw[index].strip() if index < size else ""
        if value:
            try:
                quantity = _decimal(value)
            except _CellError as exc:
                errors.append(RowError(line, layout.stock_names[index], str(exc)))
                continue
            if whole and quantity != quantity.to_integral_value():
                errors.append(RowError(line, layout.stock_names[index], f"{values['unit']} takes whole numbers."))
            else:
                stock[code] = quantity
    return line, values, stock


def _batches(reader: Any, layout: _Layout) -> Iterator[list[tuple[Row, list[RowError]]]]:
    """The file's rows, parsed, ``BATCH`` at a time, each with its own errors."""
    batch: list[tuple[Row, list[RowError]]] = []
    size = BATCH
    try:
        for raw in reader:
            if not raw:  # a blank line
                continue
            errors: list[RowError] = []
            batch.append((_parse_row(reader.line_num, raw, layout, errors), errors))
            if len(batch) >= size:
                yield batch
                batch = []
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"The file is not UTF-8 text (near line {reader.line_num + 1}).") from exc
    except csv.Error as exc:
        raise ImportFileError(f"The CSV is malformed near line {reader.line_num}: {exc}.") from exc
    if batch:
        yield batch


def _skus_filter(skus: list[str]) -> Any:
    return Product.objects.annotate(sku_ci=Lower("sku")).filter(sku_ci__in=skus)


def _validate_batch(
    batch: list[tuple[Row, list[RowError]]],
    layout: _Layout,
    seen: set[str],
    seen_barcodes: set[str],
    invalid: set[int],
    found: dict[str, Product],
) -> list[RowError]:
    """Row-level checks that need the database or the rest of the file; adds the line
    numbers of invalid rows to ``invalid``, the batch's existing products (by lowercase
    SKU) to ``found`` for ``_prepare_batch``, and returns every error of the batch."""
    errors: list[RowError] = []
    clean = [row for row, row_errors in batch if not row_errors]
    found.update({p.sku.lower(): p for p in _skus_filter([values["sku"].lower() for _, values, _ in clean])})
    units = {sku: product.unit for sku, product in found.items()}
    # Existing products moving to a whole-number unit while fractions of them are held.
    to_whole = [
        product.pk
        for _, values, _ in clean
        if values.get("unit") in WHOLE_UNITS
        and (product := found.get(values["sku"].lower())) is not None
        and product.unit not in WHOLE_UNITS
    ]
    holding = {holder.product_id for holder in fraction_holders(product_ids=to_whole)}
    barcodes = [values["barcode"] for _, values, _ in clean if "barcode" in values]
    barcode_owner = (
        dict(
            Product.objects.filter(barcode__in=barcodes)
            .exclude(barcode="")
            .annotate(sku_ci=Lower("sku"))
            .values_list("barcode", "sku_ci")
        )
        if barcodes
        else {}
    )
    for (line, values, stock), row_errors in batch:
        if row_errors:
            errors.extend(row_errors)
            invalid.add(line)
            continue
        error = None
        sku = values["sku"].lower()
        barcode = values.get("barcode")
        if sku in seen:
            error = RowError(line, "sku", "This SKU appears earlier in the file.")
        elif barcode and (barcode in seen_barcodes or barcode_owner.get(barcode, sku) != sku):
            error = RowError(line, "barcode", "Another product already has this barcode.")
        else:
            seen.add(sku)
            if barcode:
                seen_barcodes.add(barcode)
            unit = values.get("unit") or units.get(sku, Unit.PIECE)
            if sku not in units and not values.get("name"):
                error = RowError(line, "name", "A new product needs a name.")
            elif sku in found and found[sku].pk in holding:
                error = RowError(
                    line, "unit", f"Fractions of this product are held (stock or open orders): it cannot be in {unit}."
                )
            elif unit in WHOLE_UNITS:
                fractions = [code for code, quantity in stock.items() if quantity != quantity.to_integral_value()]
                if fractions:
                    error = RowError(line, layout.stock_headers[fractions[0]], f"{unit} takes whole numbers.")
        if error is not None:
            errors.append(error)
            invalid.add(line)
    return errors


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


@dataclass
class _Batch:
    """The valid rows of one batch, ready to write: new products and existing ones."""

    first_line: int
    size: int  # rows of the file in this batch, invalid ones included (the progress counter)
    new: list[Row]
    existing: list[tuple[Row, Product]]


def _prepare_batch(
    batch: list[tuple[Row, list[RowError]]],
    invalid: set[int],
    cache: dict[str, Category],
    by_path: dict[str, Category | None],
    found: dict[str, Product],
) -> _Batch:
    """In the job's thread, after ``_validate_batch``: drops the invalid rows, resolves (and
    creates) categories, and splits new from existing products (``found`` by validation)."""
    rows = [row for row, _ in batch if row[0] not in invalid]
    keys = {
        path: _category_key(path)
        for path in {values["category"] for _, values, _ in rows if "category" in values}
        if path not in by_path
    }
    if keys:
        _categories({key: path for path, key in keys.items() if key}, cache)
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
    return _Batch(batch[0][0][0], len(batch), new, existing)


def _insert_new_products(rows: list[Row], job: ImportJob, warehouses: dict[str, Warehouse]) -> None:
    """New products, their levels (at the counted quantity) and one movement per non-zero
    count: three set-based INSERTs (core.sql.insert_columns). The rows are new, so there is
    nothing to lock; a concurrent insert of the same SKU or barcode fails the batch."""
    if any("name" not in values for _, values, _ in rows):
        raise _ChangedDuringImport("a product was deleted during the import")
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


def _update_existing_products(
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
    _apply_counts(rows, job, user, warehouses)


def _create_new_products_orm(
    rows: list[Row], job: ImportJob, user: User | None, warehouses: dict[str, Warehouse]
) -> None:
    """New products without PostgreSQL (SQLite in development): ``bulk_create`` and
    inventory.services.stock, as for existing products."""
    products = []
    for _, values, _ in rows:
        product = Product(**values)
        product.average_cost = product.cost_price
        products.append(product)
    Product.objects.bulk_create(products)
    _apply_counts(list(zip(rows, products, strict=True)), job, user, warehouses)


def _apply_counts(
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


# Errors that fail one batch (and so the job) with a message rather than a crash: a
# concurrent edit between validation and writing (a SKU or barcode taken, a product
# deleted or its unit changed), or a count below what is reserved.
_BATCH_ERRORS = (IntegrityError, DataError, ValidationFailed, InsufficientStock, _ChangedDuringImport)


@dataclass
class _Outcome:
    created: int = 0
    updated: int = 0
    processed: int = 0
    failure: str | None = None  # the first failed batch
    crash: BaseException | None = None  # anything else: re-raised in the job's thread


class _RollBack(Exception):
    """Ends a writer's transaction without committing it."""


class _Writers:
    """Writes batches while the job's thread goes on reading and validating the file.

    ``count`` writer threads, each with its own database connection (Django's are per
    thread) and a copy of the caller's context, so the tenant is the job's. Each writer
    holds ONE transaction for all its batches: nothing is visible before the end, and
    ``close(commit=...)`` decides for all of them at once, after every writer has written
    its batches. The writers check foreign keys statement by statement (``SET CONSTRAINTS
    ALL IMMEDIATE``), so the COMMITs have nothing left that can fail but the server
    itself. Batches hold distinct products (a SKU appears once in a valid file), so the writers never
    wait on each other. With ``count`` 0 (tests inside a transaction, SQLite) the batches
    are written in the calling thread, in one atomic block."""

    def __init__(self, job: ImportJob, user: User | None, warehouses: dict[str, Warehouse], count: int) -> None:
        self.job, self.user, self.warehouses = job, user, warehouses
        self.outcome = _Outcome()
        self._lock = threading.Lock()
        self._queue: queue.Queue[_Batch | None] = queue.Queue(maxsize=max(count, 1))
        self._commit = False
        self._barrier = threading.Barrier(count + 1)
        self._written = 0  # batches written in the calling thread (count 0)
        self._inline = transaction.atomic() if count == 0 else None
        if self._inline is not None:
            self._inline.__enter__()
        self._threads = [
            threading.Thread(target=contextvars.copy_context().run, args=(self._loop,), name=f"import-writer-{n}")
            for n in range(count)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def stopped(self) -> bool:
        return self.outcome.failure is not None or self.outcome.crash is not None

    @property
    def processed(self) -> int:
        with self._lock:
            return self.outcome.processed

    @property
    def committed(self) -> bool:
        return self._commit

    def submit(self, batch: _Batch) -> None:
        if self._threads:
            self._put(batch)
        else:
            self._written += 1
            self._write(batch, self._written)

    def _put(self, item: _Batch | None) -> None:
        while self.outcome.crash is None:  # a writer that died stops taking batches
            try:
                self._queue.put(item, timeout=1)
                return
            except queue.Full:
                continue

    def close(self, *, commit: bool) -> _Outcome:
        """Waits for every batch, then commits all writers' transactions (``commit`` and
        no batch failed) or rolls all of them back."""
        if self._inline is not None:
            self._commit = commit and not self.stopped
            if self._commit:
                self._inline.__exit__(None, None, None)
            else:
                self._inline.__exit__(_RollBack, _RollBack(), None)
        else:
            for _ in self._threads:
                self._put(None)
            try:
                self._barrier.wait()  # every writer has written and checked its batches
                self._commit = commit and not self.stopped
                self._barrier.wait()  # the decision is made
            except threading.BrokenBarrierError:  # a writer died: all roll back
                self._commit = False
            for thread in self._threads:
                thread.join()
        if self.outcome.crash is not None:
            raise self.outcome.crash
        return self.outcome

    def _loop(self) -> None:
        written = 0
        try:
            with transaction.atomic():
                # Foreign keys checked at the end of each statement rather than all at the
                # COMMIT: the same work, but it overlaps with the reading of later batches,
                # and a refused row fails its own batch (see _write).
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                while (batch := self._queue.get()) is not None:
                    if not self.stopped:
                        written += 1
                        self._write(batch, written)
                self._barrier.wait()
                self._barrier.wait()
                if not self._commit:
                    raise _RollBack
        except _RollBack:
            pass
        except BaseException as exc:  # noqa: BLE001 - re-raised in the job's thread by close()
            with self._lock:
                self.outcome.crash = self.outcome.crash or exc
            self._barrier.abort()
        finally:
            connection.close()  # this thread's own connection

    def _write(self, batch: _Batch, written: int) -> None:
        try:
            with transaction.atomic():  # a savepoint: a failed batch leaves the transaction usable
                if written > 1 and written & (written - 1) == 0:  # this connection's batches 2, 4, 8, ...
                    _discard_cached_plans()
                if batch.new and connection.vendor == "postgresql":
                    _insert_new_products(batch.new, self.job, self.warehouses)
                elif batch.new:
                    _create_new_products_orm(batch.new, self.job, self.user, self.warehouses)
                if batch.existing:
                    _update_existing_products(batch.existing, self.job, self.user, self.warehouses)
        except _BATCH_ERRORS as exc:
            with self._lock:
                if self.outcome.failure is None:
                    self.outcome.failure = f"Rows from line {batch.first_line} could not be written ({_reason(exc)})"
            return
        except BaseException as exc:  # noqa: BLE001 - re-raised in the job's thread by close()
            with self._lock:
                self.outcome.crash = self.outcome.crash or exc
            return
        with self._lock:
            self.outcome.created += len(batch.new)
            self.outcome.updated += len(batch.existing)
            self.outcome.processed += batch.size


def _reason(exc: BaseException) -> str:
    if isinstance(exc, _ChangedDuringImport | InsufficientStock):
        return f"{exc.__class__.__name__}: {exc}"
    return exc.__class__.__name__


def _writer_count() -> int:
    """Writer threads: only when this connection is not inside a transaction (another
    connection could not see its uncommitted rows), i.e. in the Celery task."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return 0
    return WRITERS


def _estimated_rows(job: ImportJob) -> int:
    """Lines after the header: the total shown while the job runs (exact at the end; a
    quoted cell with line breaks makes it an over-estimate until then)."""
    lines = 0
    with default_storage.open(job.storage_key, "rb") as raw:
        while chunk := raw.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk
    if lines and not last.endswith(b"\n"):
        lines += 1
    return max(lines - 1, 0)


def run_import_job(*, job: ImportJob) -> ImportJob:
    """Runs in the job's tenant context, outside a transaction.

    One pass over the file: the job's thread parses and validates each batch and hands
    the valid rows to the writers, which write them in transactions held open until the
    end. If any row is invalid (and ``skip_invalid_rows`` is off) or a batch cannot be
    written, every writer rolls back: nothing is imported. Otherwise all commit."""
    started = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, started_at=started, total_rows=_estimated_rows(job)
    )
    warehouses = {w.code.lower(): w for w in Warehouse.objects.all()}
    errors: list[dict[str, Any]] = []
    invalid: set[int] = set()
    error_count = total = 0
    user = User.objects.filter(pk=job.created_by_id).first() if job.created_by_id else None
    cache: dict[str, Category] = {}  # by normalized path
    by_path: dict[str, Category | None] = {}  # by the path as written
    try:
        raw, reader = _open_rows(job)
        with raw:
            layout = _header(reader, warehouses)
            seen: set[str] = set()
            seen_barcodes: set[str] = set()
            writers = _Writers(job, user, warehouses, _writer_count())
            valid = False
            try:
                for batch in _batches(reader, layout):
                    total += len(batch)
                    found: dict[str, Product] = {}
                    batch_errors = _validate_batch(batch, layout, seen, seen_barcodes, invalid, found)
                    error_count += len(batch_errors)
                    errors.extend(e.as_dict() for e in batch_errors[: MAX_STORED_ERRORS - len(errors)])
                    if (error_count and not job.skip_invalid_rows) or writers.stopped:
                        continue  # nothing more is written; the rest is still validated
                    writers.submit(_prepare_batch(batch, invalid, cache, by_path, found))
                    ImportJob.objects.filter(pk=job.pk).update(
                        processed_rows=writers.processed, error_count=error_count
                    )
                valid = not (error_count and not job.skip_invalid_rows)
            finally:
                outcome = writers.close(commit=valid)
    except ImportFileError as exc:
        return _finish(job, JobStatus.FAILED, str(exc))
    ImportJob.objects.filter(pk=job.pk).update(
        total_rows=total,
        error_count=error_count,
        errors=errors,
        processed_rows=outcome.processed if writers.committed else 0,
        created_count=outcome.created if writers.committed else 0,
        updated_count=outcome.updated if writers.committed else 0,
    )
    if error_count and not job.skip_invalid_rows:
        return _finish(job, JobStatus.FAILED, f"{error_count} invalid rows: nothing was imported.")
    if outcome.failure is not None:
        return _finish(
            job, JobStatus.FAILED, f"{outcome.failure}; nothing was imported. Re-run the file (it is safe to repeat)."
        )
    skipped = f" {error_count} invalid rows skipped." if error_count else ""
    return _finish(job, JobStatus.SUCCEEDED, f"{outcome.created} products created, {outcome.updated} updated.{skipped}")


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
