from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TenantsConfig(AppConfig):
    name = "tenants"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.logging import add_log_context
        from tenants import checks, rls  # noqa: F401
        from tenants.context import current_tenant_id

        add_log_context("tenant_id", current_tenant_id)

        post_migrate.connect(rls.post_migrate_apply, dispatch_uid="tenants.rls.post_migrate_apply")
