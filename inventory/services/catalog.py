"""Writes for categories, products, warehouses, suppliers and customers.

Create services take every field as a typed keyword argument with the model's default;
update services take the fields to change, each defaulting to ``UNSET`` (not given),
and write only those (``core.models.update_fields``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar

from django.db import IntegrityError, models, transaction
from django.db.models import Max, ProtectedError, Value
from django.db.models.functions import Concat, Lower, Substr
from django.utils import timezone

from core.errors import Conflict, ValidationFailed
from core.models import UNSET, Unset, assign, given, saved_fields, update_fields
from inventory import errors
from inventory.models import (
    CATEGORY_MAX_LEVELS,
    Category,
    Customer,
    Product,
    StockLevel,
    StockMovement,
    Supplier,
    SupplierProduct,
    Unit,
    Warehouse,
)
from inventory.services import units
from tenants import events
from tenants.context import get_current_tenant
from tenants.entitlements import Limit, limit_check

M = TypeVar("M", bound=models.Model)
PartyT = TypeVar("PartyT", Supplier, Customer)
ZERO = Decimal("0")


def _save_unique(instance: M, names: list[str] | None, *, field: str, message: str) -> M:
    """Saves ``names`` (all fields of a new instance); a unique violation becomes a field
    error (a concurrent writer may win the race)."""
    try:
        with transaction.atomic():
            instance.save(update_fields=saved_fields(instance, names or []))
    except IntegrityError as exc:
        raise ValidationFailed.for_field(field, errors.UNIQUE, message) from exc
    return instance


# --- Categories ---------------------------------------------------------------------


def _path_of(category: Category, parent: Category | None) -> tuple[str, int]:
    if parent is None:
        return f"{category.id.hex}/", 0
    return f"{parent.path}{category.id.hex}/", parent.depth + 1


SIBLING_TAKEN = "A sibling category already has this name."
TOO_DEEP = f"Categories nest at most {CATEGORY_MAX_LEVELS} levels deep."


def _check_depth(deepest: int) -> None:
    """``deepest``: the depth (0 for a top-level category) the lowest category would have."""
    if deepest >= CATEGORY_MAX_LEVELS:
        raise ValidationFailed.for_field("parent", errors.CATEGORY_TOO_DEEP, TOO_DEEP)


def _check_sibling_name(category: Category) -> None:
    """The field error before the write; the unique constraint (NULLS NOT DISTINCT: top-level
    names too) is the last word under concurrency (``_save_unique``)."""
    siblings = Category.objects.filter(parent=category.parent).exclude(pk=category.pk)
    if siblings.annotate(name_ci=Lower("name")).filter(name_ci=category.name.lower()).exists():
        raise ValidationFailed.for_field("name", errors.UNIQUE, SIBLING_TAKEN)


@transaction.atomic
def category_create(*, name: str, parent: Category | None = None, description: str = "") -> Category:
    if parent is not None:
        parent = Category.objects.select_for_update().get(pk=parent.pk)
    category = Category(name=name, parent=parent, description=description)
    category.path, category.depth = _path_of(category, parent)
    _check_depth(category.depth)
    _check_sibling_name(category)
    _save_unique(category, None, field="name", message=SIBLING_TAKEN)
    events.record_saved(category, None, {"name": category.name})
    return category


@transaction.atomic
def category_update(
    *,
    category: Category,
    name: str | Unset = UNSET,
    description: str | Unset = UNSET,
    parent: Category | Unset | None = UNSET,
) -> Category:
    """Renames, and moves with the whole subtree when ``parent`` changes. Refuses cycles."""
    locked = {
        c.pk: c
        for c in Category.objects.select_for_update()
        .filter(pk__in=[category.pk] + ([parent.pk] if isinstance(parent, Category) else []))
        .order_by("pk")
    }
    category = locked[category.pk]
    before = events.snapshot(category)
    fields = assign(category, name=name, description=description)
    if parent is not UNSET:
        parent = locked.get(parent.pk) if isinstance(parent, Category) else None
        if parent is not None and parent.path.startswith(category.path):
            raise ValidationFailed.for_field(
                "parent", errors.CYCLE, "A category cannot move under itself or one of its descendants."
            )
        old_path = category.path
        category.parent = parent
        category.path, new_depth = _path_of(category, parent)
        depth_shift = new_depth - category.depth
        if depth_shift > 0:  # the subtree's lowest category moves down as much
            lowest = Category.objects.filter(path__startswith=old_path).aggregate(lowest=Max("depth"))["lowest"]
            _check_depth(lowest + depth_shift)
        category.depth = new_depth
        fields += ["parent", "path", "depth"]
        if old_path != category.path:
            Category.objects.filter(path__startswith=old_path).exclude(pk=category.pk).update(
                path=Concat(Value(category.path), Substr("path", len(old_path) + 1)),
                depth=models.F("depth") + depth_shift,
            )
    _check_sibling_name(category)
    _save_unique(category, fields, field="name", message=SIBLING_TAKEN)
    events.record_saved(category, before, {"name": category.name})
    return category


@transaction.atomic
def category_delete(*, category: Category) -> None:
    if Category.objects.filter(parent=category).exists():
        raise Conflict("Move or delete the subcategories first.", code=errors.CATEGORY_NOT_EMPTY)
    events.record_deleted(category, {"name": category.name})
    Product.objects.filter(category=category).update(category=None)
    category.delete()


# --- Products ---------------------------------------------------------------------------

SKU_TAKEN = "Another product already has this SKU."
BARCODE_TAKEN = "Another product already has this barcode."


def _check_product_unique(product: Product) -> None:
    others = Product.objects.exclude(pk=product.pk)
    fields: dict[str, list[dict[str, str]]] = {}
    if others.annotate(sku_ci=Lower("sku")).filter(sku_ci=product.sku.lower()).exists():
        fields["sku"] = [{"code": errors.UNIQUE, "message": SKU_TAKEN}]
    if product.barcode and others.filter(barcode=product.barcode).exists():
        fields["barcode"] = [{"code": errors.UNIQUE, "message": BARCODE_TAKEN}]
    if fields:
        raise ValidationFailed(fields=fields)


@transaction.atomic
def product_create(
    *,
    sku: str,
    name: str,
    description: str = "",
    category: Category | None = None,
    unit: str = Unit.PIECE,
    barcode: str = "",
    cost_price: Decimal = ZERO,
    selling_price: Decimal = ZERO,
    reorder_point: Decimal = ZERO,
    reorder_quantity: Decimal = ZERO,
    lead_time_days: int = 0,
    is_active: bool = True,
    attributes: dict[str, Any] | None = None,
    image_url: str = "",
) -> Product:
    """A new product's average cost is its cost price (the import does the same): stock
    counted in before any receipt is valued at it, and the first receipt replaces it."""
    product = Product(
        sku=sku,
        name=name,
        description=description,
        category=category,
        unit=unit,
        barcode=barcode,
        cost_price=cost_price,
        selling_price=selling_price,
        average_cost=cost_price,
        reorder_point=reorder_point,
        reorder_quantity=reorder_quantity,
        lead_time_days=lead_time_days,
        is_active=is_active,
        attributes=attributes if attributes is not None else {},
        image_url=image_url,
    )
    _check_product_unique(product)
    limit_check(tenant=get_current_tenant(), limit=Limit.PRODUCTS)
    product = _save_unique(product, None, field="sku", message=SKU_TAKEN)
    events.record("product.created", product, {"sku": product.sku, "name": product.name})
    return product


@transaction.atomic
def product_update(
    *,
    product: Product,
    sku: str | Unset = UNSET,
    name: str | Unset = UNSET,
    description: str | Unset = UNSET,
    category: Category | Unset | None = UNSET,
    unit: str | Unset = UNSET,
    barcode: str | Unset = UNSET,
    cost_price: Decimal | Unset = UNSET,
    selling_price: Decimal | Unset = UNSET,
    reorder_point: Decimal | Unset = UNSET,
    reorder_quantity: Decimal | Unset = UNSET,
    lead_time_days: int | Unset = UNSET,
    is_active: bool | Unset = UNSET,
    attributes: dict[str, Any] | Unset = UNSET,
    image_url: str | Unset = UNSET,
) -> Product:
    """Refuses a whole-number unit while fractions of the product are held (``units``)."""
    before = {f.attname: getattr(product, f.attname) for f in product._meta.concrete_fields}
    if not isinstance(unit, Unset) and unit != product.unit:
        _lock_stock(product)
        units.check_unit_change(product=product, unit=unit)
    fields = assign(
        product,
        sku=sku,
        name=name,
        description=description,
        category=category,
        unit=unit,
        barcode=barcode,
        cost_price=cost_price,
        selling_price=selling_price,
        reorder_point=reorder_point,
        reorder_quantity=reorder_quantity,
        lead_time_days=lead_time_days,
        is_active=is_active,
        attributes=attributes,
        image_url=image_url,
    )
    _check_product_unique(product)
    product = _save_unique(product, fields, field="sku", message=SKU_TAKEN)
    attnames = [getattr(product._meta.get_field(name), "attname", name) for name in fields]
    changed = events.changes_of(product, before, attnames)
    if changed:
        events.record("product.updated", product, {"sku": product.sku}, changes=changed)
    return product


def _lock_stock(product: Product) -> None:
    """Locks the product, then its levels (the stock services' order): a stock change
    under way finishes first, and is seen by the check."""
    list(Product.objects.select_for_update().filter(pk=product.pk).values_list("pk", flat=True))
    list(
        StockLevel.objects.select_for_update(no_key=True)
        .filter(product=product)
        .order_by("product_id", "warehouse_id")
        .values_list("pk", flat=True)
    )


@transaction.atomic
def product_delete(*, product: Product) -> str:
    """Deletes a product without stock history; archives (deactivates) one with history.
    Returns ``deleted`` or ``archived``."""
    if StockMovement.objects.filter(product=product).exists():
        update_fields(product, is_active=False, archived_at=product.archived_at or timezone.now())
        events.record("product.archived", product, {"sku": product.sku})
        return "archived"
    try:
        with transaction.atomic():
            pk = product.pk
            product.delete()
            product.pk = pk
    except ProtectedError:
        update_fields(product, is_active=False, archived_at=timezone.now())
        events.record("product.archived", product, {"sku": product.sku})
        return "archived"
    events.record("product.deleted", product, {"sku": product.sku})
    return "deleted"


# --- Warehouses -------------------------------------------------------------------------------


WAREHOUSE_CODE_TAKEN = "Another warehouse already has this code."


def _save_warehouse(warehouse: Warehouse, names: list[str] | None) -> Warehouse:
    code = warehouse.code.lower()
    if Warehouse.objects.exclude(pk=warehouse.pk).annotate(code_ci=Lower("code")).filter(code_ci=code).exists():
        raise ValidationFailed.for_field("code", errors.UNIQUE, WAREHOUSE_CODE_TAKEN)
    return _save_unique(warehouse, names, field="code", message=WAREHOUSE_CODE_TAKEN)


@transaction.atomic
def warehouse_create(*, code: str, name: str, address: str = "", is_active: bool = True) -> Warehouse:
    limit_check(tenant=get_current_tenant(), limit=Limit.WAREHOUSES)
    warehouse = _save_warehouse(Warehouse(code=code, name=name, address=address, is_active=is_active), None)
    events.record_saved(warehouse, None, {"code": warehouse.code, "name": warehouse.name})
    return warehouse


@transaction.atomic
def warehouse_update(
    *,
    warehouse: Warehouse,
    code: str | Unset = UNSET,
    name: str | Unset = UNSET,
    address: str | Unset = UNSET,
    is_active: bool | Unset = UNSET,
) -> Warehouse:
    before = events.snapshot(warehouse)
    _save_warehouse(warehouse, assign(warehouse, code=code, name=name, address=address, is_active=is_active))
    events.record_saved(warehouse, before, {"code": warehouse.code})
    return warehouse


@transaction.atomic
def warehouse_delete(*, warehouse: Warehouse) -> None:
    events.record_deleted(warehouse, {"code": warehouse.code})
    try:
        with transaction.atomic():
            warehouse.delete()
    except ProtectedError as exc:
        raise Conflict(
            "This warehouse has stock or history. Deactivate it instead (is_active=false).", code=errors.IN_USE
        ) from exc


# --- Suppliers and customers ------------------------------------------------------------------------


@transaction.atomic
def party_create(
    *,
    model: type[PartyT],
    name: str,
    contact_name: str = "",
    email: str = "",
    phone: str = "",
    address: str = "",
    tax_id: str = "",
    payment_terms: str = "",
    notes: str = "",
    is_active: bool = True,
) -> PartyT:
    """A supplier or a customer (``model``)."""
    party = model(
        name=name,
        contact_name=contact_name,
        email=email,
        phone=phone,
        address=address,
        tax_id=tax_id,
        payment_terms=payment_terms,
        notes=notes,
        is_active=is_active,
    )
    party.save()
    events.record_saved(party, None, {"name": party.name})
    return party


@transaction.atomic
def party_update(
    *,
    party: PartyT,
    name: str | Unset = UNSET,
    contact_name: str | Unset = UNSET,
    email: str | Unset = UNSET,
    phone: str | Unset = UNSET,
    address: str | Unset = UNSET,
    tax_id: str | Unset = UNSET,
    payment_terms: str | Unset = UNSET,
    notes: str | Unset = UNSET,
    is_active: bool | Unset = UNSET,
) -> PartyT:
    before = events.snapshot(party)
    update_fields(
        party,
        name=name,
        contact_name=contact_name,
        email=email,
        phone=phone,
        address=address,
        tax_id=tax_id,
        payment_terms=payment_terms,
        notes=notes,
        is_active=is_active,
    )
    events.record_saved(party, before, {"name": party.name})
    return party


@transaction.atomic
def party_delete(*, party: Supplier | Customer) -> None:
    """Refused while orders reference the party: deactivate it instead."""
    events.record_deleted(party, {"name": party.name})
    try:
        with transaction.atomic():
            party.delete()
    except ProtectedError as exc:
        kind = "supplier" if isinstance(party, Supplier) else "customer"
        raise Conflict(
            f"This {kind} is referenced by orders. Deactivate it instead (is_active=false).", code=errors.IN_USE
        ) from exc


SUPPLIED_TWICE = "This supplier already lists this product."


def _save_supplier_product(item: SupplierProduct, names: list[str] | None) -> SupplierProduct:
    exists = SupplierProduct.objects.exclude(pk=item.pk).filter(supplier=item.supplier, product=item.product)
    if exists.exists():
        raise ValidationFailed.for_field("product", errors.UNIQUE, SUPPLIED_TWICE)
    return _save_unique(item, names, field="product", message=SUPPLIED_TWICE)


@transaction.atomic
def supplier_product_create(
    *, supplier: Supplier, product: Product, supplier_sku: str = "", price: Decimal = ZERO, lead_time_days: int = 0
) -> SupplierProduct:
    item = SupplierProduct(
        supplier=supplier, product=product, supplier_sku=supplier_sku, price=price, lead_time_days=lead_time_days
    )
    _save_supplier_product(item, None)
    events.record_saved(item, None, _supplier_product_data(item), kind="supplier_product")
    return item


@transaction.atomic
def supplier_product_update(
    *,
    item: SupplierProduct,
    supplier: Supplier | Unset = UNSET,
    product: Product | Unset = UNSET,
    supplier_sku: str | Unset = UNSET,
    price: Decimal | Unset = UNSET,
    lead_time_days: int | Unset = UNSET,
) -> SupplierProduct:
    before = events.snapshot(item)
    names = assign(
        item, supplier=supplier, product=product, supplier_sku=supplier_sku, price=price, lead_time_days=lead_time_days
    )
    _save_supplier_product(item, names)
    events.record_saved(item, before, _supplier_product_data(item), kind="supplier_product")
    return item


@transaction.atomic
def supplier_product_delete(*, item: SupplierProduct) -> None:
    events.record_deleted(item, _supplier_product_data(item), kind="supplier_product")
    item.delete()


def _supplier_product_data(item: SupplierProduct) -> dict[str, Any]:
    return {"supplier": item.supplier_id, "product": item.product_id}


# --- Stock level settings ------------------------------------------------------------------------


@transaction.atomic
def stock_level_set_reorder(
    *,
    level: StockLevel,
    reorder_point: Decimal | Unset | None = UNSET,
    reorder_quantity: Decimal | Unset | None = UNSET,
) -> None:
    """Sets the level's own reorder point and quantity; ``None`` goes back to the product's.
    One UPDATE of these columns only, so it never overwrites a concurrent stock change."""
    changes = given(reorder_point=reorder_point, reorder_quantity=reorder_quantity)
    if changes:
        StockLevel.objects.filter(pk=level.pk).update(**changes, updated_at=timezone.now())
        changed = {name: [getattr(level, name), new] for name, new in changes.items() if getattr(level, name) != new}
        if changed:
            events.record(
                "stock_level.updated",
                level,
                {"product": level.product_id, "warehouse": level.warehouse_id},
                changes=changed,
            )
