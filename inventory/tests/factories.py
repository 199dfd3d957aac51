"""Test data for the inventory module, made through its services."""

from __future__ import annotations

import itertools
import uuid
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from inventory.models import (
    Customer,
    ExportJob,
    ImportJob,
    JobStatus,
    LowStockAlert,
    Product,
    ReferenceType,
    Supplier,
    Warehouse,
)
from inventory.services import catalog, stock
from tenants.models import Tenant

_seq = itertools.count(1)


def make_product(**data: Any) -> Product:
    n = next(_seq)
    defaults: dict[str, Any] = {"sku": f"SKU-{n:05d}", "name": f"Product {n}", "cost_price": Decimal("2.00")}
    return catalog.product_create(**{**defaults, **data})


def make_warehouse(code: str | None = None, **data: Any) -> Warehouse:
    return catalog.warehouse_create(code=code or f"WH{next(_seq)}", name=data.pop("name", "Warehouse"), **data)


def receive(product: Product, warehouse: Warehouse, quantity: str | int, unit_cost: str | None = None) -> None:
    stock.stock_receive(
        product_id=product.id,
        warehouse_id=warehouse.id,
        quantity=Decimal(str(quantity)),
        unit_cost=Decimal(unit_cost) if unit_cost is not None else None,
    )


def cross_tenant_seed(tenant: Tenant) -> list[Any]:
    """One row of every inventory model, for the cross-tenant harness."""
    category = catalog.category_create(name=f"Category {tenant.slug}")
    product = make_product(category=category, reorder_point=Decimal("100"))
    warehouse = make_warehouse()
    supplier = catalog.party_create(model=Supplier, name=f"Supplier {tenant.slug}")
    customer = catalog.party_create(model=Customer, name=f"Customer {tenant.slug}")
    supplied = catalog.supplier_product_create(supplier=supplier, product=product)
    movements = stock.stock_receive(product_id=product.id, warehouse_id=warehouse.id, quantity=Decimal("10"))
    reservations = stock.stock_reserve(
        source=ReferenceType.MANUAL,
        lines=[stock.LineStock(uuid.uuid4(), product.id, warehouse.id, Decimal("1"))],
    )
    level = product.stock_levels.get()
    alert = LowStockAlert.objects.create(
        product=product, warehouse=warehouse, available_at_open=Decimal("9"), reorder_point=Decimal("100")
    )
    import_job = ImportJob.objects.create(file_name="seed.csv", storage_key="imports/none.csv")
    export_job = ExportJob.objects.create(kind="products", status=JobStatus.SUCCEEDED)
    export_job.storage_key = default_storage.save(
        f"exports/{tenant.id}/{export_job.id}.csv", ContentFile(b"sku,name\n")
    )
    export_job.save(update_fields=["storage_key"])
    return [
        category,
        product,
        warehouse,
        supplier,
        customer,
        supplied,
        *movements,
        *reservations,
        level,
        alert,
        import_job,
        export_job,
    ]
