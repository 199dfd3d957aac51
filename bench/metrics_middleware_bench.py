"""The cost of the request metrics middleware (core/metrics_middleware.py), in isolation.

Calls a trivial view (it sets ``resolver_match`` as Django's URL resolution does and
answers 200) N times bare and N times through ``RequestMetricsMiddleware``, in alternating
rounds, and prints the added microseconds per request (the median of the rounds). No
database and no network: only what the middleware itself costs (the query counter's
wrapper, the clock, three label look-ups and observations). Usage:

    DATABASE_URL= .venv/bin/python bench/metrics_middleware_bench.py [--requests 20000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.urls import resolve  # noqa: E402

from core.metrics_middleware import RequestMetricsMiddleware  # noqa: E402

PATH = "/api/v1/products/8f1c2b9e-0000-4000-8000-000000000001/"
MATCH = resolve(PATH)


def view(request: HttpRequest) -> HttpResponse:
    request.resolver_match = MATCH
    return HttpResponse(b"{}", content_type="application/json")


def timed(handler: Callable[[HttpRequest], HttpResponse], requests: Sequence[HttpRequest]) -> float:
    started = time.perf_counter()
    for request in requests:
        handler(request)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    factory = RequestFactory()
    requests = [factory.get(PATH) for _ in range(args.requests)]
    wrapped = RequestMetricsMiddleware(view)
    timed(wrapped, requests[:1000])  # warm up: the label children exist
    bare_us, with_us = [], []
    for _ in range(args.rounds):
        bare_us.append(timed(view, requests) / args.requests * 1e6)
        with_us.append(timed(wrapped, requests) / args.requests * 1e6)
    bare, wrapped_median = statistics.median(bare_us), statistics.median(with_us)
    print(f"requests per round: {args.requests}, rounds: {args.rounds}")
    print(f"bare view:        {bare:.2f} us/request (median)")
    print(f"with middleware:  {wrapped_median:.2f} us/request (median)")
    print(f"added by metrics: {wrapped_median - bare:.2f} us/request")


if __name__ == "__main__":
    main()
