"""The row checks that need the database or the rest of the file."""

from __future__ import annotations

from typing import Any

from django.db.models.functions import Lower

from inventory.imports.parse import Layout, ParsedBatch, Row, RowError
from inventory.models import WHOLE_UNITS, Product, StockLevel, Unit, Warehouse
from inventory.services.units import fraction_holders


def _skus_filter(skus: list[str]) -> Any:
    return Product.objects.annotate(sku_ci=Lower("sku")).filter(sku_ci__in=skus)


def validate_batch(
    batch: ParsedBatch,
    layout: Layout,
    seen: set[str],
    seen_barcodes: set[str],
    invalid: set[int],
    found: dict[str, Product],
    warehouses: dict[str, Warehouse],
) -> list[RowError]:
    """Adds the line numbers of invalid rows to ``invalid``, the batch's existing products
    (by lowercase SKU) to ``found`` for ``write.prepare_batch``, and returns every error of
    the batch (those found by parsing included). ``seen`` and ``seen_barcodes`` carry the
    SKUs and barcodes of the file's earlier rows. ``warehouses``: the tenant's, by
    lowercase code.

    A count that would put stock into an inactive warehouse or an archived product (one
    that stays archived after the row) is a row error, as for every other movement
    (``inventory.services.stock``); counting it down, or to the same quantity, is not."""
    errors: list[RowError] = []
    clean = [row for row, row_errors in batch if not row_errors]
    found.update({p.sku.lower(): p for p in _skus_filter([values["sku"].lower() for _, values, _ in clean])})
    units = {sku: product.unit for sku, product in found.items()}
    # Existing products moving to a whole-number unit while fractions of them are held.
    to_whole = [
        product.pk
        for _, values, _ in clean
        if values.get("unit") in WHOLE_UNITS
        and (product := found.get(values["sku"].lower())) is not None
        and product.unit not in WHOLE_UNITS
    ]
    holding = {holder.product_id for holder in fraction_holders(product_ids=to_whole)}
    on_hand = _inactive_on_hand(clean, found, warehouses)
    barcodes = [values["barcode"] for _, values, _ in clean if "barcode" in values]
    barcode_owner = (
        dict(
            Product.objects.filter(barcode__in=barcodes)
            .exclude(barcode="")
            .annotate(sku_ci=Lower("sku"))
            .values_list("barcode", "sku_ci")
        )
        if barcodes
        else {}
    )
    for (line, values, stock), row_errors in batch:
        if row_errors:
            errors.extend(row_errors)
            invalid.add(line)
            continue
        error = None
        sku = values["sku"].lower()
        barcode = values.get("barcode")
        if sku in seen:
            error = RowError(line, "sku", "This SKU appears earlier in the file.")
        elif barcode and (barcode in seen_barcodes or barcode_owner.get(barcode, sku) != sku):
            error = RowError(line, "barcode", "Another product already has this barcode.")
        else:
            seen.add(sku)
            if barcode:
                seen_barcodes.add(barcode)
            unit = values.get("unit") or units.get(sku, Unit.PIECE)
            if sku not in units and not values.get("name"):
                error = RowError(line, "name", "A new product needs a name.")
            elif sku in found and found[sku].pk in holding:
                error = RowError(
                    line, "unit", f"Fractions of this product are held (stock or open orders): it cannot be in {unit}."
                )
            elif unit in WHOLE_UNITS and (
                fractions := [code for code, quantity in stock.items() if quantity != quantity.to_integral_value()]
            ):
                error = RowError(line, layout.stock_column(fractions[0]), f"{unit} takes whole numbers.")
            else:
                error = _stock_into_inactive(line, values, stock, found.get(sku), warehouses, on_hand, layout)
        if error is not None:
            errors.append(error)
            invalid.add(line)
    return errors


def _stays_active(values: dict[str, Any], product: Product | None) -> bool:
    if "is_active" in values:
        return bool(values["is_active"])
    return product.is_active if product is not None else True


def _inactive_on_hand(
    clean: list[Row], found: dict[str, Product], warehouses: dict[str, Warehouse]
) -> dict[tuple[Any, Any], Any]:
    """On hand of the levels an import row would count into an inactive warehouse or an
    archived product (one query per batch, only when there are such cells)."""
    pairs = set()
    for _, values, stock in clean:
        product = found.get(values["sku"].lower())
        if product is None:
            continue
        active = _stays_active(values, product)
        for code in stock:
            warehouse = warehouses[code]
            if not (active and warehouse.is_active):
                pairs.add((product.pk, warehouse.pk))
    if not pairs:
        return {}
    levels = StockLevel.objects.filter(
        product_id__in={p for p, _ in pairs}, warehouse_id__in={w for _, w in pairs}
    ).values_list("product_id", "warehouse_id", "on_hand")
    return {(p, w): quantity for p, w, quantity in levels}


def _stock_into_inactive(
    line: int,
    values: dict[str, Any],
    stock: dict[str, Any],
    product: Product | None,
    warehouses: dict[str, Warehouse],
    on_hand: dict[tuple[Any, Any], Any],
    layout: Layout,
) -> RowError | None:
    active = _stays_active(values, product)
    for code, counted in stock.items():
        warehouse = warehouses[code]
        if active and warehouse.is_active:
            continue
        current = on_hand.get((product.pk, warehouse.pk), 0) if product is not None else 0
        if counted > current:
            if not warehouse.is_active:
                message = f"Warehouse {warehouse.code} is inactive: it takes no stock in."
            else:
                message = "This product is archived: it takes no stock in."
            return RowError(line, layout.stock_column(code), message)
    return None
