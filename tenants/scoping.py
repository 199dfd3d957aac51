"""``TenantScopedModel``: the base of every tenant-owned table.

- ``objects`` filters by the current tenant and raises TenantRequired when none is set.
- ``unscoped`` sees every tenant's rows at the ORM level. Platform code only; on
  PostgreSQL the runtime role is still bound by Row Level Security, so real
  cross-tenant work goes through the ``ops`` database alias.
- Saving takes the current tenant; saving or deleting a row of another tenant raises.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from django.db import models
from django.db.models import Expression

from core.errors import CrossTenantWrite
from tenants.context import get_current_tenant


class TenantQuerySet(models.QuerySet[Any]):
    def update(self, **kwargs: Any) -> int:
        if "tenant" in kwargs or "tenant_id" in kwargs:
            raise CrossTenantWrite("A row's tenant cannot be changed.")
        return super().update(**kwargs)


class CurrentTenantId(Expression):
    """The current tenant's id, read when the query is compiled to SQL (so a queryset
    built before a tenant is set runs for the tenant current when it runs). With no
    tenant, compiling raises TenantRequired: nothing reaches the database."""

    output_field = models.UUIDField()

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        tenant_id = get_current_tenant().id
        return "%s", (self.output_field.get_db_prep_value(tenant_id, connection),)


class TenantManager(models.Manager[Any]):
    """Default manager of tenant tables: always filtered by the current tenant."""

    _queryset_class = TenantQuerySet

    def get_queryset(self) -> TenantQuerySet:
        return TenantQuerySet(self.model, using=self._db).filter(tenant_id=CurrentTenantId())

    def bulk_create(self, objs: Iterable[Any], *args: Any, **kwargs: Any) -> list[Any]:
        tenant = get_current_tenant()
        objs = list(objs)
        for obj in objs:
            obj._assign_current_tenant(tenant)
        return super().bulk_create(objs, *args, **kwargs)


class TenantScopedModel(models.Model):
    tenant = models.ForeignKey(
        "tenants.Tenant",
        on_delete=models.CASCADE,
        related_name="+",
        editable=False,
        # No index of its own: on PostgreSQL, UNIQUE (tenant_id, id) from tenants/rls.py
        # leads with it, as do the tenant tables' own composite indexes (tenants.E004).
        db_index=False,
    )

    objects: ClassVar[TenantManager] = TenantManager()
    unscoped: ClassVar[models.Manager[Any]] = models.Manager()

    # Privileges of the runtime role on this table; a ledger narrows it to SELECT, INSERT.
    runtime_privileges: ClassVar[tuple[str, ...]] = ("SELECT", "INSERT", "UPDATE", "DELETE")

    class Meta:
        abstract = True
        default_manager_name = "objects"
        base_manager_name = "unscoped"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._assign_current_tenant(get_current_tenant())
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        self._assign_current_tenant(get_current_tenant())
        return super().delete(*args, **kwargs)

    def _assign_current_tenant(self, tenant: Any) -> None:
        if self.tenant_id is None:
            self.tenant = tenant
        elif self.tenant_id != tenant.id:
            raise CrossTenantWrite()
