"""Tenants, users and memberships (global tables) and invitations (tenant-owned)."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from tenants import membership_cache, scoping
from tenants.scoping import TenantScopedModel


class _MembershipCacheQuerySet(models.QuerySet[Any]):
    """``update()`` ends the cached memberships its rows take part in
    (``tenants/membership_cache.py``); ``save`` and ``delete`` do through signals
    (``TenantsConfig.ready``). ``invalidates``: whose cache a row holds ("user" or
    "tenant") and the field with that id."""

    invalidates: tuple[str, str]

    def update(self, **kwargs: Any) -> int:
        kind, field = self.invalidates
        ids = list(self.values_list(field, flat=True).distinct().order_by())
        rows = super().update(**kwargs)
        if kind == "user":
            membership_cache.invalidate(user_ids=ids, using=self.db)
        else:
            membership_cache.invalidate(tenant_ids=ids, using=self.db)
        return rows

    update.alters_data = True  # type: ignore[attr-defined]


class TenantQuerySet(_MembershipCacheQuerySet):
    invalidates = ("tenant", "pk")


class UserQuerySet(_MembershipCacheQuerySet):
    invalidates = ("user", "pk")


class MembershipQuerySet(_MembershipCacheQuerySet):
    invalidates = ("user", "user_id")


class TenantStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"


class BillingStatus(models.TextChoices):
    """The workspace's Stripe subscription status as billing last applied it (empty: no
    subscription). What each status entitles to: ``tenants.entitlements.effective_plan``."""

    NONE = "", "No subscription"
    TRIALING = "trialing", "Trialing"
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Past due"
    UNPAID = "unpaid", "Unpaid"
    CANCELED = "canceled", "Canceled"
    INCOMPLETE = "incomplete", "Incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired", "Incomplete, expired"
    PAUSED = "paused", "Paused"


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Manager"
    CLERK = "clerk", "Clerk"
    VIEWER = "viewer", "Viewer"

    @property
    def rank(self) -> int:
        return ROLE_RANK[self]

    def at_least(self, minimum: Role | str) -> bool:
        return ROLE_RANK[self] >= ROLE_RANK[Role(minimum)]


ROLE_RANK: dict[str, int] = {
    Role.VIEWER: 10,
    Role.CLERK: 20,
    Role.MANAGER: 30,
    Role.ADMIN: 40,
    Role.OWNER: 50,
}


class Tenant(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=63, unique=True)
    status = models.CharField(max_length=16, choices=TenantStatus.choices, default=TenantStatus.ACTIVE)
    # The plan of the workspace's subscription (billing writes it with the two fields
    # below, tenants.services.tenant_plan_apply), or one platform staff set; what applies
    # now is tenants.entitlements.effective_plan.
    plan_code = models.CharField(max_length=32, default="free")
    billing_status = models.CharField(max_length=24, choices=BillingStatus.choices, default="", blank=True)
    grace_ends_at = models.DateTimeField(null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD", help_text="ISO 4217 code of the tenant's prices.")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.slug

    @property
    def is_active(self) -> bool:
        return self.status == TenantStatus.ACTIVE


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True
    _queryset_class = UserQuerySet

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        user = self.model(email=normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email=normalize_email(username or ""))


def normalize_email(email: str) -> str:
    """Emails are stored and compared lower-cased: logins are case-insensitive."""
    return email.strip().lower()


class User(AbstractBaseUser):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=254, unique=True, help_text="Stored lower-cased.")
    full_name = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(auto_now_add=True)
    token_version = models.PositiveIntegerField(
        default=0,
        help_text="Carried in every token; a password change or reset bumps it, which ends every token issued before.",
    )
    email_verified_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the address was shown to reach the user (the emailed link, an accepted invitation or a "
        "password reset); empty: not verified, and the user cannot invite anyone.",
    )

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.email


class Membership(models.Model):
    """A user's place in a tenant. Not a TenantScopedModel (login reads it by user,
    across workspaces), but under Row Level Security like one: the current tenant's
    rows, plus the current user's own (``tenants.rls.USER_READABLE_TABLES``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_user")]
        indexes = [models.Index(fields=["user", "tenant"])]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.tenant_id}:{self.role}"

    @property
    def role_enum(self) -> Role:
        return Role(self.role)


class Invitation(TenantScopedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=16, choices=Role.choices)
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The email: queued at creation (dispatched_at), re-queued by the dispatch sweep while unsent.
    dispatched_at = models.DateTimeField(default=timezone.now)
    dispatch_attempts = models.PositiveSmallIntegerField(default=1)
    email_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                "tenant",
                Lower("email"),
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_pending_per_email",
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "created_at"]),
            # The dispatch sweep's look-up (across tenants, on the ops alias).
            models.Index(
                fields=["dispatched_at"],
                condition=models.Q(email_sent_at__isnull=True, accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_unsent",
            ),
        ]

    def __str__(self) -> str:
        return f"invitation {self.email} as {self.role}"


