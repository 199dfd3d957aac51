"""Celery tasks that touch tenant data.

The tenant id travels in every message as the ``tenant_id`` keyword argument
(added from the current context when the caller does not pass it). The task
enters that tenant's context and a transaction, and always resets the context
afterwards, so a worker never runs a task with the previous task's tenant.

    @shared_task(base=TenantTask)
    def send_digest(*, tenant_id: str, ...) -> None: ...

    enqueue_on_commit(send_digest, user_id=...)   # after the caller's transaction commits

Services name their task (``enqueue_on_commit("tenants.tasks.send_digest", ...)``)
instead of importing it: tasks are an interface that calls services, so a service
never imports its app's tasks module (import-linter's layers).
"""

from __future__ import annotations

import functools
import importlib
import logging
from datetime import timedelta
from typing import Any

from celery import Task, current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from kombu.exceptions import KombuError

from core.errors import TenantRequired
from tenants.context import current_tenant_id, reset_current_tenant, set_current_tenant

logger = logging.getLogger(__name__)

# What sending a task raises when the broker cannot be reached.
BROKER_ERRORS: tuple[type[Exception], ...] = (KombuError, OSError)


class TenantTask(Task):
    abstract = True
    # Run the task in one transaction. A long job that commits in batches sets atomic=False.
    atomic = True

    def apply_async(self, args: Any = None, kwargs: Any = None, **options: Any) -> Any:  # type: ignore[override]
        kwargs = dict(kwargs or {})
        if not kwargs.get("tenant_id"):
            tenant_id = current_tenant_id()
            if tenant_id is None:
                raise TenantRequired(f"Task {self.name} needs a tenant_id or a tenant context.")
            kwargs["tenant_id"] = str(tenant_id)
        return super().apply_async(args=args, kwargs=kwargs, **options)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from tenants.models import Tenant

        tenant_id = kwargs.get("tenant_id")
        if not tenant_id:
            raise TenantRequired(f"Task {self.name} was called without a tenant_id.")
        tenant = Tenant.objects.filter(pk=tenant_id).first()
        if tenant is None or not tenant.is_active:
            logger.warning("task %s skipped: tenant %s missing or suspended", self.name, tenant_id)
            return None
        token = set_current_tenant(tenant)
        try:
            if not self.atomic:
                return super().__call__(*args, **kwargs)
            with transaction.atomic():
                return super().__call__(*args, **kwargs)
        finally:
            reset_current_tenant(token)


def dispatch(task: Any, *, countdown: float = 0, **kwargs: Any) -> bool:
    """Sends ``task`` now (to run ``countdown`` seconds later); False when the broker cannot
    be reached. That is logged, never raised: the row the task works on is the source of
    truth, and the dispatch sweep queues it again (``redispatch_claim``). In eager mode (no
    broker) the task runs here, at once."""
    if task.app.conf.task_always_eager:
        task.apply_async(kwargs=kwargs)
        return True
    try:
        task.apply_async(kwargs=kwargs, countdown=countdown or None)
    except BROKER_ERRORS as exc:
        logger.error(
            "could not queue task %s (%s: %s); the dispatch sweep will queue it again",
            task.name,
            type(exc).__name__,
            exc,
            extra={"dependency": "broker", "task": task.name},
        )
        return False
    return True


def task_by_name(name: str) -> Any:
    """The registered task ``name`` (``"<module>.<function>"``). A web process never imports
    the tasks modules (Celery's autodiscovery runs in workers), so the module is imported
    before the look-up."""
    importlib.import_module(name.rsplit(".", 1)[0])
    return current_app.tasks[name]


def enqueue_on_commit(task: Any, *, countdown: float = 0, **kwargs: Any) -> None:
    """Queue ``task`` (the task, or its registered name) once the current transaction
    commits, for the current tenant (to run ``countdown`` seconds later). A broker that is
    down never fails the caller (``dispatch``)."""
    if isinstance(task, str):
        task = task_by_name(task)
    if isinstance(task, TenantTask) and "tenant_id" not in kwargs:
        tenant_id = current_tenant_id()
        if tenant_id is None:
            raise TenantRequired(f"Task {task.name} needs a tenant context.")
        kwargs["tenant_id"] = str(tenant_id)
    transaction.on_commit(functools.partial(dispatch, task, countdown=countdown, **kwargs))


# --- The dispatch sweep ----------------------------------------------------------------
# Rows whose task may never have been queued (the broker was down at commit, or the message
# was lost) carry ``dispatched_at`` (set when they are created) and ``dispatch_attempts``.
# A Celery beat task per app looks for the ones still pending after DISPATCH_GRACE_SECONDS,
# across tenants on the ``ops`` alias (BYPASSRLS, cross-tenant maintenance), and queues each
# again with its tenant id. The tasks themselves skip a row already done or in progress.

OPS_ALIAS = "ops"


def ops_database() -> str | None:
    """The alias the sweeps read through, or None (logged) when DATABASE_OPS_URL is unset."""
    if OPS_ALIAS in settings.DATABASES:
        return OPS_ALIAS
    logger.error("dispatch sweep skipped: it needs the ops database alias (DATABASE_OPS_URL)")
    return None


def redispatch_claim(queryset: QuerySet[Any], *, limit: int = 500) -> list[Any]:
    """Claims the rows of ``queryset`` (pending ones, on the ops alias) due for another
    dispatch: last dispatched more than DISPATCH_GRACE_SECONDS ago, fewer than
    DISPATCH_MAX_ATTEMPTS so far. They are locked ``FOR UPDATE SKIP LOCKED`` (a concurrent
    sweep skips them), get ``dispatched_at = now`` and one more attempt, and the claim
    commits before they are returned for queueing, so each is re-queued once per grace
    period however many sweeps run at the same time."""
    now = timezone.now()
    due = queryset.filter(
        dispatched_at__lte=now - timedelta(seconds=settings.DISPATCH_GRACE_SECONDS),
        dispatch_attempts__lt=settings.DISPATCH_MAX_ATTEMPTS,
    )
    with transaction.atomic(using=queryset.db):
        rows = list(due.select_for_update(skip_locked=True, of=("self",)).order_by("dispatched_at")[:limit])
        if rows:
            queryset.model._base_manager.using(queryset.db).filter(pk__in=[row.pk for row in rows]).update(
                dispatched_at=now, dispatch_attempts=F("dispatch_attempts") + 1
            )
    return rows
