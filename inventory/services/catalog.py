"""Writes for categories, products, warehouses, suppliers and customers."""

from __future__ import annotations

from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError, Value
from django.db.models.functions import Concat, Lower, Substr
from django.utils import timezone

from core.errors import Conflict, ValidationFailed
from inventory.models import (
    Category,
    Customer,
    Product,
    StockLevel,
    StockMovement,
    Supplier,
    SupplierProduct,
    Warehouse,
)
from inventory.services import units

M = TypeVar("M", bound=models.Model)


def _save_unique(instance: M, *, field: str, message: str, update_fields: list[str] | None = None) -> M:
    """Saves; a unique violation becomes a field error (a concurrent writer may win the race)."""
    try:
        with transaction.atomic():
            instance.save(update_fields=update_fields)
    except IntegrityError as exc:
        raise ValidationFailed.for_field(field, "unique", message) from exc
    return instance


def _apply(instance: M, data: dict[str, Any]) -> list[str]:
    for name, value in data.items():
        setattr(instance, name, value)
    return list(data)


# --- Categories ---------------------------------------------------------------------


def _path_of(category: Category, parent: Category | None) -> tuple[str, int]:
    if parent is None:
        return f"{category.id.hex}/", 0
    return f"{parent.path}{category.id.hex}/", parent.depth + 1


SIBLING_TAKEN = "A sibling category already has this name."


def _check_sibling_name(category: Category) -> None:
    """Also enforced by a unique constraint (PostgreSQL); SQLite cannot index NULL parents as equal."""
    siblings = Category.objects.filter(parent=category.parent).exclude(pk=category.pk)
    if siblings.annotate(name_ci=Lower("name")).filter(name_ci=category.name.lower()).exists():
        raise ValidationFailed.for_field("name", "unique", SIBLING_TAKEN)


@transaction.atomic
def category_create(*, name: str, parent: Category | None = None, description: str = "") -> Category:
    if parent is not None:
        parent = Category.objects.select_for_update().get(pk=parent.pk)
    category = Category(name=name, parent=parent, description=description)
    category.path, category.depth = _path_of(category, parent)
    _check_sibling_name(category)
    return _save_unique(category, field="name", message=SIBLING_TAKEN)


@transaction.atomic
def category_update(*, category: Category, data: dict[str, Any]) -> Category:
    """Renames, and moves with the whole subtree when ``parent`` changes. Refuses cycles."""
    locked = {
        c.pk: c
        for c in Category.objects.select_for_update()
        .filter(pk__in=[category.pk] + ([data["parent"].pk] if data.get("parent") else []))
        .order_by("pk")
    }
    category = locked[category.pk]
    fields = _apply(category, {k: v for k, v in data.items() if k != "parent"})
    if "parent" in data:
        parent = locked.get(data["parent"].pk) if data["parent"] else None
        if parent is not None and parent.path.startswith(category.path):
            raise ValidationFailed.for_field(
                "parent", "cycle", "A category cannot move under itself or one of its descendants."
            )
        old_path = category.path
        category.parent = parent
        category.path, new_depth = _path_of(category, parent)
        depth_shift = new_depth - category.depth
        category.depth = new_depth
        fields += ["parent", "path", "depth"]
        if old_path != category.path:
            Category.objects.filter(path__startswith=old_path).exclude(pk=category.pk).update(
                path=Concat(Value(category.path), Substr("path", len(old_path) + 1)),
                depth=models.F("depth") + depth_shift,
            )
    _check_sibling_name(category)
    return _save_unique(category, field="name", message=SIBLING_TAKEN, update_fields=fields)


@transaction.atomic
def category_delete(*, category: Category) -> None:
    if Category.objects.filter(parent=category).exists():
        raise Conflict("Move or delete the subcategories first.", code="category_not_empty")
    Product.objects.filter(category=category).update(category=None)
    category.delete()


def category_subtree_filter(category: Category) -> models.Q:
    return models.Q(path__startswith=category.path)


# --- Products ---------------------------------------------------------------------------

SKU_TAKEN = "Another product already has this SKU."
BARCODE_TAKEN = "Another product already has this barcode."


