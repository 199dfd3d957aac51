"""The console's sessions: what login writes, what logout ends.

The tenant middleware reads the session (``tenants.middleware.authenticate_session``)
and applies the same membership, token-version and suspension checks as for an API
token; these helpers only start and end it.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.middleware.csrf import rotate_token
from rest_framework.throttling import BaseThrottle

from tenants.middleware import SESSION_USER_KEY, SESSION_VERSION_KEY
from tenants.models import User


def session_start(request: HttpRequest, user: User) -> None:
    """A new session key (no fixation) and a new CSRF token for the signed-in user."""
    request.session.cycle_key()
    request.session[SESSION_USER_KEY] = str(user.id)
    request.session[SESSION_VERSION_KEY] = user.token_version
    rotate_token(request)


def session_end(request: HttpRequest) -> None:
    request.session.flush()


def session_user(request: HttpRequest) -> User | None:
    """The signed-in user outside a workspace (the public pages, the workspace chooser):
    active, and with the token version the session started with."""
    raw = request.session.get(SESSION_USER_KEY)
    if not raw:
        return None
    user = User.objects.filter(pk=raw, is_active=True).first()
    if user is None or user.token_version != request.session.get(SESSION_VERSION_KEY):
        return None
    return user


def client_ip(request: HttpRequest) -> str | None:
    """The address the login lockout counts, read as the API reads it (DRF's
    ``NUM_PROXIES`` rule for X-Forwarded-For)."""
    return BaseThrottle().get_ident(request) or None  # type: ignore[arg-type]
