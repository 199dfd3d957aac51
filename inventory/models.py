"""Catalog, parties, warehouses and the stock ledger. Every model is tenant-owned."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone

from core.numbers import PRICE, QUANTITY
from tenants.fields import TenantForeignKey, implied_tenant_key
from tenants.scoping import TenantScopedModel

ZERO = Decimal("0")


class Unit(models.TextChoices):
    """Units of measure. Counted units take whole numbers; measured ones take up to 4 decimals."""

    PIECE = "pcs", "Pieces"
    BOX = "box", "Boxes"
    PACK = "pack", "Packs"
    PAIR = "pair", "Pairs"
    KILOGRAM = "kg", "Kilograms"
    GRAM = "g", "Grams"
    POUND = "lb", "Pounds"
    METRE = "m", "Metres"
    CENTIMETRE = "cm", "Centimetres"
    FOOT = "ft", "Feet"
    LITRE = "l", "Litres"
    MILLILITRE = "ml", "Millilitres"


WHOLE_UNITS = frozenset({Unit.PIECE, Unit.BOX, Unit.PACK, Unit.PAIR})

# Category trees: at most this many levels (a top-level category and nine below it), and
# names of at most this many characters. Enforced by inventory.services.catalog for the API
# and by the CSV import (docs/inventory.md).
CATEGORY_MAX_LEVELS = 10
CATEGORY_NAME_MAX_LENGTH = 120


class Category(TenantScopedModel):
    """A tree. ``path`` is the materialized path of ids from the root
    (``<root-id>/<child-id>/``), so a subtree is one ``path LIKE 'prefix%'`` query."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=CATEGORY_NAME_MAX_LENGTH)
    description = models.TextField(blank=True)
    parent = TenantForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    path = models.TextField(editable=False)
    depth = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["path"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(
                "tenant", "parent", Lower("name"), name="category_unique_sibling_name", nulls_distinct=False
            ),
        ]
        indexes = [models.Index(fields=["tenant", "path"], name="category_tenant_path")]

    def __str__(self) -> str:
        return self.name


