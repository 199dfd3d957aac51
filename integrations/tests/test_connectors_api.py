"""/api/v1/connectors/ and /api/v1/connector-errors/: admins and owners manage a workspace's
shops; API keys never do; another workspace's ids are 404."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from integrations.models import Connector, ConnectorError
from integrations.selectors import connector_for_webhook
from integrations.tests.factories import SECRET, make_connector
from inventory.tests.factories import make_warehouse
from tenants.context import tenant_context
from tenants.services import tenant_plan_apply
from tenants.tests.factories import client_for, client_for_key, make_api_key, make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def warehouse_a(tenant_a):
    with tenant_context(tenant_a):
        return make_warehouse("MAIN")


def create_body(warehouse, /, **extra):
    return {
        "kind": "shopify",
        "name": "Web shop",
        "shop_domain": "acme.myshopify.com",
        "shared_secret": "s3cret",
        "warehouse": str(warehouse.pk),
        "auto_confirm": True,
        **extra,
    }


def test_an_owner_connects_a_shop_and_the_secret_is_never_shown(client_a, warehouse_a, tenant_a):
    response = client_a.post("/api/v1/connectors/", create_body(warehouse_a), format="json")

    assert response.status_code == 201, response.content
    connector = response.json()
    assert "shared_secret" not in connector and "s3cret" not in response.content.decode()
    assert connector["webhook_url"] == f"http://testserver/api/v1/connectors/{connector['id']}/shopify/orders/"
    assert (connector["kind"], connector["shop_domain"], connector["auto_confirm"]) == (
        "shopify",
        "acme.myshopify.com",
        True,
    )
    for read in (client_a.get(f"/api/v1/connectors/{connector['id']}/"), client_a.get("/api/v1/connectors/")):
        assert "s3cret" not in read.content.decode() and "shared_secret" not in read.content.decode()
    with tenant_context(tenant_a), transaction.atomic():
        assert Connector.objects.get().shared_secret == "s3cret"  # kept as given: the HMAC needs it


def test_update_replaces_the_secret_and_changes_fields(client_a, warehouse_a, tenant_a):
    created = client_a.post("/api/v1/connectors/", create_body(warehouse_a), format="json").json()
    response = client_a.patch(
        f"/api/v1/connectors/{created['id']}/", {"shared_secret": "new", "name": "Renamed"}, format="json"
    )
    assert response.status_code == 200 and response.json()["name"] == "Renamed"
    put = client_a.put(
        f"/api/v1/connectors/{created['id']}/",
        {"name": "Put", "shop_domain": "other.myshopify.com", "warehouse": str(warehouse_a.pk)},
        format="json",
    )
    assert put.status_code == 200 and put.json()["shop_domain"] == "other.myshopify.com"
    with tenant_context(tenant_a), transaction.atomic():
        assert Connector.objects.get().shared_secret == "new"


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"shop_domain": "acme.example.com"}, "shop_domain", "invalid"),
        ({"shop_domain": "https://acme.myshopify.com"}, "shop_domain", "invalid"),
        ({"shop_domain": "-acme.myshopify.com"}, "shop_domain", "invalid"),
        ({"shared_secret": ""}, "shared_secret", "blank"),
        ({"kind": "woocommerce"}, "kind", "invalid_choice"),
        ({"warehouse": "00000000-0000-4000-8000-000000000000"}, "warehouse", "does_not_exist"),
        ({"name": "x" * 101}, "name", "max_length"),
    ],
)
def test_bad_input_is_a_400_with_a_field_code(client_a, warehouse_a, tenant_a, change, field, code):
    response = client_a.post("/api/v1/connectors/", create_body(warehouse_a, **change), format="json")
    assert response.status_code == 400
    assert response.json()["fields"][field][0]["code"] == code
    with tenant_context(tenant_a), transaction.atomic():
        assert not Connector.objects.exists()


def test_a_second_connector_for_the_same_shop_is_refused(client_a, warehouse_a):
    assert client_a.post("/api/v1/connectors/", create_body(warehouse_a), format="json").status_code == 201
    response = client_a.post("/api/v1/connectors/", create_body(warehouse_a), format="json")
    assert response.status_code == 400 and response.json()["fields"]["shop_domain"][0]["code"] == "unique"


def test_an_inactive_warehouse_is_refused(client_a, tenant_a):
    with tenant_context(tenant_a):
        warehouse = make_warehouse("OFF", is_active=False)
    response = client_a.post("/api/v1/connectors/", create_body(warehouse), format="json")
    assert response.status_code == 400 and response.json()["fields"]["warehouse"][0]["code"] == "inactive"


def test_another_workspaces_warehouse_is_does_not_exist(client_a, tenant_b):
    with tenant_context(tenant_b):
        foreign = make_warehouse("B")
    response = client_a.post("/api/v1/connectors/", create_body(foreign), format="json")
    assert response.status_code == 400 and response.json()["fields"]["warehouse"][0]["code"] == "does_not_exist"


def test_creation_is_gated_by_the_plan(client_a, warehouse_a, tenant_a):
    tenant_plan_apply(tenant_id=tenant_a.pk, plan_code="starter", billing_status="active")  # no connectors
    response = client_a.post("/api/v1/connectors/", create_body(warehouse_a), format="json")
    assert response.status_code == 403 and response.json()["code"] == "feature_not_in_plan"
    with tenant_context(tenant_a), transaction.atomic():
        assert not Connector.objects.exists()


@pytest.mark.parametrize(("role", "status"), [("viewer", 403), ("clerk", 403), ("manager", 403), ("admin", 200)])
def test_only_admins_and_owners_manage_connectors(tenant_a, role, status):
    client = client_for(make_member(tenant_a, role))
    assert client.get("/api/v1/connectors/").status_code == status
    assert client.get("/api/v1/connector-errors/").status_code == status


def test_api_keys_never_manage_connectors(tenant_a, warehouse_a):
    _, raw = make_api_key(tenant_a, scopes=["catalog:read", "orders:write", "stock:write"])
    client = client_for_key(raw)
    for response in (
        client.get("/api/v1/connectors/"),
        client.post("/api/v1/connectors/", create_body(warehouse_a), format="json"),
        client.get("/api/v1/connector-errors/"),
    ):
        assert response.status_code == 403 and response.json()["code"] == "members_only"


def test_another_workspaces_connectors_and_entries_are_404(client_a, tenant_b):
    with tenant_context(tenant_b):
        connector = make_connector(make_warehouse("B"))
        entry = ConnectorError.objects.create(
            connector=connector, topic="orders/create", body="{}", code="unknown_sku", message="m"
        )
    for method, path in [
        ("get", f"/api/v1/connectors/{connector.pk}/"),
        ("patch", f"/api/v1/connectors/{connector.pk}/"),
        ("delete", f"/api/v1/connectors/{connector.pk}/"),
        ("get", f"/api/v1/connectors/{connector.pk}/errors/"),
        ("get", f"/api/v1/connector-errors/{entry.pk}/"),
        ("post", f"/api/v1/connector-errors/{entry.pk}/retry/"),
        ("post", f"/api/v1/connector-errors/{entry.pk}/dismiss/"),
    ]:
        response = getattr(client_a, method)(path, {}, format="json")
        assert response.status_code == 404, (method, path, response.status_code)
    assert client_a.get("/api/v1/connectors/").json()["results"] == []
    with tenant_context(tenant_b), transaction.atomic():
        assert ConnectorError.objects.get().status == "open" and Connector.objects.exists()


def test_delete_removes_the_connector(client_a, warehouse_a, tenant_a):
    created = client_a.post("/api/v1/connectors/", create_body(warehouse_a), format="json").json()
    assert client_a.delete(f"/api/v1/connectors/{created['id']}/").status_code == 204
    assert client_a.get(f"/api/v1/connectors/{created['id']}/").status_code == 404


def test_error_list_filters_by_status_and_refuses_bad_values(client_a, tenant_a, warehouse_a):
    with tenant_context(tenant_a):
        connector = make_connector(warehouse_a)
        ConnectorError.objects.create(connector=connector, topic="t", body="{}", code="c", message="m")
    path = f"/api/v1/connectors/{connector.pk}/errors/"
    assert len(client_a.get(path, {"status": "open"}).json()["results"]) == 1
    assert client_a.get(path, {"status": "resolved"}).json()["results"] == []
    bad = client_a.get(path, {"status": "weird"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_parameter"
    assert client_a.get("/api/v1/connector-errors/", {"status": "weird"}).status_code == 400


def test_the_webhook_lookup_reads_one_connector_and_nothing_else(tenant_a, tenant_b, warehouse_a):
    """Without a tenant, Row Level Security shows the connector whose id the transaction
    named (the id_lookup policy), and no other row of any tenant."""
    with tenant_context(tenant_a):
        mine = make_connector(warehouse_a)
    with tenant_context(tenant_b):
        make_connector(make_warehouse("B"))
    found = connector_for_webhook(connector_id=mine.pk)
    assert found is not None and found.tenant_id == tenant_a.pk and found.shared_secret == SECRET
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM integrations_connector")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT set_config('app.connector_id', %s, true)", [str(mine.pk)])
        cursor.execute("SELECT count(*) FROM integrations_connector")
        assert cursor.fetchone()[0] == 1
        cursor.execute("UPDATE integrations_connector SET name = 'x'")
        assert cursor.rowcount == 0  # the policy is for reading only
