"""Every console page runs the same number of SQL queries whatever the size of the
workspace: each GET route, found by walking the URLconf, is counted on a seeded
workspace, then again after the workspace grew (more products, stock, categories,
parties, prices, orders, members, invitations, import and export jobs, API keys,
audit events by members, former members and API keys, webhook endpoints with
deliveries, connectors with error entries)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from integrations.models import (
    Connector,
    ConnectorError,
    ConnectorErrorStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookMessage,
)
from integrations.tests.factories import make_connector, make_webhook_endpoint
from inventory.models import ExportJob, ImportJob, JobStatus, Product, Supplier
from inventory.services import catalog
from inventory.tests.factories import make_product, make_warehouse, receive
from orders import services as orders
from orders.tests.factories import line, make_customer, make_supplier
from tenants.context import tenant_context
from tenants.models import Invitation, Role
from tenants.services import api_key_revoke
from tenants.tests.factories import client_for, client_for_key, make_api_key, make_member
from tenants.tests.harness import Seeded, seed
from web.tests.helpers import console_client
from web.tests.test_console_isolation import ROUTES, _fill

pytestmark = pytest.mark.django_db


def _grow(seeded: Seeded) -> None:
    with tenant_context(seeded.tenant):
        warehouse = make_warehouse()
        supplier = Supplier.objects.order_by("created_at")[0]
        for n in range(3):
            catalog.category_create(name=f"Grown {n}")
            make_member(seeded.tenant, Role.CLERK)
            Invitation.objects.create(
                email=f"grown{n}@example.com", role=Role.VIEWER, expires_at=timezone.now() + timedelta(days=7)
            )
            ImportJob.objects.create(file_name=f"grown{n}.csv", storage_key="imports/none.csv")
            ExportJob.objects.create(kind="products", status=JobStatus.PENDING)
            customer, other_supplier = make_customer(f"Grown customer {n}"), make_supplier(f"Grown supplier {n}")
            products = [make_product() for _ in range(2)]
            for product in products:
                receive(product, warehouse, 50)
                catalog.supplier_product_create(supplier=supplier, product=product, price=Decimal("1.50"))
            sale = orders.sales_order_create(
                customer=customer, lines=[line(p, warehouse, 2) for p in products], user=None
            )
            orders.sales_order_confirm(order_id=sale.pk, user=None)
            purchase = orders.purchase_order_create(
                supplier=other_supplier, lines=[line(p, warehouse, 5) for p in products], user=None
            )
            orders.purchase_order_place(order_id=purchase.pk, user=None)
    # Webhook endpoints (one off) with deliveries; connectors with open, resolved and dismissed entries.
    with tenant_context(seeded.tenant):
        endpoint = WebhookEndpoint.objects.get(pk=seeded.ids_of("webhookendpoint")[0])
        connector = Connector.objects.get(pk=seeded.ids_of("connector")[0])
        sales_order = orders.sales_order_create(
            customer=make_customer("Shop customer"), lines=[line(make_product(), warehouse, 1)], user=None
        )
        for n in range(3):
            make_webhook_endpoint(url=f"https://hooks.example.com/grown-{n}", is_active=n != 1)
            message = WebhookMessage.objects.create(endpoint=endpoint, event_type="product.created", body="{}")
            for attempt in (1, 2):
                WebhookDelivery.objects.create(
                    message=message, endpoint=endpoint, attempt=attempt, status_code=500, error="HTTP 500"
                )
            make_connector(warehouse)
            ConnectorError.objects.create(
                connector=connector, external_id=f"grown-{n}", topic="orders/create", body="{}", code="x", message="x"
            )
        ConnectorError.objects.filter(external_id="grown-0").update(status=ConnectorErrorStatus.RESOLVED)
        ConnectorError.objects.filter(external_id="grown-1").update(
            status=ConnectorErrorStatus.RESOLVED, sales_order=sales_order, resolved_by=seeded.owner.user
        )
    # API keys (one revoked) and audit events of members, a former member and a key.
    for n in range(3):
        key, raw = make_api_key(seeded.tenant, name=f"grown key {n}", user=seeded.owner.user)
        member = make_member(seeded.tenant, Role.MANAGER)
        made = client_for(member).post("/api/v1/products/", {"sku": f"MEMBER-{n}", "name": "By a member"})
        assert made.status_code == 201
        if n == 0:
            with tenant_context(seeded.tenant):
                api_key_revoke(key_id=key.pk, user=seeded.owner.user)
                member.delete()
        else:
            made = client_for_key(raw).post("/api/v1/products/", {"sku": f"KEY-{n}", "name": "By a key"})
            assert made.status_code == 201


def _counts(client: Any, seeded: Seeded) -> dict[str, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for route in ROUTES:
        path = f"/app/{seeded.tenant.slug}/{_fill(route, seeded)}"
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(path)
        if response.status_code == 405 or not response.get("Content-Type", "").startswith("text/html"):
            continue  # a POST-only action, or a download
        assert response.status_code in (200, 302), f"{path} gave {response.status_code}"
        counts[route] = len(ctx.captured_queries)
    return counts


def test_every_console_page_runs_a_constant_number_of_queries():
    seeded = seed("queries")
    client = console_client(seeded.owner)
    before = _counts(client, seeded)
    assert len(before) > 20
    with tenant_context(seeded.tenant):
        products = Product.objects.count()
    _grow(seeded)
    with tenant_context(seeded.tenant):
        assert Product.objects.count() == products + 6 + 1 + 5  # and 5 through the API
    after = _counts(client, seeded)
    assert {route: (before[route], after[route]) for route in before if after[route] != before[route]} == {}
