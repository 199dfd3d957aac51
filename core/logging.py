"""Structured JSON logs: every line carries the request id, trace id, tenant id and user id."""

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse
from rest_framework.throttling import BaseThrottle

from core import trace

request_id_var: ContextVar[str | None] = ContextVar("stockroom_request_id", default=None)
# The client's address for the audit log (REMOTE_ADDR, or X-Forwarded-For's entry the
# NUM_PROXIES-th from the end, as DRF's throttles read it); set with the request id.
client_ip_var: ContextVar[str | None] = ContextVar("stockroom_client_ip", default=None)
user_id_var: ContextVar[str | None] = ContextVar("stockroom_user_id", default=None)
# The trace id of the ALB's X-Amzn-Trace-Id or of a W3C traceparent (core/trace.py), or None.
trace_id_var: ContextVar[str | None] = ContextVar("stockroom_trace_id", default=None)

# Values the layers above add to every line (the tenants app adds ``tenant_id``):
# core sits below them and reads no context of theirs directly.
_context_getters: dict[str, Callable[[], object]] = {}


def add_log_context(name: str, getter: Callable[[], object]) -> None:
    """Adds ``name`` (``getter()``, as a string, or null) to every log record."""
    _context_getters[name] = getter


def context_value(name: str) -> str | None:
    """The current value of a context registered with ``add_log_context`` (the tenant id),
    as a string, or None (unset, or nothing registered under ``name``)."""
    getter = _context_getters.get(name)
    value = getter() if getter is not None else None
    return str(value) if value else None


_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
access_logger = logging.getLogger("stockroom.access")


class ContextFilter(logging.Filter):
    """Adds request_id, trace_id, user_id and the registered context (``add_log_context``: the
    tenant id) of the current context to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = request_id_var.get()
        if not getattr(record, "trace_id", None):
            record.trace_id = trace_id_var.get()
        for name in _context_getters:
            if not getattr(record, name, None):
                setattr(record, name, context_value(name))
        if not getattr(record, "user_id", None):
            record.user_id = user_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    _STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "trace_id": getattr(record, "trace_id", None),
            "tenant_id": getattr(record, "tenant_id", None),
            "user_id": getattr(record, "user_id", None),
        }
        for key, value in record.__dict__.items():
            if key not in self._STANDARD and key not in payload:
                payload[key] = value
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class RequestIdMiddleware:
    """Takes a safe X-Request-ID from the client or makes one, and the trace id of the ALB's
    ``X-Amzn-Trace-Id`` or a W3C ``traceparent`` (core/trace.py; invalid ones are ignored);
    logs one access line."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        meta = request.META
        trace_token = trace_id_var.set(
            trace.trace_id_of(
                traceparent=meta.get("HTTP_TRACEPARENT", ""), amzn_trace_id=meta.get("HTTP_X_AMZN_TRACE_ID", "")
            )
        )
        # The same address the throttles and the login lockout use (NUM_PROXIES: behind the
        # ALB, the client's as the ALB appended it to X-Forwarded-For).
        ip_token = client_ip_var.set(BaseThrottle().get_ident(request) or None)  # type: ignore[arg-type]
        user_token = user_id_var.set(None)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            access_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 2),
                    # The tenant context is already reset here; the tenant middleware left its id.
                    "tenant_id": getattr(request, "log_tenant_id", None),
                },
            )
            return response
        finally:
            user_id_var.reset(user_token)
            client_ip_var.reset(ip_token)
            trace_id_var.reset(trace_token)
            request_id_var.reset(token)
