from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save


class TenantsConfig(AppConfig):
    name = "tenants"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.logging import add_log_context
        from tenants import checks, rls  # noqa: F401
        from tenants.context import current_tenant_id

        add_log_context("tenant_id", current_tenant_id)

        from core.metrics import OUTBOX_LAG, register_gauge
        from tenants.events import outbox_lag_seconds

        register_gauge(OUTBOX_LAG, outbox_lag_seconds)

        post_migrate.connect(rls.post_migrate_apply, dispatch_uid="tenants.rls.post_migrate_apply")

        # Every saved or deleted membership, user, tenant or API key ends what is cached of it
        # (querysets' update() does too: tenants/models.py).
        from tenants import membership_cache
        from tenants.entitlements import Limit, register_usage
        from tenants.models import ApiKey, Membership, Tenant, User
        from tenants.selectors import member_usage

        register_usage(Limit.MEMBERS, member_usage)

        for model in (Membership, Tenant, User, ApiKey):
            for signal in (post_save, post_delete):
                signal.connect(
                    membership_cache.on_saved, sender=model, dispatch_uid=f"membership_cache.{model.__name__}"
                )
