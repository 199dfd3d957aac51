"""Thin views: parse with a serializer, call one service or selector, render."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from core.api.filters import FilterSet
from tenants import selectors, services
from tenants.api import serializers as s
from tenants.api.base import ScopedQuerysetMixin, is_schema_generation
from tenants.context import get_current_tenant
from tenants.models import ApiKey, Invitation, Membership, Role
from tenants.permissions import AuthenticatedMember, request_membership, request_user

SIGNUP_EXAMPLE = OpenApiExample(
    "Sign up",
    value={
        "company_name": "Acme Hardware",
        "slug": "acme",
        "email": "owner@acme.example",
        "password": "a long passphrase",
        "full_name": "Ada Owner",
    },
    request_only=True,
)


def _client_ip(request: Request) -> str | None:
    return BaseThrottle().get_ident(request) or None


class SignupView(APIView):
    permission_classes = [AllowAny]
    throttle_scope = "signup"

    @extend_schema(
        request=s.SignupSerializer,
        responses={201: s.SessionSerializer},
        examples=[SIGNUP_EXAMPLE],
        summary="Create a workspace, its owner and log in",
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        data = s.SignupSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.tenant_signup(**data.validated_data)
        return Response(s.SessionSerializer(session).data, status=status.HTTP_201_CREATED)


class TokenObtainView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        request=s.TokenObtainSerializer,
        responses={200: s.SessionSerializer},
        summary="Log in: tokens for one workspace",
        description=(
            "Failed attempts are counted per account and per IP address; past the limit the answer is "
            "429 `login_locked` with `details.retry_after` seconds."
        ),
        examples=[
            OpenApiExample(
                "Log in",
                value={"email": "owner@acme.example", "password": "a long passphrase", "tenant": "acme"},
                request_only=True,
            )
        ],
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        data = s.TokenObtainSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.auth_login(
            email=data.validated_data["email"],
            password=data.validated_data["password"],
            tenant_slug=data.validated_data.get("tenant") or None,
            ip=_client_ip(request),
        )
        return Response(s.SessionSerializer(session).data)


class TokenRefreshView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        request=s.RefreshSerializer,
        responses={200: s.SessionSerializer},
        summary="Rotate tokens: the refresh token given is blacklisted",
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        data = s.RefreshSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.auth_refresh(refresh=data.validated_data["refresh"])
        return Response(s.SessionSerializer(session).data)


class LogoutView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        request=s.RefreshSerializer, responses={204: None}, summary="Blacklist a refresh token", tags=["auth"]
    )
    def post(self, request: Request) -> Response:
        data = s.RefreshSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.auth_logout(refresh=data.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


def _me(membership: Membership) -> dict[str, Any]:
    memberships = [{"tenant": m.tenant, "role": m.role} for m in selectors.user_memberships(user=membership.user)]
    return {"user": membership.user, "tenant": membership.tenant, "role": membership.role, "memberships": memberships}


class MeView(APIView):
    permission_classes = [AuthenticatedMember]

    @extend_schema(responses={200: s.MeSerializer}, summary="Who am I, where, and my other workspaces", tags=["auth"])
    def get(self, request: Request) -> Response:
        return Response(s.MeSerializer(_me(request_membership(request))).data)

    @extend_schema(
        request=s.MeUpdateSerializer,
        responses={200: s.MeSerializer},
        summary="Change my name",
        tags=["auth"],
    )
    def patch(self, request: Request) -> Response:
        data = s.MeUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        membership = request_membership(request)
        if "full_name" in data.validated_data:  # a PATCH without a change (the schema's fields are optional)
            services.user_update(user=membership.user, full_name=data.validated_data["full_name"])
        return Response(s.MeSerializer(_me(membership)).data)


class PasswordChangeView(APIView):
    permission_classes = [AuthenticatedMember]
    throttle_scope = "password_change"

    @extend_schema(
        request=s.PasswordChangeSerializer,
        responses={200: s.SessionSerializer},
        summary="Change my password; ends every other session and returns a fresh one",
        description=(
            "Needs the current password (400 `wrong_password` on `current_password` otherwise); the new one "
            "passes the password validators (400 on `new_password`). Every access and refresh token of the "
            "account ends at once, in every workspace, the ones of this request included: the answer is a "
            "new session for the current workspace, so the caller stays logged in."
        ),
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        data = s.PasswordChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.password_change(membership=request_membership(request), **data.validated_data)
        return Response(s.SessionSerializer(session).data)


class SwitchTenantView(APIView):
    permission_classes = [AuthenticatedMember]

    @extend_schema(
        request=s.SwitchTenantSerializer,
        responses={200: s.SessionSerializer},
        summary="New tokens for another of my workspaces",
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        data = s.SwitchTenantSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.auth_switch_tenant(
            user=request_membership(request).user, tenant_slug=data.validated_data["tenant"]
        )
        return Response(s.SessionSerializer(session).data)


class PasswordResetRequestView(APIView):
    permission_classes = [AllowAny]
    throttle_scope = "password_reset"

    @extend_schema(
        request=s.PasswordResetRequestSerializer,
        responses={202: s.DetailSerializer},
        summary="Email a single-use password reset link",
        description="Always 202, whether or not the address has an account.",
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        data = s.PasswordResetRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_request(email=data.validated_data["email"])
        return Response(
            {"detail": "If an account exists for this address, a reset link is on its way."},
            status=status.HTTP_202_ACCEPTED,
        )


class PasswordResetConfirmView(APIView):
    permission_classes = [AllowAny]
    throttle_scope = "password_reset"

    @extend_schema(
        request=s.PasswordResetConfirmSerializer,
        responses={204: None},
        summary="Set a new password with the emailed token; ends every session",
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        data = s.PasswordResetConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_confirm(**data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EmailVerifyView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        request=s.EmailVerifySerializer,
        responses={204: None},
        summary="Verify my email address with the emailed token",
        description=(
            "The token of the link emailed at sign-up (or on request, `POST /api/v1/auth/verify-email/resend/`). "
            "400 `invalid_token` on `token` when it is not one of ours, has expired, or names an address the "
            "account no longer has. Following it again once verified changes nothing (204 again)."
        ),
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        data = s.EmailVerifySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.email_verify(token=data.validated_data["token"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class EmailVerificationResendView(APIView):
    permission_classes = [AuthenticatedMember]
    throttle_scope = "email_verification"

    @extend_schema(
        request=None,
        responses={202: s.DetailSerializer},
        summary="Email me a new link to verify my address",
        description="409 `email_already_verified` once it is verified. Throttled (scope `email_verification`).",
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        services.email_verification_request(user=request_membership(request).user)
        return Response({"detail": "A new verification link is on its way."}, status=status.HTTP_202_ACCEPTED)


class TenantView(APIView):
    write_role = Role.ADMIN

    @extend_schema(responses={200: s.TenantSerializer}, summary="The current workspace", tags=["workspace"])
    def get(self, request: Request) -> Response:
        return Response(s.TenantSerializer(get_current_tenant()).data)

    @extend_schema(
        request=s.TenantUpdateSerializer,
        responses={200: s.TenantSerializer},
        summary="Rename the workspace or change its currency (admin)",
        tags=["workspace"],
    )
    def patch(self, request: Request) -> Response:
        data = s.TenantUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(s.TenantSerializer(services.tenant_update(**data.validated_data)).data)


class TenantCreateView(APIView):
    permission_classes = [AuthenticatedMember]
    throttle_scope = "signup"

    @extend_schema(
        request=s.TenantCreateSerializer,
        responses={201: s.SessionSerializer},
        summary="Create another workspace, with me as its owner",
        description=(
            "For a user who already has an account (sign-up creates the first workspace). The same rules as "
            "sign-up for `name` and `slug`. The answer is a session for the new workspace (its `tenant` and "
            "tokens); the caller's current tokens stay valid for the current one."
        ),
        examples=[OpenApiExample("Create", value={"name": "Acme Trading", "slug": "acme-trading"}, request_only=True)],
        tags=["workspace"],
    )
    def post(self, request: Request) -> Response:
        data = s.TenantCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.tenant_create(
            user=request_membership(request).user,
            name=data.validated_data["name"],
            slug=data.validated_data.get("slug") or None,
        )
        return Response(s.SessionSerializer(session).data, status=status.HTTP_201_CREATED)


class MemberFilter(FilterSet):
    role = filters.ChoiceFilter(choices=Role.choices)

    class Meta:
        model = Membership
        fields = ["role"]


@extend_schema(tags=["members"])
class MemberListView(generics.ListAPIView[Membership]):
    serializer_class = s.MemberSerializer
    filterset_class = MemberFilter
    search_fields = ["user__email", "user__full_name"]
    ordering_fields = ["created_at", "role", "user__email"]
    ordering = ["created_at"]

    def get_queryset(self) -> QuerySet[Membership]:
        if is_schema_generation(self):
            return Membership.objects.none()
        return selectors.membership_list()


@extend_schema(tags=["members"])
class MemberDetailView(APIView):
    # Anyone may leave; the service checks who may change or remove others.
    write_role = Role.VIEWER

    @extend_schema(responses={200: s.MemberSerializer}, summary="One member")
    def get(self, request: Request, id: Any) -> Response:
        return Response(s.MemberSerializer(selectors.membership_get(id=id)).data)

    @extend_schema(
        request=s.MemberUpdateSerializer,
        responses={200: s.MemberSerializer},
        summary="Change a member's role (admin; never above your own)",
    )
    def patch(self, request: Request, id: Any) -> Response:
        data = s.MemberUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        if "role" not in data.validated_data:  # a PATCH without a change (the schema's fields are optional)
            return Response(s.MemberSerializer(selectors.membership_get(id=id)).data)
        membership = services.membership_change_role(
            actor=request_membership(request), membership_id=id, role=data.validated_data["role"]
        )
        return Response(s.MemberSerializer(membership).data)

    @extend_schema(responses={204: None}, summary="Remove a member (admin), or leave (yourself)")
    def delete(self, request: Request, id: Any) -> Response:
        services.membership_remove(actor=request_membership(request), membership_id=id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationFilter(FilterSet):
    role = filters.ChoiceFilter(choices=Role.choices)
    pending = filters.BooleanFilter(method="filter_pending", help_text="Only pending (or only not pending).")

    class Meta:
        model = Invitation
        fields = ["role"]

    def filter_pending(self, queryset: QuerySet[Invitation], name: str, value: bool) -> QuerySet[Invitation]:
        return selectors.invitations_pending(queryset, pending=value)


@extend_schema(tags=["members"])
class InvitationListView(ScopedQuerysetMixin, generics.ListAPIView[Invitation]):
    """Invitations of the workspace (admins and owners)."""

    model = Invitation
    read_role = Role.ADMIN
    write_role = Role.ADMIN
    serializer_class = s.InvitationSerializer
    filterset_class = InvitationFilter
    search_fields = ["email"]
    ordering_fields = ["created_at", "expires_at", "email"]
    ordering = ["-created_at"]

    def scoped_queryset(self) -> QuerySet[Invitation]:
        return selectors.invitation_list()

    @extend_schema(
        request=s.InvitationCreateSerializer,
        responses={201: s.InvitationSerializer},
        summary="Invite someone by email (admin); replaces a pending invitation to the same address",
        description=(
            "The inviter's own email address must be verified first (the link emailed at sign-up): 403 "
            "`email_not_verified` until it is. 403 `role_above_own` for a role above the inviter's, 409 "
            "`already_member` for a member's address."
        ),
        examples=[OpenApiExample("Invite", value={"email": "clerk@acme.example", "role": "clerk"}, request_only=True)],
    )
    def post(self, request: Request) -> Response:
        data = s.InvitationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = services.invitation_create(actor=request_membership(request), **data.validated_data)
        return Response(s.InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["members"])
class InvitationDetailView(APIView):
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    @extend_schema(responses={200: s.InvitationSerializer}, summary="One invitation")
    def get(self, request: Request, id: Any) -> Response:
        return Response(s.InvitationSerializer(selectors.invitation_get(id=id)).data)

    @extend_schema(
        responses={204: None},
        summary="Revoke a pending invitation",
        description="The invitation is gone from the API afterwards (404, not listed); its emailed link "
        "answers 409 `invitation_revoked`.",
    )
    def delete(self, request: Request, id: Any) -> Response:
        services.invitation_revoke(invitation_id=id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationAcceptView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        request=s.InvitationAcceptSerializer,
        responses={200: s.InvitationAcceptedSerializer},
        summary="Accept an invitation with its emailed token",
        tags=["members"],
    )
    def post(self, request: Request) -> Response:
        data = s.InvitationAcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        acceptance = services.invitation_accept(**data.validated_data)
        return Response(s.InvitationAcceptedSerializer(acceptance).data)


@extend_schema(tags=["api-keys"])
class ApiKeyListView(ScopedQuerysetMixin, generics.ListAPIView[ApiKey]):
    """The workspace's API keys, revoked and expired ones included (admins and owners; never
    an API key). The key itself is shown once, in the answer to its creation."""

    model = ApiKey
    read_role = Role.ADMIN
    write_role = Role.ADMIN
    serializer_class = s.ApiKeySerializer
    ordering_fields = ["created_at", "expires_at", "name"]
    ordering = ["-created_at"]

    def scoped_queryset(self) -> QuerySet[ApiKey]:
        return selectors.api_key_list()

    @extend_schema(
        request=s.ApiKeyCreateSerializer,
        responses={201: s.ApiKeyCreatedSerializer},
        summary="Create an API key (admin); the answer shows the key once",
        description=(
            "Send it as `Authorization: Bearer srk_...`. It acts in this workspace with its scopes only; "
            "400 `invalid_scope`, `expiry_in_past`, `expiry_too_late` (more than a year ahead)."
        ),
        examples=[
            OpenApiExample(
                "Create",
                value={"name": "Shop sync", "scopes": ["catalog:read", "stock:read", "orders:write"]},
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        data = s.ApiKeyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key, raw = services.api_key_create(**data.validated_data, user=request_user(request))
        key.key = raw  # type: ignore[attr-defined]
        return Response(s.ApiKeyCreatedSerializer(key).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["api-keys"])
class ApiKeyDetailView(APIView):
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    @extend_schema(responses={200: s.ApiKeySerializer}, summary="One API key (never the key itself)")
    def get(self, request: Request, id: Any) -> Response:
        return Response(s.ApiKeySerializer(selectors.api_key_get(id=id)).data)


@extend_schema(tags=["api-keys"])
class ApiKeyRevokeView(APIView):
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    @extend_schema(
        request=None,
        responses={200: s.ApiKeySerializer},
        summary="Revoke an API key: refused from the next request on (revoking again changes nothing)",
    )
    def post(self, request: Request, id: Any) -> Response:
        key = services.api_key_revoke(key_id=id, user=request_user(request))
        return Response(s.ApiKeySerializer(key).data)
