"""The import job: created by the API, run by the Celery task ``inventory.tasks.run_import``.

The services do not queue the task: the interface that creates a job does (the API view,
with ``tenants.tasking.enqueue_on_commit``), so inventory.tasks depends on this module
and never the reverse. A job stays ``pending`` until a task runs it."""

from __future__ import annotations

import codecs
import csv
import io
from contextlib import nullcontext
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.utils import timezone

from core.errors import PaymentRequired, ValidationFailed
from core.sql import analyze_grown
from inventory import errors as codes
from inventory.imports import parse, validate, write, writers
from inventory.models import Category, ImportJob, JobStatus, Product, Warehouse
from tenants import events
from tenants.context import get_current_tenant
from tenants.entitlements import Limit, limit_check
from tenants.models import User

MAX_STORED_ERRORS = 1000
HEADER_MAX_BYTES = 64 * 1024


def _check_size(upload: UploadedFile) -> None:
    if upload.size and upload.size > settings.IMPORT_MAX_BYTES:
        raise ValidationFailed.for_field(
            "file", "file_too_large", f"The file is larger than {settings.IMPORT_MAX_BYTES // 1_000_000} MB."
        )


def import_upload_check(*, upload: UploadedFile) -> None:
    """Reads the size and the first line of an upload before a job is made, so that an
    interface can answer a file that cannot be imported at all (too large, not UTF-8 text,
    not CSV, unknown columns, no ``sku``, an unknown warehouse) at once, in the words the
    job would fail with. The job checks it all again (the API skips this step and gets a
    failed job instead). Rows are not read: their errors are the job's."""
    _check_size(upload)
    upload.seek(0)
    head = upload.read(HEADER_MAX_BYTES)
    upload.seek(0)
    try:
        # Incremental: a character cut in two at the end of the prefix is not an error.
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=len(head) < HEADER_MAX_BYTES)
    except UnicodeDecodeError as exc:
        raise ValidationFailed.for_field(
            "file", codes.IMPORT_FILE_INVALID, "The file is not UTF-8 text: save it as CSV (UTF-8) and try again."
        ) from exc
    if len(head) >= HEADER_MAX_BYTES:
        end = text.rfind("\n")
        if end < 0:
            raise ValidationFailed.for_field(
                "file", codes.IMPORT_FILE_INVALID, "The first line is longer than 64 KB: this is not a CSV file."
            )
        text = text[: end + 1]
    warehouses = {w.code.lower(): w for w in Warehouse.objects.all()}
    try:
        parse.header(csv.reader(io.StringIO(text, newline=""), strict=True), warehouses)
    except parse.ImportFileError as exc:
        raise ValidationFailed.for_field("file", codes.IMPORT_FILE_INVALID, str(exc)) from exc


@transaction.atomic
def import_job_create(*, upload: UploadedFile, skip_invalid_rows: bool, user: User | None) -> ImportJob:
    """Stores the file and records the job (``pending``); the caller queues ``run_import``."""
    _check_size(upload)
    job = ImportJob(file_name=(upload.name or "upload.csv")[:255], skip_invalid_rows=skip_invalid_rows, created_by=user)
    job.storage_key = default_storage.save(f"imports/{get_current_tenant().id}/{job.id}.csv", upload)
    job.save()
    return job


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


