"""Request rate limits as fixed-window counters: one cache increment per request.

DRF's built-in throttles keep a list of every request time in the cache and
rewrite it on each request, which costs more the higher the limit. Here each
client has one counter per window (``core.cache.counter_incr``, one EVALSHA),
whatever the rate. While Redis is unreachable the counters live in each
process's memory: the same limits, per process, with one WARNING per outage
interval (``core.cache``); a request is never refused because Redis is down.
"""

from __future__ import annotations

import time
from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from core.cache import counter_incr


def _increment(key: str, *, timeout: int) -> int:
    """Adds one to a window's counter and returns it."""
    return counter_incr(key, timeout=timeout)[0]


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
        window_start = int(now // duration) * duration
        count = _increment(f"{self.key}:{window_start}", timeout=duration + 1)
        self._wait = window_start + duration - now
        return count <= limit

    def wait(self) -> float | None:
        return max(getattr(self, "_wait", 0.0), 0.0)


class UserRateThrottle(FixedWindowThrottle):
    """Per authenticated user (``user`` rate); anonymous requests are left to AnonRateThrottle."""

    scope = "user"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if request.user and getattr(request.user, "is_authenticated", False):
            return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
        return None


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

    def __init__(self) -> None:
        # The rate is known only once the view is (allow_request).
        self.rate = None

    def allow_request(self, request: Request, view: Any) -> bool:
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        authenticated = request.user and getattr(request.user, "is_authenticated", False)
        ident = str(request.user.pk) if authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
