"""Sales and purchase orders, their lines, shipments, receipts, returns and history."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from core.numbers import AMOUNT, PERCENT, PRICE, QUANTITY
from inventory.models import Customer, Product, Supplier, Warehouse
from tenants.fields import TenantForeignKey
from tenants.scoping import TenantScopedModel

ZERO = Decimal("0")


class StockSource:
    """Orders' names for the stock they move. Inventory stores them as the source
    (``reference_type``) of movements and reservations, with the line's id (a return
    line's for returns) as ``reference_id``."""

    SALES_ORDER_LINE = "sales_order_line"
    PURCHASE_ORDER_LINE = "purchase_order_line"
    CUSTOMER_RETURN = "customer_return"
    SUPPLIER_RETURN = "supplier_return"


class SequenceKind(models.TextChoices):
    SALES = "sales", "Sales orders"
    PURCHASE = "purchase", "Purchase orders"


DEFAULT_PREFIXES = {SequenceKind.SALES: "SO", SequenceKind.PURCHASE: "PO"}
# An order-number prefix, as the API and the console take it.
PREFIX_PATTERN = r"^[A-Za-z0-9]{1,12}$"
PREFIX_MESSAGE = "Use 1-12 letters or digits (A-Z, a-z, 0-9), no spaces or symbols, e.g. SO."


class DocumentSequence(TenantScopedModel):
    """The next order number per tenant and kind. Taken under a row lock in the
    transaction that numbers the order, so a rollback gives the number back: no gaps."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=SequenceKind.choices)
    prefix = models.CharField(max_length=12)
    next_value = models.PositiveBigIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "kind"], name="document_sequence_unique_kind")]


class SalesStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    CONFIRMED = "confirmed", "Confirmed"
    PARTIALLY_FULFILLED = "partially_fulfilled", "Partially fulfilled"
    FULFILLED = "fulfilled", "Fulfilled"
    CANCELLED = "cancelled", "Cancelled"


class PurchaseStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ORDERED = "ordered", "Ordered"
    PARTIALLY_RECEIVED = "partially_received", "Partially received"
    RECEIVED = "received", "Received"
    CANCELLED = "cancelled", "Cancelled"


class Order(TenantScopedModel):
    """Fields shared by sales and purchase orders. ``number`` is given when the order
    leaves draft (confirm / order), so deleting drafts never leaves a gap."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001 - NULL until numbered; unique
    notes = models.TextField(blank=True)
    expected_date = models.DateField(null=True, blank=True)
    external_reference = models.CharField(max_length=100, blank=True)
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(**AMOUNT.column, default=ZERO)
    discount_total = models.DecimalField(**AMOUNT.column, default=ZERO)
    tax_total = models.DecimalField(**AMOUNT.column, default=ZERO)
    total = models.DecimalField(**AMOUNT.column, default=ZERO)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]


class SalesOrder(Order):
    customer = TenantForeignKey(Customer, on_delete=models.PROTECT, related_name="sales_orders", db_index=False)
    status = models.CharField(max_length=24, choices=SalesStatus.choices, default=SalesStatus.DRAFT)

    class Meta(Order.Meta):
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="sales_order_unique_number"),
            models.UniqueConstraint(
                fields=["tenant", "external_reference"],
                condition=~Q(external_reference=""),
                name="sales_order_unique_external_reference",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "status", "created_at"], name="sales_order_tenant_status"),
            models.Index(fields=["tenant", "customer"], name="sales_order_tenant_customer"),
            models.Index(fields=["tenant", "created_at"], name="sales_order_tenant_created"),
        ]


class PurchaseOrder(Order):
    supplier = TenantForeignKey(Supplier, on_delete=models.PROTECT, related_name="purchase_orders", db_index=False)
    status = models.CharField(max_length=24, choices=PurchaseStatus.choices, default=PurchaseStatus.DRAFT)
    over_receipt_tolerance_percent = models.DecimalField(
        **PERCENT.column, default=ZERO, help_text="How much more than ordered may be received, in percent."
    )

    class Meta(Order.Meta):
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="purchase_order_unique_number"),
            models.UniqueConstraint(
                fields=["tenant", "external_reference"],
                condition=~Q(external_reference=""),
                name="purchase_order_unique_external_reference",
            ),
            models.CheckConstraint(
                condition=Q(over_receipt_tolerance_percent__gte=0, over_receipt_tolerance_percent__lte=100),
                name="purchase_order_tolerance_range",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "status", "created_at"], name="purchase_order_tenant_status"),
            models.Index(fields=["tenant", "supplier"], name="purchase_order_tenant_supplier"),
            models.Index(fields=["tenant", "created_at"], name="purchase_order_tenant_created"),
        ]


