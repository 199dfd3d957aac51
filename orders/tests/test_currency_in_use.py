"""The workspace currency cannot change once orders exist (their amounts would be relabelled)."""

import pytest

from inventory.tests.factories import make_product, make_warehouse
from orders import services
from orders.tests.factories import line, make_supplier
from tenants.context import tenant_context
from tenants.models import Tenant

pytestmark = pytest.mark.django_db


def test_currency_cannot_change_once_an_order_exists(client_a, owner_a):
    with tenant_context(owner_a.tenant):
        services.purchase_order_create(
            supplier=make_supplier(), lines=[line(make_product(), make_warehouse(), 4)], user=None
        )

    response = client_a.patch("/api/v1/tenant/", {"currency": "EUR"})
    same = client_a.patch("/api/v1/tenant/", {"currency": "USD", "name": "Renamed"})

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "currency_in_use"
    assert body["details"] == {"currency": "USD", "in_use_by": ["orders"]}
    assert Tenant.objects.get(pk=owner_a.tenant_id).currency == "USD"
    # Keeping the same currency is no change: the rest of the update goes through.
    assert same.status_code == 200 and same.json()["name"] == "Renamed"
