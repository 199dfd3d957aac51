"""DRF authentication: hands over what the tenant middleware resolved (a member's JWT, or an
API key). Errors of either are raised by ``TenantJWTAuthentication``, the first class."""

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


class ApiKeyPrincipal:
    """``request.user`` of a request authenticated by an API key: authenticated, but not a
    user and not a member (``request.auth.membership`` is None). ``pk`` is the key's id, for
    the per-key throttle (``core.api.throttling.ApiKeyRateThrottle``)."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_api_key = True

    def __init__(self, key: Any) -> None:
        self.key = key
        self.pk = key.pk
        self.id = key.pk

    def __str__(self) -> str:
        return str(self.key)


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Bearer srk_...`` (the tenant middleware found the key)."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        auth: RequestAuth | None = getattr(request._request, "stockroom_auth", None)
        if auth is None or auth.api_key is None:
            return None
        return ApiKeyPrincipal(auth.api_key), auth

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "tenants.auth.ApiKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "srk_ API key",
            "description": (
                "A workspace API key (POST /api/v1/api-keys/), matching ^srk_[0-9A-Za-z]{38}$. It acts with its "
                "scopes (`<group>:read`, `<group>:write`), never as a member: routes of members, keys, billing and "
                "the account answer 403 `members_only`, a route outside its scopes 403 `scope_required`."
            ),
        }