class Product(TenantScopedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    category = TenantForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="products", db_index=False
    )
    unit = models.CharField(max_length=8, choices=Unit.choices, default=Unit.PIECE)
    barcode = models.CharField(max_length=64, blank=True)
    cost_price = models.DecimalField(**PRICE.column, default=ZERO)
    selling_price = models.DecimalField(**PRICE.column, default=ZERO)
    average_cost = models.DecimalField(**PRICE.column, default=ZERO, editable=False)
    reorder_point = models.DecimalField(**QUANTITY.column, default=ZERO)
    reorder_quantity = models.DecimalField(**QUANTITY.column, default=ZERO)
    lead_time_days = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)
    attributes = models.JSONField(default=dict, blank=True)
    image_url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.UniqueConstraint("tenant", Lower("sku"), name="product_unique_sku_ci"),
            models.UniqueConstraint(
                fields=["tenant", "barcode"], condition=~Q(barcode=""), name="product_unique_barcode"
            ),
            models.CheckConstraint(
                condition=Q(cost_price__gte=0) & Q(selling_price__gte=0) & Q(average_cost__gte=0),
                name="product_prices_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(reorder_point__gte=0) & Q(reorder_quantity__gte=0), name="product_reorder_not_negative"
            ),
        ]
        indexes = [
            # The list's default order: a page is read from the index, not sorted from all the
            # tenant's rows (product_unique_sku_ci is on lower(sku): it cannot serve ORDER BY sku).
            # It also drives the stock-level list (ordered by product__sku). docs/performance.md.
            models.Index(fields=["tenant", "sku"], name="product_tenant_sku"),
            models.Index(fields=["tenant", "name"], name="product_tenant_name"),
            models.Index(fields=["tenant", "category"], name="product_tenant_category"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"

    @property
    def whole_units_only(self) -> bool:
        return self.unit in WHOLE_UNITS


class Party(TenantScopedModel):
    """Shared fields of suppliers and customers."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    contact_name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    address = models.TextField(blank=True)
    tax_id = models.CharField(max_length=50, blank=True)
    payment_terms = models.CharField(max_length=100, blank=True, help_text="e.g. 'Net 30'")
    notes = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Supplier(Party):
    class Meta(Party.Meta):
        indexes = [models.Index(fields=["tenant", "name"], name="supplier_tenant_name")]


class Customer(Party):
    class Meta(Party.Meta):
        indexes = [models.Index(fields=["tenant", "name"], name="customer_tenant_name")]


class SupplierProduct(TenantScopedModel):
    """A product as a supplier sells it: their SKU, price and lead time."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    supplier = TenantForeignKey(Supplier, on_delete=models.CASCADE, related_name="supplied_products", db_index=False)
    product = TenantForeignKey(Product, on_delete=models.CASCADE, related_name="supplier_products")
    supplier_sku = models.CharField(max_length=64, blank=True)
    price = models.DecimalField(**PRICE.column, default=ZERO)
    lead_time_days = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["supplier_id", "product_id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "supplier", "product"], name="supplier_product_unique"),
            models.CheckConstraint(condition=Q(price__gte=0), name="supplier_product_price_not_negative"),
        ]
        # The list's default order (SupplierProductViewSet.ordering).
        indexes = [models.Index(fields=["tenant", "created_at"], name="supplier_product_created")]


class Warehouse(TenantScopedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(max_length=32)
    name = models.CharField(max_length=200)
    address = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint("tenant", Lower("code"), name="warehouse_unique_code_ci")]

    def __str__(self) -> str:
        return self.code


class StockLevel(TenantScopedModel):
    """On hand and reserved of one product in one warehouse. Quantities are written only
    by inventory.services.stock, under a row lock, with their ledger movement. The
    level's own reorder point and quantity (null: the product's) are settings, written
    by ``catalog.stock_level_set_reorder``."""

    tenant = implied_tenant_key()  # implied by the composite keys to product and warehouse

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    product = TenantForeignKey(Product, on_delete=models.PROTECT, related_name="stock_levels", db_index=False)
    warehouse = TenantForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stock_levels", db_index=False)
    on_hand = models.DecimalField(**QUANTITY.column, default=ZERO)
    reserved = models.DecimalField(**QUANTITY.column, default=ZERO)
    available = models.GeneratedField(
        expression=F("on_hand") - F("reserved"),
        output_field=models.DecimalField(**QUANTITY.column),
        db_persist=True,
        help_text="on_hand - reserved, computed by the database.",
    )
    reorder_point = models.DecimalField(
        **QUANTITY.column, null=True, blank=True, help_text="This warehouse's reorder point; null: the product's."
    )
    reorder_quantity = models.DecimalField(
        **QUANTITY.column, null=True, blank=True, help_text="This warehouse's reorder quantity; null: the product's."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product_id", "warehouse_id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "product", "warehouse"], name="stock_level_unique"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_level_on_hand_not_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stock_level_reserved_not_negative"),
            models.CheckConstraint(condition=Q(reserved__lte=F("on_hand")), name="stock_level_reserved_within_on_hand"),
            models.CheckConstraint(
                condition=Q(reorder_point__gte=0) & Q(reorder_quantity__gte=0), name="stock_level_reorder_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "warehouse"], name="stock_level_tenant_warehouse")]


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", "Receipt"
    ISSUE = "issue", "Issue"
    ADJUSTMENT = "adjustment", "Adjustment"
    TRANSFER_OUT = "transfer_out", "Transfer out"
    TRANSFER_IN = "transfer_in", "Transfer in"
    RESERVATION = "reservation", "Reservation"
    RELEASE = "release", "Release"


# Kinds that change on_hand; the others (reservation, release) change reserved.
ON_HAND_KINDS = frozenset(
    {
        MovementKind.RECEIPT,
        MovementKind.ISSUE,
        MovementKind.ADJUSTMENT,
        MovementKind.TRANSFER_OUT,
        MovementKind.TRANSFER_IN,
    }
)
RESERVED_KINDS = frozenset({MovementKind.RESERVATION, MovementKind.RELEASE})


class ReferenceType(models.TextChoices):
    """Inventory's own sources of movements. A movement's ``reference_type`` is a free
    source name owned by the caller (orders use ``sales_order_line``, ...), with the
    caller's id in ``reference_id``; inventory attaches no meaning to other apps' names."""

    MANUAL = "manual", "Manual"
    IMPORT_JOB = "import_job", "Import job"
    TRANSFER = "transfer", "Transfer"


class StockMovement(TenantScopedModel):
    """The append-only ledger. The runtime role may only SELECT and INSERT, and a
    trigger refuses UPDATE and DELETE for every role (migration 0002)."""

    tenant = implied_tenant_key()  # implied by the composite keys to product and warehouse

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=MovementKind.choices)
    product = TenantForeignKey(Product, on_delete=models.PROTECT, related_name="movements", db_index=False)
    warehouse = TenantForeignKey(Warehouse, on_delete=models.PROTECT, related_name="movements", db_index=False)
    quantity = models.DecimalField(**QUANTITY.column, help_text="Signed: positive adds, negative removes.")
    on_hand_after = models.DecimalField(**QUANTITY.column)
    reserved_after = models.DecimalField(**QUANTITY.column)
    unit_cost = models.DecimalField(**PRICE.column, null=True, blank=True)
    reason = models.CharField(max_length=32, blank=True)
    note = models.TextField(blank=True)
    reference_type = models.CharField(
        max_length=32, default=ReferenceType.MANUAL, help_text="The source: what caused it (the caller's name)."
    )
    reference_id = models.UUIDField(null=True, blank=True, help_text="The source's id (the caller's).")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=False)

    runtime_privileges: ClassVar[tuple[str, ...]] = ("SELECT", "INSERT")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="movement_quantity_not_zero"),
            models.CheckConstraint(
                condition=Q(on_hand_after__gte=0) & Q(reserved_after__gte=0), name="movement_after_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "product", "created_at"], name="movement_tenant_product_time"),
            models.Index(fields=["tenant", "warehouse", "created_at"], name="movement_tenant_wh_time"),
            # The ledger's order (-created_at, -id), read backwards: a page is 50 index entries
            # even where thousands of movements share a timestamp (an import batch's).
            models.Index(fields=["tenant", "created_at", "id"], name="movement_tenant_time_id"),
            models.Index(fields=["tenant", "reference_type", "reference_id"], name="movement_tenant_reference"),
        ]