def _check_product_unique(product: Product) -> None:
    others = Product.objects.exclude(pk=product.pk)
    fields: dict[str, list[dict[str, str]]] = {}
    if others.annotate(sku_ci=Lower("sku")).filter(sku_ci=product.sku.lower()).exists():
        fields["sku"] = [{"code": "unique", "message": SKU_TAKEN}]
    if product.barcode and others.filter(barcode=product.barcode).exists():
        fields["barcode"] = [{"code": "unique", "message": BARCODE_TAKEN}]
    if fields:
        raise ValidationFailed(fields=fields)


def product_create(**data: Any) -> Product:
    product = Product(**data)
    _check_product_unique(product)
    return _save_unique(product, field="sku", message=SKU_TAKEN)


@transaction.atomic
def product_update(*, product: Product, data: dict[str, Any]) -> Product:
    """Refuses a whole-number unit while fractions of the product are held (``units``)."""
    if data.get("unit", product.unit) != product.unit:
        _lock_stock(product)
        units.check_unit_change(product=product, unit=data["unit"])
    fields = _apply(product, data)
    _check_product_unique(product)
    return _save_unique(product, field="sku", message=SKU_TAKEN, update_fields=[*fields, "updated_at"])


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
        product.is_active = False
        product.archived_at = product.archived_at or timezone.now()
        product.save(update_fields=["is_active", "archived_at", "updated_at"])
        return "archived"
    try:
        with transaction.atomic():
            product.delete()
    except ProtectedError:
        product.is_active = False
        product.archived_at = timezone.now()
        product.save(update_fields=["is_active", "archived_at", "updated_at"])
        return "archived"
    return "deleted"


# --- Warehouses -------------------------------------------------------------------------------


def warehouse_save(*, warehouse: Warehouse, data: dict[str, Any]) -> Warehouse:
    fields = _apply(warehouse, data)
    code = warehouse.code.lower()
    if Warehouse.objects.exclude(pk=warehouse.pk).annotate(code_ci=Lower("code")).filter(code_ci=code).exists():
        raise ValidationFailed.for_field("code", "unique", "Another warehouse already has this code.")
    return _save_unique(
        warehouse,
        field="code",
        message="Another warehouse already has this code.",
        update_fields=fields if warehouse._state.adding is False else None,
    )


@transaction.atomic
def warehouse_delete(*, warehouse: Warehouse) -> None:
    try:
        with transaction.atomic():
            warehouse.delete()
    except ProtectedError as exc:
        raise Conflict(
            "This warehouse has stock or history. Deactivate it instead (is_active=false).", code="in_use"
        ) from exc


# --- Suppliers and customers ------------------------------------------------------------------------


def party_save(*, party: Supplier | Customer, data: dict[str, Any]) -> Supplier | Customer:
    fields = _apply(party, data)
    party.save(update_fields=[*fields, "updated_at"] if not party._state.adding else None)
    return party


@transaction.atomic
def party_delete(*, party: Supplier | Customer) -> None:
    """Refused while orders reference the party: deactivate it instead."""
    try:
        with transaction.atomic():
            party.delete()
    except ProtectedError as exc:
        kind = "supplier" if isinstance(party, Supplier) else "customer"
        raise Conflict(
            f"This {kind} is referenced by orders. Deactivate it instead (is_active=false).", code="in_use"
        ) from exc


def supplier_product_save(*, item: SupplierProduct, data: dict[str, Any]) -> SupplierProduct:
    fields = _apply(item, data)
    exists = SupplierProduct.objects.exclude(pk=item.pk).filter(supplier=item.supplier, product=item.product)
    if exists.exists():
        raise ValidationFailed.for_field("product", "unique", "This supplier already lists this product.")
    return _save_unique(
        item,
        field="product",
        message="This supplier already lists this product.",
        update_fields=fields if not item._state.adding else None,
    )


# --- Stock level settings ------------------------------------------------------------------------


class Keep(Enum):
    """The value of an argument left out of a partial update."""

    KEEP = "keep"


KEEP = Keep.KEEP


def stock_level_set_reorder(
    *,
    level: StockLevel,
    reorder_point: Decimal | Keep | None = KEEP,
    reorder_quantity: Decimal | Keep | None = KEEP,
) -> None:
    """Sets the level's own reorder point and quantity; ``None`` goes back to the product's.
    One UPDATE of these columns only, so it never overwrites a concurrent stock change."""
    changes = {
        name: value
        for name, value in (("reorder_point", reorder_point), ("reorder_quantity", reorder_quantity))
        if value is not KEEP
    }
    if changes:
        StockLevel.objects.filter(pk=level.pk).update(**changes, updated_at=timezone.now())
