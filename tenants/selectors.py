"""Reads for tenants, members and invitations, always scoped to the current tenant."""

from __future__ import annotations

import functools
from typing import Any

from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.errors import AuthenticationError, NotFound, PermissionDenied
from core.sql import PreparedSelect, set_local
from tenants import errors, membership_cache
from tenants.context import get_current_tenant, user_context
from tenants.models import ApiKey, Invitation, Membership, Tenant, User

# Runs on every authenticated request: prepared once (core/sql.py).
_membership_query: PreparedSelect | None = None

# The fields a cached membership keeps (tenants/membership_cache.py): all but the
# password hash, which stays out of Redis (deferred: read from the database if used).
_CACHED_FIELDS: dict[str, list[models.Field[Any, Any]]] = {
    "m": list(Membership._meta.concrete_fields),
    "u": [field for field in User._meta.concrete_fields if field.attname != "password"],
    "t": list(Tenant._meta.concrete_fields),
    "k": list(ApiKey._meta.concrete_fields),  # an API key's entry: "k" and "t"
}
_CACHED_MODELS: dict[str, type[models.Model]] = {"m": Membership, "u": User, "t": Tenant, "k": ApiKey}
_MEMBERSHIP_PARTS = ("m", "u", "t")
_ATTNAMES = {part: [f.attname for f in fields] for part, fields in _CACHED_FIELDS.items()}


def _cache_entry(membership: Membership) -> dict[str, Any]:
    sources = {"m": membership, "u": membership.user, "t": membership.tenant}
    return {part: [getattr(sources[part], f.attname) for f in _CACHED_FIELDS[part]] for part in _MEMBERSHIP_PARTS}


@functools.lru_cache(maxsize=1024)
def _python_values(part: str, raw: tuple[Any, ...]) -> tuple[Any, ...]:
    """The cached JSON values of a row as Python values (uuids, datetimes parsed once per
    distinct row, not on every request)."""
    return tuple(f.to_python(v) for f, v in zip(_CACHED_FIELDS[part], raw, strict=True))


def _values_of(part: str, raw: list[Any]) -> list[Any]:
    try:
        return list(_python_values(part, tuple(raw)))
    except TypeError:  # a JSON object or list among the values: not hashable, converted each time
        return [f.to_python(v) for f, v in zip(_CACHED_FIELDS[part], raw, strict=True)]


def _instance(part: str, entry: dict[str, Any]) -> Any:
    return _CACHED_MODELS[part].from_db("default", _ATTNAMES[part], _values_of(part, entry[part]))


def _from_cache_entry(entry: dict[str, Any]) -> Membership:
    instances = {part: _instance(part, entry) for part in _MEMBERSHIP_PARTS}
    membership = instances["m"]
    assert isinstance(membership, Membership)
    membership.user = instances["u"]
    membership.tenant = instances["t"]
    return membership


def active_membership(
    *, user_id: Any, tenant_id: Any, token_version: int | None, cached: membership_cache.Lookup | None = None
) -> Membership:
    """The membership a token names, with its user and tenant (one query, or none when
    ``cached``, the tenant middleware's look-up in the membership cache, found it).
    Raises ``membership_revoked`` (401) when it is gone or the user is inactive,
    ``session_ended`` (401) when the token carries an older ``token_version`` than the
    user's (the password changed since), and ``tenant_suspended`` (403) when the
    workspace is suspended. The caller sets the user context (``app.user_id``), which
    makes the row readable under Row Level Security before any tenant is known."""
    global _membership_query
    if cached is not None and cached.entry is not None:
        membership: Membership | None = _from_cache_entry(cached.entry)
    else:
        if _membership_query is None:
            _membership_query = PreparedSelect(
                Membership, related=("user", "tenant"), where=("user", "tenant"), tenant_scoped=False
            )
        membership = _membership_query.first(user_id, tenant_id)
        if membership is not None and cached is not None:
            membership_cache.store(cached, _cache_entry(membership))
    return _checked(membership, token_version)


def active_membership_by_slug(*, user_id: Any, slug: str, token_version: int | None) -> Membership:
    """The web console's look-up: the signed-in user's membership of the workspace
    ``/app/<slug>/`` names, with the same checks as ``active_membership`` (one query).
    The caller sets the user context, as there."""
    membership = Membership.objects.select_related("user", "tenant").filter(user_id=user_id, tenant__slug=slug).first()
    return _checked(membership, token_version)


