"""Counters in the shared cache (Redis), with a per-process fallback while Redis is down.

Request throttles and the login lockout count in Redis, one atomic ``INCR`` per
event (a Lua script: the counter, its expiry and its remaining time in one round
trip). The tenant middleware's membership cache reads its entries in the same
round trip as the user's throttle counter (``read_and_incr``). Redis being
unreachable never fails a request:

- the first failed call logs one WARNING and marks Redis as down for
  ``CACHE_RETRY_SECONDS``; until then no call tries Redis (no connect timeout
  per request), and counters go to this process's own memory
  (``local_counters``): the same limits, enforced per process;
- a cached read (``read_and_incr``) answers None: the caller goes to the database;
- after the interval the next call tries Redis again; a success logs that it is
  back, another failure logs one more WARNING (so at most one line per interval).

``counter_incr(..., mirror=True)`` also copies every count Redis returns into the
process's memory, so a limit this process saw reached (a locked account) stays
in force when Redis goes away (docs/architecture.md, "When a dependency is down").

Keys go through the cache's key function like every cache key (prefix, version,
tenant id); callers that need global keys run without a tenant.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger("stockroom.cache")

# What a cache call raises when Redis is unreachable or misbehaves.
CACHE_ERRORS: tuple[type[Exception], ...] = (RedisError, OSError)

# One round trip, atomic: the counter, an expiry when it has none, and the seconds left.
_INCREMENT_LUA = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""
# One round trip: the values of KEYS[2..] and, when ARGV[2] is '1', the counter KEYS[1]
# incremented as in _INCREMENT_LUA. A missing key reads as false (nil in the reply).
_READ_AND_INCREMENT_LUA = """
local n = tonumber(ARGV[1])
local out = {}
for i = n + 1, #KEYS do
  out[#out + 1] = redis.call('GET', KEYS[i])
end
for i = 1, n do
  local count = redis.call('INCR', KEYS[i])
  local ttl = redis.call('TTL', KEYS[i])
  if ttl < 0 then
    redis.call('EXPIRE', KEYS[i], ARGV[i + 1])
    ttl = tonumber(ARGV[i + 1])
  end
  out[#out + 1] = count
  out[#out + 1] = ttl
end
return out
"""
# SET KEYS[1] = ARGV[1] for ARGV[2] seconds only if every KEYS[i] (i >= 2) still holds
# ARGV[i + 1] ('' for a missing key): a value read before its guards changed is not stored.
_SET_IF_UNCHANGED_LUA = """
for i = 2, #KEYS do
  if (redis.call('GET', KEYS[i]) or '') ~= ARGV[i + 1] then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""
# INCR every key and give it ARGV[1] seconds to live (from now).
_BUMP_LUA = """
for i = 1, #KEYS do
  redis.call('INCR', KEYS[i])
  redis.call('EXPIRE', KEYS[i], ARGV[1])
end
return #KEYS
"""
_DECREMENT_LUA = """
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end
return 0
"""
_scripts: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


class LocalCounters:
    """Expiring counters in this process's memory, thread-safe."""

    MAX_KEYS = 100_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, tuple[int, float]] = {}  # key -> (count, expires at, monotonic)

    def _live(self, key: str, now: float) -> tuple[int, float] | None:
        entry = self._data.get(key)
        if entry is not None and entry[1] <= now:
            del self._data[key]
            return None
        return entry

    def _prune(self, now: float) -> None:
        if len(self._data) >= self.MAX_KEYS:
            for key in [k for k, (_, expires) in self._data.items() if expires <= now]:
                del self._data[key]
            if len(self._data) >= self.MAX_KEYS:  # still full: drop the oldest half
                for key in list(self._data)[: self.MAX_KEYS // 2]:
                    del self._data[key]

    def incr(self, key: str, *, timeout: int) -> tuple[int, int]:
        now = time.monotonic()
        with self._lock:
            entry = self._live(key, now)
            if entry is None:
                self._prune(now)
                entry = (0, now + timeout)
            count, expires = entry[0] + 1, entry[1]
            self._data[key] = (count, expires)
        return count, max(1, round(expires - now))

    def raise_to(self, key: str, *, count: int, ttl: int) -> None:
        """Remembers a count read from Redis (never lowers the one already here)."""
        now = time.monotonic()
        with self._lock:
            entry = self._live(key, now)
            if entry is None or entry[0] < count:
                self._prune(now)
                self._data[key] = (count, now + ttl)

    def decr(self, key: str) -> None:
        now = time.monotonic()
        with self._lock:
            entry = self._live(key, now)
            if entry is not None:
                self._data[key] = (max(0, entry[0] - 1), entry[1])

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


local_counters = LocalCounters()


class _Availability:
    """Whether to try Redis now; logs one line per outage interval."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.down_until = 0.0

    def should_try(self) -> bool:
        return time.monotonic() >= self.down_until

    def failed(self, exc: BaseException) -> None:
        now = time.monotonic()
        with self._lock:
            if now < self.down_until:  # another thread has just logged it
                return
            self.down_until = now + settings.CACHE_RETRY_SECONDS
        logger.warning(
            "cache unreachable: throttles and login counters fall back to per-process limits, cached reads to "
            "the database, for %s s (%s: %s)",
            settings.CACHE_RETRY_SECONDS,
            type(exc).__name__,
            exc,
            extra={"dependency": "redis"},
        )

    def succeeded(self) -> None:
        if self.down_until:
            with self._lock:
                was_down, self.down_until = self.down_until, 0.0
            if was_down:
                logger.info("cache reachable again: counting in Redis", extra={"dependency": "redis"})

    def reset(self) -> None:
        with self._lock:
            self.down_until = 0.0


availability = _Availability()


def reset() -> None:
    """Forgets the outage state and the per-process counters (tests)."""
    availability.reset()
    local_counters.clear()


def _script(backend: RedisCache, key: str, name: str, source: str) -> Any:
    scripts = _scripts.setdefault(backend._cache, {})  # get_client() builds a new client on every call
    if name not in scripts:
        scripts[name] = backend._cache.get_client(key, write=True).register_script(source)
    return scripts[name]


def _redis_backend() -> tuple[RedisCache | None, Any]:
    backend = caches["default"]
    return (backend if isinstance(backend, RedisCache) else None), backend


def counter_incr(key: str, *, timeout: int, mirror: bool = False) -> tuple[int, int]:
    """Adds one to ``key`` (created with ``timeout`` seconds to live) and returns the
    count and the seconds it has left. Never raises for an unreachable Redis."""
    redis, backend = _redis_backend()
    full_key = backend.make_and_validate_key(key)
    if redis is not None and availability.should_try():
        try:
            count, ttl = _script(redis, full_key, "incr", _INCREMENT_LUA)(keys=[full_key], args=[timeout])
        except CACHE_ERRORS as exc:
            availability.failed(exc)
        else:
            availability.succeeded()
            count, ttl = int(count), max(1, int(ttl))
            if mirror:
                local_counters.raise_to(full_key, count=count, ttl=ttl)
            return count, ttl
    return local_counters.incr(full_key, timeout=timeout)


def read_and_incr(
    keys: Sequence[str], *, counters: Sequence[tuple[str, int]] = ()
) -> tuple[list[bytes | None] | None, list[tuple[int, int]]]:
    """One round trip: the values of ``keys`` and each of ``counters`` (full key, timeout)
    incremented as ``counter_incr`` does (its count and seconds left, in order). Every key
    is a full key (``make_and_validate_key``, or one made the same way). The values are
    None when there is no Redis or it is unreachable (the caller reads the source of truth
    instead); the counters are then counted in this process, as ``counter_incr`` does."""
    redis, _ = _redis_backend()
    if redis is not None and availability.should_try():
        names = [name for name, _ in counters]
        first = names[0] if names else keys[0]
        try:
            reply = _script(redis, first, "read_incr", _READ_AND_INCREMENT_LUA)(
                keys=[*names, *keys], args=[len(names), *(timeout for _, timeout in counters)]
            )
        except CACHE_ERRORS as exc:
            availability.failed(exc)
        else:
            availability.succeeded()
            values, counts = reply[: len(keys)], reply[len(keys) :]
            return values, [(int(counts[i]), max(1, int(counts[i + 1]))) for i in range(0, len(counts), 2)]
    return None, [local_counters.incr(name, timeout=timeout) for name, timeout in counters]


def set_if_unchanged(key: str, value: str, *, timeout: int, guards: Mapping[str, bytes | None]) -> bool:
    """Stores ``value`` (full key) for ``timeout`` seconds unless one of ``guards`` (full
    keys) no longer holds the value it had when ``value`` was read. False when not stored,
    Redis unreachable included."""
    redis, _ = _redis_backend()
    if redis is None or not availability.should_try():
        return False
    expected = [(guard or b"").decode() for guard in guards.values()]
    try:
        stored = _script(redis, key, "set_unchanged", _SET_IF_UNCHANGED_LUA)(
            keys=[key, *guards], args=[value, timeout, *expected]
        )
    except CACHE_ERRORS as exc:
        availability.failed(exc)
        return False
    availability.succeeded()
    return bool(stored)


def bump(keys: Sequence[str], *, timeout: int) -> bool:
    """Increments every key (full keys), each to live ``timeout`` seconds from now. Tried
    even while Redis is marked down: it is an invalidation, rare and worth a try. False
    when Redis could not be reached (logged)."""
    redis, _ = _redis_backend()
    if redis is None or not keys:
        return True
    try:
        _script(redis, keys[0], "bump", _BUMP_LUA)(keys=list(keys), args=[timeout])
    except CACHE_ERRORS as exc:
        availability.failed(exc)
        return False
    availability.succeeded()
    return True


def counter_decr(key: str) -> None:
    """Takes one off ``key`` if it exists (both in Redis and in this process)."""
    redis, backend = _redis_backend()
    full_key = backend.make_and_validate_key(key)
    local_counters.decr(full_key)
    if redis is not None and availability.should_try():
        try:
            _script(redis, full_key, "decr", _DECREMENT_LUA)(keys=[full_key], args=[])
        except CACHE_ERRORS as exc:
            availability.failed(exc)


def counter_delete(key: str) -> None:
    redis, backend = _redis_backend()
    full_key = backend.make_and_validate_key(key)
    local_counters.delete(full_key)
    if redis is not None and availability.should_try():
        try:
            redis.delete(key)
        except CACHE_ERRORS as exc:
            availability.failed(exc)


def cache_ping() -> bool:
    """For /readyz: a real write and read, whatever the outage state."""
    try:
        backend = caches["default"]
        backend.set("readyz", "1", timeout=5)
        return bool(backend.get("readyz") == "1")
    except CACHE_ERRORS:
        logger.warning("readiness: cache unreachable", exc_info=True, extra={"dependency": "redis"})
        return False
