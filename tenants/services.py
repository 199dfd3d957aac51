"""Writes for tenants, accounts, memberships, invitations and auth.

Every function is keyword-only and one transaction; side effects (emails) are
queued after commit.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.http import urlsafe_base64_decode
from django.utils.text import slugify
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from core.cache import counter_decr, counter_delete, counter_incr
from core.errors import (
    AuthenticationError,
    Conflict,
    NotFound,
    PermissionDenied,
    TooManyAttempts,
    ValidationFailed,
)
from tenants import api_key_format, errors, events
from tenants.context import get_current_tenant, tenant_context, user_context
from tenants.currency import CURRENCY_CODES, CURRENCY_PATTERN_MESSAGE, currency_in_use
from tenants.emails import EMAIL_VERIFICATION_SALT, INVITATION_SALT
from tenants.entitlements import Feature, Limit, effective_plan, limit_check, require_feature
from tenants.models import (
    ApiKey,
    BillingStatus,
    EmailVerificationRequest,
    Invitation,
    InvitationStatus,
    Membership,
    PasswordResetRequest,
    Role,
    Tenant,
    User,
    invitation_status,
    normalize_email,
)
from tenants.plans import PLAN_CODES
from tenants.selectors import active_membership
from tenants.tasking import enqueue_on_commit
from tenants.tokens import TENANT_CLAIM, token_version_of, tokens_for_membership

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
RESERVED_SLUGS = {"api", "admin", "www", "static", "app", "auth", "signup", "login"}


@dataclass
class Session:
    """What a successful sign-up, login, refresh or tenant switch returns."""

    user: User
    membership: Membership
    access: str
    refresh: str


def _session(membership: Membership) -> Session:
    tokens = tokens_for_membership(membership)
    return Session(user=membership.user, membership=membership, access=tokens["access"], refresh=tokens["refresh"])


def _password_errors(password: str, user: User) -> list[dict[str, str]]:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        return [{"code": str(error.code or "invalid"), "message": " ".join(error.messages)} for error in exc.error_list]
    return []


# --- Sign-up ------------------------------------------------------------------


def _free_slug(base: str) -> str:
    base = (slugify(base)[:50].strip("-") or "workspace").lower()
    if base in RESERVED_SLUGS:
        base = f"{base}-team"
    candidate, n = base, 1
    while Tenant.objects.filter(slug=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _slug_errors(slug: str) -> list[dict[str, str]]:
    if not SLUG_RE.match(slug) or slug in RESERVED_SLUGS:
        return [
            {
                "code": errors.INVALID,
                "message": "Use 1-63 lowercase letters, digits and hyphens, not starting or ending with a hyphen "
                f"(pattern {SLUG_RE.pattern}), and none of: {', '.join(sorted(RESERVED_SLUGS))}.",
            }
        ]
    if Tenant.objects.filter(slug=slug).exists():
        return [{"code": errors.SLUG_TAKEN, "message": "This workspace address is taken. Choose another."}]
    return []


def _create_workspace(*, user: User, name: str, slug: str | None) -> Membership:
    """The tenant and its owner's membership. The membership is written in the new
    tenant's context: Row Level Security admits only the current tenant's rows."""
    tenant = Tenant.objects.create(name=name, slug=slug or _free_slug(name))
    with tenant_context(tenant):
        membership = Membership.objects.create(user=user, tenant=tenant, role=Role.OWNER)
    return membership


def tenant_signup(
    *, company_name: str, email: str, password: str, slug: str | None = None, full_name: str = ""
) -> Session:
    """Creates a tenant, its owner and the membership at once, and returns tokens. The
    owner starts with an unverified address and is emailed a link to verify it."""
    email = normalize_email(email)
    fields: dict[str, list[dict[str, str]]] = {}
    if User.objects.filter(email=email).exists():
        fields["email"] = [
            {"code": errors.EMAIL_TAKEN, "message": "An account with this email already exists. Log in."}
        ]
    if slug:
        slug = slug.lower()
        if slug_errors := _slug_errors(slug):
            fields["slug"] = slug_errors
    password_errors = _password_errors(password, User(email=email, full_name=full_name))
    if password_errors:
        fields["password"] = password_errors
    if fields:
        raise ValidationFailed(fields=fields)
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password, full_name=full_name)
            membership = _create_workspace(user=user, name=company_name, slug=slug)
            _queue_email_verification(user)
    except IntegrityError as exc:  # a concurrent sign-up took the email or slug
        taken = "slug" if "slug" in str(exc) else "email"
        raise ValidationFailed.for_field(
            taken, f"{taken}_taken", f"This {'workspace address' if taken == 'slug' else 'email'} was just taken."
        ) from exc
    return _session(membership)


def tenant_create(*, user: User, name: str, slug: str | None = None) -> Session:
    """Another workspace for an existing user, who becomes its owner; tokens for it.
    The same rules as sign-up for the name and the address (slug)."""
    if slug:
        slug = slug.lower()
        if slug_errors := _slug_errors(slug):
            raise ValidationFailed(fields={"slug": slug_errors})
    try:
        with transaction.atomic():
            membership = _create_workspace(user=user, name=name, slug=slug)
    except IntegrityError as exc:  # a concurrent request took the slug
        raise ValidationFailed.for_field("slug", errors.SLUG_TAKEN, "This workspace address was just taken.") from exc
    return _session(membership)


# --- Login, refresh, logout, switch ----------------------------------------------


class LoginGuard:
    """Counts login attempts per account and per IP address; past the limit, further
    attempts are refused until the first counted attempt is LOGIN_LOCKOUT_SECONDS old.

    The counters are global: their keys are made with no tenant, whatever bearer token
    the login request carries. Each attempt is counted (one atomic increment) *before*
    the password is checked, so concurrent wrong passwords cannot get more than the limit
    checked; a successful login clears the account's counter and gives its attempt back
    to the IP address. While Redis is unreachable the counting goes on in each process
    (core.cache), starting from the counts this process last read from Redis: an account
    it saw locked stays locked, and the limit holds per process (docs/architecture.md)."""

    def __init__(self, *, email: str, ip: str | None) -> None:
        digest = hashlib.sha256(email.encode()).hexdigest()[:32]
        self.keys = {"account": f"login-failures:account:{digest}"}
        if ip:
            self.keys["ip"] = f"login-failures:ip:{ip}"
        self.limits = {"account": settings.LOGIN_MAX_FAILURES_PER_ACCOUNT, "ip": settings.LOGIN_MAX_FAILURES_PER_IP}

    def attempt(self) -> None:
        """Counts this attempt; raises ``login_locked`` when it is past a limit."""
        with tenant_context(None):  # global keys, never under the caller's tenant
            counts = {
                scope: counter_incr(key, timeout=settings.LOGIN_LOCKOUT_SECONDS, mirror=True)
                for scope, key in self.keys.items()
            }
        for scope, (count, retry_after) in counts.items():
            if count > self.limits[scope]:
                what = "this account" if scope == "account" else "this network address"
                raise TooManyAttempts(
                    f"Too many failed login attempts for {what}. Try again in {retry_after // 60 + 1} minutes "
                    "or reset your password.",
                    code=errors.LOGIN_LOCKED,
                    details={"scope": scope, "retry_after": retry_after},
                )

    def succeeded(self) -> None:
        with tenant_context(None):
            counter_delete(self.keys["account"])
            if "ip" in self.keys:
                counter_decr(self.keys["ip"])

    def cleared(self) -> None:
        """After a password reset: the account starts afresh."""
        with tenant_context(None):
            counter_delete(self.keys["account"])


def _membership_for_login(user: User, tenant_slug: str | None) -> Membership:
    # No tenant is known yet: the user context makes the user's own memberships readable.
    with user_context(user.id):
        memberships = list(Membership.objects.select_related("tenant", "user").filter(user=user).order_by("created_at"))
    if tenant_slug:
        chosen = [m for m in memberships if m.tenant.slug == tenant_slug.lower()]
        if not chosen:
            raise ValidationFailed.for_field("tenant", errors.NOT_A_MEMBER, "You are not a member of this workspace.")
        membership = chosen[0]
    elif len(memberships) == 1:
        membership = memberships[0]
    elif not memberships:
        raise PermissionDenied("This account belongs to no workspace.", code=errors.NO_MEMBERSHIP)
    else:
        raise ValidationFailed(
            fields={
                "tenant": [
                    {
                        "code": errors.TENANT_REQUIRED,
                        "message": "You belong to several workspaces: choose one (its slug, see details.tenants).",
                    }
                ]
            },
            details={"tenants": [{"slug": m.tenant.slug, "name": m.tenant.name} for m in memberships]},
        )
    if not membership.tenant.is_active:
        raise PermissionDenied("This workspace is suspended. Contact support.", code=errors.TENANT_SUSPENDED)
    return membership


def auth_check_password(*, email: str, password: str, ip: str | None = None) -> User:
    """The password check of every login, the API's and the console's: counted by the
    same ``LoginGuard``, so the lockout holds whichever door is tried."""
    email = normalize_email(email)
    guard = LoginGuard(email=email, ip=ip)
    guard.attempt()
    user = authenticate(username=email, password=password)
    if not isinstance(user, User):
        raise AuthenticationError("The email or password is not correct.", code=errors.INVALID_CREDENTIALS)
    guard.succeeded()
    return user


def auth_login(*, email: str, password: str, tenant_slug: str | None = None, ip: str | None = None) -> Session:
    user = auth_check_password(email=email, password=password, ip=ip)
    return _session(_membership_for_login(user, tenant_slug))


def _refresh_token(raw: str) -> RefreshToken:
    try:
        return RefreshToken(raw)  # type: ignore[arg-type]
    except TokenError as exc:
        raise AuthenticationError(str(exc), code=errors.TOKEN_NOT_VALID) from exc


def _blacklist_once(token: RefreshToken) -> None:
    """Blacklists the token; refuses when another request already did (token reuse)."""
    _, created = cast(tuple[BlacklistedToken, bool], token.blacklist())  # simplejwt returns get_or_create's pair
    if not created:
        raise AuthenticationError("Token is blacklisted", code=errors.TOKEN_NOT_VALID)


@transaction.atomic
def auth_refresh(*, refresh: str) -> Session:
    """Rotates: the old refresh token is blacklisted and cannot be used again."""
    token = _refresh_token(refresh)
    try:
        user_id = uuid.UUID(str(token.get("user_id")))
    except ValueError as exc:
        raise AuthenticationError("Token is missing its user.", code=errors.TOKEN_NOT_VALID) from exc
    with user_context(user_id):
        membership = active_membership(
            user_id=user_id, tenant_id=token.get(TENANT_CLAIM), token_version=token_version_of(token)
        )
    _blacklist_once(token)
    return _session(membership)


@transaction.atomic
def auth_logout(*, refresh: str) -> None:
    _blacklist_once(_refresh_token(refresh))


def auth_switch_tenant(*, user: User, tenant_slug: str) -> Session:
    with user_context(user.id):
        membership = (
            Membership.objects.select_related("tenant", "user")
            .filter(user=user, tenant__slug=tenant_slug.lower())
            .first()
        )
    if membership is None:
        raise ValidationFailed.for_field("tenant", errors.NOT_A_MEMBER, "You are not a member of this workspace.")
    if not membership.tenant.is_active:
        raise PermissionDenied("This workspace is suspended. Contact support.", code=errors.TENANT_SUSPENDED)
    return _session(membership)


def _blacklist_all(user: User) -> None:
    for outstanding in OutstandingToken.objects.filter(user=user):
        BlacklistedToken.objects.get_or_create(token=outstanding)


def _end_all_sessions(user: User) -> None:
    """Every token of the user ends at once: access tokens carry the token version,
    which the middleware compares on each request; refresh tokens are blacklisted too."""
    User.objects.filter(pk=user.pk).update(token_version=F("token_version") + 1)
    user.refresh_from_db(fields=["token_version"])
    _blacklist_all(user)


# --- The account: name and password -------------------------------------------------


@transaction.atomic
def user_update(*, user: User, full_name: str) -> User:
    user.full_name = full_name
    user.save(update_fields=["full_name"])
    return user


def _set_password(user: User, new_password: str) -> None:
    """The new password, if the validators take it; every session of the account ends."""
    problems = _password_errors(new_password, user)
    if problems:
        raise ValidationFailed(fields={"new_password": problems})
    user.set_password(new_password)
    user.save(update_fields=["password"])
    _end_all_sessions(user)


@transaction.atomic
def password_change(*, membership: Membership, current_password: str, new_password: str) -> Session:
    """Checks the current password and Django's password validators, sets the new one
    and ends every token of the account, the caller's included; returns a fresh session
    for the caller's workspace, so the caller stays logged in."""
    user = User.objects.select_for_update().get(pk=membership.user_id)
    if not user.check_password(current_password):
        raise ValidationFailed.for_field(
            "current_password", errors.WRONG_PASSWORD, "The current password is not correct."
        )
    _set_password(user, new_password)
    membership.user = user
    return _session(membership)


