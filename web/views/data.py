"""Imports and exports: upload a CSV of products (a job run by Celery), watch it run (the
status part of the page polls itself every second until the job has finished), read
the rows it refused; start an export, watch it, download the file. The roles are the
API's: managers import, every member exports."""

from __future__ import annotations

import csv
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from core.errors import Conflict, DomainError, NotFound
from inventory import selectors
from inventory.csvformat import neutralize
from inventory.imports.services import import_job_create, import_upload_check
from inventory.models import ExportJob, ImportJob, JobStatus, MovementKind
from inventory.services.exports import EXPORT_CONTENT_TYPE, ExportLink, export_job_create, export_job_download
from tenants.models import Role
from tenants.tasking import enqueue_on_commit
from web.console import console_view, membership_of
from web.forms import ExportForm, ImportForm, apply_error, bound
from web.pages import render_list
from web.templatetags.stockroom import day

PAGE_SIZE = 25
FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED)


def _slug(request: HttpRequest) -> str:
    return str(request.resolver_match.kwargs["slug"])  # type: ignore[union-attr]


def _job_or_404(queryset: Any, job_id: Any, what: str) -> Any:
    try:
        return selectors.get_or_404(queryset, id=job_id, what=what)
    except NotFound as exc:
        raise Http404(exc.message) from exc


# --- Imports -------------------------------------------------------------------------------


@console_view()
def import_list(request: HttpRequest) -> HttpResponse:
    jobs = selectors.import_job_list().order_by("-created_at", "-pk")
    page = Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/console/imports.html", {"page": page, "section": "imports"})


