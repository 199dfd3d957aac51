"""System checks (``manage.py check``) that keep tenant models sound."""

from typing import Any

from django.core import checks
from django.db import models

from tenants.fields import TenantForeignKey
from tenants.rls import tenant_foreign_keys, tenant_led_indexes, tenant_models


def _starts_with_tenant(fields: list[str] | tuple[str, ...]) -> bool:
    return bool(fields) and fields[0] in {"tenant", "tenant_id"}


def _check_tenant_foreign_keys(model: type[models.Model]) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    covered = {group[1] for group in tenant_led_indexes(model) if len(group) > 1}
    for field in tenant_foreign_keys(model):
        name = f"{model._meta.label}.{field.name}"
        if not isinstance(field, TenantForeignKey) or getattr(field, "db_constraint", True):
            errors.append(
                checks.Error(
                    f"{name}: a foreign key between tenant tables must be a TenantForeignKey without "
                    "db_constraint (the composite (tenant_id, id) key of tenants/rls.py is its constraint).",
                    id="tenants.E005",
                )
            )
        if not getattr(field, "db_index", True) and field.name not in covered:
            errors.append(
                checks.Error(
                    f"{name} has db_index=False but no index or unique constraint starts with (tenant, {field.name}).",
                    id="tenants.E006",
                )
            )
    tenant = model._meta.get_field("tenant")
    if not getattr(tenant, "db_constraint", True) and not any(
        not field.null for field in tenant_foreign_keys(model) if isinstance(field, TenantForeignKey)
    ):
        errors.append(
            checks.Error(
                f"{model._meta.label}.tenant has no constraint, but no non-null TenantForeignKey implies it.",
                id="tenants.E007",
            )
        )
    return errors


@checks.register(checks.Tags.models)
def check_tenant_models(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for model in tenant_models():
        label = model._meta.label
        errors += _check_tenant_foreign_keys(model)
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
