from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core plumbing"

    def ready(self) -> None:
        from core import celery_metrics, sentry
        from core.api import strict  # DRF's fields are patched once the apps are loaded

        strict.install()
        celery_metrics.connect()
        sentry.init()
