"""Import and export jobs created while the Celery broker is down: the request succeeds,
the job stays pending, and the beat sweep (ops alias, across tenants) queues it again."""

import logging
from datetime import timedelta

from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from inventory.models import ExportJob, ImportJob, JobStatus, Product
from inventory.tasks import NEVER_STARTED, redispatch_pending_jobs, run_import
from inventory.tests.factories import make_product
from tenants.context import tenant_context
from tenants.models import Role
from tenants.tests.factories import client_for, make_member, make_tenant


def _queue_failures(caplog, task):
    return [
        r for r in caplog.records if r.levelno == logging.ERROR and f"could not queue task {task}" in r.getMessage()
    ]


def test_jobs_are_created_while_the_broker_is_down_and_the_sweep_runs_them(committed, broker_down, caplog, settings):
    member = make_member(make_tenant(slug="jobs-broker"), Role.OWNER)
    with tenant_context(member.tenant):
        make_product(sku="EXISTING")
    client = client_for(member)

    imported = client.post(
        "/api/v1/imports/",
        {"file": SimpleUploadedFile("p.csv", b"sku,name\nNEW-1,New one\n")},
        format="multipart",
    )
    exported = client.post("/api/v1/exports/", {"kind": "products"})

    assert imported.status_code == 202, imported.content
    assert exported.status_code == 202, exported.content
    with tenant_context(member.tenant), transaction.atomic():
        assert ImportJob.objects.get().status == ExportJob.objects.get().status == JobStatus.PENDING
    assert len(_queue_failures(caplog, "inventory.tasks.run_import")) == 1
    assert len(_queue_failures(caplog, "inventory.tasks.run_export")) == 1

    broker_down.end()
    settings.DISPATCH_GRACE_SECONDS = 0
    redispatch_pending_jobs()
    redispatch_pending_jobs()  # done by now: nothing runs twice

    with tenant_context(member.tenant), transaction.atomic():
        import_job, export_job = ImportJob.objects.get(), ExportJob.objects.get()
        assert (import_job.status, import_job.created_count, import_job.dispatch_attempts) == ("succeeded", 1, 2)
        assert (export_job.status, export_job.row_count, export_job.dispatch_attempts) == ("succeeded", 2, 2)
        assert sorted(Product.objects.values_list("sku", flat=True)) == ["EXISTING", "NEW-1"]
    assert client.get(f"/api/v1/exports/{export_job.id}/").json()["status"] == "succeeded"


def test_a_job_never_started_after_the_last_attempt_fails_with_a_message(committed, settings):
    tenant = make_tenant(slug="jobs-given-up")
    long_ago = timezone.now() - timedelta(hours=2)
    with tenant_context(tenant):
        job = ExportJob.objects.create(
            kind="products", dispatched_at=long_ago, dispatch_attempts=django_settings.DISPATCH_MAX_ATTEMPTS
        )
    settings.DISPATCH_GRACE_SECONDS = 300

    redispatch_pending_jobs()

    with tenant_context(tenant), transaction.atomic():
        job.refresh_from_db()
    assert (job.status, job.message, job.dispatch_attempts) == ("failed", NEVER_STARTED, 5)


def test_import_task_runs_a_job_only_once(committed, settings):
    member = make_member(make_tenant(slug="jobs-once"), Role.OWNER)
    response = client_for(member).post(
        "/api/v1/imports/",
        {"file": SimpleUploadedFile("p.csv", b"sku,name\nONCE-1,Once\n")},
        format="multipart",
    )
    assert response.status_code == 202
    with tenant_context(member.tenant), transaction.atomic():
        job = ImportJob.objects.get()
        assert job.status == "succeeded"
        ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)  # as if a worker had it

    run_import(tenant_id=str(member.tenant_id), job_id=str(job.pk))  # a second delivery

    with tenant_context(member.tenant), transaction.atomic():
        job.refresh_from_db()
        assert (job.status, job.created_count) == ("running", 1)
