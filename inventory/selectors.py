"""Reads of the inventory module, always through the tenant-scoped managers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, ExpressionWrapper, F, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from core.errors import NotFound
from inventory.models import (
    Category,
    Customer,
    ExportJob,
    ImportJob,
    LowStockAlert,
    Product,
    StockLevel,
    StockMovement,
    Supplier,
    SupplierProduct,
    Warehouse,
)

_QUANTITY = DecimalField(max_digits=18, decimal_places=4)
_VALUE = DecimalField(max_digits=30, decimal_places=8)


def get_or_404(queryset: QuerySet[Any], *, id: Any, what: str) -> Any:
    obj = queryset.filter(pk=id).first()
    if obj is None:
        raise NotFound(f"No such {what} in this workspace.")
    return obj


def category_list() -> QuerySet[Category]:
    return Category.objects.select_related("parent")


def product_list() -> QuerySet[Product]:
    return Product.objects.select_related("category")


def supplier_list() -> QuerySet[Supplier]:
    return Supplier.objects.all()


def customer_list() -> QuerySet[Customer]:
    return Customer.objects.all()


def supplier_product_list() -> QuerySet[SupplierProduct]:
    return SupplierProduct.objects.select_related("supplier", "product")


def warehouse_list() -> QuerySet[Warehouse]:
    return Warehouse.objects.all()


def stock_level_list() -> QuerySet[StockLevel]:
    return StockLevel.objects.select_related("product", "warehouse")


def below_reorder_point(queryset: QuerySet[StockLevel]) -> QuerySet[StockLevel]:
    """Levels whose available quantity is under the product's reorder point (> 0), active products only."""
    return queryset.filter(product__reorder_point__gt=0, product__is_active=True).filter(
        available__lt=F("product__reorder_point")
    )


def low_stock_list() -> QuerySet[StockLevel]:
    return below_reorder_point(stock_level_list()).order_by("product__sku", "warehouse__code")


def movement_list() -> QuerySet[StockMovement]:
    return StockMovement.objects.select_related("product", "warehouse", "user")


def product_history(*, product: Product) -> QuerySet[StockMovement]:
    return movement_list().filter(product=product)


def valuation(*, warehouse: Warehouse | None = None) -> dict[str, Any]:
    """Quantity x weighted average cost, per warehouse and in total (one query)."""
    levels = StockLevel.objects.filter(on_hand__gt=0)
    if warehouse is not None:
        levels = levels.filter(warehouse=warehouse)
    rows = list(
        levels.values("warehouse_id", "warehouse__code", "warehouse__name")
        .annotate(
            quantity=Coalesce(Sum("on_hand"), Value(Decimal("0")), output_field=_QUANTITY),
            value=Coalesce(
                Sum(ExpressionWrapper(F("on_hand") * F("product__average_cost"), output_field=_VALUE)),
                Value(Decimal("0")),
                output_field=_VALUE,
            ),
        )
        .order_by("warehouse__code")
    )
    cent = Decimal("0.01")
    warehouses = [
        {
            "warehouse": row["warehouse_id"],
            "code": row["warehouse__code"],
            "name": row["warehouse__name"],
            "quantity": row["quantity"],
            "value": row["value"].quantize(cent),
        }
        for row in rows
    ]
    return {
        "total_value": sum((w["value"] for w in warehouses), Decimal("0")).quantize(cent),
        "warehouses": warehouses,
    }


def low_stock_alert_list() -> QuerySet[LowStockAlert]:
    return LowStockAlert.objects.select_related("product", "warehouse")


def import_job_list() -> QuerySet[ImportJob]:
    return ImportJob.objects.select_related("created_by")


def export_job_list() -> QuerySet[ExportJob]:
    return ExportJob.objects.select_related("created_by")
