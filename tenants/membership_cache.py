"""The tenant middleware's membership check, cached per (user, tenant) in Redis.

An authenticated request needs its membership, user and tenant (role, token
version, statuses). A warm request reads them from Redis in the round trip that
also counts the user's throttle window (``core.cache.read_and_incr``), and makes
no database query before the view. ``MEMBERSHIP_CACHE_SECONDS`` (0: off) bounds
the life of an entry; it is never extended.

Invalidation uses generations rather than deletes: one counter per user and one per
tenant. An entry records the two generations read *before* the database was
read, is stored only if they are still the same (``core.cache.set_if_unchanged``),
and counts only while they are. Every write to a membership, user or tenant (the
models' ``save``/``delete`` signals and their querysets' ``update``, see
``tenants/models.py``) bumps the generations concerned at once and again after
its transaction commits, so:

- the next request after the commit reads the database, and a request that read
  the database before the commit cannot store what it read (its generations
  changed), nor serve it if it stored it first;
- what a missed bump (Redis unreachable for the writer, raw SQL that bypasses the
  ORM, an evicted key) can leave is an entry read before the change, which expires
  ``MEMBERSHIP_CACHE_SECONDS`` after it was stored: that is the bound on staleness.

Generations live for twice the entry lifetime (plus a minute) after their last
bump, so an entry can never outlive the generation it was checked against.
Without Redis (the local-memory cache, or Redis unreachable) nothing is cached:
the membership is read from the database as before.

API keys are cached the same way (``api_key_lookup``), by the key's SHA-256, with the
key and its tenant: an entry counts while the key's own generation (bumped by every
save of the key, its revocation and its "last used" update) and the generation of all
tenants (bumped by a change to any tenant: rare, and the key's tenant is not known
before the look-up) are unchanged.
"""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from core.cache import bump, read_and_incr, set_if_unchanged
from tenants.cache import full_key


@functools.cache
def _shape() -> str:
    """A fingerprint of the cached models' columns, part of the entry's key: an entry stored
    by code with other columns (before a deploy that adds a field to users, or after it)
    is another key, never read as this code's (its rows would not load)."""
    from django.apps import apps

    names = ",".join(
        f"{model}.{field.attname}"
        for model in ("Membership", "User", "Tenant")
        for field in apps.get_model("tenants", model)._meta.concrete_fields
    )
    return hashlib.sha256(names.encode()).hexdigest()[:8]


def _entry_key(user_id: uuid.UUID, tenant_id: uuid.UUID) -> str:
    return full_key(f"membership:{_shape()}:{user_id.hex}:{tenant_id.hex}", tenant_id=None)


def _user_generation(user_id: Any) -> str:
    return full_key(f"membership-gen:u:{uuid.UUID(str(user_id)).hex}", tenant_id=None)


def _tenant_generation(tenant_id: Any) -> str:
    return full_key(f"membership-gen:t:{uuid.UUID(str(tenant_id)).hex}", tenant_id=None)


def _api_key_entry_key(key_hash: str) -> str:
    return full_key(f"api-key:{_api_key_shape()}:{key_hash}", tenant_id=None)


def _api_key_generation(key_hash: str) -> str:
    return full_key(f"api-key-gen:{key_hash}", tenant_id=None)


def _all_tenants_generation() -> str:
    return full_key("membership-gen:all-tenants", tenant_id=None)


@functools.cache
def _api_key_shape() -> str:
    from django.apps import apps

    names = ",".join(
        f"{model}.{field.attname}"
        for model in ("ApiKey", "Tenant")
        for field in apps.get_model("tenants", model)._meta.concrete_fields
    )
    return hashlib.sha256(names.encode()).hexdigest()[:8]


def enabled() -> bool:
    return bool(settings.MEMBERSHIP_CACHE_SECONDS > 0)


@dataclass
class Lookup:
    """What one round trip found: the entry (None on a miss), the generations it was
    checked against (None: Redis was not reached, nothing is to be stored), and the
    counts of the throttle counters taken with it ({full key: count})."""

    key: str
    entry: dict[str, Any] | None
    generations: dict[str, bytes | None] | None
    counts: dict[str, int]


