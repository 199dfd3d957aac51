"""The integrations module's emails: an endpoint was disabled (sent by Celery after the
change commits, integrations.tasks)."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.core.mail import send_mail

from integrations.models import DisabledReason, WebhookEndpoint
from tenants.models import Tenant


def send_webhook_disabled(endpoint: WebhookEndpoint, *, reason: str, tenant: Tenant, recipients: Sequence[str]) -> None:
    why = {
        DisabledReason.GONE: "it answered 410 Gone",
        DisabledReason.FAILING: "every delivery to it has failed for "
        f"{settings.WEBHOOK_DISABLE_AFTER_SECONDS / 86400:g} days",
    }.get(DisabledReason(reason), DisabledReason(reason).label.lower())
    send_mail(
        subject=f"A webhook endpoint of {tenant.name} was disabled",
        message=(
            f"Stockroom stopped sending events to the webhook endpoint\n\n  {endpoint.url}\n\n"
            f"of {tenant.name} because {why}.\n\n"
            f"See its delivery log: GET /api/v1/webhook-endpoints/{endpoint.id}/deliveries/\n"
            "Once it works again, turn it back on (PATCH it with is_active true) and re-send what it "
            f"missed: POST /api/v1/webhook-endpoints/{endpoint.id}/recover/ with the time to start from."
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=list(recipients),
    )
