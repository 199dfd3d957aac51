"""Reads of the inventory module, always through the tenant-scoped managers."""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextField,
    Value,
)
from django.db.models.functions import Coalesce, Collate, Greatest, Lower

from core.errors import NotFound
from core.numbers import AMOUNT, QUANTITY, exact_sum
from inventory.models import (
    CATEGORY_MAX_LEVELS,
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
from tenants.models import Tenant

_QUANTITY = DecimalField(**QUANTITY.column)
# Sums have no column: PostgreSQL's numeric computes them exactly, at any size.
_SUM = DecimalField()


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


# Sorts below every character a name may hold (in the "C" collation's byte order).
_NAME_SEPARATOR = "\x01"


def _name_path() -> Any:
    """A category's names from the top, lowercase: ``hardware<01>bolts``. In byte order a
    category comes right after its parent and before the parent's next sibling, siblings
    by name. Ancestors are joins (a tree is at most ``CATEGORY_MAX_LEVELS`` deep);
    ``concat_ws`` skips the ones a shallower category does not have."""
    names = [Lower("__".join(["parent"] * up + ["name"])) for up in range(CATEGORY_MAX_LEVELS - 1, 0, -1)]
    return Collate(
        Func(Value(_NAME_SEPARATOR), *names, Lower("name"), function="CONCAT_WS", output_field=TextField()), "C"
    )


def category_choices() -> QuerySet[Category]:
    """Every category in tree order: a category under its parent, siblings by name."""
    return category_list().order_by(_name_path(), "path")


def category_tree() -> QuerySet[Category]:
    """Every category in tree order (a category under its parent, siblings by name) with
    ``product_count``, the products filed directly under it, and
    ``subtree_product_count``, those under it or any of its descendants (sub-selects and
    joins: one query per page)."""
    in_subtree = (
        Product.objects.filter(category__path__startswith=OuterRef("path"))
        .order_by()
        .values("tenant")
        .annotate(n=Count("pk"))
        .values("n")
    )
    direct = Product.objects.filter(category=OuterRef("pk")).order_by().values("category").annotate(n=Count("pk"))
    return category_choices().annotate(
        product_count=Coalesce(Subquery(direct.values("n")), Value(0), output_field=IntegerField()),
        subtree_product_count=Coalesce(Subquery(in_subtree), Value(0), output_field=IntegerField()),
    )


def party_search(
    *, model: type[Supplier] | type[Customer], text: str = "", active: bool | None = None
) -> QuerySet[Any]:
    """The console's supplier or customer list: a search in the API's search fields (name,
    contact, email, phone, tax id) and the active filter, by name."""
    parties = model.objects.all()
    if text:
        parties = parties.filter(
            Q(name__icontains=text)
            | Q(contact_name__icontains=text)
            | Q(email__icontains=text)
            | Q(phone__icontains=text)
            | Q(tax_id__icontains=text)
        )
    if active is not None:
        parties = parties.filter(is_active=active)
    return parties.order_by("name", "pk")


def supplier_prices(*, supplier: Supplier) -> QuerySet[SupplierProduct]:
    """The products a supplier supplies, with its SKU, price and lead time, by our SKU."""
    return supplier_product_list().filter(supplier=supplier).order_by("product__sku", "pk")


def warehouse_list() -> QuerySet[Warehouse]:
    return Warehouse.objects.all()


def stock_level_list() -> QuerySet[StockLevel]:
    """Levels with their effective ``reorder_point_in_effect`` and ``reorder_quantity_in_effect``:
    the level's own values, else the product's."""
    return StockLevel.objects.select_related("product", "warehouse").annotate(
        reorder_point_in_effect=Coalesce("reorder_point", "product__reorder_point", output_field=_QUANTITY),
        reorder_quantity_in_effect=Coalesce("reorder_quantity", "product__reorder_quantity", output_field=_QUANTITY),
    )


def stock_level_get(*, id: Any) -> StockLevel:
    return get_or_404(stock_level_list(), id=id, what="stock level")


def below_reorder_point(queryset: QuerySet[StockLevel]) -> QuerySet[StockLevel]:
    """Levels of ``stock_level_list()`` whose available quantity is under their reorder
    point in effect (> 0), active products only."""
    return queryset.filter(
        Q(reorder_point_in_effect__gt=0), Q(available__lt=F("reorder_point_in_effect")), product__is_active=True
    )


def low_stock_list() -> QuerySet[StockLevel]:
    """Low levels with ``suggested_order_quantity``: the reorder quantity in effect, or
    enough to reach the reorder point, whichever is more."""
    return (
        below_reorder_point(stock_level_list())
        .annotate(
            suggested_order_quantity=Greatest(
                "reorder_quantity_in_effect",
                ExpressionWrapper(F("reorder_point_in_effect") - F("available"), output_field=_QUANTITY),
                output_field=_QUANTITY,
            )
        )
        .order_by("product__sku", "warehouse__code")
    )


def movement_list() -> QuerySet[StockMovement]:
    return StockMovement.objects.select_related("product", "warehouse", "user")


def product_history(*, product: Product) -> QuerySet[StockMovement]:
    return movement_list().filter(product=product)


def valuation(*, warehouse: Warehouse | None = None) -> dict[str, Any]:
    """Quantity x weighted average cost, per warehouse and in total (one query). The sums
    are exact at any size (numeric in PostgreSQL, ``exact_sum`` here); values are rounded
    half-up to cents."""
    levels = StockLevel.objects.filter(on_hand__gt=0)
    if warehouse is not None:
        levels = levels.filter(warehouse=warehouse)
    rows = list(
        levels.values("warehouse_id", "warehouse__code", "warehouse__name")
        .annotate(
            quantity=Coalesce(Sum("on_hand"), Value(Decimal("0")), output_field=_SUM),
            value=Coalesce(
                Sum(ExpressionWrapper(F("on_hand") * F("product__average_cost"), output_field=_SUM)),
                Value(Decimal("0")),
                output_field=_SUM,
            ),
        )
        .order_by("warehouse__code")
    )
    warehouses = [
        {
            "warehouse": row["warehouse_id"],
            "code": row["warehouse__code"],
            "name": row["warehouse__name"],
            "quantity": row["quantity"],
            "value": AMOUNT.quantize(row["value"]),
        }
        for row in rows
    ]
    return {"total_value": exact_sum(w["value"] for w in warehouses), "warehouses": warehouses}


def low_stock_alert_list() -> QuerySet[LowStockAlert]:
    return LowStockAlert.objects.select_related("product", "warehouse")


def import_job_list() -> QuerySet[ImportJob]:
    return ImportJob.objects.select_related("created_by")


def export_job_list() -> QuerySet[ExportJob]:
    return ExportJob.objects.select_related("created_by")


PRODUCT_SORTS = {
    "sku": "sku",
    "-sku": "-sku",
    "name": "name",
    "-name": "-name",
    "on_hand": "on_hand_total",
    "-on_hand": "-on_hand_total",
    "price": "selling_price",
    "-price": "-selling_price",
    "updated": "updated_at",
    "-updated": "-updated_at",
}


def product_search(
    *,
    text: str = "",
    category_id: Any = None,
    active: bool | None = None,
    low: bool = False,
    sort: str = "sku",
) -> QuerySet[Product]:
    """The console's product list: a search in SKU, name and barcode, filters (category,
    active, below its reorder point in some warehouse), a sort, and each product's stock
    on hand and available over every warehouse (sub-selects: one query per page)."""
    levels = StockLevel.objects.filter(product=OuterRef("pk")).values("product")
    products = product_list().annotate(
        on_hand_total=Coalesce(
            Subquery(levels.annotate(s=Sum("on_hand")).values("s")), Value(Decimal(0)), output_field=_QUANTITY
        ),
        available_total=Coalesce(
            Subquery(levels.annotate(s=Sum("available")).values("s")), Value(Decimal(0)), output_field=_QUANTITY
        ),
    )
    if text:
        products = products.filter(Q(sku__icontains=text) | Q(name__icontains=text) | Q(barcode=text))
    if category_id:
        products = products.filter(category_id=category_id)
    if active is not None:
        products = products.filter(is_active=active)
    if low:
        products = products.filter(pk__in=below_reorder_point(stock_level_list()).values("product_id"))
    return products.order_by(PRODUCT_SORTS.get(sort, "sku"), "pk")


def product_get(*, id: Any) -> Product:
    return get_or_404(product_list(), id=id, what="product")


def product_by_code(*, code: str) -> Product | None:
    """A scanned or typed code: the barcode, else the SKU (case-insensitive)."""
    code = code.strip()
    if not code:
        return None
    return product_list().filter(barcode=code).first() or product_list().filter(sku__iexact=code).first()


def products_by_codes(*, codes: Collection[str]) -> dict[str, Product]:
    """Typed or scanned codes of many lines at once (one query): each code as given,
    stripped, to the product with that barcode, else that SKU (case-insensitive); codes
    that match nothing are left out."""
    wanted = {code.strip() for code in codes if code.strip()}
    if not wanted:
        return {}
    lowered = {code.lower() for code in wanted}
    found = list(product_list().annotate(sku_ci=Lower("sku")).filter(Q(sku_ci__in=lowered) | Q(barcode__in=wanted)))
    by_barcode = {p.barcode: p for p in found if p.barcode}
    by_sku = {p.sku.lower(): p for p in found}
    matches = {code: by_barcode.get(code) or by_sku.get(code.lower()) for code in wanted}
    return {code: product for code, product in matches.items() if product is not None}


def product_stock(*, product: Product) -> list[StockLevel]:
    return list(stock_level_list().filter(product=product).order_by("warehouse__code"))


def product_usage(tenant: Tenant) -> int:
    """Products that count against the plan: every product not archived (an archived one
    keeps its history and cannot be deleted, so it does not count)."""
    return Product.objects.filter(archived_at__isnull=True).count()


def warehouse_usage(tenant: Tenant) -> int:
    return Warehouse.objects.count()