def lookup(*, user_id: uuid.UUID, tenant_id: uuid.UUID, counters: Sequence[tuple[str, int]] = ()) -> Lookup | None:
    """The cached entry of (user, tenant) and each of ``counters`` (full key, timeout)
    incremented, in one Redis round trip. None when the cache is off. With Redis
    unreachable the entry is None (the membership is read from the database) and the
    counters are counted in this process (``core.cache``)."""
    if not enabled():
        return None
    return _lookup(
        _entry_key(user_id, tenant_id), [_user_generation(user_id), _tenant_generation(tenant_id)], counters=counters
    )


def api_key_lookup(key_hash: str) -> Lookup | None:
    """The cached entry of the API key with this SHA-256 (None when the cache is off)."""
    if not enabled():
        return None
    return _lookup(
        _api_key_entry_key(key_hash),
        [_api_key_generation(key_hash), _all_tenants_generation()],
    )


def _lookup(key: str, generations: list[str], *, counters: Sequence[tuple[str, int]] = ()) -> Lookup:
    values, counted = read_and_incr([key, *generations], counters=counters)
    counts = {name: count for (name, _), (count, _) in zip(counters, counted, strict=True)}
    if values is None:
        return Lookup(key=key, entry=None, generations=None, counts=counts)
    raw, *read = values
    current = dict(zip(generations, read, strict=True))
    entry = _parsed(raw) if raw is not None else None
    if entry is not None and entry.get("g") != [(value or b"").decode() for value in read]:
        entry = None  # stored before a bump: stale
    return Lookup(key=key, entry=entry, generations=current, counts=counts)


@functools.lru_cache(maxsize=1024)
def _parsed(raw: bytes) -> dict[str, Any]:
    """An entry as stored, parsed once per distinct entry in this process (shared: read only)."""
    parsed: dict[str, Any] = json.loads(raw)
    return parsed


def store(found: Lookup, entry: dict[str, Any]) -> None:
    """Caches ``entry`` (read from the database after ``found``) unless a generation
    changed meanwhile."""
    if found.generations is None:
        return
    entry = {**entry, "g": [(value or b"").decode() for value in found.generations.values()]}
    set_if_unchanged(
        found.key,
        json.dumps(entry, separators=(",", ":"), default=str),
        timeout=settings.MEMBERSHIP_CACHE_SECONDS,
        guards=found.generations,
    )


def invalidate(
    *,
    user_ids: Iterable[Any] = (),
    tenant_ids: Iterable[Any] = (),
    api_key_hashes: Iterable[str] = (),
    using: str | None = None,
) -> None:
    """Ends the cached memberships of these users (in every workspace) and of every member
    of these tenants (and every cached API key, when a tenant changes), and the cached API
    keys with these hashes: now, and again once the current transaction commits."""
    tenant_keys = [_tenant_generation(tenant_id) for tenant_id in tenant_ids]
    keys = [_user_generation(user_id) for user_id in user_ids] + tenant_keys
    keys += [_api_key_generation(key_hash) for key_hash in api_key_hashes]
    if tenant_keys:
        keys.append(_all_tenants_generation())
    if not keys:
        return
    lifetime = 2 * settings.MEMBERSHIP_CACHE_SECONDS + 60

    def bump_generations() -> None:
        bump(keys, timeout=lifetime)

    bump_generations()
    if transaction.get_connection(using).in_atomic_block:
        transaction.on_commit(bump_generations, using=using)


def on_saved(sender: Any, instance: Any, created: bool = False, using: str | None = None, **_: Any) -> None:
    """post_save / post_delete receiver for Membership, User, Tenant and ApiKey (a new row
    has nothing cached yet)."""
    if created:
        return
    kind = sender._meta.model_name
    if kind == "apikey":
        invalidate(api_key_hashes=[instance.key_hash], using=using)
    elif kind == "membership":
        invalidate(user_ids=[instance.user_id], using=using)
    elif kind == "tenant":
        invalidate(tenant_ids=[instance.pk], using=using)
    else:
        invalidate(user_ids=[instance.pk], using=using)
