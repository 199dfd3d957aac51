"""Exports read from the read replica when one is configured (DATABASE_REPLICA_URL): the
rows come over that connection, under Row Level Security there too, and the job is
recorded on the primary. Here the "replica" is a second connection to the test database
as the runtime role (a physical replica has the same roles and policies)."""

from collections.abc import Iterator

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from core.db import REPLICA, read_alias
from inventory.tests.factories import make_product, make_warehouse
from tenants.context import tenant_context
from tenants.models import Role
from tenants.tests.factories import client_for, make_member, make_tenant


@pytest.fixture
def replica(committed: None) -> Iterator[None]:
    connections.settings[REPLICA] = {**connections["default"].settings_dict, "ATOMIC_REQUESTS": False}
    try:
        yield
    finally:
        connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]


def _export_products(member) -> tuple[dict, str]:
    client = client_for(member)
    job = client.post("/api/v1/exports/", {"kind": "products"}, format="json").json()  # eager Celery, on commit
    job = client.get(f"/api/v1/exports/{job['id']}/").json()
    download = client.get(f"/api/v1/exports/{job['id']}/download/")
    body = b"".join(download.streaming_content).decode()  # type: ignore[attr-defined]
    return job, body


def test_an_export_reads_its_rows_from_the_replica_and_only_its_tenants(replica):
    assert read_alias() == REPLICA
    ours = make_member(make_tenant(slug="replica-ours"), Role.OWNER)
    theirs = make_tenant(slug="replica-theirs")
    with tenant_context(ours.tenant):
        make_warehouse("MAIN")
        make_product(sku="OURS-1", name="Ours")
    with tenant_context(theirs):
        make_product(sku="THEIRS-1", name="Theirs")

    with CaptureQueriesContext(connections[REPLICA]) as on_replica, CaptureQueriesContext(connection) as on_primary:
        job, body = _export_products(ours)

    assert job["status"] == "succeeded" and job["row_count"] == 1
    assert "OURS-1,Ours" in body and "THEIRS-1" not in body
    assert any('FROM "inventory_product"' in q["sql"] for q in on_replica.captured_queries)
    assert not any('FROM "inventory_product"' in q["sql"] for q in on_primary.captured_queries)


def test_without_a_replica_exports_read_the_primary(committed):
    assert read_alias() == "default"
