"""Emails of the accounts module, sent by Celery after the writing transaction commits."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail

from tenants.context import get_current_tenant
from tenants.models import Invitation, Role, User
from tenants.tasking import TenantTask


@shared_task(base=TenantTask, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_invitation_email(*, tenant_id: str, invitation_id: str) -> None:
    from tenants.services import invitation_token

    invitation = Invitation.objects.select_related("invited_by").filter(pk=invitation_id).first()
    if invitation is None or invitation.accepted_at or invitation.revoked_at:
        return
    tenant = get_current_tenant()
    token = invitation_token(invitation)
    inviter = invitation.invited_by.email if invitation.invited_by else "A colleague"
    send_mail(
        subject=f"You are invited to {tenant.name} on Stockroom",
        message=(
            f"{inviter} invited you to join {tenant.name} on Stockroom as {Role(invitation.role).label.lower()}.\n\n"
            f"Accept the invitation: {settings.FRONTEND_URL}/accept-invitation?token={token}\n\n"
            f"Or through the API: POST /api/v1/invitations/accept/ with the token\n{token}\n\n"
            f"The invitation expires on {invitation.expires_at:%Y-%m-%d %H:%M} UTC."
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[invitation.email],
    )


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_password_reset_email(*, user_id: str) -> None:
    from tenants.services import password_reset_token

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    token = password_reset_token(user)
    send_mail(
        subject="Reset your Stockroom password",
        message=(
            "Someone asked to reset the password of your Stockroom account.\n\n"
            f"Choose a new password: {settings.FRONTEND_URL}/reset-password?token={token}\n\n"
            f"Or through the API: POST /api/v1/auth/password-reset/confirm/ with the token\n{token}\n\n"
            "The link works once and expires in "
            f"{settings.PASSWORD_RESET_TIMEOUT // 60} minutes. If it was not you, ignore this email."
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
    )
