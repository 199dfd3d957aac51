"""CloudWatch custom metrics as Embedded Metric Format (EMF) lines on stdout.

The awslogs log driver ships stdout to CloudWatch Logs, which turns each EMF line into
metric data points: no API call, no credentials. One line per publication (a thread of
Celery beat's, core/celery_metrics.py, every CLOUDWATCH_METRICS_SECONDS), namespace ``Stockroom``, one
dimension ``Environment`` (STOCKROOM_ENVIRONMENT):

- ``QueueDepth`` (Count): messages waiting in all Celery queues;
- ``OutboxLagSeconds`` (Seconds): age of the oldest domain event not yet relayed, 0 when none;
- ``WebhookFailures`` (Count): failed webhook delivery attempts since the previous
  publication, counted in the database's delivery log (so a restart loses nothing).

A value that cannot be known (broker down, no operations alias) is left out of that line
rather than published as 0. Spec:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timedelta
from typing import Any, TextIO

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from redis.exceptions import RedisError

from core import metrics
from core.queue_depth import queue_depths

logger = logging.getLogger("stockroom.metrics")

NAMESPACE = "Stockroom"
DIMENSION = "Environment"
UNITS = {"QueueDepth": "Count", "OutboxLagSeconds": "Seconds", "WebhookFailures": "Count"}


def _interval() -> timedelta:
    """How often beat publishes (CLOUDWATCH_METRICS_SECONDS): the window when the previous
    one's end is unknown."""
    return timedelta(seconds=float(settings.CLOUDWATCH_METRICS_SECONDS))


# A delivery attempt is stamped when it is written, a moment before its commit: the window
# ends this long before now, so an attempt still committing is counted by the next one.
COMMIT_GRACE = timedelta(seconds=5)
# The previous window's end (the cache: Redis). Older than this, or unknown, the window is one
# publishing interval.
LAST_WINDOW_KEY = "observability:emf:webhook-failures:until"
MAX_WINDOW = timedelta(hours=1)


def emf_line(*, environment: str, values: dict[str, float | int | None], timestamp: datetime) -> str:
    """One EMF JSON object (one line) with the known ``values`` (None ones left out)."""
    known = {name: value for name, value in values.items() if value is not None}
    document: dict[str, Any] = {
        "_aws": {
            "Timestamp": int(timestamp.timestamp() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [[DIMENSION]],
                    "Metrics": [{"Name": name, "Unit": UNITS[name]} for name in known],
                }
            ],
        },
        DIMENSION: environment,
        **known,
    }
    return json.dumps(document, separators=(",", ":"))


def _window(now: datetime) -> tuple[datetime, datetime]:
    """``[since, until)`` for WebhookFailures: from the previous publication's end to now
    (less COMMIT_GRACE); one publishing interval long when the previous end is unknown or too old."""
    until = now - COMMIT_GRACE
    since = until - _interval()
    try:
        previous = cache.get(LAST_WINDOW_KEY)
    except (RedisError, OSError):
        previous = None
    if isinstance(previous, datetime) and until - MAX_WINDOW <= previous < until:
        since = previous
    return since, until


def _remember(until: datetime) -> None:
    try:
        cache.set(LAST_WINDOW_KEY, until, timeout=int(MAX_WINDOW.total_seconds()))
    except (RedisError, OSError):
        logger.warning("could not remember the EMF window's end: the next one is %s long", _interval())


def collect(now: datetime) -> dict[str, float | int | None]:
    depths = queue_depths()
    since, until = _window(now)
    failures = metrics.window_count(metrics.WEBHOOK_FAILURES, since, until)
    if failures is not None:
        _remember(until)
    return {
        "QueueDepth": sum(depths.values()) if depths is not None else None,
        "OutboxLagSeconds": metrics.gauge_value(metrics.OUTBOX_LAG),
        "WebhookFailures": failures,
    }


def publish(*, environment: str, stream: TextIO | None = None) -> str:
    """Writes one EMF line to the process's real stdout (or ``stream``) and returns it.

    ``sys.__stdout__``, not ``sys.stdout``: a Celery worker redirects ``sys.stdout`` into its
    logger (``worker_redirect_stdouts``), whose JSON formatter would wrap the line in a log
    record's ``message``, and CloudWatch would see no EMF document."""
    now = timezone.now()
    line = emf_line(environment=environment, values=collect(now), timestamp=now)
    out = stream or sys.__stdout__ or sys.stdout
    out.write(line + "\n")
    out.flush()
    return line
