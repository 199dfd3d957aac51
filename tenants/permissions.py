"""Role-based permissions reused by every app.

Roles rank owner > admin > manager > clerk > viewer. A view states the least
role for reading and for writing, and may name actions that need another:

    read_role = Role.VIEWER           # default
    write_role = Role.MANAGER         # default
    action_roles = {"confirm": Role.CLERK, "cancel": Role.MANAGER}

``viewer`` reads; ``clerk`` moves stock and handles orders; ``manager`` edits the
catalog and warehouses; ``admin`` manages members; ``owner`` also billing and
deletion of the workspace.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from tenants import errors
from tenants.middleware import RequestAuth
from tenants.models import Role


def request_membership(request: Request) -> Any:
    auth = request.auth
    return auth.membership if isinstance(auth, RequestAuth) else None


class TenantRolePermission(BasePermission):
    """Authenticated member of the current tenant, with the role the view asks for."""

    def has_permission(self, request: Request, view: Any) -> bool:
        membership = request_membership(request)
        if membership is None:
            raise exceptions.NotAuthenticated()
        required = required_role(request, view)
        if not Role(membership.role).at_least(required):
            raise exceptions.PermissionDenied(
                f"This action needs the {Role(required).label.lower()} role or higher.", code=errors.ROLE_REQUIRED
            )
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
        if request_membership(request) is None:
            raise exceptions.NotAuthenticated()
        return True
