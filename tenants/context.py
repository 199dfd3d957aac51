"""The current tenant: one ContextVar, set by the tenant middleware, by the Celery
task base class and by ``tenant_context()``. Reading it when unset raises."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING

from core.errors import TenantRequired

if TYPE_CHECKING:
    from tenants.models import Tenant

_current_tenant: ContextVar[Tenant | None] = ContextVar("stockroom_tenant", default=None)


def get_current_tenant() -> Tenant:
    """The tenant of this request or task; raises TenantRequired when there is none."""
    tenant = _current_tenant.get()
    if tenant is None:
        raise TenantRequired("Tenant-scoped data was accessed with no tenant selected.")
    return tenant


def get_current_tenant_or_none() -> Tenant | None:
    return _current_tenant.get()


def current_tenant_id() -> uuid.UUID | None:
    tenant = _current_tenant.get()
    return tenant.id if tenant is not None else None


def set_current_tenant(tenant: Tenant | None) -> Token[Tenant | None]:
    """Low level: pair every call with ``reset_current_tenant`` in a ``finally``."""
    return _current_tenant.set(tenant)


def reset_current_tenant(token: Token[Tenant | None]) -> None:
    _current_tenant.reset(token)


@contextmanager
def tenant_context(tenant: Tenant | None) -> Iterator[Tenant | None]:
    """Run a block as ``tenant`` (or explicitly as no tenant, with None)."""
    token = _current_tenant.set(tenant)
    try:
        yield tenant
    finally:
        _current_tenant.reset(token)
