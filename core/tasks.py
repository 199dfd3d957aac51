"""Core's Celery tasks: the CloudWatch metrics publication (Celery beat, every 60 s when
STOCKROOM_ENVIRONMENT is set; config/settings/base.py)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from core import emf


@shared_task
def publish_cloudwatch_metrics() -> str:
    """Prints one CloudWatch EMF line (core/emf.py) to stdout and returns it."""
    return emf.publish(environment=str(settings.STOCKROOM_ENVIRONMENT or "development"))
