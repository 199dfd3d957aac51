from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from integrations.services.delivery import SUBSCRIBER, webhook_fanout
        from tenants.events import subscribe

        subscribe(SUBSCRIBER, webhook_fanout)

        from integrations import event_store

        event_store.subscribe()  # the relay's event-store subscriber, when the store is MongoDB

        from core.metrics import WEBHOOK_FAILURES, register_window_count
        from integrations.selectors import webhook_failures_between

        register_window_count(WEBHOOK_FAILURES, webhook_failures_between)
