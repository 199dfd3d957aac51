from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import serializers

from tenants import api_key_format
from tenants.currency import CURRENCY_CHOICES, CURRENCY_PATTERN_MESSAGE
from tenants.models import ApiKey, Invitation, Membership, Role, Tenant, User, invitation_status


class TenantSerializer(serializers.ModelSerializer[Tenant]):
    class Meta:
        model = Tenant
        fields = ["id", "name", "slug", "status", "plan_code", "currency", "created_at"]
        read_only_fields = fields


class TenantUpdateSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=200, required=False)
    currency = serializers.ChoiceField(
        choices=CURRENCY_CHOICES,
        required=False,
        help_text=(
            "ISO 4217 code in capitals, e.g. EUR. Refused with 409 `currency_in_use` once the workspace has "
            "orders or stock on hand (their amounts would be relabelled)."
        ),
        error_messages={"invalid_choice": f'"{{input}}" is not a currency code: use {CURRENCY_PATTERN_MESSAGE}.'},
    )


class TenantCreateSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=200, help_text="The company's name.")
    slug = serializers.CharField(
        max_length=63,
        required=False,
        allow_blank=True,
        help_text="Workspace address: 1-63 lowercase letters, digits and hyphens; made from the name when left out.",
    )


class UserSerializer(serializers.ModelSerializer[User]):
    class Meta:
        model = User
        fields = ["id", "email", "full_name", "date_joined"]
        read_only_fields = fields


class AccountSerializer(UserSerializer):
    """The caller's own account: also whether the address is verified (until it is, the
    user cannot invite anyone: 403 ``email_not_verified``)."""

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "email_verified_at"]
        read_only_fields = fields


class SignupSerializer(serializers.Serializer[Any]):
    company_name = serializers.CharField(max_length=200)
    slug = serializers.CharField(
        max_length=63,
        required=False,
        allow_blank=True,
        help_text="Workspace address: 1-63 lowercase letters, digits and hyphens; made from the name when left out.",
    )
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, style={"input_type": "password"})
    full_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class TokenObtainSerializer(serializers.Serializer[Any]):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, style={"input_type": "password"})
    tenant = serializers.CharField(
        max_length=63, required=False, allow_blank=True, help_text="Workspace slug; needed when you belong to several."
    )


class RefreshSerializer(serializers.Serializer[Any]):
    refresh = serializers.CharField(max_length=2000)


class SwitchTenantSerializer(serializers.Serializer[Any]):
    tenant = serializers.CharField(max_length=63, help_text="Slug of the workspace to switch to.")


class MembershipTenantSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(source="tenant.id")
    slug = serializers.CharField(source="tenant.slug")
    name = serializers.CharField(source="tenant.name")
    status = serializers.CharField(source="tenant.status")
    role = serializers.ChoiceField(choices=Role.choices)


class SessionSerializer(serializers.Serializer[Any]):
    """Tokens for one membership, and who and where they are for."""

    access = serializers.CharField()
    refresh = serializers.CharField()
    user = AccountSerializer()
    tenant = TenantSerializer(source="membership.tenant")
    role = serializers.ChoiceField(source="membership.role", choices=Role.choices)


class MeUpdateSerializer(serializers.Serializer[Any]):
    full_name = serializers.CharField(max_length=200, allow_blank=True)


class PasswordChangeSerializer(serializers.Serializer[Any]):
    current_password = serializers.CharField(max_length=128, write_only=True, style={"input_type": "password"})
    new_password = serializers.CharField(max_length=128, write_only=True, style={"input_type": "password"})


class MeSerializer(serializers.Serializer[Any]):
    user = AccountSerializer()
    tenant = TenantSerializer()
    role = serializers.ChoiceField(choices=Role.choices)
    memberships = MembershipTenantSerializer(many=True)


class MemberSerializer(serializers.ModelSerializer[Membership]):
    user = UserSerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "role", "created_at"]
        read_only_fields = fields


class MemberUpdateSerializer(serializers.Serializer[Any]):
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationSerializer(serializers.ModelSerializer[Invitation]):
    status = serializers.SerializerMethodField()
    invited_by = serializers.EmailField(source="invited_by.email", read_only=True, allow_null=True)

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "role",
            "status",
            "invited_by",
            "created_at",
            "expires_at",
            "accepted_at",
            "revoked_at",
        ]
        read_only_fields = fields

    def get_status(self, invitation: Invitation) -> str:
        return str(invitation_status(invitation, timezone.now()).value)


class InvitationCreateSerializer(serializers.Serializer[Any]):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationAcceptSerializer(serializers.Serializer[Any]):
    token = serializers.CharField(max_length=500)
    password = serializers.CharField(
        max_length=128, required=False, write_only=True, help_text="Needed when the email has no account yet."
    )
    full_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class InvitationAcceptedSerializer(serializers.Serializer[Any]):
    tenant = TenantSerializer(source="membership.tenant")
    role = serializers.ChoiceField(source="membership.role", choices=Role.choices)
    user_created = serializers.BooleanField()
    session = SessionSerializer(allow_null=True, help_text="Tokens, for a new account; null for an existing one.")


class PasswordResetRequestSerializer(serializers.Serializer[Any]):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmSerializer(serializers.Serializer[Any]):
    token = serializers.CharField(max_length=500)
    new_password = serializers.CharField(max_length=128, write_only=True)


class DetailSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()


class EmailVerifySerializer(serializers.Serializer[Any]):
    token = serializers.CharField(max_length=1000, help_text="The token of the emailed verification link.")


class ApiKeySerializer(serializers.ModelSerializer[ApiKey]):
    status = serializers.SerializerMethodField(help_text="active, revoked or expired")
    created_by = serializers.EmailField(source="created_by.email", read_only=True, allow_null=True)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=api_key_format.SCOPES))

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "prefix",
            "scopes",
            "status",
            "created_by",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
            "last_used_ip",
        ]
        read_only_fields = fields

    def get_status(self, key: ApiKey) -> str:
        if key.revoked_at is not None:
            return "revoked"
        return "active" if key.expires_at > timezone.now() else "expired"


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(
        read_only=True,
        help_text="The key itself, shown this once (only its SHA-256 is kept). Matches "
        + api_key_format.PATTERN.pattern,
    )

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields


class ApiKeyCreateSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=api_key_format.SCOPES),
        min_length=1,
        max_length=len(api_key_format.SCOPES),
        help_text="`<group>:read` / `<group>:write` for " + ", ".join(api_key_format.SCOPE_GROUPS) + ".",
    )
    expires_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Defaults to 90 days from now; at most 1 year from now.",
    )
