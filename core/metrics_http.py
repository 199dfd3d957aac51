"""The Prometheus exposition: ``GET /metrics`` on the web app and the Celery worker's
internal listener (``core.celery_metrics``).

``/metrics`` is not public: with METRICS_TOKEN unset it does not exist (the site's 404);
with it set, ``Authorization: Bearer <METRICS_TOKEN>`` (compared in constant time) or
401 ``not_authenticated`` / 403 ``permission_denied`` in the API's error shape. It is a
plain Django view: no tenant, no DRF throttle, no transaction, not in the OpenAPI schema.

The counted metrics come from the default registry, or, with PROMETHEUS_MULTIPROC_DIR
set, from every process's files (``MultiProcessCollector``). The computed ones are read
at scrape time: each queue's depth (Redis ``LLEN``; absent with the broker down) and the
outbox lag (the operations alias; absent without it).
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator

from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from core.api.exception_handler import error_body
from core.metrics import NAMESPACE, OUTBOX_LAG, gauge_value
from core.queue_depth import queue_depths


class ComputedCollector(Collector):
    """The values read when scraped: queue depth per queue, outbox lag. A value that cannot be
    known (broker down, no operations alias) is left out, never reported as 0."""

    def collect(self) -> Iterator[Metric]:
        depths = queue_depths()
        if depths is not None:
            family = GaugeMetricFamily(
                f"{NAMESPACE}_celery_queue_depth", "Messages waiting in each Celery queue.", labels=["queue"]
            )
            for queue, depth in depths.items():
                family.add_metric([queue], depth)
            yield family
        lag = gauge_value(OUTBOX_LAG)
        if lag is not None:
            yield GaugeMetricFamily(
                f"{NAMESPACE}_outbox_lag_seconds",
                "Age of the oldest domain event not yet handed to every subscriber (0: none).",
                value=lag,
            )


_computed = CollectorRegistry(auto_describe=False)
_computed.register(ComputedCollector())


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def counted_registry() -> CollectorRegistry:
    """The counted metrics: every process's files with PROMETHEUS_MULTIPROC_DIR, else this
    process's default registry."""
    if not multiprocess_dir():
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def exposition() -> bytes:
    """Every metric in Prometheus' text format."""
    return generate_latest(counted_registry()) + generate_latest(_computed)


def _refused(status: int, code: str, message: str) -> JsonResponse:
    response = JsonResponse(error_body(code, message), status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


@transaction.non_atomic_requests
def metrics(request: HttpRequest) -> HttpResponse:
    """``GET /metrics`` for Prometheus, with the bearer token METRICS_TOKEN."""
    expected = str(settings.METRICS_TOKEN or "")
    if not expected:
        raise Http404
    if request.method not in {"GET", "HEAD"}:
        response = JsonResponse(error_body("method_not_allowed", "Use GET."), status=405)
        response["Allow"] = "GET, HEAD"
        return response
    scheme, _, raw = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return _refused(401, "not_authenticated", "Send Authorization: Bearer <METRICS_TOKEN>.")
    if not hmac.compare_digest(raw.strip().encode(), expected.encode()):
        return _refused(403, "permission_denied", "The metrics token is not valid.")
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
