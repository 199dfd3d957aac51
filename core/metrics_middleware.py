"""Request metrics: count, latency and database queries of every request, by URL pattern.

The outermost middleware (config/settings/base.py), so the latency includes every other
middleware. The route label is the matched URL pattern (``api/v1/products/<uuid:pk>/``),
never the path: a request that matched no pattern is ``unmatched``. Queries are counted
by a ``connection.execute_wrapper`` on the default alias for the request's duration (the
wrapper only adds one to an integer). Nothing here touches the database or Redis.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from core.metrics import UNMATCHED_ROUTE, http_request_duration, http_request_queries, http_requests, method_label


class _QueryCounter:
    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)")


@lru_cache(maxsize=1024)
def route_label(route: str) -> str:
    """A pattern as people read it: the DRF routers' regular expressions
    (``^api/v1/exports/(?P<pk>[0-9a-fA-F-]{36})/download/$``) become
    ``api/v1/exports/<pk>/download/``, like the ``path()`` patterns already are."""
    return _NAMED_GROUP.sub(r"<\1>", route).removeprefix("^").removesuffix("$")


def route_of(request: HttpRequest, status: int) -> str:
    """The URL pattern the request matched, or ``unmatched``. A response given before URL
    resolution (a middleware's redirect or replay) resolves the path once more; a 404
    without a match is unmatched without that."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        if status == 404:
            return UNMATCHED_ROUTE
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return UNMATCHED_ROUTE
    return route_label(match.route) if match.route else UNMATCHED_ROUTE


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # (route, method, status) -> its three metric children: prometheus_client's labels()
        # (validation, a lock) once per combination, not per request. Bounded like the labels.
        self._children: dict[tuple[str, str | None, int], tuple[Any, Any, Any]] = {}

    def _children_of(self, route: str, method: str | None, status: int) -> tuple[Any, Any, Any]:
        key = (route, method, status)
        children = self._children.get(key)
        if children is None:
            label = method_label(method)
            children = (
                http_requests.labels(route, label, str(status)),
                http_request_duration.labels(route, label, str(status)),
                http_request_queries.labels(route, label),
            )
            if method == label:  # an unusual method is "other": not a key of its own
                self._children[key] = children
        return children

    def __call__(self, request: HttpRequest) -> HttpResponse:
        queries = _QueryCounter()
        wrappers = connection.execute_wrappers
        wrappers.append(queries)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            elapsed = time.perf_counter() - started
            wrappers.remove(queries)
        status = response.status_code
        count, duration, query_count = self._children_of(route_of(request, status), request.method, status)
        count.inc()
        duration.observe(elapsed)
        query_count.observe(queries.count)
        return response
