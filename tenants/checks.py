"""System checks (``manage.py check``) that keep tenant models sound."""

from typing import Any

from django.core import checks
from django.db import models

from tenants.rls import tenant_models


def _starts_with_tenant(fields: list[str] | tuple[str, ...]) -> bool:
    return bool(fields) and fields[0] in {"tenant", "tenant_id"}


@checks.register(checks.Tags.models)
def check_tenant_models(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for model in tenant_models():
        label = model._meta.label
        for field in model._meta.local_fields:
            if field.unique and not field.primary_key:
                errors.append(
                    checks.Error(
                        f"{label}.{field.name} is unique=True; tenant tables need UniqueConstraint(tenant, ...).",
                        id="tenants.E001",
                    )
                )
        for field in model._meta.local_many_to_many:
            through = field.remote_field.through
            if through is not None and through._meta.auto_created:
                errors.append(
                    checks.Error(
                        f"{label}.{field.name}: many-to-many between tenant tables needs an explicit "
                        "through model that is a TenantScopedModel.",
                        id="tenants.E002",
                    )
                )
        for constraint in model._meta.constraints:
            if isinstance(constraint, models.UniqueConstraint):
                names = list(constraint.fields) or [
                    getattr(expr, "name", "") for expr in constraint.expressions if hasattr(expr, "name")
                ]
                if not _starts_with_tenant(names):
                    errors.append(
                        checks.Error(
                            f"{label}: unique constraint {constraint.name} must start with tenant.",
                            id="tenants.E003",
                        )
                    )
        for index in model._meta.indexes:
            if len(index.fields) > 1 and not _starts_with_tenant([f.lstrip("-") for f in index.fields]):
                errors.append(checks.Error(f"{label}: index {index.name} must start with tenant.", id="tenants.E004"))
        for together in model._meta.unique_together:
            if not _starts_with_tenant(list(together)):
                errors.append(
                    checks.Error(f"{label}: unique_together {together} must start with tenant.", id="tenants.E003")
                )
    return errors
