"""DRF authentication: hands over what the tenant middleware resolved."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from tenants.middleware import RequestAuth


class TenantJWTAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        auth: RequestAuth | None = getattr(request._request, "stockroom_auth", None)
        if auth is None:
            return None
        if auth.error is not None:
            if auth.error.status_code not in (401, 403):  # e.g. 503 database_unavailable
                raise auth.error
            error_class = (
                exceptions.AuthenticationFailed if auth.error.status_code == 401 else exceptions.PermissionDenied
            )
            raise error_class(auth.error.message, code=auth.error.code)
        if auth.user is None:
            return None
        return auth.user, auth

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class TenantJWTAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "tenants.auth.TenantJWTAuthentication"
    name = "jwtAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "Access token from POST /api/v1/auth/token/ (carries the tenant and role).",
        }
