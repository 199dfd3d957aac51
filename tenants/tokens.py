"""JWTs: the access token carries the tenant id and role of one membership, and the
user's token version: a password change or reset bumps ``User.token_version``, and
the middleware and the refresh refuse a token that carries an older one."""

from __future__ import annotations

from typing import Any

from rest_framework_simplejwt.tokens import RefreshToken, Token

from tenants.models import Membership

TENANT_CLAIM = "tenant_id"
ROLE_CLAIM = "role"
TOKEN_VERSION_CLAIM = "tv"  # noqa: S105 - a claim name, not a secret


def tokens_for_membership(membership: Membership) -> dict[str, Any]:
    refresh = RefreshToken.for_user(membership.user)
    refresh[TENANT_CLAIM] = str(membership.tenant_id)
    refresh[ROLE_CLAIM] = membership.role
    refresh[TOKEN_VERSION_CLAIM] = membership.user.token_version
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def token_version_of(token: Token) -> int | None:
    """The version a token carries; tokens issued before versions existed count as 0.
    None for a malformed claim."""
    value = token.get(TOKEN_VERSION_CLAIM, 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else None
