"""Liveness and readiness probes for the load balancer and the orchestrator.

``/healthz`` touches nothing. ``/readyz`` checks each dependency: the database
(without it nothing works: 503 ``unavailable``), the cache's Redis and the Celery
broker. Without Redis or the broker the API still serves (docs/architecture.md,
"When a dependency is down"), so the answer is 200 ``degraded`` naming the failing
part: taking every instance out of rotation would turn a degraded service into none.

Load balancers and container health checks call the probes by the task's own address
(``Host: 10.0.3.17:8000``), which is not in ``ALLOWED_HOSTS``: ``ProbeMiddleware``, second
in the stack (after the request id), answers the two probe paths before anything reads the host, so a probe
never gets 400 for its host name nor a redirect to HTTPS. It answers ``/metrics`` the same
way (core/metrics_http.py: its own bearer token), for a metrics scraper that calls the task by
its address.
"""

import logging
from collections.abc import Callable

from celery import current_app
from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from kombu.exceptions import KombuError

from core import metrics_http
from core.cache import cache_ping

logger = logging.getLogger(__name__)


@transaction.non_atomic_requests
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up. Touches nothing else."""
    return JsonResponse({"status": "ok"})


def _database_ok() -> bool:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        logger.warning("readiness: database unreachable", exc_info=True, extra={"dependency": "database"})
        return False


def _broker_ok() -> bool:
    try:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, timeout=settings.REDIS_TIMEOUT_SECONDS
            )
        return True
    except (KombuError, OSError):
        logger.warning("readiness: Celery broker unreachable", exc_info=True, extra={"dependency": "broker"})
        return False


@transaction.non_atomic_requests
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """200 ``ok``; 200 ``degraded`` when Redis or the broker is down; 503 ``unavailable``
    when the database is (``checks`` names each part: ``ok`` or ``failed``)."""
    checks = {
        "database": _database_ok(),
        "redis" if settings.REDIS_URL else "cache": cache_ping(),
        "broker": _broker_ok(),
    }
    if not checks["database"]:
        status, code = "unavailable", 503
    elif not all(checks.values()):
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    return JsonResponse(
        {"status": status, "checks": {name: "ok" if ok else "failed" for name, ok in checks.items()}}, status=code
    )


class ProbeMiddleware:
    """Answers ``/healthz``, ``/readyz`` and ``/metrics`` ahead of every middleware but the
    request metrics and the request id (host validation, the HTTPS redirect, sessions, the
    tenant check): probes and scrapers come by IP address and carry no user (``/metrics``
    checks its own token)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.probes: dict[str, Callable[[HttpRequest], HttpResponse]] = {
            "/healthz": healthz,
            "/readyz": readyz,
            "/metrics": metrics_http.metrics,
        }

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = self.probes.get(request.path_info)
        return probe(request) if probe is not None else self.get_response(request)
