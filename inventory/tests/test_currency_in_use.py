"""The workspace currency cannot change once stock is on hand (valued at its cost)."""

from decimal import Decimal

import pytest

from inventory.services import stock
from inventory.tests.factories import make_product, make_warehouse, receive
from tenants.context import tenant_context
from tenants.models import Tenant

pytestmark = pytest.mark.django_db


def test_currency_cannot_change_once_stock_is_on_hand(client_a, owner_a):
    with tenant_context(owner_a.tenant):
        receive(make_product(), make_warehouse(), 3, unit_cost="2.50")

    response = client_a.patch("/api/v1/tenant/", {"currency": "EUR"})

    assert response.status_code == 409
    assert response.json()["code"] == "currency_in_use"
    assert response.json()["details"]["in_use_by"] == ["stock"]
    assert Tenant.objects.get(pk=owner_a.tenant_id).currency == "USD"


def test_currency_may_change_with_a_catalog_but_no_stock_on_hand(client_a, owner_a):
    with tenant_context(owner_a.tenant):
        make_product(cost_price=Decimal("4.00"))

    response = client_a.patch("/api/v1/tenant/", {"currency": "EUR"})

    assert response.status_code == 200 and response.json()["currency"] == "EUR"


def test_currency_in_use_is_per_workspace(client_a, owner_a, tenant_b):
    with tenant_context(tenant_b):
        product, warehouse = make_product(), make_warehouse()
        stock.stock_receive(product_id=product.id, warehouse_id=warehouse.id, quantity=Decimal("5"))

    assert client_a.patch("/api/v1/tenant/", {"currency": "EUR"}).status_code == 200
