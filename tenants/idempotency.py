"""Safe retries (``Idempotency-Key``, as in Stripe's API): the middleware and its table.

A write sent with ``Idempotency-Key: <key>`` by a member of a workspace runs like this, all
in one transaction (the view's own transaction, ``ATOMIC_REQUESTS`` or a viewset's, becomes
a savepoint inside it):

1. ``pg_try_advisory_xact_lock(hash(tenant, route, key))``. Taken: no other request with this
   key is running. Not taken: one is, and this one is answered 409 ``request_in_progress`` at
   once (it neither waits nor runs).
2. The stored response for (tenant, key, route), read under that lock (READ COMMITTED: the
   statement sees every transaction that committed before the lock was granted). Found and
   younger than ``IDEMPOTENCY_KEY_TTL``: the same request (same user, query string, media type
   and body bytes) gets it back unchanged with ``Idempotent-Replayed: true``; another request
   gets 422 ``idempotency_key_reused``. Nothing else runs. An expired one is deleted.
3. Otherwise the view runs; a success (below 400) is stored in the same transaction, so the
   write and its stored response commit together or not at all, and the lock is released
   only by that commit: two requests with one key make exactly one write. A failure is not
   stored (its transaction rolled back; nothing was written), so a retry runs again.
   ``UNIQUE (tenant_id, key, route)`` is the last word.

Ignored (the request runs as without the header): safe methods (never looked at: one set
membership test), requests with no workspace (no token, an invalid one: DRF answers 401),
the routes of ``core.api.idempotency.EXCLUDED_PREFIXES`` (sign-up, login, tokens).
A streamed response is not stored.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from core.api import idempotency
from core.api.exception_handler import error_body
from core.errors import DomainError
from core.sql import try_advisory_xact_lock
from tenants.context import current_user_id, get_current_tenant_or_none
from tenants.models import IdempotentResponse

# Response headers kept with the body and sent again on a replay (the rest, e.g.
# X-Request-ID, are the replaying request's own).
STORED_HEADERS = ("Content-Type", "Location", "Content-Disposition", "Content-Language")
_CHUNK = 64 * 1024


def ttl() -> timedelta:
    return timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS)


def _error(exc: DomainError) -> JsonResponse:
    return JsonResponse(error_body(exc.code, exc.message, details=exc.details), status=exc.status_code)


def _body_digest(request: HttpRequest) -> str:
    """sha256 of the body. A body within DATA_UPLOAD_MAX_MEMORY_SIZE is read as Django reads
    it (``request.body``, kept for the view); a larger one (a CSV upload) is read in chunks
    into a spooled temporary file that the view then reads instead of the socket."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None or length <= limit:
        return hashlib.sha256(request.body).hexdigest()
    digest = hashlib.sha256()
    spool = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)  # noqa: SIM115 - the request owns it
    while chunk := request.read(_CHUNK):
        digest.update(chunk)
        spool.write(chunk)
    spool.seek(0)
    request._stream = spool  # type: ignore[assignment]
    request._read_started = False  # type: ignore[attr-defined]
    return digest.hexdigest()


def _replay(stored: IdempotentResponse) -> HttpResponse:
    response = HttpResponse(bytes(stored.body), status=stored.status_code)
    for name, value in stored.headers.items():
        response[name] = value
    response[idempotency.REPLAYED_HEADER] = "true"
    return response


def _storable(response: HttpResponse) -> bool:
    return response.status_code < 400 and not response.streaming


class IdempotencyMiddleware:
    """After ``TenantMiddleware`` (it needs the workspace); see the module's docstring."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in idempotency.METHODS:
            return self.get_response(request)
        key = request.headers.get(idempotency.HEADER)
        if key is None or not idempotency.applies_to(request.method, request.path):
            return self.get_response(request)
        tenant = get_current_tenant_or_none()
        if tenant is None:
            return self.get_response(request)
        if not idempotency.is_valid_key(key):
            return _error(idempotency.InvalidIdempotencyKey())
        route = f"{request.method} {request.path}"
        if len(route) > IdempotentResponse._meta.get_field("route").max_length:  # type: ignore[operator]
            return self.get_response(request)  # no URL of the API is that long: a 404
        user_id = current_user_id()
        fingerprint = idempotency.fingerprint(
            actor=f"user:{user_id}" if user_id else "-",
            query=request.META.get("QUERY_STRING", ""),
            content_type=request.META.get("CONTENT_TYPE", ""),
            body_digest=_body_digest(request),
        )
        with transaction.atomic():
            if not try_advisory_xact_lock(idempotency.lock_id(str(tenant.id), route, key)):
                return _error(idempotency.RequestInProgress())
            stored = IdempotentResponse.objects.filter(key=key, route=route).first()
            if stored is not None and stored.created_at <= timezone.now() - ttl():
                stored.delete()
                stored = None
            if stored is not None:
                if stored.fingerprint != fingerprint:
                    return _error(idempotency.IdempotencyKeyReused())
                return _replay(stored)
            response = self.get_response(request)
            if _storable(response) and not transaction.get_rollback():
                IdempotentResponse.objects.create(
                    key=key,
                    route=route,
                    fingerprint=fingerprint,
                    status_code=response.status_code,
                    headers={name: response[name] for name in STORED_HEADERS if response.has_header(name)},
                    body=response.content,
                )
            return response
