"""The one entitlement check: plan limits (402 plan_limit_reached) and features (403
feature_not_in_plan), through the API, on real PostgreSQL and Redis."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from inventory.models import Product, Warehouse
from inventory.tests.factories import make_product, make_warehouse
from orders.models import SalesOrder
from orders.tests.factories import make_customer
from tenants.context import tenant_context
from tenants.entitlements import effective_plan
from tenants.models import BillingStatus, DomainEvent, Invitation, Role
from tenants.plans import PLANS, Limit, plan_get
from tenants.services import tenant_plan_apply
from tenants.tests.factories import client_for, client_for_key, make_api_key, make_member, make_tenant

FREE = plan_get("free")


def _workspace(plan: str = "free", **extra):
    tenant = make_tenant(plan_code=plan, **extra)
    owner = make_member(tenant, Role.OWNER)
    return tenant, owner, client_for(owner)


def _products(tenant, count: int) -> None:
    with tenant_context(tenant):
        Product.objects.bulk_create(
            Product(tenant=tenant, sku=f"SEED-{n:05d}", name=f"Seed {n}", average_cost=Decimal(0)) for n in range(count)
        )


def _product_body(sku: str) -> dict[str, str]:
    return {"sku": sku, "name": sku, "unit": "pcs", "cost_price": "1.00", "selling_price": "2.00"}


def test_creating_past_the_product_allowance_is_402_naming_the_limit_and_nothing_is_written(db):
    tenant, _, client = _workspace("free")
    allowance = FREE.limits[Limit.PRODUCTS]
    assert allowance is not None
    _products(tenant, allowance - 1)

    last = client.post("/api/v1/products/", _product_body("LAST-ONE"), format="json")
    refused = client.post("/api/v1/products/", _product_body("ONE-TOO-MANY"), format="json")

    assert last.status_code == 201, last.json()
    assert refused.status_code == 402, refused.json()
    error = refused.json()
    assert error["code"] == "plan_limit_reached"
    assert error["details"] == {
        "limit": "products",
        "usage": allowance,
        "allowance": allowance,
        "adding": 1,
        "plan": "free",
        "upgrade_to": "starter",
    }
    with tenant_context(tenant):
        assert not Product.objects.filter(sku="ONE-TOO-MANY").exists()
        assert not DomainEvent.objects.filter(type="product.created", data__sku="ONE-TOO-MANY").exists()


def test_the_last_allowed_warehouse_created_at_once_by_two_clerks_admits_exactly_one(committed):
    tenant = make_tenant(plan_code="starter")
    allowance = plan_get("starter").limits[Limit.WAREHOUSES]
    assert allowance is not None
    with tenant_context(tenant):
        for n in range(allowance - 1):
            make_warehouse(code=f"W{n}")
    clients = [client_for(make_member(tenant, Role.MANAGER)) for _ in range(2)]
    statuses: list[int] = []
    lock = threading.Lock()

    def create(client, code):
        def run():
            response = client.post("/api/v1/warehouses/", {"code": code, "name": code}, format="json")
            with lock:
                statuses.append(response.status_code)
            connection.close()

        return run

    for round_ in range(3):
        threads = [threading.Thread(target=create(c, f"RACE{round_}{i}")) for i, c in enumerate(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        with tenant_context(tenant):
            assert Warehouse.objects.count() == allowance, f"round {round_}"
            Warehouse.objects.filter(code__startswith="RACE").delete()
    assert sorted(statuses) == [201, 201, 201, 402, 402, 402]


def test_the_import_refuses_a_file_that_would_pass_the_product_allowance_and_imports_nothing(db):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from inventory.imports.services import import_job_create, import_job_run

    tenant, owner, _ = _workspace("free")
    allowance = FREE.limits[Limit.PRODUCTS]
    assert allowance is not None
    _products(tenant, allowance - 2)
    rows = "".join(f"NEW-{n},New {n},pcs,1.00,2.00\n" for n in range(3))
    upload = SimpleUploadedFile("p.csv", ("sku,name,unit,cost_price,selling_price\n" + rows).encode(), "text/csv")
    with tenant_context(tenant):
        job = import_job_run(job=import_job_create(upload=upload, skip_invalid_rows=False, user=owner.user))
        assert job.status == "failed", job.message
        assert "allows 100 products" in job.message
        assert not Product.objects.filter(sku__startswith="NEW-").exists()


def test_invitations_count_against_the_members_allowance(db):
    tenant, _owner, client = _workspace("free")
    allowance = FREE.limits[Limit.MEMBERS]
    assert allowance is not None
    for n in range(allowance - 1):
        response = client.post("/api/v1/invitations/", {"email": f"m{n}@example.com", "role": "clerk"}, format="json")
        assert response.status_code == 201, response.json()

    refused = client.post("/api/v1/invitations/", {"email": "extra@example.com", "role": "clerk"}, format="json")

    assert refused.status_code == 402
    assert refused.json()["details"]["limit"] == "members"
    with tenant_context(tenant):
        assert not Invitation.objects.filter(email="extra@example.com").exists()


def test_sales_orders_count_per_calendar_month(db):
    tenant, _, client = _workspace("free")
    allowance = FREE.limits[Limit.SALES_ORDERS_PER_MONTH]
    assert allowance is not None
    with tenant_context(tenant):
        customer, warehouse, product = make_customer(), make_warehouse(), make_product()
        SalesOrder.objects.bulk_create(
            SalesOrder(tenant=tenant, customer=customer, number=f"SO-X{n}", currency="USD") for n in range(allowance)
        )
        # Last month's orders do not count.
        SalesOrder.objects.filter(number="SO-X0").update(created_at=timezone.now() - timedelta(days=40))

    line = {"product": str(product.pk), "warehouse": str(warehouse.pk), "quantity": "1"}
    body = {"customer": str(customer.pk), "lines": [line]}
    allowed = client.post("/api/v1/sales-orders/", body, format="json")
    refused = client.post("/api/v1/sales-orders/", body, format="json")

    assert allowed.status_code == 201, allowed.json()
    assert refused.status_code == 402
    assert refused.json()["details"]["limit"] == "sales_orders_per_month"


def test_a_downgraded_workspace_over_its_limits_reads_and_deletes_but_cannot_create(db):
    tenant, _, client = _workspace("pro")
    with tenant_context(tenant):
        warehouses = [make_warehouse(code=f"W{n}") for n in range(3)]
    tenant_plan_apply(
        tenant_id=tenant.pk, plan_code="pro", billing_status=BillingStatus.CANCELED, reason="test: canceled"
    )

    listed = client.get("/api/v1/warehouses/")
    refused = client.post("/api/v1/warehouses/", {"code": "NEW", "name": "New"}, format="json")
    deletes = [client.delete(f"/api/v1/warehouses/{w.pk}/").status_code for w in warehouses]
    after_deleting = client.post("/api/v1/warehouses/", {"code": "NEW", "name": "New"}, format="json")

    assert listed.status_code == 200 and listed.json()["count"] == 3
    assert refused.status_code == 402
    assert refused.json()["details"] == {
        "limit": "warehouses",
        "usage": 3,
        "allowance": 1,
        "adding": 1,
        "plan": "free",
        "upgrade_to": "pro",  # starter's 3 warehouses would not hold the 4th
    }
    assert deletes == [204, 204, 204]
    assert after_deleting.status_code == 201


def test_the_plan_change_is_an_audit_event_with_what_changed(db):
    tenant, _, _ = _workspace("free")

    _, changed = tenant_plan_apply(
        tenant_id=tenant.pk, plan_code="pro", billing_status=BillingStatus.TRIALING, reason="evt_1"
    )
    _, again = tenant_plan_apply(
        tenant_id=tenant.pk, plan_code="pro", billing_status=BillingStatus.TRIALING, reason="evt_1 again"
    )

    assert changed and not again
    with tenant_context(tenant):
        event = DomainEvent.objects.get(type="workspace.plan_changed")
    assert event.data["plan"] == "pro" and event.data["reason"] == "evt_1"
    assert event.changes == {"plan_code": ["free", "pro"], "billing_status": ["", "trialing"]}


@pytest.mark.parametrize(
    ("status", "grace_days", "expected"),
    [
        (BillingStatus.TRIALING, None, "pro"),
        (BillingStatus.ACTIVE, None, "pro"),
        (BillingStatus.PAST_DUE, 3, "pro"),
        (BillingStatus.PAST_DUE, -1, "free"),
        (BillingStatus.UNPAID, None, "free"),
        (BillingStatus.CANCELED, None, "free"),
        (BillingStatus.INCOMPLETE_EXPIRED, None, "free"),
        (BillingStatus.PAUSED, None, "free"),
        (BillingStatus.NONE, None, "pro"),
    ],
)
def test_what_each_subscription_status_entitles_to(db, status, grace_days, expected):
    grace = timezone.now() + timedelta(days=grace_days) if grace_days is not None else None
    tenant = make_tenant(plan_code="pro", billing_status=status, grace_ends_at=grace)

    assert effective_plan(tenant).code == expected


def test_a_feature_off_the_plan_is_403_naming_the_cheapest_plan_with_it(db):
    tenant, _, client = _workspace("free")
    with tenant_context(tenant):
        warehouse = make_warehouse()

    responses = {
        "audit_log": client.get("/api/v1/audit-events/"),
        "exports": client.post("/api/v1/exports/", {"kind": "products"}, format="json"),
        "api_keys": client.post("/api/v1/api-keys/", {"name": "k", "scopes": ["catalog:read"]}, format="json"),
        "webhooks": client.post(
            "/api/v1/webhook-endpoints/", {"url": "https://example.com/hook", "events": ["*"]}, format="json"
        ),
        "connectors": client.post(
            "/api/v1/connectors/",
            {
                "kind": "shopify",
                "name": "s",
                "shop_domain": "x.myshopify.com",
                "shared_secret": "s" * 32,
                "warehouse": str(warehouse.pk),
            },
            format="json",
        ),
    }

    for feature, response in responses.items():
        assert response.status_code == 403, (feature, response.json())
        error = response.json()
        assert error["code"] == "feature_not_in_plan", feature
        assert error["details"]["feature"] == feature
        assert error["details"]["upgrade_to"] in {"starter", "pro"}


def test_an_api_key_stops_working_when_the_plan_loses_api_keys_and_works_again_after_upgrading(db):
    tenant = make_tenant(plan_code="starter", billing_status=BillingStatus.ACTIVE)
    _, raw = make_api_key(tenant, ["catalog:read"])
    client = client_for_key(raw)
    assert client.get("/api/v1/products/").status_code == 200

    tenant_plan_apply(tenant_id=tenant.pk, plan_code="starter", billing_status=BillingStatus.CANCELED)
    refused = client.get("/api/v1/products/")
    tenant_plan_apply(tenant_id=tenant.pk, plan_code="starter", billing_status=BillingStatus.ACTIVE)
    back = client.get("/api/v1/products/")

    assert refused.status_code == 403 and refused.json()["code"] == "feature_not_in_plan"
    assert back.status_code == 200


def test_the_api_rate_is_the_plans_per_workspace(db):
    tenant, _owner, client = _workspace("free")
    rate = FREE.limits[Limit.API_REQUESTS_PER_MINUTE]
    assert rate is not None
    other = client_for(make_member(tenant, Role.VIEWER))  # another member counts in the same window

    if timezone.now().second > 45:  # start early in a minute: the counting window is the minute
        time.sleep(61 - timezone.now().second)
    statuses = [client.get("/api/v1/warehouses/").status_code for _ in range(rate - 1)]
    last = other.get("/api/v1/warehouses/")
    over = other.get("/api/v1/warehouses/")

    assert set(statuses) == {200} and last.status_code == 200
    assert over.status_code == 429 and "Retry-After" in over


def test_the_catalogue_is_ordered_cheapest_first_with_growing_limits():
    assert [p.code for p in PLANS] == ["free", "starter", "pro", "enterprise"]
    for cheaper, dearer in itertools.pairwise(PLANS):
        assert dearer.monthly_price_usd > cheaper.monthly_price_usd
        assert cheaper.features <= dearer.features
        for limit in Limit:
            low, high = cheaper.limits[limit], dearer.limits[limit]
            assert high is None or (low is not None and high >= low), (limit, cheaper.code)
