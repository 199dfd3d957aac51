"""Safe retries for API clients: the ``Idempotency-Key`` header's rules, tenant-agnostic.

What the header applies to, what a valid key looks like, how a request is fingerprinted
and the three errors. The mechanism (the stored responses, under Row Level Security, and
the middleware) is ``tenants.idempotency``; docs/api.md, "Safe retries", is the contract.
"""

from __future__ import annotations

import hashlib
import re

from core.errors import Conflict, DomainError

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# Visible ASCII, no spaces: UUIDs, base64 (also URL-safe), hex, ULIDs, "order-1234:retry".
KEY_PATTERN = "^[\\x21-\\x7e]{1,255}$"
_KEY_RE = re.compile(r"[\x21-\x7e]{1,255}")
# The methods that write. GET, HEAD and OPTIONS never reach the mechanism.
METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
API_PREFIX = "/api/v1/"
# Routes that take no workspace (sign-up, login, tokens, password reset, accepting an
# invitation) or hand out credentials: the header is ignored there (their responses would
# store tokens; each is safe to retry or fails harmlessly on a retry).
# Not honoured: requests without a workspace (their answers carry tokens), and API key
# creation, whose answer is the only copy of the new key: it must not be kept for replays.
EXCLUDED_PREFIXES = ("/api/v1/auth/", "/api/v1/signup/", "/api/v1/invitations/accept/", "/api/v1/api-keys/")
# Likewise the answers that carry a webhook endpoint's signing secret, shown once: its
# creation and a rotation (the schema's path templates, ``{id}``, match too).
EXCLUDED_PATHS = re.compile(r"^/api/v1/webhook-endpoints/(?:[^/]+/rotate-secret/)?$")

INVALID_IDEMPOTENCY_KEY = "invalid_idempotency_key"
IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
REQUEST_IN_PROGRESS = "request_in_progress"


class InvalidIdempotencyKey(DomainError):
    status_code = 400
    code = INVALID_IDEMPOTENCY_KEY
    default_message = (
        f"The {HEADER} header must be 1-{MAX_KEY_LENGTH} visible ASCII characters "
        "(no spaces), e.g. a UUID: ^[\\x21-\\x7e]{1,255}$."
    )


class IdempotencyKeyReused(DomainError):
    status_code = 422
    code = IDEMPOTENCY_KEY_REUSED
    default_message = (
        f"This {HEADER} was already used for a different request (another body, query string or user). "
        "Use a new key for a new request."
    )


class RequestInProgress(Conflict):
    code = REQUEST_IN_PROGRESS
    default_message = f"A request with this {HEADER} is still being processed. Retry once it has finished."


# Routes called by other services with their own delivery ids (Shopify's X-Shopify-Webhook-Id).
EXCLUDED_SUFFIXES = ("/shopify/orders/",)


def applies_to(method: str, path: str) -> bool:
    """Whether ``Idempotency-Key`` is honoured on this operation (the schema documents it there)."""
    return (
        method in METHODS
        and path.startswith(API_PREFIX)
        and not path.startswith(EXCLUDED_PREFIXES)
        and not path.endswith(EXCLUDED_SUFFIXES)
        and EXCLUDED_PATHS.match(path) is None
    )


def is_valid_key(key: str) -> bool:
    return _KEY_RE.fullmatch(key) is not None


def lock_id(*parts: str) -> int:
    """A signed 64-bit integer naming (tenant, route, key) for an advisory lock."""
    digest = hashlib.sha256("\x00".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def fingerprint(*, actor: str, query: str, content_type: str, body_digest: str) -> str:
    """What makes two requests with one key "the same request": who sends it, its query
    string, its media type and its body, byte for byte (the route is part of the key)."""
    return hashlib.sha256("\x00".join((actor, query, content_type, body_digest)).encode()).hexdigest()