# --- Password reset -------------------------------------------------------------


@transaction.atomic
def password_reset_request(*, email: str) -> None:
    """Emails a single-use link when the account exists; says nothing either way. The
    request is a row, so an email the broker could not take is sent by the dispatch sweep."""
    user = User.objects.filter(email=normalize_email(email), is_active=True).first()
    if user is not None:
        request = PasswordResetRequest.objects.create(user=user)
        enqueue_on_commit("tenants.tasks.send_password_reset_email", request_id=str(request.id))


def _user_from_reset_token(token: str) -> User:
    invalid = ValidationFailed.for_field("token", errors.INVALID_TOKEN, "This reset link is invalid or has expired.")
    uid, _, secret = token.partition(".")
    try:
        user_id = uuid.UUID(bytes=urlsafe_base64_decode(uid))
    except (ValueError, TypeError) as exc:
        raise invalid from exc
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not default_token_generator.check_token(user, secret):
        raise invalid
    return user


@transaction.atomic
def password_reset_confirm(*, token: str, new_password: str) -> None:
    """The emailed link reached the address, so it also counts as verified."""
    user = _user_from_reset_token(token)
    _set_password(user, new_password)
    _mark_verified(user)
    LoginGuard(email=user.email, ip=None).cleared()


# --- Email verification ---------------------------------------------------------------


