"""The Celery queues' depth: messages waiting in each queue of the Redis broker.

Kombu's Redis transport keeps a queue as a list under the queue's name, plus one list per
priority step (``<name>\\x06\\x16<priority>``); the depth is the sum of their ``LLEN``, read
in one pipelined round trip. Each call gives up after REDIS_TIMEOUT_SECONDS (no retry):
with the broker down the answer is None, quickly, and the metric is absent.
"""

from __future__ import annotations

import logging
import threading

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

logger = logging.getLogger("stockroom.metrics")

# kombu.transport.redis: PRIORITY_STEPS and the separator of the per-priority lists.
PRIORITY_SEPARATOR = "\x06\x16"
PRIORITY_STEPS = (3, 6, 9)

_clients: dict[tuple[str, float], redis.Redis] = {}
_lock = threading.Lock()


def queue_names() -> list[str]:
    """The queues the workers consume (CELERY_TASK_QUEUES): ``celery`` and ``events``."""
    return [str(queue.name) for queue in settings.CELERY_TASK_QUEUES]


def _client(url: str) -> redis.Redis:
    timeout = float(settings.REDIS_TIMEOUT_SECONDS)
    key = (url, timeout)
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = redis.Redis.from_url(
                url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0)
            )
            _clients[key] = client
        return client


def queue_depths() -> dict[str, int] | None:
    """``{queue: messages waiting}``, or None when the broker is not Redis or cannot be reached."""
    url = str(settings.CELERY_BROKER_URL or "")
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    names = queue_names()
    try:
        pipe = _client(url).pipeline(transaction=False)
        for name in names:
            pipe.llen(name)
            for step in PRIORITY_STEPS:
                pipe.llen(f"{name}{PRIORITY_SEPARATOR}{step}")
        lengths = pipe.execute()
    except (RedisError, OSError, ValueError) as exc:  # ValueError: a URL redis-py cannot parse
        logger.warning("queue depth unknown: broker unreachable (%s)", exc, extra={"dependency": "broker"})
        return None
    per_queue = 1 + len(PRIORITY_STEPS)
    return {name: sum(int(n) for n in lengths[i * per_queue : (i + 1) * per_queue]) for i, name in enumerate(names)}
