"""JWTs: the access token carries the tenant id and role of one membership."""

from __future__ import annotations

from typing import Any

from rest_framework_simplejwt.tokens import RefreshToken

from tenants.models import Membership

TENANT_CLAIM = "tenant_id"
ROLE_CLAIM = "role"


def tokens_for_membership(membership: Membership) -> dict[str, Any]:
    refresh = RefreshToken.for_user(membership.user)
    refresh[TENANT_CLAIM] = str(membership.tenant_id)
    refresh[ROLE_CLAIM] = membership.role
    return {"access": str(refresh.access_token), "refresh": str(refresh)}
