"""Model fields for tenant tables."""

from __future__ import annotations

from typing import Any

from django.db import models


class TenantForeignKey(models.ForeignKey):
    """A foreign key from one tenant table to another.

    On PostgreSQL the constraint is the composite ``FOREIGN KEY (tenant_id, x_id)
    REFERENCES x (tenant_id, id)`` that ``tenants/rls.py`` adds: it refuses a row that
    points into another tenant, and it implies the single-column key Django would
    create. That one is therefore left out (``db_constraint=False``): it would be a
    second check on every row written, for nothing (docs/performance.md).

    Set ``db_index=False`` when an index or unique constraint starting with
    ``(tenant, <this field>)`` exists; the ``tenants.E006`` check verifies that.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("db_constraint", False)
        super().__init__(*args, **kwargs)


def implied_tenant_key() -> Any:
    """The ``tenant`` field of a tenant table whose every row points at another tenant
    row through a non-null ``TenantForeignKey``: the composite key of that reference
    already proves the tenant exists (the referenced row has a real tenant key), so a
    constraint of its own would be a third check per row for nothing. For the
    high-volume ledger tables; ``tenants.E007`` checks the condition."""
    return models.ForeignKey(
        "tenants.Tenant",
        on_delete=models.CASCADE,
        related_name="+",
        editable=False,
        db_index=False,
        db_constraint=False,
    )
