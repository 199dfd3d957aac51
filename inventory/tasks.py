"""Celery tasks of the inventory module: imports, exports, the low-stock scan and digest."""

from __future__ import annotations

import logging

from celery import shared_task

from inventory.imports.services import import_job_run
from inventory.models import ExportJob, ImportJob, JobStatus
from inventory.services import alerts
from inventory.services.exports import export_job_run
from tenants.models import Tenant, TenantStatus
from tenants.tasking import TenantTask

logger = logging.getLogger(__name__)


@shared_task(base=TenantTask, atomic=False, acks_late=True)
def run_import(*, tenant_id: str, job_id: str) -> None:
    job = ImportJob.objects.filter(pk=job_id, status=JobStatus.PENDING).first()
    if job is None:  # already run (a redelivered message) or deleted
        return
    try:
        import_job_run(job=job)
    except Exception:
        logger.exception("import job %s crashed", job_id)
        ImportJob.objects.filter(pk=job_id).update(
            status=JobStatus.FAILED, message="The import stopped on an internal error. It has been logged."
        )
        raise


@shared_task(base=TenantTask, acks_late=True)
def run_export(*, tenant_id: str, job_id: str) -> None:
    job = ExportJob.objects.filter(pk=job_id, status=JobStatus.PENDING).first()
    if job is not None:
        export_job_run(job=job)


@shared_task(base=TenantTask)
def low_stock_scan_tenant(*, tenant_id: str) -> None:
    alerts.low_stock_scan()


@shared_task(base=TenantTask)
def low_stock_digest_tenant(*, tenant_id: str) -> None:
    alerts.low_stock_digest()


@shared_task
def low_stock_scan() -> None:
    """Celery beat: one scan task per active tenant."""
    for tenant_id in Tenant.objects.filter(status=TenantStatus.ACTIVE).values_list("id", flat=True):
        low_stock_scan_tenant.delay(tenant_id=str(tenant_id))


@shared_task
def low_stock_digest() -> None:
    """Celery beat, daily: the digest of open alerts to each tenant's managers."""
    for tenant_id in Tenant.objects.filter(status=TenantStatus.ACTIVE).values_list("id", flat=True):
        low_stock_digest_tenant.delay(tenant_id=str(tenant_id))
