"""Template context of every page: the workspace, the signed-in member and what the
member's role allows (buttons a role may not use are not shown; the views refuse them
anyway)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tenants.models import Role
from tenants.selectors import user_memberships


def console(request: HttpRequest) -> dict[str, Any]:
    auth = getattr(request, "stockroom_auth", None)
    membership = getattr(auth, "membership", None)
    if membership is None or not request.path.startswith("/app/"):
        return {}
    role = Role(membership.role)
    return {
        "membership": membership,
        "workspace": membership.tenant,
        "member": membership.user,
        # Read only when the switcher is drawn (templates call callables).
        "workspaces": lambda: [m for m in user_memberships(user=membership.user) if m.tenant.is_active],
        "role": role,
        "may": {
            "stock": role.at_least(Role.CLERK),
            "orders": role.at_least(Role.CLERK),
            "catalog": role.at_least(Role.MANAGER),
            "members": role.at_least(Role.ADMIN),
            "billing": role == Role.OWNER,
        },
    }
