"""Cache keys always carry the tenant id (``-`` for platform-level keys)."""

from __future__ import annotations

import uuid

from django.core.cache import caches

from tenants.context import current_tenant_id


def make_key(key: str, key_prefix: str, version: int) -> str:
    return key_for_tenant(key, key_prefix, version, current_tenant_id())


def key_for_tenant(key: str, key_prefix: str, version: int, tenant_id: uuid.UUID | None) -> str:
    return f"{key_prefix}:{version}:t:{tenant_id.hex if tenant_id else '-'}:{key}"


def full_key(key: str, *, tenant_id: uuid.UUID | None) -> str:
    """The default cache's full key for ``key`` as if ``tenant_id`` were the current
    tenant (None: a platform-level key), whatever the context is now: for keys made
    before the tenant is set (the tenant middleware) or across tenants (invalidations)."""
    backend = caches["default"]
    return key_for_tenant(key, backend.key_prefix, backend.version, tenant_id)