def import_job_run(*, job: ImportJob) -> ImportJob:
    """Runs in the job's tenant context, outside a transaction.

    One pass over the file: the job's thread parses and validates each batch and hands
    the valid rows to the writers, which write them in transactions held open until the
    end. If any row is invalid (and ``skip_invalid_rows`` is off) or a batch cannot be
    written, every writer rolls back and the categories the job made are removed again:
    nothing is imported. Otherwise all commit."""
    started = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, started_at=started, total_rows=_estimated_rows(job)
    )
    warehouses = {w.code.lower(): w for w in Warehouse.objects.all()}
    errors: list[dict[str, Any]] = []
    invalid: set[int] = set()
    error_count = total = 0
    user = User.objects.filter(pk=job.created_by_id).first() if job.created_by_id else None
    cache: dict[tuple[str, ...], Category] = {}  # by the names of the path (lowercase, and as written)
    created: list[Category] = []  # categories this job made (removed again if it fails)
    committed = False
    new_rows = 0
    over_limit = ""
    try:
        try:
            raw, reader = parse.open_rows(job)
            with raw:
                layout = parse.header(reader, warehouses)
                seen: set[str] = set()
                seen_barcodes: set[str] = set()
                pool = writers.Writers(job, user, warehouses, writers.writer_count())
                valid = False
                try:
                    for batch in parse.batches(reader, layout):
                        total += batch.lines
                        found: dict[str, Product] = {}
                        batch_errors = validate.validate_batch(
                            batch, layout, seen, seen_barcodes, invalid, found, warehouses
                        )
                        error_count += len(batch_errors)
                        errors.extend(e.as_dict() for e in batch_errors[: MAX_STORED_ERRORS - len(errors)])
                        if (error_count and not job.skip_invalid_rows) or pool.stopped:
                            continue  # nothing more is written; the rest is still validated
                        prepared = write.prepare_batch(batch, invalid, cache, created, found)
                        new_rows += len(prepared.new)
                        pool.submit(prepared)
                        ImportJob.objects.filter(pk=job.pk).update(
                            processed_rows=pool.processed, error_count=error_count
                        )
                    valid = not (error_count and not job.skip_invalid_rows)
                finally:
                    try:
                        # The plan's product limit, checked under its lock (held until the
                        # writers have committed, so a concurrent create counts their rows).
                        with nullcontext() if connection.in_atomic_block else transaction.atomic():
                            if valid and new_rows:
                                try:
                                    limit_check(tenant=get_current_tenant(), limit=Limit.PRODUCTS, adding=new_rows)
                                except PaymentRequired as exc:
                                    valid, over_limit = False, exc.message
                            outcome = pool.close(commit=valid)
                            committed = pool.committed
                    finally:
                        # This thread failed before the writers were told (its connection
                        # dropped, a pooler's timeout): they roll back instead of waiting.
                        pool.abandon()
        except parse.ImportFileError as exc:
            return _finish(job, JobStatus.FAILED, str(exc))
    finally:
        if not committed:
            write.categories_remove(created)
    if committed and not connection.in_atomic_block:
        # The tables may have grown from nothing: refresh the planner's statistics before the
        # lists read them (autovacuum may be off, or a while away). Not inside a caller's
        # transaction (tests): the rows would not be committed yet.
        analyze_grown(outcome.inserted)
    ImportJob.objects.filter(pk=job.pk).update(
        total_rows=total,
        error_count=error_count,
        errors=errors,
        processed_rows=outcome.processed if committed else 0,
        created_count=outcome.created if committed else 0,
        updated_count=outcome.updated if committed else 0,
    )
    if error_count and not job.skip_invalid_rows:
        return _finish(job, JobStatus.FAILED, f"{error_count} invalid rows: nothing was imported.")
    if over_limit:
        return _finish(job, JobStatus.FAILED, f"{over_limit} Nothing was imported.")
    if outcome.failure is not None:
        return _finish(
            job, JobStatus.FAILED, f"{outcome.failure}; nothing was imported. Re-run the file (it is safe to repeat)."
        )
    skipped = f" {error_count} invalid rows skipped." if error_count else ""
    return _finish(job, JobStatus.SUCCEEDED, f"{outcome.created} products created, {outcome.updated} updated.{skipped}")


@transaction.atomic
def _finish(job: ImportJob, status: str, message: str) -> ImportJob:
    """Ends the job with ``status`` and records ``import.finished``."""
    ImportJob.objects.filter(pk=job.pk).update(status=status, message=message, finished_at=timezone.now())
    job.refresh_from_db()
    events.record(
        "import.finished",
        job,
        {
            "status": job.status,
            "file_name": job.file_name,
            "rows": job.total_rows,
            "created": job.created_count,
            "updated": job.updated_count,
            "failed": job.error_count,
            "message": job.message,
        },
    )
    return job


def import_job_crashed(*, job_id: Any, message: str) -> ImportJob | None:
    """Fails a job that stopped on an internal error (the task logged it); nothing of it
    was committed (the writers roll back together)."""
    job = ImportJob.objects.filter(pk=job_id).first()
    return _finish(job, JobStatus.FAILED, message) if job is not None else None
