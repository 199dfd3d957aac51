"""Trace ids (core/trace.py): the ALB's X-Amzn-Trace-Id and W3C traceparent, validated; on
every JSON log line of the request (core/logging.py); garbage ignored, never a 500."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.http import HttpResponse

from core import trace
from core.logging import ContextFilter, JsonFormatter, RequestIdMiddleware, trace_id_var

W3C = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
AMZN = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (W3C, "4bf92f3577b34da6a3ce929d0e0e4736"),
        ("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future", "4bf92f3577b34da6a3ce929d0e0e4736"),
        ("00-00000000000000000000000000000000-00f067aa0ba902b7-01", None),  # all-zero trace id
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", None),  # all-zero parent
        ("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", None),  # forbidden version
        ("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", None),  # upper case
        (W3C + "-extra", None),  # version 00 has four fields
        ("00-4bf92f35-00f067aa0ba902b7-01", None),
        ("", None),
        ("x" * 10_000, None),
    ],
)
def test_traceparent(value, expected):
    assert trace.from_traceparent(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (AMZN, "1-5759e988-bd862e3fe1be46a994272793"),
        (
            "Self=1-67891234-12456789abcdef012345678;Root=1-67891233-abcdef012345678912345678",
            "1-67891233-abcdef012345678912345678",
        ),
        ("Root=1-5759e988-bd862e3fe1be46a99427279", None),  # 23 digits
        ("Root=1-5759e988-bd862e3fe1be46a994272793<script>", None),
        ("Root=", None),
        ("Parent=53995c3f42cd8ad8", None),
        ("Root=1-5759e988-bd862e3fe1be46a994272793;" + "x" * 300, None),  # too long to parse
    ],
)
def test_amzn_trace_id(value, expected):
    assert trace.from_amzn_trace_id(value) == expected


def test_traceparent_wins_over_the_alb_header():
    assert trace.trace_id_of(traceparent=W3C, amzn_trace_id=AMZN) == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert trace.trace_id_of(traceparent="garbage", amzn_trace_id=AMZN) == "1-5759e988-bd862e3fe1be46a994272793"
    assert trace.trace_id_of(traceparent="", amzn_trace_id="") is None


def _log_lines(rf, **headers) -> list[dict]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("stockroom.tests.trace")
    logger.addHandler(handler)
    access = logging.getLogger("stockroom.access")
    access.addHandler(handler)
    levels = (logger.level, access.level)
    logger.setLevel(logging.INFO)
    access.setLevel(logging.INFO)

    def view(request):
        logger.info("inside the view")
        return HttpResponse("ok")

    try:
        response = RequestIdMiddleware(view)(rf.get("/healthz", **headers))
    finally:
        logger.removeHandler(handler)
        access.removeHandler(handler)
        logger.setLevel(levels[0])
        access.setLevel(levels[1])
    assert response.status_code == 200
    assert trace_id_var.get() is None  # reset after the request
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_every_log_line_of_the_request_has_its_trace_id(rf):
    lines = _log_lines(rf, HTTP_X_AMZN_TRACE_ID=AMZN)
    assert [line["message"] for line in lines] == ["inside the view", "GET /healthz 200"]
    assert {line["trace_id"] for line in lines} == {"1-5759e988-bd862e3fe1be46a994272793"}


def test_a_garbage_trace_header_is_ignored(rf):
    lines = _log_lines(rf, HTTP_TRACEPARENT="00-" + "z" * 5000, HTTP_X_AMZN_TRACE_ID="Root=<script>")
    assert {line["trace_id"] for line in lines} == {None}


def test_a_garbage_trace_header_is_never_a_server_error(client):
    response = client.get("/healthz", HTTP_TRACEPARENT="\x00" * 300, HTTP_X_AMZN_TRACE_ID="Root=1-" + "g" * 5000)
    assert response.status_code == 200
