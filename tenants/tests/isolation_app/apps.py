from django.apps import AppConfig


class IsolationAppConfig(AppConfig):
    """Installed by the test settings only: two tenant tables with a foreign key
    between them, to test RLS, the composite keys and the isolation harness on
    models that have no business meaning."""

    name = "tenants.tests.isolation_app"
    label = "isolation_app"
    default_auto_field = "django.db.models.BigAutoField"