class QueuedUserEmail(models.Model):
    """An email to a user that must not be lost (global, like users): the row the dispatch
    sweep re-queues while the email is unsent. The link itself is made when it is sent."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(default=timezone.now)
    dispatch_attempts = models.PositiveSmallIntegerField(default=1)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class PasswordResetRequest(QueuedUserEmail):
    """One asked-for password reset email."""

    class Meta:
        indexes = [
            models.Index(fields=["dispatched_at"], condition=models.Q(sent_at__isnull=True), name="reset_unsent")
        ]

    def __str__(self) -> str:
        return f"password reset for {self.user_id}"


class EmailVerificationRequest(QueuedUserEmail):
    """One email asking the user to confirm the address (at sign-up, or on request)."""

    class Meta:
        indexes = [
            models.Index(fields=["dispatched_at"], condition=models.Q(sent_at__isnull=True), name="verification_unsent")
        ]

    def __str__(self) -> str:
        return f"email verification for {self.user_id}"


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    REVOKED = "revoked", "Revoked"
    EXPIRED = "expired", "Expired"


def invitation_status(invitation: Invitation, now: Any) -> InvitationStatus:
    if invitation.accepted_at:
        return InvitationStatus.ACCEPTED
    if invitation.revoked_at:
        return InvitationStatus.REVOKED
    if invitation.expires_at <= now:
        return InvitationStatus.EXPIRED
    return InvitationStatus.PENDING


class DomainEvent(TenantScopedModel):
    """The outbox: one row per domain event, written by the service in the transaction of
    the change (``tenants.events.record``), so an event exists if and only if the change
    committed. Append-only: the runtime role may SELECT and INSERT only. It is also the
    audit log and, without MongoDB, the event store (docs/integrations.md).

    ``txid`` (the writing transaction's id) and ``seq`` (insertion order) are filled by
    the database; the relay reads events in (txid, seq) order below the oldest running
    transaction, so an event that commits late is never skipped by a cursor."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=64)
    subject_type = models.CharField(max_length=32)
    subject_id = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    changes = models.JSONField(null=True, blank=True, help_text="Updates: {field: [before, after]}.")
    actor_user_id = models.UUIDField(null=True, blank=True)
    actor_api_key_id = models.UUIDField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    txid = models.BigIntegerField(db_default=models.Func(function="stockroom_xact_id"), editable=False)
    seq = models.BigIntegerField(
        db_default=models.Func(models.Value("tenants_domainevent_seq"), function="nextval"), editable=False
    )

    runtime_privileges: ClassVar[tuple[str, ...]] = ("SELECT", "INSERT")

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "txid", "seq"], name="event_relay_order"),
            models.Index(fields=["tenant", "-created_at"], name="event_tenant_time"),
            models.Index(fields=["tenant", "type", "-created_at"], name="event_tenant_type_time"),
            models.Index(fields=["tenant", "subject_id"], name="event_tenant_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.subject_type}:{self.subject_id}"


class EventCursor(TenantScopedModel):
    """How far one subscriber of the relay got in a tenant's events: its own cursor, so a
    slow or failing subscriber never holds back another."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subscriber = models.CharField(max_length=64)
    txid = models.BigIntegerField(default=0)
    seq = models.BigIntegerField(default=0)
    delivered = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "subscriber"], name="event_cursor_unique")]

    def __str__(self) -> str:
        return f"cursor {self.subscriber} at {self.txid}/{self.seq}"


class ApiKeyQuerySet(scoping.TenantQuerySet):
    """``update()`` ends the cached entries of the keys it changes (``tenants/membership_cache.py``);
    ``save`` and ``delete`` do through signals."""

    def update(self, **kwargs: Any) -> int:
        hashes = list(self.values_list("key_hash", flat=True).order_by())
        rows = super().update(**kwargs)
        membership_cache.invalidate(api_key_hashes=hashes, using=self.db)
        return rows

    update.alters_data = True  # type: ignore[attr-defined]


class ApiKeyManager(scoping.TenantManager):
    def get_queryset(self) -> ApiKeyQuerySet:
        return ApiKeyQuerySet(self.model, using=self._db).filter(tenant_id=scoping.CurrentTenantId())


class ApiKey(TenantScopedModel):
    """A workspace's API key (``tenants/api_key_format.py``): only its SHA-256 is stored.

    Found before any tenant is known (the middleware has only the key): the ``key_lookup``
    policy (``tenants/rls.py``) lets a transaction that set ``app.api_key_hash`` read the
    one row with that hash, and no other; everything else is the tenant's, as for any
    tenant table."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=8, help_text="The key's first 8 characters, to recognise it.")
    # Not unique: a unique index across tenants would answer "exists" for another
    # tenant's value; 190 random bits make a collision moot.
    key_hash = models.CharField(max_length=64, db_index=True)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)

    objects: ClassVar[ApiKeyManager] = ApiKeyManager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "created_at"])]

    def __str__(self) -> str:
        return f"api key {self.prefix}… ({self.name})"

    def is_usable(self, now: Any) -> bool:
        return self.revoked_at is None and self.expires_at > now


class IdempotentResponse(TenantScopedModel):
    """The first response to a write sent with an ``Idempotency-Key`` (``tenants.idempotency``):
    one per (tenant, key, route), written in the same transaction as the write it answers, so
    it exists if and only if that write committed. Replayed to retries for
    ``IDEMPOTENCY_KEY_TTL``; deleted afterwards by the beat task ``delete_expired_idempotency_keys``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    key = models.CharField(max_length=255)
    route = models.CharField(max_length=300)  # "POST /api/v1/stock/receive/"
    fingerprint = models.CharField(max_length=64)  # core.api.idempotency.fingerprint
    status_code = models.PositiveSmallIntegerField()
    headers = models.JSONField(default=dict)
    body = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key", "route"], name="idempotent_response_key"),
        ]
        indexes = [
            # The expiry sweep's range (across tenants, on the ops alias).
            models.Index(fields=["created_at"], name="idempotent_response_created"),
        ]

    def __str__(self) -> str:
        return f"idempotent response {self.route} {self.key}"
