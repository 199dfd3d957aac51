"""The console's view decorator: who may see a page and who may act on it.

Every console URL is ``/app/<slug>/...``. The tenant middleware has already
resolved the session and the membership of that workspace (the same checks as for
an API token) and set the tenant context; this decorator turns its outcome into a
page: a login redirect, a 404 for a workspace the user is not a member of (its
existence is not revealed), a 403 page for a suspended workspace or a role below the
page's, a 503 page while the database is down, a 429 page past the API's per-user rate
(the console and the API count in the same window).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import patch_cache_control

from core.api.throttling import user_wait
from core.errors import DatabaseUnavailable
from tenants import errors
from tenants.middleware import RequestAuth
from tenants.models import Membership, Role
from web.auth import session_end
from web.pages import error_page

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
View = Callable[..., HttpResponse]


def membership_of(request: HttpRequest) -> Membership:
    membership = request.stockroom_auth.membership  # type: ignore[attr-defined]
    assert membership is not None
    return membership


def can(request: HttpRequest, role: Role | str) -> bool:
    auth: RequestAuth | None = getattr(request, "stockroom_auth", None)
    return bool(auth and auth.membership and Role(auth.membership.role).at_least(role))


def _login_redirect(request: HttpRequest) -> HttpResponse:
    url = f"{reverse('web:login')}?{urlencode({'next': request.get_full_path()})}"
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def console_view(*, read: Role = Role.VIEWER, write: Role | None = None) -> Callable[[View], View]:
    """``read``: the least role that sees the page; ``write``: the least role whose POST
    it accepts (default: the same as ``read``). The roles are the API's for the same
    action (``tenants.permissions``): a viewer reads, a clerk moves stock and handles
    orders, a manager edits the catalogue, an admin manages members."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
            auth: RequestAuth = request.stockroom_auth  # type: ignore[attr-defined]
            if auth.error is not None or auth.membership is None:
                code = getattr(auth.error, "code", errors.NOT_AUTHENTICATED)
                if isinstance(auth.error, DatabaseUnavailable):
                    return error_page(request, 503)
                if code == errors.TENANT_SUSPENDED:
                    return error_page(request, 403, message=auth.error.message if auth.error else "")
                if code == errors.SESSION_ENDED:
                    session_end(request)
                    messages.warning(request, "Your session ended because the password was changed. Log in again.")
                    return _login_redirect(request)
                if code == errors.MEMBERSHIP_REVOKED:
                    raise Http404("No such workspace.")
                return _login_redirect(request)
            wait = user_wait(request, auth.membership.user_id)
            if wait is not None:
                response = error_page(request, 429)
                response["Retry-After"] = str(max(1, round(wait)))
                return response
            needed = read if request.method in SAFE_METHODS else (write or read)
            if not Role(auth.membership.role).at_least(needed):
                return error_page(request, 403, message=f"This needs the {Role(needed).label.lower()} role or higher.")
            response = view(request, *args, **kwargs)
            # A workspace's pages are nobody's to keep: not in shared caches, not on disk.
            patch_cache_control(response, private=True, no_store=True)
            return response

        return wrapped

    return decorate
