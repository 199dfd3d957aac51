from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from integrations.services.delivery import SUBSCRIBER, webhook_fanout
        from tenants.events import subscribe

        subscribe(SUBSCRIBER, webhook_fanout)
