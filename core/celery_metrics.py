"""Celery task metrics, and the worker's internal metrics listener.

Every task run is counted and timed by its name and how it ended (``task_prerun`` and
``task_postrun``, whose ``state`` says SUCCESS, FAILURE or RETRY): ``succeeded``,
``failed`` or ``retried``. Eager runs (tests, ``make run``) are counted the same way.

The worker runs in a container of its own, not behind the web app's ``/metrics``: with
CELERY_METRICS_PORT set, its main process starts an HTTP listener on that port
(``worker_ready``) serving the same text format, without a token: it must be reachable
only inside the network (the worker's security group, no load balancer). The prefork pool's
children record in PROMETHEUS_MULTIPROC_DIR (set it for the worker, an empty directory),
which the listener merges; a child that exits is marked dead (``worker_process_shutdown``).
Without PROMETHEUS_MULTIPROC_DIR only the main process's own values are served, which
misses every task run by a prefork child: a warning says so.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

from celery.signals import beat_init, task_postrun, task_prerun, worker_process_shutdown, worker_ready
from django.conf import settings
from django.db import DatabaseError, connections
from prometheus_client import CollectorRegistry, multiprocess, start_http_server
from prometheus_client.core import Metric
from prometheus_client.registry import Collector
from redis.exceptions import RedisError

from core import emf
from core.metrics import celery_task_duration, celery_tasks
from core.metrics_http import ComputedCollector, counted_registry, multiprocess_dir

logger = logging.getLogger("stockroom.metrics")

STATES = {"SUCCESS": "succeeded", "FAILURE": "failed", "RETRY": "retried"}
# Start times by task id until the run ends. An eager run whose error propagates never gets its
# postrun: the map is emptied past this size rather than growing in a long-lived process.
MAX_RUNNING = 10_000
_started: dict[str, float] = {}
_started_lock = threading.Lock()


def _task_name(task: Any, sender: Any) -> str:
    return str(getattr(task, "name", None) or getattr(sender, "name", None) or "unknown")


def on_task_prerun(sender: Any = None, task_id: str | None = None, **_: Any) -> None:
    if task_id is not None:
        with _started_lock:
            if len(_started) >= MAX_RUNNING:
                _started.clear()
            _started[task_id] = time.perf_counter()


def on_task_postrun(
    sender: Any = None, task_id: str | None = None, task: Any = None, state: str | None = None, **_: Any
) -> None:
    with _started_lock:
        started = _started.pop(task_id, None) if task_id is not None else None
    label = STATES.get(state or "")
    if label is None:
        return  # REJECTED, IGNORED: not a run of the task's body that ended
    name = _task_name(task, sender)
    celery_tasks.labels(name, label).inc()
    if started is not None:
        celery_task_duration.labels(name, label).observe(time.perf_counter() - started)


class _Union(Collector):
    """The counted metrics (every process's with PROMETHEUS_MULTIPROC_DIR) and the computed ones."""

    def __init__(self) -> None:
        self.computed = ComputedCollector()
        self.counted = counted_registry()

    def collect(self) -> Iterator[Metric]:
        try:
            yield from self.counted.collect()
            yield from self.computed.collect()
        finally:
            # Each scrape is a thread of its own: the outbox lag's connection ends with it.
            connections.close_all()


def listener_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Union())
    return registry


def start_listener(port: int, addr: str) -> Any:
    """Serves the metrics on ``addr:port`` from a daemon thread; returns the server."""
    server, _thread = start_http_server(port, addr=addr, registry=listener_registry())
    return server


def on_worker_ready(sender: Any = None, **_: Any) -> None:
    """Starts the internal metrics listener in the worker's main process (CELERY_METRICS_PORT)."""
    port = int(settings.CELERY_METRICS_PORT or 0)
    if not port:
        return
    if not multiprocess_dir():
        logger.warning(
            "CELERY_METRICS_PORT is set without PROMETHEUS_MULTIPROC_DIR: tasks run by prefork children "
            "are not counted on the listener"
        )
    start_listener(port, str(settings.CELERY_METRICS_ADDR))
    logger.info("Celery metrics listener on %s:%s", settings.CELERY_METRICS_ADDR, port)


def on_worker_process_shutdown(pid: int | None = None, **_: Any) -> None:
    """A prefork child exits: its live gauges leave the merged values (multiprocess mode)."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(pid or os.getpid())


def publish_forever(*, environment: str, interval: float, stop: threading.Event) -> None:
    """Every ``interval`` seconds, one CloudWatch EMF line (core/emf.py), until ``stop``.
    A failed publication is logged and the next one tried: a metric missing for a minute
    is what the alarms treat as missing data."""
    while not stop.wait(interval):
        try:
            emf.publish(environment=environment)
        except (DatabaseError, RedisError, OSError):  # the database, Redis or stdout, for now
            logger.exception("the CloudWatch metrics publication failed")
        finally:
            connections.close_all()  # this thread's own connections


def on_beat_init(sender: Any = None, **_: Any) -> None:
    """Beat (exactly one per environment) publishes the CloudWatch metrics from a thread of
    its own, not as a task: a task would wait behind the very backlog QueueDepth measures,
    and expire unpublished exactly when the workers should scale out."""
    environment = str(settings.STOCKROOM_ENVIRONMENT or "")
    if not environment:
        return
    interval = float(settings.CLOUDWATCH_METRICS_SECONDS)
    thread = threading.Thread(
        target=publish_forever,
        kwargs={"environment": environment, "interval": interval, "stop": threading.Event()},
        name="cloudwatch-metrics",
        daemon=True,
    )
    thread.start()
    logger.info("CloudWatch metrics every %ss for environment %s", interval, environment)


def connect() -> None:
    """Connects the signal handlers (CoreConfig.ready: web, worker and beat alike)."""
    task_prerun.connect(on_task_prerun, dispatch_uid="core.celery_metrics.prerun", weak=False)
    task_postrun.connect(on_task_postrun, dispatch_uid="core.celery_metrics.postrun", weak=False)
    worker_ready.connect(on_worker_ready, dispatch_uid="core.celery_metrics.worker_ready", weak=False)
    beat_init.connect(on_beat_init, dispatch_uid="core.celery_metrics.beat_init", weak=False)
    worker_process_shutdown.connect(
        on_worker_process_shutdown, dispatch_uid="core.celery_metrics.process_shutdown", weak=False
    )
