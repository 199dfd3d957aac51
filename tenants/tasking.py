"""Celery tasks that touch tenant data.

The tenant id travels in every message as the ``tenant_id`` keyword argument
(added from the current context when the caller does not pass it). The task
enters that tenant's context and a transaction, and always resets the context
afterwards, so a worker never runs a task with the previous task's tenant.

    @shared_task(base=TenantTask)
    def send_digest(*, tenant_id: str, ...) -> None: ...

    enqueue_on_commit(send_digest, user_id=...)   # after the caller's transaction commits
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from celery import Task
from django.db import transaction

from core.errors import TenantRequired
from tenants.context import current_tenant_id, reset_current_tenant, set_current_tenant

logger = logging.getLogger(__name__)


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


def enqueue_on_commit(task: Any, **kwargs: Any) -> None:
    """Queue ``task`` once the current transaction commits, for the current tenant."""
    if isinstance(task, TenantTask) and "tenant_id" not in kwargs:
        tenant_id = current_tenant_id()
        if tenant_id is None:
            raise TenantRequired(f"Task {task.name} needs a tenant context.")
        kwargs["tenant_id"] = str(tenant_id)
    transaction.on_commit(functools.partial(task.apply_async, kwargs=kwargs))
