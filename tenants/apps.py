from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TenantsConfig(AppConfig):
    name = "tenants"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tenants import checks, rls  # noqa: F401

        post_migrate.connect(rls.post_migrate_apply, dispatch_uid="tenants.rls.post_migrate_apply")
