"""Tenant middleware: authenticates the JWT or the API key (``Bearer srk_...``) itself
(API) or the session (the web console under ``/app/<slug>/``), checks the membership and the tenant's status, and
sets the tenant context for the rest of the request.

It runs before the request's transaction opens; the database layer turns the
context into ``app.tenant_id`` (and the authenticated user into ``app.user_id``, which
makes the user's own memberships readable under Row Level Security) in each
transaction. Errors are not raised here:
they are kept on the request and raised by ``TenantJWTAuthentication`` inside
DRF, so they get the one error shape.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from rest_framework.throttling import BaseThrottle
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken

from core.api.throttling import plan_window, take_count, user_window
from core.db import is_database_unavailable
from core.errors import AuthenticationError, DatabaseUnavailable, DomainError, PermissionDenied
from core.logging import user_id_var
from tenants import api_key_format, errors, membership_cache
from tenants.cache import full_key
from tenants.context import (
    reset_current_api_key_id,
    reset_current_tenant,
    reset_current_user_id,
    set_current_api_key_id,
    set_current_tenant,
    set_current_user_id,
    tenant_context,
    user_context,
)
from tenants.models import ApiKey, Membership, Tenant, User
from tenants.selectors import active_membership, active_membership_by_slug, api_key_by_hash
from tenants.services import api_key_touch
from tenants.tokens import TENANT_CLAIM, token_version_of, verified_access_token

logger = logging.getLogger("stockroom.errors")


@dataclass
class RequestAuth:
    user: User | None = None
    tenant: Tenant | None = None
    membership: Membership | None = None
    token: AccessToken | None = None
    error: DomainError | None = None
    # A request authenticated by an API key: the key (with its tenant), no user, no membership.
    api_key: ApiKey | None = None


def authenticate_bearer(raw: str, request: HttpRequest) -> RequestAuth:
    """Verifies the access token and finds its membership: in the membership cache,
    in the Redis round trip that also counts the user's throttle window (the count is
    handed to the throttle through ``request``), or else in the database."""
    try:
        token = verified_access_token(raw)
    except TokenError as exc:
        return RequestAuth(error=AuthenticationError(str(exc), code=errors.TOKEN_NOT_VALID))
    try:
        user_id = uuid.UUID(str(token.get("user_id")))
        tenant_id = uuid.UUID(str(token.get(TENANT_CLAIM)))
    except ValueError:
        return RequestAuth(
            error=AuthenticationError("Token is missing its user or tenant.", code=errors.TOKEN_NOT_VALID)
        )
    # The user's throttle window and the workspace's plan window are counted in the round
    # trip that reads the cached membership; the throttles take the counts from the request.
    windows = [window for window in (user_window(user_id), plan_window(tenant_id)) if window is not None]
    counters = [(full_key(name, tenant_id=tenant_id), timeout) for name, timeout in windows]
    cached = membership_cache.lookup(user_id=user_id, tenant_id=tenant_id, counters=counters)
    if cached is not None:
        for counter, count in cached.counts.items():
            take_count(request, counter, count)
    try:
        with user_context(user_id):
            membership = active_membership(
                user_id=user_id, tenant_id=tenant_id, token_version=token_version_of(token), cached=cached
            )
    except DomainError as exc:
        return RequestAuth(error=exc)
    return RequestAuth(user=membership.user, tenant=membership.tenant, membership=membership, token=token)


def authenticate_api_key(raw: str, request: HttpRequest) -> RequestAuth:
    """An API key (``Bearer srk_...``): the format and checksum first (a typo or a JWT-like
    string never reaches the database), then the key by its SHA-256: from the cache
    (``membership_cache.api_key_lookup``: no query when warm) or one look-up (see
    ``api_key_by_hash``); a revocation ends the cached entry, so it holds from the next
    request.
    Refused with 401 ``api_key_not_valid`` (malformed, unknown), ``api_key_revoked`` or
    ``api_key_expired``, 403 ``tenant_suspended``. The key's use is recorded at most once a
    minute (``api_key_touch``)."""
    if not api_key_format.is_well_formed(raw):
        return RequestAuth(error=AuthenticationError("This is not a valid API key.", code=errors.API_KEY_NOT_VALID))
    key_hash = api_key_format.digest(raw)
    key = api_key_by_hash(key_hash=key_hash, cached=membership_cache.api_key_lookup(key_hash))
    if key is None:
        return RequestAuth(error=AuthenticationError("This is not a valid API key.", code=errors.API_KEY_NOT_VALID))
    now = timezone.now()
    if key.revoked_at is not None:
        return RequestAuth(error=AuthenticationError("This API key was revoked.", code=errors.API_KEY_REVOKED))
    if key.expires_at <= now:
        return RequestAuth(error=AuthenticationError("This API key has expired.", code=errors.API_KEY_EXPIRED))
    if not key.tenant.is_active:
        return RequestAuth(
            error=PermissionDenied("This workspace is suspended. Contact support.", code=errors.TENANT_SUSPENDED)
        )
    with tenant_context(key.tenant):
        api_key_touch(key=key, ip=BaseThrottle().get_ident(request) or None, now=now)  # type: ignore[arg-type]
    return RequestAuth(tenant=key.tenant, api_key=key)


# The session keys of a signed-in console user (written by web.auth at login): the user
# and the token version it logged in with, so a password change or reset ends the
# session as it ends the user's API tokens.
SESSION_USER_KEY = "stockroom_user_id"
SESSION_VERSION_KEY = "stockroom_token_version"
CONSOLE_PREFIX = "/app/"
_SLUG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,62}$")


def authenticate_session(request: HttpRequest) -> RequestAuth:
    """The console's way in: the workspace is the ``<slug>`` of ``/app/<slug>/...``, the
    user the session's. No session: ``not_authenticated``; no membership of that
    workspace: ``membership_revoked`` (the console answers 404 either way for a signed-in
    user, so a workspace's existence is not revealed)."""
    slug = request.path[len(CONSOLE_PREFIX) :].split("/", 1)[0]
    if slug and not _SLUG_RE.match(slug):  # never a workspace (NUL bytes, ...): a 404, no query
        return RequestAuth(error=AuthenticationError("No such workspace.", code=errors.MEMBERSHIP_REVOKED))
    session = getattr(request, "session", None)
    raw_user = session.get(SESSION_USER_KEY) if session is not None else None
    if not raw_user or not slug:
        return RequestAuth(error=AuthenticationError("Log in to continue.", code=errors.NOT_AUTHENTICATED))
    try:
        user_id = uuid.UUID(str(raw_user))
    except ValueError:
        return RequestAuth(error=AuthenticationError("Log in to continue.", code=errors.NOT_AUTHENTICATED))
    version = session.get(SESSION_VERSION_KEY) if session is not None else None
    try:
        with user_context(user_id):
            membership = active_membership_by_slug(user_id=user_id, slug=slug.lower(), token_version=version)
    except DomainError as exc:
        return RequestAuth(error=exc)
    return RequestAuth(user=membership.user, tenant=membership.tenant, membership=membership)


class TenantMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        header = request.headers.get("Authorization", "")
        auth = RequestAuth()
        console = request.path.startswith(CONSOLE_PREFIX)
        if header and not console:
            scheme, _, raw = header.partition(" ")
            if scheme.lower() == "bearer" and raw.strip():
                raw = raw.strip()
                try:
                    if raw.startswith(api_key_format.PREFIX):
                        auth = authenticate_api_key(raw, request)
                    else:
                        auth = authenticate_bearer(raw, request)
                except DatabaseError as exc:  # raised inside DRF like every auth error: the error shape
                    if not is_database_unavailable(exc):
                        raise
                    logger.warning("database unavailable: answered 503", exc_info=exc, extra={"dependency": "database"})
                    auth = RequestAuth(error=DatabaseUnavailable())
            elif scheme.lower() == "bearer":
                auth = RequestAuth(error=AuthenticationError("Empty bearer token.", code=errors.TOKEN_NOT_VALID))
        elif console:  # the console reads its session only, whatever Authorization says
            try:
                auth = authenticate_session(request)
            except DatabaseError as exc:
                if not is_database_unavailable(exc):
                    raise
                logger.warning("database unavailable: answered 503", exc_info=exc, extra={"dependency": "database"})
                auth = RequestAuth(error=DatabaseUnavailable())
        request.stockroom_auth = auth  # type: ignore[attr-defined]
        if auth.user is not None:
            user_id_var.set(str(auth.user.id))
        if auth.tenant is not None:
            request.log_tenant_id = str(auth.tenant.id)  # type: ignore[attr-defined]
        token = set_current_tenant(auth.tenant)
        user_token = set_current_user_id(auth.user.id if auth.user is not None else None)
        key_token = set_current_api_key_id(auth.api_key.id) if auth.api_key is not None else None
        try:
            return self.get_response(request)
        finally:
            if key_token is not None:
                reset_current_api_key_id(key_token)
            reset_current_user_id(user_token)
            reset_current_tenant(token)
