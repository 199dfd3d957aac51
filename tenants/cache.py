"""Cache keys always carry the tenant id (``-`` for platform-level keys)."""

from tenants.context import current_tenant_id


def make_key(key: str, key_prefix: str, version: int) -> str:
    tenant_id = current_tenant_id()
    return f"{key_prefix}:{version}:t:{tenant_id.hex if tenant_id else '-'}:{key}"
