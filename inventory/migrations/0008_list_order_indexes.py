"""Indexes that serve the lists' default orderings (docs/performance.md, "Query plans").

Built with CREATE INDEX CONCURRENTLY (outside a transaction): the products and the stock
ledger can be large, and a plain CREATE INDEX would block their writes while it builds.
The ledger's (tenant, created_at) index is replaced by (tenant, created_at, id), the
cursor's full order: the same number of indexes on the hot insert path."""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("inventory", "0007_domain_generic_source"),
        ("tenants", "0005_analyze_function"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="product",
            index=models.Index(fields=["tenant", "sku"], name="product_tenant_sku"),
        ),
        AddIndexConcurrently(
            model_name="supplierproduct",
            index=models.Index(fields=["tenant", "created_at"], name="supplier_product_created"),
        ),
        AddIndexConcurrently(
            model_name="stockmovement",
            index=models.Index(fields=["tenant", "created_at", "id"], name="movement_tenant_time_id"),
        ),
        RemoveIndexConcurrently(model_name="stockmovement", name="movement_tenant_time"),
    ]
