"""Trace ids from the load balancer or the caller, for logs and Sentry.

Two headers are read, in this order:

- W3C ``traceparent`` (``00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>``): the
  trace id, 32 lower-case hex digits, not all zeros;
- the ALB's ``X-Amzn-Trace-Id`` (``Root=1-5759e988-bd862e3fe1be46a994272793;Parent=...;
  Sampled=1``): its ``Root`` (``1-`` + 8 hex digits of time + ``-`` + 24 hex digits).

Anything else (too long, malformed, a version ``ff`` traceparent) is ignored: the request
simply has no trace id. Pure functions, no Django.
"""

from __future__ import annotations

import re

# Headers longer than this are not parsed at all (a real one is under 100 characters).
MAX_HEADER_LENGTH = 256
_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$")
_AMZN_ROOT = re.compile(r"^1-[0-9a-f]{8}-[0-9a-f]{24}$")
_ZERO_TRACE = "0" * 32
_ZERO_PARENT = "0" * 16


def from_traceparent(value: str) -> str | None:
    """The trace id of a valid W3C ``traceparent``, else None."""
    if not value or len(value) > MAX_HEADER_LENGTH:
        return None
    match = _TRACEPARENT.match(value.strip())
    if match is None:
        return None
    version, trace_id, parent_id, _flags = match.groups()
    if version == "ff" or trace_id == _ZERO_TRACE or parent_id == _ZERO_PARENT:
        return None
    if version == "00" and len(value.strip()) != 55:
        return None  # version 00 has exactly four fields
    return trace_id


def from_amzn_trace_id(value: str) -> str | None:
    """The ``Root`` of a valid ``X-Amzn-Trace-Id``, else None."""
    if not value or len(value) > MAX_HEADER_LENGTH:
        return None
    for part in value.split(";"):
        key, _, field = part.strip().partition("=")
        if key == "Root":
            return field if _AMZN_ROOT.match(field) else None
    return None


def trace_id_of(*, traceparent: str, amzn_trace_id: str) -> str | None:
    """The request's trace id: the ``traceparent``'s, else the ALB's ``Root``, else None."""
    return from_traceparent(traceparent) or from_amzn_trace_id(amzn_trace_id)
