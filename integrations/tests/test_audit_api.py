"""GET /api/v1/audit-events/: who changed what, when and from where; admins and owners."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inventory.services import catalog
from inventory.tests.factories import make_product
from tenants.context import tenant_context
from tenants.tests.factories import client_for, make_member

pytestmark = pytest.mark.django_db


def test_an_update_through_the_api_is_an_audit_entry_with_its_changes(client_a, owner_a, tenant_a):
    with tenant_context(tenant_a):
        product = make_product(sku="AUD-1", selling_price=Decimal("1.00"))
    response = client_a.patch(
        f"/api/v1/products/{product.id}/", {"selling_price": "1.50"}, format="json", HTTP_X_REQUEST_ID="req-audit-1"
    )
    assert response.status_code == 200
    page = client_a.get("/api/v1/audit-events/", {"type": "product.updated"}).json()
    [entry] = page["results"]
    assert entry["subject_type"] == "product" and entry["subject_id"] == str(product.id)
    assert [Decimal(v) for v in entry["changes"]["selling_price"]] == [Decimal("1"), Decimal("1.5")]
    assert entry["actor_user"] == str(owner_a.user_id)
    assert entry["request_id"] == "req-audit-1" and entry["ip"] == "127.0.0.1"


def test_behind_the_load_balancer_the_entry_has_the_clients_address_not_the_balancers(client_a, tenant_a, settings):
    # NUM_PROXIES=1 in AWS: the ALB connects (REMOTE_ADDR is its own address) and appends
    # the client's to X-Forwarded-For, after whatever the client itself sent there.
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    with tenant_context(tenant_a):
        product = make_product(sku="AUD-ALB")
    response = client_a.patch(
        f"/api/v1/products/{product.id}/",
        {"name": "Behind the ALB"},
        format="json",
        REMOTE_ADDR="10.0.1.17",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9",
    )
    assert response.status_code == 200
    [entry] = client_a.get("/api/v1/audit-events/", {"type": "product.updated"}).json()["results"]
    assert entry["ip"] == "203.0.113.9"


def test_filters_by_type_prefix_subject_actor_and_time(client_a, owner_a, tenant_a):
    with tenant_context(tenant_a):
        first = make_product(sku="AUD-2")
        catalog.product_update(product=first, name="Renamed")
        make_product(sku="AUD-3")
    types = lambda **q: [e["type"] for e in client_a.get("/api/v1/audit-events/", q).json()["results"]]  # noqa: E731
    assert types(type="product.") == ["product.created", "product.updated", "product.created"][::-1]
    assert types(subject=str(first.id)) == ["product.updated", "product.created"]
    assert types(actor=str(owner_a.user_id)) == []  # written in a test's context: no user
    assert types(created_after="2999-01-01T00:00:00Z") == []


def test_only_admins_and_owners_read_the_audit_log(tenant_a):
    for role, status in (("viewer", 403), ("clerk", 403), ("manager", 403), ("admin", 200)):
        assert client_for(make_member(tenant_a, role)).get("/api/v1/audit-events/").status_code == status


@pytest.mark.parametrize(
    "query", [{"type": "x" * 100}, {"actor": "not-a-uuid"}, {"created_after": "yesterday"}, {"cursor": "garbage"}]
)
def test_bad_filters_are_a_400_with_a_code(client_a, query):
    response = client_a.get("/api/v1/audit-events/", query)
    assert response.status_code in (400, 404) and "code" in response.json()
