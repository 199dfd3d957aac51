"""Request rate limits as fixed-window counters: one cache increment per request.

DRF's built-in throttles keep a list of every request time in the cache and
rewrite it on each request, which costs more the higher the limit. Here each
client has one counter per window (``core.cache.counter_incr``, one EVALSHA),
whatever the rate. While Redis is unreachable the counters live in each
process's memory: the same limits, per process, with one WARNING per outage
interval (``core.cache``); a request is never refused because Redis is down.

The user throttle's count is usually taken already: the tenant middleware
increments the user's window counter in the round trip that reads the cached
membership (``user_window`` names the counter, ``take_count`` hands the count
over), so a request makes one Redis round trip, not two.
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

from django.core.cache import caches
from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from core.cache import counter_incr

# Counts taken before the view on the Django request: {full cache key: count}.
_TAKEN_ATTRIBUTE = "stockroom_taken_counts"


def _increment(key: str, *, timeout: int) -> int:
    """Adds one to a window's counter and returns it."""
    return counter_incr(key, timeout=timeout)[0]


def take_count(request: HttpRequest, full_key: str, count: int) -> None:
    """Records a count already taken for the counter ``full_key`` (``user_window``), which
    the throttle then uses instead of incrementing the counter again."""
    taken: dict[str, int] = request.__dict__.setdefault(_TAKEN_ATTRIBUTE, {})
    taken[full_key] = count


def _count(request: Request, key: str, *, timeout: int) -> int:
    taken: dict[str, int] | None = request._request.__dict__.get(_TAKEN_ATTRIBUTE)
    if taken:
        count = taken.pop(caches["default"].make_and_validate_key(key), None)
        if count is not None:
            return count
    return _increment(key, timeout=timeout)


def _window_start(now: float, duration: int) -> int:
    return int(now // duration) * duration


class FixedWindowThrottle(SimpleRateThrottle):
    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        limit, duration = self.parse_rate(self.rate)
        assert limit is not None and duration is not None
        now = time.time()
        window_start = _window_start(now, duration)
        count = _count(request, f"{self.key}:{window_start}", timeout=duration + 1)
        self._wait = window_start + duration - now
        return count <= limit

    def wait(self) -> float | None:
        return max(getattr(self, "_wait", 0.0), 0.0)


class UserRateThrottle(FixedWindowThrottle):
    """Per authenticated user (``user`` rate); anonymous requests are left to AnonRateThrottle,
    API keys to ApiKeyRateThrottle."""

    scope = "user"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if (
            request.user
            and getattr(request.user, "is_authenticated", False)
            and not getattr(request.user, "is_api_key", False)
        ):
            return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
        return None


class ApiKeyRateThrottle(FixedWindowThrottle):
    """Per API key (``api_key`` rate): a request authenticated by a key has a principal with
    ``is_api_key`` and the key's id as ``pk`` (``tenants.auth``); a user's requests are left
    to UserRateThrottle."""

    scope = "api_key"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if request.user and getattr(request.user, "is_api_key", False):
            return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
        return None


def user_window(user_pk: Any) -> tuple[str, int] | None:
    """The counter (key before the key function, and its timeout) that ``UserRateThrottle``
    increments for ``user_pk`` now, or None when the user rate is off."""
    throttle = UserRateThrottle()
    if throttle.rate is None:
        return None
    _, duration = throttle.parse_rate(throttle.rate)
    assert duration is not None
    ident = throttle.cache_format % {"scope": throttle.scope, "ident": user_pk}
    return f"{ident}:{_window_start(time.time(), duration)}", duration + 1


# The per-workspace plan rate (tenants.api.throttling.PlanRateThrottle): a one-minute
# window per workspace, counted by the tenant middleware with the user's window.
PLAN_SCOPE = "plan"
PLAN_WINDOW_SECONDS = 60


def plan_window(tenant_pk: Any) -> tuple[str, int]:
    """The counter (key before the key function, and its timeout) of the workspace's plan
    rate for the current minute."""
    ident = FixedWindowThrottle.cache_format % {"scope": PLAN_SCOPE, "ident": tenant_pk}
    return f"{ident}:{_window_start(time.time(), PLAN_WINDOW_SECONDS)}", PLAN_WINDOW_SECONDS + 1


class AnonRateThrottle(FixedWindowThrottle):
    """Per IP address for requests without credentials (``anon`` rate)."""

    scope = "anon"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if request.user and getattr(request.user, "is_authenticated", False):
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class ScopedRateThrottle(FixedWindowThrottle):
    """The rate named by the view's ``throttle_scope`` (``signup``, ``password_reset``), per
    user or, without credentials, per IP address. DRF's ScopedRateThrottle semantics on the
    fixed-window counter."""

    scope_attr = "throttle_scope"

    def __init__(self, *, ident: str | None = None) -> None:
        # The rate is known only once the view is (allow_request).
        self.rate = None
        self.ident = ident

    def allow_request(self, request: Request, view: Any) -> bool:
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        authenticated = request.user and getattr(request.user, "is_authenticated", False)
        ident = self.ident or (str(request.user.pk) if authenticated else self.get_ident(request))
        return self.cache_format % {"scope": self.scope, "ident": ident}


def scoped_wait(request: HttpRequest, scope: str, *, user_id: Any = None) -> float | None:
    """The API's ``scope`` rate applied to a web form (the console's sign-up counts in the
    same window as ``POST /api/v1/signup/``): None when the request may go on, else the
    seconds until the window resets. Counts anonymous requests per IP address, as the API;
    with ``user_id`` (the console's signed-in user), per user, in the same window as the
    user's API calls."""
    throttle = ScopedRateThrottle(ident=str(user_id) if user_id else None)
    view = SimpleNamespace(throttle_scope=scope)
    if throttle.allow_request(Request(request, authenticators=()), view):
        return None
    return throttle.wait() or 1.0


def user_wait(request: HttpRequest, user_id: Any) -> float | None:
    """The API's per-user rate (``user``) for a console page: the console's requests and
    the user's API calls count in the same window. None when the request may go on, else
    the seconds until the window resets."""
    throttle = UserRateThrottle()
    if throttle.rate is None:
        return None
    drf_request = Request(request, authenticators=())
    drf_request.user = SimpleNamespace(pk=user_id, is_authenticated=True)  # type: ignore[assignment]
    if throttle.allow_request(drf_request, None):
        return None
    return throttle.wait() or 1.0
