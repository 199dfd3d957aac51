"""Gunicorn settings for the container's ``web`` command (scripts/container-entrypoint.sh).

Every value can be changed through an environment variable, so one image serves every
task size. Behind the AWS Application Load Balancer (idle timeout 60 s): gunicorn keeps a
connection open longer than the balancer does, so the balancer always closes it first and
never sends a request on a connection gunicorn is just closing (a 502).
"""

import os
from typing import Any


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def _cores() -> int:
    # The CPUs this process may run on (a Fargate task's vCPUs), not the host's.
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# Listen on every interface: the load balancer reaches the task on its private address.
bind = f"0.0.0.0:{_int('PORT', 8000)}"

# Threaded workers: a request waiting on PostgreSQL or Redis leaves the CPU to another.
# 2 x cores + 1, capped at 4: Fargate reports at least 2 vCPUs even for a quarter-vCPU
# task, and each worker holds its own copy of the app (~150 MB); WEB_CONCURRENCY overrides.
worker_class = "gthread"
workers = _int("WEB_CONCURRENCY", min(2 * _cores() + 1, 4))
threads = _int("GUNICORN_THREADS", 4)

# A worker silent for this long is killed and replaced (a stuck request).
timeout = _int("GUNICORN_TIMEOUT", 30)
# SIGTERM (ECS stops a task, a deploy) lets requests in flight finish for this long; it
# must stay below the task's stopTimeout (30 s by default), after which ECS kills.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 25)
# Above the load balancer's idle timeout (60 s): see the module docstring.
keepalive = _int("GUNICORN_KEEPALIVE", 75)

# Recycle each worker after about this many requests (jitter: not all at once), which
# bounds the memory any leak can take. Not by default with PROMETHEUS_MULTIPROC_DIR: each
# recycled worker leaves its counter and histogram files there (they must stay, or the
# counters would go back), and every scrape reads them all.
max_requests = _int("GUNICORN_MAX_REQUESTS", 0 if os.environ.get("PROMETHEUS_MULTIPROC_DIR") else 1000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 100)

# The workers' heartbeat files in memory: a disk-backed /tmp can stall os.fchmod.
worker_tmp_dir = "/dev/shm"  # noqa: S108 - gunicorn's documented in-memory heartbeat directory

# X-Forwarded-Proto / X-Forwarded-For are trusted from these addresses. The load balancer's
# addresses change, and its security group is the only way into the task, so every peer
# is the balancer: "*" by default, a CIDR list where that does not hold.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")

# No access log: the app writes one JSON line per request itself (core.logging), with the
# request id, tenant and user. Gunicorn's own messages go to stderr as JSON too.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "INFO").lower()
logconfig_dict: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "core.logging.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": loglevel.upper(), "propagate": False},
        "gunicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
    },
}

# No runtime control socket (gunicornc): the orchestrator starts and stops tasks, and the
# non-root user has no home directory to put it in.
control_socket_disable = True


def child_exit(server: Any, worker: Any) -> None:
    """A worker is gone: drop its live gauges from the Prometheus multiprocess directory
    (the /metrics view aggregates the files of every worker)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