@console_view(read=Role.MANAGER)
def import_create(request: HttpRequest) -> HttpResponse:
    form = ImportForm(bound(request), request.FILES if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            import_upload_check(upload=upload)
            job = import_job_create(
                upload=upload,
                skip_invalid_rows=form.cleaned_data["skip_invalid_rows"],
                user=membership_of(request).user,
            )
        except DomainError as exc:
            apply_error(form, exc)
        else:
            enqueue_on_commit("inventory.tasks.run_import", job_id=str(job.id))
            messages.success(request, f"Import of {job.file_name} started.")
            return redirect("web:import", slug=_slug(request), import_job_id=job.id)
    return render(
        request,
        "web/console/import_new.html",
        {"form": form, "section": "imports", "title": "Import products"},
        status=400 if form.errors else 200,
    )


@console_view()
def import_detail(request: HttpRequest, import_job_id: uuid.UUID) -> HttpResponse:
    job: ImportJob = _job_or_404(selectors.import_job_list(), import_job_id, "import")
    context = {
        "job": job,
        "finished": job.status in FINISHED,
        "errors": Paginator(job.errors or [], PAGE_SIZE).get_page(request.GET.get("page")),
        "section": "imports",
    }
    return render_list(request, "web/console/import_job.html", "status", context)


@console_view()
def import_errors(request: HttpRequest, import_job_id: uuid.UUID) -> HttpResponse:
    """The job's refused rows as CSV (row, column, message), for fixing the file."""
    job: ImportJob = _job_or_404(selectors.import_job_list(), import_job_id, "import")
    response = HttpResponse(content_type="text/csv")
    stem = (job.file_name.rsplit(".", 1)[0] or "import")[:100]
    response["Content-Disposition"] = f'attachment; filename="{_safe_name(stem)}-errors.csv"'
    writer = csv.writer(response)
    writer.writerow(["row", "column", "message"])
    for error in job.errors or []:
        writer.writerow(
            [error.get("row", ""), neutralize(str(error.get("column", ""))), neutralize(str(error.get("message", "")))]
        )
    return response


def _safe_name(text: str) -> str:
    """A file name that needs no quoting in a header."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in text) or "import"


# --- Exports -------------------------------------------------------------------------------


@console_view()
def export_list(request: HttpRequest) -> HttpResponse:
    jobs = selectors.export_job_list().order_by("-created_at", "-pk")
    page = Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/console/exports.html", {"page": page, "section": "exports"})


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _end_of(day: date) -> datetime | None:
    """The start of the next day (the filter is "before"); none after the last date."""
    try:
        return _start_of(day + timedelta(days=1))
    except OverflowError:
        return None


@console_view()
def export_create(request: HttpRequest) -> HttpResponse:
    warehouses = selectors.warehouse_list().order_by("code")
    form = ExportForm(bound(request), initial={"kind": request.GET.get("kind")}, warehouses=warehouses)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        product = selectors.product_by_code(code=data["product"]) if data["product"] else None
        if data["product"] and product is None:
            form.add_error("product", "No product has this SKU or barcode.")
            form.mark_errors()
        else:
            try:
                job = export_job_create(
                    kind=data["kind"],
                    user=membership_of(request).user,
                    product=product,
                    warehouse=data["warehouse"],
                    movement_kind=data["movement_kind"] or None,
                    created_after=_start_of(data["date_from"]) if data["date_from"] else None,
                    created_before=_end_of(data["date_to"]) if data["date_to"] else None,
                )
            except DomainError as exc:
                apply_error(form, exc)
            else:
                enqueue_on_commit("inventory.tasks.run_export", job_id=str(job.id))
                messages.success(request, f"Export of {job.get_kind_display().lower()} started.")
                return redirect("web:export", slug=_slug(request), export_job_id=job.id)
    exports = reverse("web:exports", kwargs={"slug": _slug(request)})
    return render(
        request,
        "web/console/edit_form.html",
        {
            "form": form,
            "section": "exports",
            "title": "New export",
            "crumbs": [("Exports", exports)],
            "cancel_url": exports,
            "submit": "Start the export",
        },
        status=400 if form.errors else 200,
    )


@console_view()
def export_detail(request: HttpRequest, export_job_id: uuid.UUID) -> HttpResponse:
    job: ExportJob = _job_or_404(selectors.export_job_list(), export_job_id, "export")
    context = {"job": job, "finished": job.status in FINISHED, "filters": _filters(job), "section": "exports"}
    return render_list(request, "web/console/export_job.html", "status", context)


def _filters(job: ExportJob) -> list[tuple[str, str]]:
    """The job's filters in words: the product's SKU, the warehouse's code, the dates."""
    found = job.filters or {}
    shown: list[tuple[str, str]] = []
    if "product" in found:
        product = selectors.product_list().filter(pk=found["product"]).first()
        shown.append(("Product", product.sku if product else "(deleted)"))
    if "warehouse" in found:
        warehouse = selectors.warehouse_list().filter(pk=found["warehouse"]).first()
        shown.append(("Warehouse", warehouse.code if warehouse else "(deleted)"))
    if "movement_kind" in found:
        shown.append(
            ("Movement kind", str(dict(MovementKind.choices).get(found["movement_kind"], found["movement_kind"])))
        )
    for key, label in (("created_after", "From"), ("created_before", "Before")):
        if key in found:
            try:
                shown.append((label, day(datetime.fromisoformat(found[key]))))
            except (TypeError, ValueError):
                shown.append((label, str(found[key])))
    return shown


@console_view()
def export_download(request: HttpRequest, export_job_id: uuid.UUID) -> HttpResponse:
    job: ExportJob = _job_or_404(selectors.export_job_list(), export_job_id, "export")
    try:
        export = export_job_download(job=job)
    except Conflict as exc:
        messages.warning(request, exc.message)
        return redirect("web:export", slug=_slug(request), export_job_id=job.id)
    if isinstance(export, ExportLink):  # on S3: a presigned URL of the file, which expires
        return HttpResponseRedirect(export.url)
    # A streamed response, not an HttpResponse: the console's views are typed for the usual one.
    return FileResponse(  # type: ignore[return-value]
        export.file, as_attachment=True, filename=export.name, content_type=EXPORT_CONTENT_TYPE
    )
