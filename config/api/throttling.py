"""Request rate limits as fixed-window counters: one cache increment per request.

DRF's built-in throttles keep a list of every request time in the cache and
rewrite it on each request, which costs more the higher the limit. Here each
client has one counter per window (``cache.incr``), whatever the rate.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle


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
        key = f"{self.key}:{window_start}"
        cache.add(key, 0, timeout=duration + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=duration + 1)
            count = 1
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
