"""The plan's API rate: requests per minute per workspace (``api_requests_per_minute``).

On top of the per-user and per-key rates (``core.api.throttling``): every request a
workspace's members and keys make counts in one fixed one-minute window per workspace,
at the rate of the workspace's plan (``tenants.plans``). Over it: 429 ``throttled`` with
``Retry-After``, as every throttle. Like the others it never refuses a request because
Redis is down (the counter falls back to the process's memory).
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request

from core.api.throttling import PLAN_SCOPE, FixedWindowThrottle
from tenants.entitlements import effective_plan
from tenants.middleware import RequestAuth
from tenants.plans import Limit


class PlanRateThrottle(FixedWindowThrottle):
    scope = PLAN_SCOPE

    def __init__(self) -> None:
        self.rate = None  # known once the request's workspace is (allow_request)

    def allow_request(self, request: Request, view: Any) -> bool:
        auth = request.auth
        tenant = auth.tenant if isinstance(auth, RequestAuth) else None
        if tenant is None:
            return True
        allowance = effective_plan(tenant).limit(Limit.API_REQUESTS_PER_MINUTE)
        if allowance is None:
            return True
        self.rate = f"{allowance}/min"  # the window of core.api.throttling.plan_window
        self.tenant_id = tenant.pk
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.tenant_id}