class Reservation(TenantScopedModel):
    """Stock held for a document line. A level's ``reserved`` always equals the
    sum of ``quantity`` of its open reservations (the same service call keeps both)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    product = TenantForeignKey(Product, on_delete=models.PROTECT, related_name="reservations", db_index=False)
    warehouse = TenantForeignKey(Warehouse, on_delete=models.PROTECT, related_name="reservations")
    quantity = models.DecimalField(**QUANTITY.column, help_text="Still held; 0 once fully issued or released.")
    reference_type = models.CharField(max_length=32, help_text="The source: the caller's name for its lines.")
    reference_id = models.UUIDField(help_text="The source's id for the line (the caller's).")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=0), name="reservation_quantity_not_negative"),
            models.UniqueConstraint(
                fields=["tenant", "reference_type", "reference_id"],
                condition=Q(closed_at__isnull=True),
                name="reservation_one_open_per_reference",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "product", "warehouse"], name="reservation_tenant_level")]


class LowStockAlert(TenantScopedModel):
    """Open while a level is below its reorder point (the level's, else the product's); one open alert per level."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    product = TenantForeignKey(Product, on_delete=models.CASCADE, related_name="low_stock_alerts", db_index=False)
    warehouse = TenantForeignKey(Warehouse, on_delete=models.CASCADE, related_name="low_stock_alerts")
    available_at_open = models.DecimalField(**QUANTITY.column)
    reorder_point = models.DecimalField(**QUANTITY.column)
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "product", "warehouse"],
                condition=Q(closed_at__isnull=True),
                name="low_stock_alert_one_open",
            )
        ]


class JobStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class ImportJob(TenantScopedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=32, default="products")
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING)
    file_name = models.CharField(max_length=255)
    storage_key = models.CharField(max_length=500)
    skip_invalid_rows = models.BooleanField(default=False)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="The first errors: row, column, message.")
    message = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Queued at creation; the dispatch sweep re-queues a job still pending after a grace period.
    dispatched_at = models.DateTimeField(default=timezone.now)
    dispatch_attempts = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["-created_at"]
        # The dispatch sweep's look-up (across tenants, on the ops alias).
        indexes = [models.Index(fields=["dispatched_at"], condition=Q(status="pending"), name="import_pending")]


class ExportKind(models.TextChoices):
    PRODUCTS = "products", "Products"
    STOCK_LEVELS = "stock_levels", "Stock levels"
    MOVEMENTS = "movements", "Movements"


class ExportJob(TenantScopedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=32, choices=ExportKind.choices)
    filters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING)
    storage_key = models.CharField(max_length=500, blank=True)
    row_count = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(default=timezone.now)
    dispatch_attempts = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["-created_at"]
        # The dispatch sweep's look-up (across tenants, on the ops alias).
        indexes = [models.Index(fields=["dispatched_at"], condition=Q(status="pending"), name="export_pending")]
