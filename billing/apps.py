from django.apps import AppConfig
from django.conf import settings


class BillingConfig(AppConfig):
    name = "billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        if settings.BILLING_METER_EVENT_NAME:  # usage reporting (billing/services/usage.py)
            from billing.services.usage import SUBSCRIBER, meter_subscriber
            from tenants.events import subscribe

            subscribe(SUBSCRIBER, meter_subscriber)
