"""Request rate limits as fixed-window counters: one cache increment per request.

DRF's built-in throttles keep a list of every request time in the cache and
rewrite it on each request, which costs more the higher the limit. Here each
client has one counter per window (``cache.incr``), whatever the rate.
"""

from __future__ import annotations

import time
import weakref
from typing import Any

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

# One round trip, atomic: the counter and its expiry are set together.
_INCREMENT_LUA = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""
_scripts: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def _increment(key: str, *, timeout: int) -> int:
    """Adds one to a window's counter and returns it. On Redis one EVALSHA (Django's
    ``add`` + ``incr`` take three round trips); elsewhere (tests without Redis, local
    development) the cache API."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        full_key = backend.make_and_validate_key(key)
        script = _scripts.get(backend._cache)
        if script is None:  # get_client() builds a new client object on every call
            client = backend._cache.get_client(full_key, write=True)
            script = _scripts[backend._cache] = client.register_script(_INCREMENT_LUA)
        return int(script(keys=[full_key], args=[timeout]))
    cache.add(key, 0, timeout=timeout)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=timeout)
        return 1


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
