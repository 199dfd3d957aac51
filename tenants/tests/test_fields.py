from typing import Any

import pytest
from rest_framework import serializers

from tenants.api.fields import TenantRelatedField
from tenants.context import tenant_context
from tenants.tests.isolation_app.models import Widget

pytestmark = pytest.mark.django_db


class PartInput(serializers.Serializer[Any]):
    widget = TenantRelatedField(Widget)


def test_another_tenants_id_reads_as_does_not_exist(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        alpha = Widget.objects.create(name="alpha")
    with tenant_context(tenant_b):
        beta = Widget.objects.create(name="beta")
        foreign = PartInput(data={"widget": str(alpha.pk)})
        missing = PartInput(data={"widget": "00000000-0000-0000-0000-000000000000"})
        own = PartInput(data={"widget": str(beta.pk)})

        assert not foreign.is_valid() and not missing.is_valid()
        assert foreign.errors["widget"][0].code == missing.errors["widget"][0].code == "does_not_exist"
        assert own.is_valid() and own.validated_data["widget"] == beta


@pytest.mark.parametrize("value", [None, True, [], {}, 1.5, "not-a-uuid", "x" * 10_000])
def test_garbage_ids_are_validation_errors(tenant_a, value):
    with tenant_context(tenant_a):
        data = PartInput(data={"widget": value})
        assert not data.is_valid()
        assert "widget" in data.errors
