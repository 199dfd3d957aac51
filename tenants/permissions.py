"""Role-based permissions reused by every app.

Roles rank owner > admin > manager > clerk > viewer. A view states the least
role for reading and for writing, and may name actions that need another:

    read_role = Role.VIEWER           # default
    write_role = Role.MANAGER         # default
    action_roles = {"confirm": Role.CLERK, "cancel": Role.MANAGER}

``viewer`` reads; ``clerk`` moves stock and handles orders; ``manager`` edits the
catalog and warehouses; ``admin`` manages members; ``owner`` also billing and
deletion of the workspace.

A request authenticated by an API key has no membership and no role: it acts with
the key's scopes, never as a member. A view names its scope group, and may make an
action a read:

    scope_group = "orders"            # <group>:read for GET/HEAD/OPTIONS, else <group>:write
    action_scopes = {"create": "read"}  # e.g. starting an export reads the data

A key without the scope gets 403 ``scope_required`` (``details.scope`` names it); a
view without ``scope_group`` (members, invitations, keys, the workspace, the account,
billing) is for members only: 403 ``members_only``.

The plan gates too (``tenants.entitlements``): a view that names a feature

    plan_feature = Feature.AUDIT_LOG

answers 403 ``feature_not_in_plan`` to anyone when the workspace's plan lacks it, and a
request with an API key gets the same when the plan has no API keys (a workspace that
moved to a plan without them keeps its keys, but they stop working until it upgrades).
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from core.errors import PermissionDenied
from tenants import errors
from tenants.entitlements import Feature, require_feature
from tenants.middleware import RequestAuth
from tenants.models import Role


def request_membership(request: Request) -> Any:
    auth = request.auth
    return auth.membership if isinstance(auth, RequestAuth) else None


def request_user(request: Request) -> Any:
    """The user acting (for ``created_by`` and the like): the member's user, or None for a
    request authenticated by an API key (``tenants.context.current_api_key_id`` names it)."""
    membership = request_membership(request)
    return membership.user if membership is not None else None


def request_api_key(request: Request) -> Any:
    auth = request.auth
    return auth.api_key if isinstance(auth, RequestAuth) else None


def required_scope(request: Request, view: Any) -> str | None:
    """The scope a key needs for this request, or None when keys may not use the view."""
    group = getattr(view, "scope_group", None)
    if group is None:
        return None
    action = getattr(view, "action", None)
    action_scopes: dict[str, str] = getattr(view, "action_scopes", {})
    if action and action in action_scopes:
        access = action_scopes[action]
    else:
        access = "read" if request.method in SAFE_METHODS else "write"
    return f"{group}:{access}"


def _check_key_scope(request: Request, view: Any, key: Any) -> bool:
    scope = required_scope(request, view)
    if scope is None:
        raise PermissionDenied("API keys cannot use this endpoint: it is for members.", code=errors.MEMBERS_ONLY)
    if scope not in key.scopes:
        raise PermissionDenied(
            f"This API key needs the {scope} scope.", code=errors.SCOPE_REQUIRED, details={"scope": scope}
        )
    return True


class TenantRolePermission(BasePermission):
    """Authenticated member of the current tenant, with the role the view asks for; or an
    API key of the current tenant with the scope the view asks for."""

    def has_permission(self, request: Request, view: Any) -> bool:
        membership = request_membership(request)
        if membership is None:  # the member's path first: a key costs a JWT request nothing
            key = request_api_key(request)
            if key is not None:
                require_feature(key.tenant, Feature.API_KEYS)
                _check_key_scope(request, view, key)
                return _check_plan(request, view)
            raise exceptions.NotAuthenticated()
        required = required_role(request, view)
        if not Role(membership.role).at_least(required):
            raise exceptions.PermissionDenied(
                f"This action needs the {Role(required).label.lower()} role or higher.", code=errors.ROLE_REQUIRED
            )
        return _check_plan(request, view)


def _check_plan(request: Request, view: Any) -> bool:
    feature: Feature | None = getattr(view, "plan_feature", None)
    auth = request.auth
    if feature is not None and isinstance(auth, RequestAuth) and auth.tenant is not None:
        require_feature(auth.tenant, feature)
    return True


def required_role(request: Request, view: Any) -> Role:
    action = getattr(view, "action", None)
    action_roles: dict[str, Role] = getattr(view, "action_roles", {})
    if action and action in action_roles:
        return action_roles[action]
    if request.method in SAFE_METHODS:
        return Role(getattr(view, "read_role", Role.VIEWER))
    return Role(getattr(view, "write_role", Role.MANAGER))


class AuthenticatedMember(TenantRolePermission):
    """Any member of the current tenant, whatever the method (e.g. /auth/me/)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request_api_key(request) is not None:
            raise PermissionDenied("API keys cannot use this endpoint: it is for members.", code=errors.MEMBERS_ONLY)
        if request_membership(request) is None:
            raise exceptions.NotAuthenticated()
        return True
