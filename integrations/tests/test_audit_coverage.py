"""Every change made through a service is an audit entry: the catalogue's smaller records,
draft orders, numbering, the workspace and invitations, each through the API as a user
makes it (issue 11, "Audit log")."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inventory.tests.factories import make_product, make_warehouse, receive
from orders.tests.factories import make_customer, make_supplier
from tenants.context import tenant_context
from tenants.models import DomainEvent

pytestmark = pytest.mark.django_db


def _entries(client, **query):
    page = client.get("/api/v1/audit-events/", query)
    assert page.status_code == 200, page.json()
    return page.json()["results"]


def _types(client, subject):
    return [e["type"] for e in _entries(client, subject=str(subject))][::-1]


@pytest.mark.parametrize(
    ("route", "create", "update", "kind"),
    [
        ("categories", {"name": "Tools"}, {"name": "Hand tools"}, "category"),
        ("warehouses", {"code": "W9", "name": "North"}, {"name": "North hall"}, "warehouse"),
        ("suppliers", {"name": "Acme"}, {"name": "Acme Ltd"}, "supplier"),
        ("customers", {"name": "Bob"}, {"name": "Bob Jr"}, "customer"),
    ],
)
def test_create_update_delete_of_catalogue_records_are_audited(client_a, owner_a, route, create, update, kind):
    created = client_a.post(f"/api/v1/{route}/", create, format="json")
    assert created.status_code == 201, created.json()
    item = created.json()["id"]
    assert client_a.patch(f"/api/v1/{route}/{item}/", update, format="json").status_code == 200
    assert client_a.patch(f"/api/v1/{route}/{item}/", update, format="json").status_code == 200  # no change
    assert client_a.delete(f"/api/v1/{route}/{item}/").status_code == 204

    assert _types(client_a, item) == [f"{kind}.created", f"{kind}.updated", f"{kind}.deleted"]
    [updated] = _entries(client_a, subject=item, type=f"{kind}.updated")
    assert updated["changes"] == {"name": [create["name"], update["name"]]}
    assert updated["actor_user"] == str(owner_a.user_id)


def test_a_refused_delete_leaves_no_entry(client_a, tenant_a):
    with tenant_context(tenant_a):
        warehouse = make_warehouse("WH-IN-USE")
        receive(make_product(sku="AUD-W"), warehouse, 5)

    response = client_a.delete(f"/api/v1/warehouses/{warehouse.id}/")

    assert response.status_code == 409
    assert _types(client_a, warehouse.id) == ["warehouse.created"]  # the delete rolled back with its event


def test_supplier_prices_are_audited_with_their_changes(client_a, tenant_a):
    with tenant_context(tenant_a):
        supplier, product = make_supplier(), make_product(sku="AUD-SP")
    created = client_a.post(
        "/api/v1/supplier-products/", {"supplier": str(supplier.id), "product": str(product.id), "price": "2.50"}
    )
    item = created.json()["id"]
    client_a.patch(f"/api/v1/supplier-products/{item}/", {"price": "2.75"}, format="json")
    client_a.delete(f"/api/v1/supplier-products/{item}/")

    assert _types(client_a, item) == [f"supplier_product.{action}" for action in ("created", "updated", "deleted")]
    [updated] = _entries(client_a, subject=item, type="supplier_product.updated")
    assert [Decimal(v) for v in updated["changes"]["price"]] == [Decimal("2.5"), Decimal("2.75")]
    assert updated["data"] == {"supplier": str(supplier.id), "product": str(product.id)}


def test_a_levels_reorder_settings_are_audited(client_a, tenant_a):
    with tenant_context(tenant_a):
        product, warehouse = make_product(sku="AUD-RO"), make_warehouse("WH-RO")
        receive(product, warehouse, 3)
    level = client_a.get("/api/v1/stock-levels/", {"product": str(product.id)}).json()["results"][0]["id"]

    response = client_a.patch(f"/api/v1/stock-levels/{level}/", {"reorder_point": "10"}, format="json")

    assert response.status_code == 200, response.json()
    [entry] = _entries(client_a, subject=level)
    assert entry["type"] == "stock_level.updated"
    assert Decimal(entry["changes"]["reorder_point"][1]) == Decimal("10")


def test_draft_order_edits_and_deletes_are_audited(client_a, tenant_a):
    with tenant_context(tenant_a):
        customer, product, warehouse = make_customer(), make_product(sku="AUD-SO"), make_warehouse("WH-SO")
    line = {"product": str(product.id), "warehouse": str(warehouse.id), "quantity": "1"}
    order = client_a.post(
        "/api/v1/sales-orders/", {"customer": str(customer.id), "lines": [line]}, format="json"
    ).json()["id"]

    client_a.patch(f"/api/v1/sales-orders/{order}/", {"notes": "Leave at the door"}, format="json")
    client_a.patch(f"/api/v1/sales-orders/{order}/", {"lines": [{**line, "quantity": "2"}]}, format="json")
    client_a.delete(f"/api/v1/sales-orders/{order}/")

    assert _types(client_a, order) == [
        "sales_order.created",
        "sales_order.updated",
        "sales_order.updated",
        "sales_order.deleted",
    ]
    edits = _entries(client_a, subject=order, type="sales_order.updated")[::-1]
    assert edits[0]["changes"] == {"notes": ["", "Leave at the door"]} and edits[0]["data"]["lines_replaced"] is False
    assert edits[1]["data"]["lines_replaced"] is True


def test_workspace_numbering_and_invitation_changes_are_audited(client_a, tenant_a):
    assert client_a.patch("/api/v1/tenant/", {"name": "Renamed Co"}, format="json").status_code == 200
    assert client_a.patch("/api/v1/orders/numbering/", {"sales_prefix": "SX"}, format="json").status_code == 200
    invited = client_a.post("/api/v1/invitations/", {"email": "new@example.com", "role": "clerk"}, format="json")
    assert invited.status_code == 201, invited.json()
    assert client_a.delete(f"/api/v1/invitations/{invited.json()['id']}/").status_code in (200, 204)

    [workspace] = _entries(client_a, type="workspace.updated")
    assert workspace["changes"]["name"][1] == "Renamed Co"
    [numbering] = _entries(client_a, type="document_sequence.updated")
    assert numbering["changes"] == {"prefix": ["SO", "SX"]}
    [revoked] = _entries(client_a, type="member.invitation_revoked")
    assert revoked["data"] == {"email": "new@example.com", "role": "clerk"}
    with tenant_context(tenant_a):
        assert DomainEvent.objects.filter(type="member.invited").count() == 1
