"""The current tenant: one ContextVar, set by the tenant middleware, by the Celery
task base class and by ``tenant_context()``. Reading it when unset raises.

The current user's id is a second ContextVar, set by the tenant middleware for an
authenticated request and by ``user_context()`` in the login services: the database
layer turns it into ``app.user_id``, which lets the memberships table show the
user's own rows in every workspace (login, the workspace switcher, /auth/me/)."""

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
_current_user_id: ContextVar[uuid.UUID | None] = ContextVar("stockroom_user_id", default=None)
# The API key a request authenticated with (the actor, for whoever records one); set only
# by the tenant middleware's key branch, so a JWT request never touches it.
_current_api_key_id: ContextVar[uuid.UUID | None] = ContextVar("stockroom_api_key_id", default=None)


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


def current_user_id() -> uuid.UUID | None:
    return _current_user_id.get()


def set_current_user_id(user_id: uuid.UUID | None) -> Token[uuid.UUID | None]:
    """Low level: pair every call with ``reset_current_user_id`` in a ``finally``."""
    return _current_user_id.set(user_id)


def reset_current_user_id(token: Token[uuid.UUID | None]) -> None:
    _current_user_id.reset(token)


@contextmanager
def user_context(user_id: uuid.UUID | None) -> Iterator[uuid.UUID | None]:
    """Run a block as ``user_id``: the memberships of that user become readable in
    every workspace (and only those, besides the current tenant's)."""
    token = _current_user_id.set(user_id)
    try:
        yield user_id
    finally:
        _current_user_id.reset(token)


def current_api_key_id() -> uuid.UUID | None:
    """The id of the API key this request authenticated with; None for a user's request."""
    return _current_api_key_id.get()


def set_current_api_key_id(key_id: uuid.UUID | None) -> Token[uuid.UUID | None]:
    """Low level: pair every call with ``reset_current_api_key_id`` in a ``finally``."""
    return _current_api_key_id.set(key_id)


def reset_current_api_key_id(token: Token[uuid.UUID | None]) -> None:
    _current_api_key_id.reset(token)
