"""CSV exports of products, stock levels and movements, run by the Celery task
``inventory.tasks.run_export`` (queued by the interface that creates the job, as for
imports); the file is stored under ``exports/<tenant>/<job>.csv``."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from core import storage
from core.db import read_alias
from core.errors import Conflict
from inventory import errors
from inventory.csvformat import boolean, category_path_join, neutralize
from inventory.models import Category, ExportJob, ExportKind, JobStatus, Product, StockLevel, StockMovement, Warehouse
from tenants import events
from tenants.context import get_current_tenant
from tenants.entitlements import Feature, require_feature
from tenants.models import User


@transaction.atomic
def export_job_create(
    *,
    kind: str,
    user: User | None,
    product: Product | None = None,
    warehouse: Warehouse | None = None,
    movement_kind: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> ExportJob:
    """Records the job (``pending``) with its filters; the caller queues ``run_export``.
    403 ``feature_not_in_plan`` when the workspace's plan has no exports."""
    require_feature(get_current_tenant(), Feature.EXPORTS)
    filters: dict[str, str] = {}
    if product is not None:
        filters["product"] = str(product.pk)
    if warehouse is not None:
        filters["warehouse"] = str(warehouse.pk)
    if movement_kind is not None:
        filters["movement_kind"] = movement_kind
    if created_after is not None:
        filters["created_after"] = created_after.isoformat()
    if created_before is not None:
        filters["created_before"] = created_before.isoformat()
    job = ExportJob.objects.create(kind=kind, filters=filters, created_by=user)
    return job


EXPORT_CONTENT_TYPE = "text/csv"


@dataclass(frozen=True)
class ExportFile:
    """A finished export's stored file, opened for reading (the caller streams and closes
    it), and its download name."""

    file: IO[bytes]
    name: str


@dataclass(frozen=True)
class ExportLink:
    """Where the client downloads a finished export from the storage itself (S3: a
    presigned URL that expires), saved under ``name``."""

    url: str
    name: str


def export_job_download(*, job: ExportJob) -> ExportFile | ExportLink:
    """A finished export for its download (409 ``export_not_ready`` before): a link when the
    storage serves files itself (S3), else the file to stream. The caller has checked that
    the job is the current tenant's (it comes from a tenant-scoped query)."""
    if job.status != JobStatus.SUCCEEDED or not job.storage_key:
        raise Conflict("This export has not finished.", code=errors.EXPORT_NOT_READY)
    if not default_storage.exists(job.storage_key):
        # Files are not kept for ever (the bucket's lifecycle rule, docs/deploy.md): a link
        # would lead to the storage's own error page, and a missing file to a 500.
        raise Conflict("This export's file is no longer kept: start a new export.", code=errors.EXPORT_EXPIRED)
    name = f"{job.kind}-{job.created_at:%Y%m%d-%H%M%S}.csv"
    url = storage.download_url(name=job.storage_key, filename=name, content_type=EXPORT_CONTENT_TYPE)
    if url is not None:
        return ExportLink(url=url, name=name)
    return ExportFile(file=default_storage.open(job.storage_key, "rb"), name=name)


# (header, field path) per kind. The products export has the import's columns (plus the
# read-only average_cost), the stock-levels export the import's stock-levels layout.
EXPORT_COLUMNS: dict[str, list[tuple[str, str]]] = {
    ExportKind.PRODUCTS: [
        ("sku", "sku"),
        ("name", "name"),
        ("description", "description"),
        ("category", "category_id"),
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
        ("attributes", "attributes"),
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


def _category_paths(*, using: str) -> dict[Any, str]:
    """Every category's full path, as the import reads it (``Hardware > Bolts``)."""
    rows = {
        pk: (name, parent) for pk, name, parent in Category.objects.using(using).values_list("id", "name", "parent_id")
    }
    paths: dict[Any, str] = {}

    def names(pk: Any) -> list[str]:
        chain: list[str] = []
        while pk is not None and len(chain) <= len(rows):  # the bound guards against a cycle
            name, pk = rows[pk]
            chain.append(name)
        return chain[::-1]

    for pk in rows:
        paths[pk] = category_path_join(names(pk))
    return paths


def _cell(value: Any) -> Any:
    """A value as a CSV cell: text neutralized (csvformat), numbers as numbers, booleans as
    ``true``/``false``, timestamps in ISO 8601, JSON objects as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralize(value)
    if isinstance(value, bool):
        return boolean(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return neutralize(json.dumps(value, ensure_ascii=False))
    return value  # Decimal, int, UUID


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


def export_job_run(*, job: ExportJob) -> ExportJob:
    """Writes the export's CSV. The rows come from the read replica when one is configured
    (core.db.read_alias), in a transaction of that connection, which sets the tenant there
    as on the primary; the job's own record is written on the primary."""
    columns = EXPORT_COLUMNS[job.kind]
    alias = read_alias()
    count = 0
    reading = nullcontext() if alias == "default" else transaction.atomic(using=alias)
    with reading, tempfile.TemporaryFile("w+b") as handle:
        rows = _export_queryset(job).using(alias).values_list(*[path for _, path in columns])
        category = next((i for i, (_, path) in enumerate(columns) if path == "category_id"), None)
        paths = _category_paths(using=alias) if category is not None else {}
        text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
        writer = csv.writer(text)
        writer.writerow([name for name, _ in columns])
        for row in rows.iterator(chunk_size=2000):
            cells = [_cell(value) for value in row]
            if category is not None:
                cells[category] = neutralize(paths[row[category]]) if row[category] is not None else ""
            writer.writerow(cells)
            count += 1
        text.flush()
        handle.seek(0)
        key = default_storage.save(f"exports/{get_current_tenant().id}/{job.id}.csv", File(handle))
        text.detach()
    with transaction.atomic():
        job.storage_key, job.row_count, job.status, job.finished_at = key, count, JobStatus.SUCCEEDED, timezone.now()
        job.save(update_fields=["storage_key", "row_count", "status", "finished_at"])
        events.record("export.finished", job, {"kind": job.kind, "status": job.status, "rows": count})
    return job
