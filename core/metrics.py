"""Prometheus metrics (docs/observability.md): their definitions and the small helpers the
apps call. The exposition (``/metrics``) is ``core.metrics_http``; the request middleware
``core.metrics_middleware``; the Celery signals ``core.celery_metrics``.

Every label has a bounded set of values: the URL pattern of a request (never its path),
the registered task names, the movement kinds, the outcomes named in code. Counters of
things a transaction does are incremented after its commit (``count_after_commit``): a
rolled-back stock receipt moved nothing.

Gunicorn and Celery's prefork pool run several processes: with ``PROMETHEUS_MULTIPROC_DIR``
set (before the process starts) prometheus_client keeps every value in a file of that
directory and the exposition merges them; unset (development, tests), one process's
default registry.

Two values are computed when asked, not counted: the age of the oldest domain event not
yet relayed (``outbox_lag_seconds``, registered by tenants) and the failed webhook
attempts in a time window (``webhook_failures``, registered by integrations). Core reads
no table of theirs: each layer registers its function here at start-up
(``register_gauge`` / ``register_window_count``).
"""

from __future__ import annotations

import logging
from collections import Counter as Tally
from collections.abc import Callable, Iterable
from datetime import datetime

from django.db import transaction
from prometheus_client import Counter, Histogram

logger = logging.getLogger("stockroom.metrics")

NAMESPACE = "stockroom"
UNMATCHED_ROUTE = "unmatched"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
QUERY_BUCKETS = (0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144)
TASK_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)

http_requests = Counter(
    "http_requests",
    "HTTP requests answered, by URL pattern, method and status.",
    ["route", "method", "status"],
    namespace=NAMESPACE,
)
http_request_duration = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request (all middleware included), by URL pattern, method and status.",
    ["route", "method", "status"],
    namespace=NAMESPACE,
    buckets=LATENCY_BUCKETS,
)
http_request_queries = Histogram(
    "http_request_db_queries",
    "Database queries run by one HTTP request (default alias), by URL pattern and method.",
    ["route", "method"],
    namespace=NAMESPACE,
    buckets=QUERY_BUCKETS,
)
celery_tasks = Counter(
    "celery_tasks",
    "Celery task runs by task name and state (succeeded, failed, retried).",
    ["task", "state"],
    namespace=NAMESPACE,
)
celery_task_duration = Histogram(
    "celery_task_duration_seconds",
    "Celery task run time by task name and state (succeeded, failed, retried).",
    ["task", "state"],
    namespace=NAMESPACE,
    buckets=TASK_BUCKETS,
)
stock_movements = Counter(
    "stock_movements",
    "Stock ledger movements committed, by kind.",
    ["kind"],
    namespace=NAMESPACE,
)
webhook_deliveries = Counter(
    "webhook_deliveries",
    "Outbound webhook delivery attempts recorded, by outcome (succeeded; retrying and failed are failures).",
    ["outcome"],
    namespace=NAMESPACE,
)
stripe_events = Counter(
    "stripe_events",
    "Stripe webhook events received (outcome received or duplicate) and processed (the handler's outcome, "
    "or failed), by event type.",
    ["type", "outcome"],
    namespace=NAMESPACE,
)


def method_label(method: str | None) -> str:
    """The request method as a label: one of the usual ones, else ``other``."""
    return method if method in KNOWN_METHODS else "other"


def count_after_commit(metric: Counter, amount: float = 1, *, using: str | None = None, **labels: str) -> None:
    """``metric{labels} += amount`` once the current transaction commits (at once outside
    one); nothing when it rolls back."""
    child = metric.labels(**labels)
    transaction.on_commit(lambda: child.inc(amount), using=using)


def stock_movements_written(kinds: Iterable[str], *, using: str | None = None) -> None:
    """The ledger wrote one movement per item of ``kinds``: counted after the commit."""
    for kind, count in Tally(kinds).items():
        count_after_commit(stock_movements, count, using=using, kind=str(kind))


def webhook_delivery_recorded(outcome: str) -> None:
    """One webhook delivery attempt with ``outcome`` (succeeded, retrying, failed), after the commit."""
    count_after_commit(webhook_deliveries, outcome=outcome)


def stripe_event_committed(event_type: str, outcome: str) -> None:
    """As ``stripe_event_counted``, for a caller whose transaction has just committed: counted now."""
    stripe_events.labels(type=event_type, outcome=outcome).inc()


def stripe_event_counted(event_type: str, outcome: str) -> None:
    """One Stripe event of ``event_type`` (the caller bounds it: a handled type or ``other``)
    with ``outcome``, after the commit."""
    count_after_commit(stripe_events, type=event_type, outcome=outcome)


# --- Values computed when asked, registered by the layers above ------------------------------

GaugeSource = Callable[[], float | None]
WindowCount = Callable[[datetime, datetime], int | None]
_gauges: dict[str, GaugeSource] = {}
_window_counts: dict[str, WindowCount] = {}

OUTBOX_LAG = "outbox_lag_seconds"
WEBHOOK_FAILURES = "webhook_failures"


def register_gauge(name: str, source: GaugeSource) -> None:
    """``source()`` gives the current value of ``name``, or None when it cannot be known here
    (no operations alias, a timeout): then the metric is absent."""
    _gauges[name] = source


def register_window_count(name: str, source: WindowCount) -> None:
    """``source(since, until)`` counts what happened in ``[since, until)``, or None."""
    _window_counts[name] = source


def gauge_value(name: str) -> float | None:
    """The registered gauge's value, or None (not registered, unknown here, or it failed: logged)."""
    source = _gauges.get(name)
    if source is None:
        return None
    try:
        return source()
    except Exception:
        logger.warning("metric %s could not be computed", name, exc_info=True)
        return None


def window_count(name: str, since: datetime, until: datetime) -> int | None:
    """The registered count over ``[since, until)``, or None (as ``gauge_value``)."""
    source = _window_counts.get(name)
    if source is None:
        return None
    try:
        return source(since, until)
    except Exception:
        logger.warning("metric %s could not be computed", name, exc_info=True)
        return None
