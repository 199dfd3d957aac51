"""The ORM layer: the default manager fails closed and a row stays in its tenant."""

import pytest
from django.core.cache import cache

from core.errors import CrossTenantWrite, TenantRequired
from tenants.context import get_current_tenant, tenant_context
from tenants.models import Tenant
from tenants.tests.isolation_app.models import Widget, WidgetPart

pytestmark = pytest.mark.django_db


def test_default_manager_raises_without_tenant(tenant_a):
    with pytest.raises(TenantRequired):
        list(Widget.objects.all())
    with pytest.raises(TenantRequired):
        Widget.objects.count()
    with pytest.raises(TenantRequired):
        Widget.objects.filter(name="x").update(name="y")
    with pytest.raises(TenantRequired):
        Widget.objects.filter(name="x").delete()
    with pytest.raises(TenantRequired):
        WidgetPart.objects.filter(widget__in=Widget.objects.all()).exists()
    with pytest.raises(TenantRequired):
        Widget(name="orphan").save()
    with pytest.raises(TenantRequired):
        get_current_tenant()


def test_default_manager_filters_by_current_tenant(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        Widget.objects.create(name="a1")
    with tenant_context(tenant_b):
        Widget.objects.create(name="b1")
        assert list(Widget.objects.values_list("name", flat=True)) == ["b1"]
    with tenant_context(tenant_a):
        assert list(Widget.objects.values_list("name", flat=True)) == ["a1"]


def test_queryset_is_bound_to_the_tenant_current_when_it_runs(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        Widget.objects.create(name="a1")
    with tenant_context(tenant_b):
        Widget.objects.create(name="b1")
    early = Widget.objects.values_list("name", flat=True)  # built with no tenant
    with tenant_context(tenant_a):
        assert list(early.all()) == ["a1"]
    with tenant_context(tenant_b):
        assert list(early.all()) == ["b1"]


def test_new_rows_take_the_current_tenant(tenant_a):
    with tenant_context(tenant_a):
        widget = Widget.objects.create(name="w")
        parts = WidgetPart.objects.bulk_create([WidgetPart(widget=widget, label="p")])
    assert widget.tenant_id == tenant_a.id
    assert parts[0].tenant_id == tenant_a.id


def test_a_row_cannot_be_saved_or_deleted_under_another_tenant(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        widget = Widget.objects.create(name="mine")
    with tenant_context(tenant_b):
        widget.name = "stolen"
        with pytest.raises(CrossTenantWrite):
            widget.save()
        with pytest.raises(CrossTenantWrite):
            widget.delete()
        with pytest.raises(CrossTenantWrite):
            Widget.objects.bulk_create([Widget(name="x", tenant=tenant_a)])
    with tenant_context(tenant_a):
        assert Widget.objects.get(pk=widget.pk).name == "mine"


def test_queryset_update_cannot_move_rows_to_another_tenant(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        Widget.objects.create(name="w")
        with pytest.raises(CrossTenantWrite):
            Widget.objects.update(tenant=tenant_b)


def test_unscoped_manager_is_still_bound_by_rls_on_the_runtime_role(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        Widget.objects.create(name="a1")
    with tenant_context(tenant_b):
        Widget.objects.create(name="b1")
        assert list(Widget.unscoped.values_list("name", flat=True)) == ["b1"]


@pytest.mark.django_db(databases=["default", "ops"])
def test_ops_alias_bypasses_rls_for_platform_maintenance():
    # The ops connection is its own session and transaction: it works on its own rows here.
    tenant_a = Tenant.objects.using("ops").create(name="Ops A", slug="ops-a")
    tenant_b = Tenant.objects.using("ops").create(name="Ops B", slug="ops-b")
    with tenant_context(tenant_a):
        Widget.unscoped.using("ops").create(name="ops-a")
    with tenant_context(tenant_b):
        Widget.unscoped.using("ops").create(name="ops-b")
        assert sorted(Widget.unscoped.using("ops").values_list("name", flat=True)) == ["ops-a", "ops-b"]
        assert list(Widget.unscoped.values_list("name", flat=True)) == []


def test_cache_keys_carry_the_tenant(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        cache.set("greeting", "hello a")
    with tenant_context(tenant_b):
        assert cache.get("greeting") is None
        cache.set("greeting", "hello b")
    with tenant_context(tenant_a):
        assert cache.get("greeting") == "hello a"
    assert cache.get("greeting") is None
    key = cache.make_key("greeting")
    assert ":t:-:" in key
    with tenant_context(tenant_a):
        assert f":t:{tenant_a.id.hex}:" in cache.make_key("greeting")
