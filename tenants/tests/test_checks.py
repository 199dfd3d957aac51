"""The system checks that keep tenant models sound (tenants/checks.py)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.test.utils import isolate_apps

from tenants.checks import _check_tenant_foreign_keys, check_tenant_models
from tenants.fields import TenantForeignKey
from tenants.scoping import TenantScopedModel


def test_the_project_passes() -> None:
    assert check_tenant_models() == []


def _ids(errors: list[Any]) -> list[str]:
    return sorted(error.id for error in errors)


@isolate_apps("tenants")
def test_plain_foreign_key_between_tenant_tables_is_refused() -> None:
    class Parent(TenantScopedModel):
        pass

    class Child(TenantScopedModel):
        parent = models.ForeignKey(Parent, on_delete=models.CASCADE)

    assert _ids(_check_tenant_foreign_keys(Child)) == ["tenants.E005"]


@isolate_apps("tenants")
def test_tenant_foreign_key_with_a_constraint_is_refused() -> None:
    class Parent(TenantScopedModel):
        pass

    class Child(TenantScopedModel):
        parent = TenantForeignKey(Parent, on_delete=models.CASCADE, db_constraint=True)

    assert _ids(_check_tenant_foreign_keys(Child)) == ["tenants.E005"]


@isolate_apps("tenants")
def test_unindexed_foreign_key_needs_a_tenant_led_index() -> None:
    class Parent(TenantScopedModel):
        pass

    class Bare(TenantScopedModel):
        parent = TenantForeignKey(Parent, on_delete=models.CASCADE, db_index=False)

    class Covered(TenantScopedModel):
        parent = TenantForeignKey(Parent, on_delete=models.CASCADE, db_index=False)

        class Meta:
            indexes = [models.Index(fields=["tenant", "parent"], name="covered_tenant_parent")]

    class Indexed(TenantScopedModel):
        parent = TenantForeignKey(Parent, on_delete=models.CASCADE)

    assert _ids(_check_tenant_foreign_keys(Bare)) == ["tenants.E006"]
    assert _check_tenant_foreign_keys(Covered) == []
    assert _check_tenant_foreign_keys(Indexed) == []


@isolate_apps("tenants")
def test_tenant_key_without_constraint_needs_a_non_null_tenant_reference() -> None:
    from tenants.fields import implied_tenant_key

    class Parent(TenantScopedModel):
        pass

    class Implied(TenantScopedModel):
        tenant = implied_tenant_key()
        parent = TenantForeignKey(Parent, on_delete=models.CASCADE)

    class Unproven(TenantScopedModel):
        tenant = implied_tenant_key()
        parent = TenantForeignKey(Parent, null=True, on_delete=models.CASCADE)

    assert _check_tenant_foreign_keys(Implied) == []
    assert _ids(_check_tenant_foreign_keys(Unproven)) == ["tenants.E007"]
