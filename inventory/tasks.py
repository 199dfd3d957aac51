"""Celery tasks of the inventory module: imports, exports, the low-stock scan and digest."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from inventory.imports.services import import_job_crashed, import_job_run
from inventory.models import ExportJob, ImportJob, JobStatus
from inventory.services import alerts
from inventory.services.exports import export_job_run
from tenants.context import user_context
from tenants.models import Tenant, TenantStatus
from tenants.tasking import TenantTask, dispatch, ops_database, redispatch_claim

logger = logging.getLogger(__name__)

NEVER_STARTED = "The job could not be started (the task queue was unavailable). Start it again."


@shared_task(base=TenantTask, atomic=False, acks_late=True)
def run_import(*, tenant_id: str, job_id: str) -> None:
    # Claimed in one statement: of two deliveries of the job (a redelivered message, or the
    # dispatch sweep's while the first was still queued) only one finds it pending.
    claimed = ImportJob.objects.filter(pk=job_id, status=JobStatus.PENDING).update(
        status=JobStatus.RUNNING, started_at=timezone.now()
    )
    job = ImportJob.objects.filter(pk=job_id).first() if claimed else None
    if job is None:  # already running or done, or deleted
        return
    # The job acts for the user who started it: its events name that user as the actor.
    with user_context(job.created_by_id):
        try:
            import_job_run(job=job)
        except Exception:
            logger.exception("import job %s crashed", job_id)
            import_job_crashed(job_id=job_id, message="The import stopped on an internal error. It has been logged.")
            raise


@shared_task(base=TenantTask, acks_late=True)
def run_export(*, tenant_id: str, job_id: str) -> None:
    # Locked for the task's transaction: a second delivery skips it while it runs, and
    # finds it succeeded afterwards.
    job = ExportJob.objects.select_for_update(skip_locked=True).filter(pk=job_id, status=JobStatus.PENDING).first()
    if job is not None:
        with user_context(job.created_by_id):  # the job's events name its user as the actor
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


@shared_task
def redispatch_pending_jobs() -> None:
    """Celery beat: queues again the import and export jobs still pending after the grace
    period (the broker was down when they were created, or the message was lost); a job
    queued DISPATCH_MAX_ATTEMPTS times that never started is failed with a message."""
    ops = ops_database()
    if ops is None:
        return
    now = timezone.now()
    for model, task in ((ImportJob, run_import), (ExportJob, run_export)):
        pending = model.unscoped.using(ops).filter(status=JobStatus.PENDING, tenant__status=TenantStatus.ACTIVE)
        for job in redispatch_claim(pending):
            dispatch(task, tenant_id=str(job.tenant_id), job_id=str(job.id))
        model.unscoped.using(ops).filter(
            status=JobStatus.PENDING,
            dispatch_attempts__gte=settings.DISPATCH_MAX_ATTEMPTS,
            dispatched_at__lte=now - timedelta(seconds=settings.DISPATCH_GRACE_SECONDS),
        ).update(status=JobStatus.FAILED, finished_at=now, message=NEVER_STARTED)
