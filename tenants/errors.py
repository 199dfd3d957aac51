"""Error codes of the tenants module (top-level ``code`` of an error, or a field error's ``code``).

The domain error classes themselves are core's (core/errors.py)."""

from __future__ import annotations

# 401
NOT_AUTHENTICATED = "not_authenticated"
TOKEN_NOT_VALID = "token_not_valid"  # noqa: S105 - an error code
INVALID_CREDENTIALS = "invalid_credentials"
MEMBERSHIP_REVOKED = "membership_revoked"
SESSION_ENDED = "session_ended"
API_KEY_NOT_VALID = "api_key_not_valid"  # malformed, bad checksum or unknown
API_KEY_REVOKED = "api_key_revoked"
API_KEY_EXPIRED = "api_key_expired"
# 403
ROLE_REQUIRED = "role_required"
ROLE_ABOVE_OWN = "role_above_own"
TENANT_SUSPENDED = "tenant_suspended"
NO_MEMBERSHIP = "no_membership"
TENANT_REQUIRED = "tenant_required"
EMAIL_NOT_VERIFIED = "email_not_verified"
SCOPE_REQUIRED = "scope_required"  # an API key without the view's scope
MEMBERS_ONLY = "members_only"  # an API key on a route only members use (members, keys, billing, account)
FEATURE_NOT_IN_PLAN = "feature_not_in_plan"  # tenants.entitlements.require_feature
# 402
PLAN_LIMIT_REACHED = "plan_limit_reached"  # tenants.entitlements.limit_check
# 409
LAST_OWNER = "last_owner"
ALREADY_MEMBER = "already_member"
INVITATION_NOT_PENDING = "invitation_not_pending"
INVITATION_ACCEPTED = "invitation_accepted"
INVITATION_REVOKED = "invitation_revoked"
INVITATION_EXPIRED = "invitation_expired"
CURRENCY_IN_USE = "currency_in_use"
EMAIL_ALREADY_VERIFIED = "email_already_verified"
# 429
LOGIN_LOCKED = "login_locked"
# 400 field codes
EMAIL_TAKEN = "email_taken"
SLUG_TAKEN = "slug_taken"
NOT_A_MEMBER = "not_a_member"
INVALID_TOKEN = "invalid_token"  # noqa: S105 - an error code
REQUIRED = "required"
WRONG_PASSWORD = "wrong_password"  # noqa: S105 - an error code
INVALID_CHOICE = "invalid_choice"  # currency
INVALID = "invalid"  # the slug pattern
INVALID_SCOPE = "invalid_scope"
EXPIRY_TOO_LATE = "expiry_too_late"
EXPIRY_IN_PAST = "expiry_in_past"