class OrderLine(TenantScopedModel):
    """A product, a warehouse, a quantity and prices snapshotted when the line was written."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    position = models.PositiveIntegerField(default=0)
    product = TenantForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    warehouse = TenantForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(**QUANTITY.column)
    unit_price = models.DecimalField(**PRICE.column)
    discount_percent = models.DecimalField(**PERCENT.column, default=ZERO)
    tax_rate = models.DecimalField(**PERCENT.column, default=ZERO, help_text="Percent, e.g. 20 for 20 %.")
    line_subtotal = models.DecimalField(**AMOUNT.column, default=ZERO)
    line_discount = models.DecimalField(**AMOUNT.column, default=ZERO)
    line_tax = models.DecimalField(**AMOUNT.column, default=ZERO)
    line_total = models.DecimalField(**AMOUNT.column, default=ZERO)

    class Meta:
        abstract = True
        ordering = ["position", "id"]


class SalesOrderLine(OrderLine):
    order = TenantForeignKey(SalesOrder, on_delete=models.CASCADE, related_name="lines", db_index=False)
    shipped_quantity = models.DecimalField(**QUANTITY.column, default=ZERO)
    returned_quantity = models.DecimalField(**QUANTITY.column, default=ZERO)

    class Meta(OrderLine.Meta):
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="sales_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(shipped_quantity__gte=0) & Q(shipped_quantity__lte=F("quantity")),
                name="sales_line_shipped_within_ordered",
            ),
            models.CheckConstraint(
                condition=Q(returned_quantity__gte=0) & Q(returned_quantity__lte=F("shipped_quantity")),
                name="sales_line_returned_within_shipped",
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0, discount_percent__gte=0, discount_percent__lte=100, tax_rate__gte=0),
                name="sales_line_prices_valid",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "order"], name="sales_line_tenant_order")]


class PurchaseOrderLine(OrderLine):
    order = TenantForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines", db_index=False)
    received_quantity = models.DecimalField(**QUANTITY.column, default=ZERO)
    returned_quantity = models.DecimalField(**QUANTITY.column, default=ZERO)

    class Meta(OrderLine.Meta):
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="purchase_line_quantity_positive"),
            models.CheckConstraint(condition=Q(received_quantity__gte=0), name="purchase_line_received_not_negative"),
            models.CheckConstraint(
                condition=Q(returned_quantity__gte=0) & Q(returned_quantity__lte=F("received_quantity")),
                name="purchase_line_returned_within_received",
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0, discount_percent__gte=0, discount_percent__lte=100, tax_rate__gte=0),
                name="purchase_line_prices_valid",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "order"], name="purchase_line_tenant_order")]


class StatusChange(TenantScopedModel):
    """One transition of one order: who, when, from what to what."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    sales_order = TenantForeignKey(SalesOrder, null=True, on_delete=models.CASCADE, related_name="history")
    purchase_order = TenantForeignKey(PurchaseOrder, null=True, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sales_order__isnull=False, purchase_order__isnull=True)
                | Q(sales_order__isnull=True, purchase_order__isnull=False),
                name="status_change_one_order",
            )
        ]


class Shipment(TenantScopedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = TenantForeignKey(SalesOrder, on_delete=models.PROTECT, related_name="shipments")
    carrier = models.CharField(max_length=100, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]


class ShipmentLine(TenantScopedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shipment = TenantForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = TenantForeignKey(SalesOrderLine, on_delete=models.PROTECT, related_name="shipment_lines")
    quantity = models.DecimalField(**QUANTITY.column)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="shipment_line_quantity_positive")]


class Receipt(TenantScopedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = TenantForeignKey(PurchaseOrder, on_delete=models.PROTECT, related_name="receipts")
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]


class ReceiptLine(TenantScopedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    receipt = TenantForeignKey(Receipt, on_delete=models.CASCADE, related_name="lines")
    order_line = TenantForeignKey(PurchaseOrderLine, on_delete=models.PROTECT, related_name="receipt_lines")
    warehouse = TenantForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(**QUANTITY.column)
    unit_cost = models.DecimalField(**PRICE.column)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="receipt_line_quantity_positive")]


class ReturnDisposition(models.TextChoices):
    RESTOCK = "restock", "Back into stock"
    WRITE_OFF = "write_off", "Written off"


class OrderReturn(TenantScopedModel):
    """A customer's return against a sales order, or a return to the supplier of a purchase order."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    sales_order = TenantForeignKey(SalesOrder, null=True, on_delete=models.PROTECT, related_name="returns")
    purchase_order = TenantForeignKey(PurchaseOrder, null=True, on_delete=models.PROTECT, related_name="returns")
    reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sales_order__isnull=False, purchase_order__isnull=True)
                | Q(sales_order__isnull=True, purchase_order__isnull=False),
                name="order_return_one_order",
            )
        ]


class OrderReturnLine(TenantScopedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order_return = TenantForeignKey(OrderReturn, on_delete=models.CASCADE, related_name="lines")
    sales_line = TenantForeignKey(SalesOrderLine, null=True, on_delete=models.PROTECT, related_name="return_lines")
    purchase_line = TenantForeignKey(
        PurchaseOrderLine, null=True, on_delete=models.PROTECT, related_name="return_lines"
    )
    warehouse = TenantForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(**QUANTITY.column)
    disposition = models.CharField(max_length=16, choices=ReturnDisposition.choices, default=ReturnDisposition.RESTOCK)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="return_line_quantity_positive")]
