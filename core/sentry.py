"""Sentry, when SENTRY_DSN is set (CoreConfig.ready: the web app, the worker and beat).

Django and Celery integrations, ``send_default_pii=False``, the environment
(STOCKROOM_ENVIRONMENT), the release (GIT_SHA) and a traces sample rate
(SENTRY_TRACES_SAMPLE_RATE, default 0: errors only). Every event is tagged with the
request id, the trace id and the tenant id of the context it happened in (a task's
tenant from its arguments), and goes through ``scrub`` before it leaves the process:

- every string anywhere in the event (messages, exception values, extra, breadcrumbs,
  stack-frame variables, request data) loses its email addresses and the secrets that
  look like one (``Bearer`` tokens, JWTs, API keys ``srk_``, Stripe keys, ``whsec_``
  secrets, and the value of ``password=``/``token=``/``secret=``... pairs);
- a value under a key that names a secret or personal data (password, token, secret,
  authorization, cookie, session, csrf, api key, signature, email, ip address) is
  replaced by ``[Filtered]``, and the Authorization, Cookie and X-Api-Key headers are
  removed, as are the cookies and the client's address;
- the user keeps its id only (no email, name or IP address).
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings

from core.logging import context_value, request_id_var, trace_id_var

FILTERED = "[Filtered]"
EMAIL_REPLACEMENT = "[email]"
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_SECRETS = (
    re.compile(r"(?i)\bbearer\s+[^\s,;\"']+"),
    re.compile(r"(?i)\bbasic\s+[A-Za-z0-9+/=._-]{4,}"),  # HTTP basic credentials
    re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),  # a JWT
    re.compile(r"\bsrk_[0-9A-Za-z]{8,}"),  # our API keys (tenants/api_key_format.py)
    re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{8,}"),  # Stripe keys
    re.compile(r"\bwhsec_[0-9A-Za-z+/=]{8,}"),  # webhook signing secrets
)
_SENSITIVE = (
    r"pass(?:word|wd)?|pwd|secret|token|authorization|auth|cookie|session(?:id)?|csrf(?:token)?|"
    r"api[_-]?key|signature|email|e-mail|ip_address|remote_addr|x[_-]forwarded[_-]for"
)
# ``password=hunter2``, ``"token": "abc"``, ``secret: abc``: the name stays, the value goes: up
# to the closing quote when quoted, else to the end of the line or the next ``&``, ``,``, ``;``
# or ``}`` (``password=correct horse battery staple`` loses all four words).
_PAIR = re.compile(
    rf"(?i)\b((?:[a-z_-]*(?:{_SENSITIVE})[a-z_-]*))(['\"]?\s*[=:]\s*)(['\"])?((?(3)[^'\"\n]*|[^\n&,;}}]+))"
)
# ``postgres://user:secret@host``: the user name stays, the password goes (before the email
# pattern, which would otherwise take ``secret@host`` for an address).
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/\s@]+:)[^@\s]+@")
_SENSITIVE_KEY = re.compile(rf"(?i)(?:{_SENSITIVE})")
# Keys of Sentry's own structure that match the pattern above but hold no secret.
_STRUCTURAL_KEYS = frozenset({"tags", "contexts", "trace", "trace_id", "request_id", "tenant_id"})
_REMOVED_HEADERS = frozenset(
    {"authorization", "cookie", "x-api-key", "proxy-authorization", "set-cookie", "x-forwarded-for", "x-real-ip"}
)
_MAX_DEPTH = 30


def scrub_string(value: str) -> str:
    """``value`` without email addresses and secrets."""
    if not value:
        return value
    value = _URL_PASSWORD.sub(rf"\g<1>{FILTERED}@", value)
    value = _EMAIL.sub(EMAIL_REPLACEMENT, value)
    for pattern in _SECRETS:
        value = pattern.sub(FILTERED, value)
    return _PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3) or ''}{FILTERED}", value)


def _sensitive_key(key: object) -> bool:
    return isinstance(key, str) and key not in _STRUCTURAL_KEYS and bool(_SENSITIVE_KEY.search(key))


def scrub_value(value: Any, depth: int = 0) -> Any:
    """A copy of ``value`` (JSON-like) with every string scrubbed and every sensitive key's value filtered."""
    if depth > _MAX_DEPTH:
        return FILTERED
    if isinstance(value, str):
        return scrub_string(value)
    if isinstance(value, dict):
        return {
            key: FILTERED if _sensitive_key(key) and item is not None else scrub_value(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub_value(item, depth + 1) for item in value]
    return value


def _scrub_request(request: dict[str, Any]) -> dict[str, Any]:
    headers = request.get("headers")
    if isinstance(headers, dict):
        request["headers"] = {k: v for k, v in headers.items() if str(k).lower() not in _REMOVED_HEADERS}
    request.pop("cookies", None)
    env = request.get("env")
    if isinstance(env, dict):
        request["env"] = {k: v for k, v in env.items() if k not in {"REMOTE_ADDR", "HTTP_X_FORWARDED_FOR"}}
    return request


def _tags(event: dict[str, Any]) -> dict[str, Any]:
    tags = event.get("tags")
    if isinstance(tags, list):  # Sentry accepts [[key, value], ...] too
        tags = dict(tags)
    if not isinstance(tags, dict):
        tags = {}
    tenant_id = context_value("tenant_id")
    if tenant_id is None:  # a task's error is captured after its tenant context ended: its arguments
        job = (event.get("extra") or {}).get("celery-job") or {}
        kwargs = job.get("kwargs") if isinstance(job, dict) else None
        if isinstance(kwargs, dict) and kwargs.get("tenant_id"):
            tenant_id = str(kwargs["tenant_id"])
    for name, value in (
        ("request_id", request_id_var.get()),
        ("trace_id", trace_id_var.get()),
        ("tenant_id", tenant_id),
    ):
        if value and not tags.get(name):
            tags[name] = value
    return tags


def scrub(event: dict[str, Any]) -> dict[str, Any]:
    """The event, tagged, without personal data or secrets (see the module's docstring)."""
    tags = _tags(event)
    request = event.get("request")
    if isinstance(request, dict):
        event["request"] = _scrub_request(request)
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {"id": user["id"]} if user.get("id") else {}
    scrubbed: dict[str, Any] = scrub_value(event)
    scrubbed["tags"] = tags
    return scrubbed


def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    return scrub(event)


def init() -> bool:
    """Starts Sentry when SENTRY_DSN is set; True if it did."""
    dsn = str(settings.SENTRY_DSN or "")
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        environment=str(settings.STOCKROOM_ENVIRONMENT or "") or None,
        release=str(settings.GIT_SHA or "") or None,
        traces_sample_rate=float(settings.SENTRY_TRACES_SAMPLE_RATE),
        before_send=before_send,  # type: ignore[arg-type]
        before_send_transaction=before_send,  # type: ignore[arg-type]
    )
    return True
