"""JWTs: the access token carries the tenant id and role of one membership, and the
user's token version: a password change or reset bumps ``User.token_version``, and
the middleware and the refresh refuse a token that carries an older one."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, Token
from rest_framework_simplejwt.utils import aware_utcnow

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


# Access tokens whose signature was verified, by their encoded form: {raw: payload}.
# A client sends the same token on every request for its lifetime (5 minutes by default);
# its HMAC is checked once per process, its expiry on every request.
_VERIFIED_MAX = 4096
_verified: OrderedDict[str, dict[str, Any]] = OrderedDict()
_verified_lock = threading.Lock()


def verified_access_token(raw: str) -> AccessToken:
    """``AccessToken(raw)``, with the signature checked only the first time this process
    sees ``raw``: the same string verifies the same way every time (the signing key and
    algorithm are settings), so later sightings only need the checks that depend on the
    clock, the expiry (``check_exp``, simplejwt's own, with its leeway). Raises
    ``TokenError`` as ``AccessToken`` does. The payload handed out is a copy."""
    with _verified_lock:
        payload = _verified.get(raw)
        if payload is not None:
            _verified.move_to_end(raw)
    if payload is None:
        token = AccessToken(raw)  # type: ignore[arg-type]
        with _verified_lock:
            _verified[raw] = dict(token.payload)
            while len(_verified) > _VERIFIED_MAX:
                _verified.popitem(last=False)
        return token
    token = AccessToken.__new__(AccessToken)  # what AccessToken(raw) sets, without decoding
    token.token = raw  # type: ignore[assignment]
    token.current_time = aware_utcnow()
    token.payload = dict(payload)
    token.check_exp()  # raises TokenError once it expired
    return token


def forget_verified_tokens() -> None:
    """Empties the cache of verified tokens (tests that change the signing settings)."""
    with _verified_lock:
        _verified.clear()
