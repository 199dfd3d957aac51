"""The accounts module's emails (invitation, password reset, address verification) and
the links in them.

Used by the Celery tasks that send them (tenants.tasks) and by the services that
check the links (tenants.services); it imports neither.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.mail import send_mail
from django.utils.http import urlsafe_base64_encode

from tenants.models import Invitation, Role, Tenant, User

INVITATION_SALT = "stockroom.invitation"
EMAIL_VERIFICATION_SALT = "stockroom.email-verification"


def invitation_token(invitation: Invitation) -> str:
    """Signed, so nothing secret is stored or sent through the broker; single use
    because acceptance marks the invitation, expiry from ``expires_at``."""
    return signing.dumps({"t": str(invitation.tenant_id), "i": str(invitation.id)}, salt=INVITATION_SALT)


def password_reset_token(user: User) -> str:
    """``<uid>.<token>``: Django's token is single-use (it hashes the password) and expires."""
    return f"{urlsafe_base64_encode(user.pk.bytes)}.{default_token_generator.make_token(user)}"


def email_verification_token(user: User) -> str:
    """Signed and timestamped (expiry: ``EMAIL_VERIFICATION_TTL``), naming the user and the
    address: nothing secret is stored or sent through the broker. Single use in effect:
    once the address is verified the link changes nothing more."""
    return signing.dumps({"u": str(user.pk), "e": user.email}, salt=EMAIL_VERIFICATION_SALT)


def send_invitation(invitation: Invitation, *, tenant: Tenant) -> None:
    token = invitation_token(invitation)
    inviter = invitation.invited_by.email if invitation.invited_by else "A colleague"
    send_mail(
        subject=f"You are invited to {tenant.name} on Stockroom",
        message=(
            f"{inviter} invited you to join {tenant.name} on Stockroom as {Role(invitation.role).label.lower()}.\n\n"
            f"Accept the invitation: {settings.FRONTEND_URL}/accept-invitation/?token={token}\n\n"
            f"Or through the API: POST /api/v1/invitations/accept/ with the token\n{token}\n\n"
            f"The invitation expires on {invitation.expires_at:%Y-%m-%d %H:%M} UTC."
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[invitation.email],
    )


def send_password_reset(user: User) -> None:
    token = password_reset_token(user)
    send_mail(
        subject="Reset your Stockroom password",
        message=(
            "Someone asked to reset the password of your Stockroom account.\n\n"
            f"Choose a new password: {settings.FRONTEND_URL}/reset-password/?token={token}\n\n"
            f"Or through the API: POST /api/v1/auth/password-reset/confirm/ with the token\n{token}\n\n"
            "The link works once and expires in "
            f"{settings.PASSWORD_RESET_TIMEOUT // 60} minutes. If it was not you, ignore this email."
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
    )


def send_email_verification(user: User) -> None:
    token = email_verification_token(user)
    days = settings.EMAIL_VERIFICATION_TTL.days
    send_mail(
        subject="Confirm your email address for Stockroom",
        message=(
            f"Confirm that {user.email} is your address on Stockroom: until then you cannot invite anyone "
            "to your workspaces.\n\n"
            f"Confirm it: {settings.FRONTEND_URL}/verify-email/?token={token}\n\n"
            f"Or through the API: POST /api/v1/auth/verify-email/ with the token\n{token}\n\n"
            f"The link works for {days} days. If you did not sign up for Stockroom, ignore this email."
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
    )