def _checked(membership: Membership | None, token_version: int | None) -> Membership:
    if membership is None or not membership.user.is_active:
        raise AuthenticationError("This membership no longer exists. Log in again.", code=errors.MEMBERSHIP_REVOKED)
    if token_version != membership.user.token_version:
        raise AuthenticationError(
            "This session has ended because the password was changed or reset. Log in again.",
            code=errors.SESSION_ENDED,
        )
    if not membership.tenant.is_active:
        raise PermissionDenied("This workspace is suspended. Contact support.", code=errors.TENANT_SUSPENDED)
    return membership


def membership_list() -> QuerySet[Membership]:
    return Membership.objects.select_related("user").filter(tenant=get_current_tenant()).order_by("created_at")


def membership_get(*, id: Any) -> Membership:
    membership = membership_list().filter(pk=id).first()
    if membership is None:
        raise NotFound("No such member in this workspace.")
    return membership


def user_memberships(*, user: User) -> list[Membership]:
    """The user's memberships in every workspace: read in the user's context, which
    makes them visible under Row Level Security whatever the current tenant."""
    with user_context(user.id):
        return list(Membership.objects.select_related("tenant").filter(user=user).order_by("tenant__name"))


def invitation_list() -> QuerySet[Invitation]:
    """Invitations that were not revoked. Revoking (DELETE, or inviting the address again)
    removes an invitation from the API; its row stays so that the emailed link answers
    409 ``invitation_revoked`` instead of a bare "invalid token"."""
    return Invitation.objects.select_related("invited_by").filter(revoked_at__isnull=True)


def invitations_pending(queryset: QuerySet[Invitation], *, pending: bool) -> QuerySet[Invitation]:
    """The pending invitations of ``queryset`` (or the others): not accepted, not revoked,
    not expired; ``models.invitation_status`` in SQL."""
    condition = Q(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())
    return queryset.filter(condition) if pending else queryset.exclude(condition)


def invitation_get(*, id: Any) -> Invitation:
    invitation = invitation_list().filter(pk=id).first()
    if invitation is None:
        raise NotFound("No such invitation in this workspace.")
    return invitation


def api_key_by_hash(*, key_hash: str, cached: membership_cache.Lookup | None = None) -> ApiKey | None:
    """The key with this SHA-256, with its tenant, before any tenant is known (the tenant
    middleware): from ``cached`` (the middleware's look-up in the cache,
    ``membership_cache.api_key_lookup``) when it found the key, else from the database:
    the transaction sets ``app.api_key_hash``, which the ``key_lookup`` policy
    (``tenants/rls.py``) turns into "this one row", so the look-up reads nothing else of
    any tenant. None when there is no such key (never cached)."""
    if cached is not None and cached.entry is not None:
        key: ApiKey = _instance("k", cached.entry)
        key.tenant = _instance("t", cached.entry)
        return key
    nested = transaction.get_connection().in_atomic_block  # a savepoint: the setting would outlive it
    with transaction.atomic():
        set_local("app.api_key_hash", key_hash)
        found = ApiKey.unscoped.select_related("tenant").filter(key_hash=key_hash).first()
        if nested:
            set_local("app.api_key_hash", "")
    if found is not None and cached is not None:
        membership_cache.store(
            cached,
            {
                part: [getattr(source, f.attname) for f in _CACHED_FIELDS[part]]
                for part, source in (("k", found), ("t", found.tenant))
            },
        )
    return found


def api_key_list() -> QuerySet[ApiKey]:
    """The current tenant's keys, revoked and expired ones included (newest first)."""
    return ApiKey.objects.select_related("created_by").order_by("-created_at")


def api_key_get(*, id: Any) -> ApiKey:
    key = api_key_list().filter(pk=id).first()
    if key is None:
        raise NotFound("No such API key in this workspace.")
    return key


def member_usage(tenant: Tenant) -> int:
    """Members and pending invitations: what counts against the plan's members."""
    return membership_list().count() + invitations_pending(Invitation.objects.all(), pending=True).count()