def _queue_email_verification(user: User) -> EmailVerificationRequest:
    """The request is a row, so an email the broker could not take is sent by the dispatch
    sweep (as for a password reset)."""
    request = EmailVerificationRequest.objects.create(user=user)
    enqueue_on_commit("tenants.tasks.send_verification_email", request_id=str(request.id))
    return request


def _mark_verified(user: User) -> None:
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])


@transaction.atomic
def email_verification_request(*, user: User) -> EmailVerificationRequest:
    """Emails the user a new link that verifies the address (the console's "Resend", the
    API's ``POST /auth/verify-email/resend/``); 409 ``email_already_verified`` once it is."""
    current = User.objects.get(pk=user.pk)
    if current.email_verified_at is not None:
        raise Conflict("Your email address is already verified.", code=errors.EMAIL_ALREADY_VERIFIED)
    return _queue_email_verification(current)


@transaction.atomic
def email_verify(*, token: str) -> User:
    """Marks the address the emailed link names as verified. The link is signed, names the
    user and the address (it stops working if either changes) and expires after
    ``EMAIL_VERIFICATION_TTL``; following it again once verified changes nothing."""
    invalid = ValidationFailed.for_field(
        "token", errors.INVALID_TOKEN, "This verification link is invalid or has expired."
    )
    try:
        payload = signing.loads(token, salt=EMAIL_VERIFICATION_SALT, max_age=settings.EMAIL_VERIFICATION_TTL)
        user_id, email = uuid.UUID(str(payload["u"])), str(payload["e"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise invalid from exc
    user = User.objects.select_for_update().filter(pk=user_id, is_active=True).first()
    if user is None or user.email != email:
        raise invalid
    _mark_verified(user)
    return user


# --- Tenant settings ----------------------------------------------------------------


@transaction.atomic
def tenant_update(*, name: str | None = None, currency: str | None = None) -> Tenant:
    """Renames the workspace or changes its currency: an ISO 4217 code, and only while
    no amounts exist in the old one (``tenants.currency``): 409 ``currency_in_use``."""
    tenant = Tenant.objects.select_for_update().get(pk=get_current_tenant().pk)
    before = events.snapshot(tenant)
    changed: list[str] = []
    if name is not None:
        tenant.name, changed = name, [*changed, "name"]
    if currency is not None and currency != tenant.currency:
        if currency not in CURRENCY_CODES:
            raise ValidationFailed.for_field(
                "currency",
                errors.INVALID_CHOICE,
                f'"{currency}" is not a currency code: use {CURRENCY_PATTERN_MESSAGE}.',
            )
        in_use = currency_in_use()
        if in_use:
            raise Conflict(
                f"The currency cannot change once the workspace has {' or '.join(in_use)}: their amounts are in "
                f"{tenant.currency} and would be relabelled, not converted.",
                code=errors.CURRENCY_IN_USE,
                details={"currency": tenant.currency, "in_use_by": in_use},
            )
        tenant.currency, changed = currency, [*changed, "currency"]
    if changed:
        tenant.save(update_fields=changed)
        events.record_saved(tenant, before, {"name": tenant.name}, kind="workspace")
    return tenant


def tenant_plan_apply(
    *,
    tenant_id: uuid.UUID,
    plan_code: str,
    billing_status: str,
    grace_ends_at: datetime | None = None,
    reason: str = "",
) -> tuple[Tenant, bool]:
    """Writes the workspace's subscription snapshot (billing's only write to a tenant):
    the subscribed plan, the subscription's status and the end of a past-due grace
    period. Under the tenant row's lock; records ``workspace.plan_changed`` with what
    changed and ``reason`` (e.g. the Stripe event) when anything did. Returns the tenant
    and whether anything changed. The row's change ends its cached membership entries,
    so the next request sees the new plan."""
    if plan_code not in PLAN_CODES:
        raise ValueError(f"unknown plan {plan_code!r}")
    if billing_status not in BillingStatus.values:
        raise ValueError(f"unknown billing status {billing_status!r}")
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().get(pk=tenant_id)  # a global table: no context needed
        before = events.snapshot(tenant)
        tenant.plan_code, tenant.billing_status, tenant.grace_ends_at = plan_code, billing_status, grace_ends_at
        changed = [
            name for name in ("plan_code", "billing_status", "grace_ends_at") if getattr(tenant, name) != before[name]
        ]
        if not changed:
            return tenant, False
        tenant.save(update_fields=changed)
        after_plan = effective_plan(tenant)
        with tenant_context(tenant):  # the event is the workspace's
            events.record(
                "workspace.plan_changed",
                tenant,
                {
                    "plan": after_plan.code,
                    "subscribed_plan": plan_code,
                    "billing_status": billing_status,
                    "reason": reason,
                },
                changes={name: [_jsonable(before[name]), _jsonable(getattr(tenant, name))] for name in changed},
            )
    return tenant, True


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


# --- Members ------------------------------------------------------------------------


def _lock_member(membership_id: Any) -> tuple[Membership, list[Membership]]:
    """Locks the tenant's owner memberships, then the member (one fixed order: owners by
    primary key first), and returns the member and the owners still there once locked.

    Every membership change takes its locks this way, so two owners removing each other
    (or both leaving) queue up instead of deadlocking, and the second one sees the first
    one's change when it counts the owners."""
    tenant = get_current_tenant()
    owners = list(Membership.objects.select_for_update().filter(tenant=tenant, role=Role.OWNER).order_by("pk"))
    membership = (
        Membership.objects.select_for_update().select_related("user").filter(pk=membership_id, tenant=tenant).first()
    )
    if membership is None:
        raise NotFound("No such member in this workspace.")
    return membership, owners


def _ensure_other_owner(membership: Membership, owners: list[Membership]) -> None:
    """Every tenant keeps at least one owner (``owners``: locked by ``_lock_member``)."""
    if membership.role == Role.OWNER and not any(owner.pk != membership.pk for owner in owners):
        raise Conflict(
            "A workspace must keep at least one owner. Make someone else owner first.", code=errors.LAST_OWNER
        )


@transaction.atomic
def membership_change_role(*, actor: Membership, membership_id: Any, role: str) -> Membership:
    new_role = Role(role)
    actor_role = Role(actor.role)
    if not actor_role.at_least(Role.ADMIN):
        raise PermissionDenied("Only admins and owners change roles.", code=errors.ROLE_REQUIRED)
    if new_role.rank > actor_role.rank:
        raise PermissionDenied("You cannot give anyone a role above your own.", code=errors.ROLE_ABOVE_OWN)
    membership, owners = _lock_member(membership_id)
    if Role(membership.role).rank > actor_role.rank:
        raise PermissionDenied("You cannot change the role of someone above you.", code=errors.ROLE_ABOVE_OWN)
    if membership.role == new_role:
        return membership
    _ensure_other_owner(membership, owners)
    before = membership.role
    membership.role = new_role
    membership.save(update_fields=["role"])
    events.record(
        "member.role_changed",
        membership,
        {"user": membership.user_id, "email": membership.user.email},
        changes={"role": [before, str(new_role)]},
    )
    return membership


@transaction.atomic
def membership_remove(*, actor: Membership, membership_id: Any) -> None:
    """Admins remove members up to their own role; anyone may leave."""
    membership, owners = _lock_member(membership_id)
    actor_role = Role(actor.role)
    if membership.pk != actor.pk:
        if not actor_role.at_least(Role.ADMIN):
            raise PermissionDenied("Only admins and owners remove members.", code=errors.ROLE_REQUIRED)
        if Role(membership.role).rank > actor_role.rank:
            raise PermissionDenied("You cannot remove someone above you.", code=errors.ROLE_ABOVE_OWN)
    _ensure_other_owner(membership, owners)
    events.record(
        "member.removed",
        membership,
        {"user": membership.user_id, "email": membership.user.email, "role": membership.role},
    )
    membership.delete()


# --- Invitations ------------------------------------------------------------------


@transaction.atomic
def invitation_create(*, actor: Membership, email: str, role: str) -> Invitation:
    tenant = get_current_tenant()
    email, new_role = normalize_email(email), Role(role)
    if not Role(actor.role).at_least(Role.ADMIN):
        raise PermissionDenied("Only admins and owners invite members.", code=errors.ROLE_REQUIRED)
    if actor.user.email_verified_at is None:
        raise PermissionDenied(
            "Verify your email address before inviting anyone: open the link we emailed you, or ask for a new one.",
            code=errors.EMAIL_NOT_VERIFIED,
        )
    if new_role.rank > Role(actor.role).rank:
        raise PermissionDenied("You cannot invite anyone with a role above your own.", code=errors.ROLE_ABOVE_OWN)
    if Membership.objects.filter(tenant=tenant, user__email=email).exists():
        raise Conflict("This person is already a member of the workspace.", code=errors.ALREADY_MEMBER)
    now = timezone.now()
    # A new invitation replaces a pending one for the same address.
    Invitation.objects.filter(email=email, accepted_at__isnull=True, revoked_at__isnull=True).update(revoked_at=now)
    # Members and pending invitations count against the plan's members.
    limit_check(tenant=tenant, limit=Limit.MEMBERS)
    invitation = Invitation.objects.create(
        email=email, role=new_role, invited_by=actor.user, expires_at=now + settings.INVITATION_TTL
    )
    enqueue_on_commit("tenants.tasks.send_invitation_email", invitation_id=str(invitation.id))
    events.record("member.invited", invitation, {"email": email, "role": str(new_role)})
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation_id: Any) -> Invitation:
    # A revoked invitation is gone from the API (selectors.invitation_list): revoking it again is 404.
    invitation = Invitation.objects.select_for_update().filter(pk=invitation_id, revoked_at__isnull=True).first()
    if invitation is None:
        raise NotFound("No such invitation in this workspace.")
    if invitation_status(invitation, timezone.now()) != InvitationStatus.PENDING:
        raise Conflict("Only a pending invitation can be revoked.", code=errors.INVITATION_NOT_PENDING)
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    events.record("member.invitation_revoked", invitation, {"email": invitation.email, "role": invitation.role})
    return invitation


@dataclass
class Acceptance:
    membership: Membership
    user_created: bool
    session: Session | None


def _invitation_target(token: str) -> tuple[Tenant, Any]:
    """The workspace and the invitation id a signed invitation token names."""
    invalid = ValidationFailed.for_field("token", errors.INVALID_TOKEN, "This invitation link is invalid.")
    try:
        payload = signing.loads(token, salt=INVITATION_SALT)
        tenant = Tenant.objects.filter(pk=payload["t"]).first()
        invitation_id = payload["i"]
    except (signing.BadSignature, KeyError, TypeError, ValueError, DjangoValidationError) as exc:
        raise invalid from exc
    if tenant is None:
        raise invalid
    if not tenant.is_active:
        raise PermissionDenied("This workspace is suspended.", code=errors.TENANT_SUSPENDED)
    return tenant, invitation_id


@dataclass
class InvitationPreview:
    tenant: Tenant
    email: str
    role: str
    status: InvitationStatus
    account_exists: bool


def invitation_preview(*, token: str) -> InvitationPreview:
    """What an invitation link offers, without accepting it (the web page that the
    emailed link opens shows it first). Same errors as ``invitation_accept``."""
    tenant, invitation_id = _invitation_target(token)
    with tenant_context(tenant):
        invitation = Invitation.objects.filter(pk=invitation_id).first()
        if invitation is None:
            raise ValidationFailed.for_field("token", errors.INVALID_TOKEN, "This invitation link is invalid.")
        status = invitation_status(invitation, timezone.now())
    return InvitationPreview(
        tenant=tenant,
        email=invitation.email,
        role=invitation.role,
        status=status,
        account_exists=User.objects.filter(email=invitation.email).exists(),
    )


def invitation_accept(*, token: str, password: str | None = None, full_name: str = "") -> Acceptance:
    """Creates the membership (and the user when the address is new). A new user
    gets tokens at once; an existing one logs in as usual. Either way the emailed link
    reached the address, so it counts as verified."""
    invalid = ValidationFailed.for_field("token", errors.INVALID_TOKEN, "This invitation link is invalid.")
    tenant, invitation_id = _invitation_target(token)
    with tenant_context(tenant), transaction.atomic():
        invitation = Invitation.objects.select_for_update().filter(pk=invitation_id).first()
        if invitation is None:
            raise invalid
        status = invitation_status(invitation, timezone.now())
        if status != InvitationStatus.PENDING:
            raise Conflict(f"This invitation is {status.label.lower()}.", code=f"invitation_{status.value}")
        user = User.objects.filter(email=invitation.email).first()
        created = user is None
        if user is None:
            if not password:
                raise ValidationFailed.for_field("password", errors.REQUIRED, "Choose a password for your new account.")
            problems = _password_errors(password, User(email=invitation.email, full_name=full_name))
            if problems:
                raise ValidationFailed(fields={"password": problems})
            user = User.objects.create_user(
                email=invitation.email, password=password, full_name=full_name, email_verified_at=timezone.now()
            )
        _mark_verified(user)
        membership, _ = Membership.objects.get_or_create(user=user, tenant=tenant, defaults={"role": invitation.role})
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        membership = Membership.objects.select_related("tenant", "user").get(pk=membership.pk)
        events.record("member.joined", membership, {"user": user.pk, "email": user.email, "role": membership.role})
        return Acceptance(
            membership=membership, user_created=created, session=_session(membership) if created else None
        )


# --- API keys ---------------------------------------------------------------------

API_KEY_TOUCH_SECONDS = 60  # last_used_at and its IP are written at most once a minute


def _api_key_scopes(scopes: list[str]) -> list[str]:
    unknown = sorted(set(scopes) - set(api_key_format.SCOPES))
    if unknown or not scopes:
        message = (
            f"Unknown scopes: {', '.join(unknown)}." if unknown else "A key needs at least one scope."
        ) + f" Scopes are {', '.join(api_key_format.SCOPES)}."
        raise ValidationFailed.for_field("scopes", errors.INVALID_SCOPE, message)
    return sorted(set(scopes), key=api_key_format.SCOPES.index)


def _api_key_expiry(expires_at: datetime | None, now: datetime) -> datetime:
    if expires_at is None:
        return now + timedelta(days=settings.API_KEY_DEFAULT_DAYS)
    if expires_at <= now:
        raise ValidationFailed.for_field("expires_at", errors.EXPIRY_IN_PAST, "The expiry must be in the future.")
    if expires_at > now + timedelta(days=settings.API_KEY_MAX_DAYS):
        raise ValidationFailed.for_field(
            "expires_at",
            errors.EXPIRY_TOO_LATE,
            f"A key expires at most {settings.API_KEY_MAX_DAYS} days after it is made.",
        )
    return expires_at


@transaction.atomic
def api_key_create(
    *, name: str, scopes: list[str], expires_at: datetime | None, user: User | None
) -> tuple[ApiKey, str]:
    """A new key of the current tenant and the key itself, which is not stored (only its
    SHA-256) and so can be shown once. Expiry: ``API_KEY_DEFAULT_DAYS`` when not given, at
    most ``API_KEY_MAX_DAYS`` ahead. Records ``api_key.created`` (never the key or its hash).
    403 ``feature_not_in_plan`` when the plan has no API keys."""
    require_feature(get_current_tenant(), Feature.API_KEYS)
    now = timezone.now()
    raw = api_key_format.generate()
    key = ApiKey.objects.create(
        name=name,
        scopes=_api_key_scopes(scopes),
        expires_at=_api_key_expiry(expires_at, now),
        prefix=api_key_format.shown_prefix(raw),
        key_hash=api_key_format.digest(raw),
        created_by=user,
    )
    events.record("api_key.created", key, _api_key_facts(key))
    return key, raw


def _api_key_facts(key: ApiKey) -> dict[str, Any]:
    """What an API key event tells: never the key itself or its hash."""
    return {"name": key.name, "prefix": key.prefix, "scopes": key.scopes, "expires_at": key.expires_at}


@transaction.atomic
def api_key_revoke(*, key_id: uuid.UUID, user: User | None) -> ApiKey:
    """Revokes a key of the current tenant: the next request with it is refused (saving the
    key ends its cached entry). Revoking a revoked key changes nothing."""
    key = ApiKey.objects.select_for_update().filter(pk=key_id).first()
    if key is None:
        raise NotFound("No such API key in this workspace.")
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.revoked_by = user
        key.save(update_fields=["revoked_at", "revoked_by"])
        events.record("api_key.revoked", key, _api_key_facts(key))
    return key


def api_key_touch(*, key: ApiKey, ip: str | None, now: datetime) -> None:
    """Records the key's use (time and IP address), at most once a minute: a request that
    finds it recorded less than a minute ago writes nothing, and of concurrent requests
    past the minute one updates the row (the condition is re-checked in the UPDATE).
    Runs in the key's tenant context."""
    threshold = now - timedelta(seconds=API_KEY_TOUCH_SECONDS)
    if key.last_used_at is not None and key.last_used_at > threshold:
        return
    ApiKey.objects.filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=threshold), pk=key.pk).update(
        last_used_at=now, last_used_ip=ip
    )  # ends the key's cached entry (ApiKeyQuerySet), which has the old time
