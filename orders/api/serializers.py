from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from core.numbers import AMOUNT, PERCENT, PRICE, QUANTITY
from inventory.api.serializers import ProductBriefSerializer, WarehouseBriefSerializer
from inventory.models import Customer, Product, Supplier, Warehouse
from orders.models import (
    PREFIX_MESSAGE,
    PREFIX_PATTERN,
    OrderReturn,
    OrderReturnLine,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseStatus,
    Receipt,
    ReceiptLine,
    ReturnDisposition,
    SalesOrder,
    SalesOrderLine,
    SalesStatus,
    Shipment,
    ShipmentLine,
    StatusChange,
)
from tenants.api.fields import TenantRelatedField

MAX_LINES = 500


class LineInputSerializer(serializers.Serializer[Any]):
    product = TenantRelatedField(Product)
    warehouse = TenantRelatedField(Warehouse)
    quantity = QUANTITY.serializer_field(min_value=QUANTITY.quantum)
    unit_price = PRICE.serializer_field(
        required=False, help_text="Defaults to the product's selling price (sales) or the supplier's price."
    )
    discount_percent = PERCENT.serializer_field(required=False, default=Decimal("0"))
    tax_rate = PERCENT.serializer_field(required=False, default=Decimal("0"), help_text="Percent.")

    def to_internal_value(self, data: Any) -> Any:
        """A line is always whole: a PATCH of the order is partial for the order's own
        fields, not for the lines it replaces (DRF would skip their required fields)."""
        value = super().to_internal_value(data)
        missing = [name for name, field in self.fields.items() if field.required and name not in value]
        if missing:
            raise serializers.ValidationError(
                {
                    name: [serializers.ErrorDetail(str(self.fields[name].error_messages["required"]), code="required")]
                    for name in missing
                }
            )
        return value


class _OrderWriteSerializer(serializers.Serializer[Any]):
    lines = LineInputSerializer(many=True, min_length=1, max_length=MAX_LINES)  # type: ignore[call-arg]
    notes = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    expected_date = serializers.DateField(required=False, allow_null=True)
    external_reference = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        help_text="Your system's id for the order; unique per workspace, so re-sending it never duplicates.",
    )


class SalesOrderWriteSerializer(_OrderWriteSerializer):
    customer = TenantRelatedField(Customer)


class PurchaseOrderWriteSerializer(_OrderWriteSerializer):
    supplier = TenantRelatedField(Supplier)
    over_receipt_tolerance_percent = PERCENT.serializer_field(required=False)


class PartyBriefSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    name = serializers.CharField()


class _LineSerializer(serializers.ModelSerializer[Any]):
    product = ProductBriefSerializer(read_only=True)
    warehouse = WarehouseBriefSerializer(read_only=True)
    common = [
        "id",
        "position",
        "product",
        "warehouse",
        "quantity",
        "unit_price",
        "discount_percent",
        "tax_rate",
        "line_subtotal",
        "line_discount",
        "line_tax",
        "line_total",
    ]


class SalesLineSerializer(_LineSerializer):
    class Meta:
        model = SalesOrderLine
        fields = [*_LineSerializer.common, "shipped_quantity", "returned_quantity"]
        read_only_fields = fields


class PurchaseLineSerializer(_LineSerializer):
    class Meta:
        model = PurchaseOrderLine
        fields = [*_LineSerializer.common, "received_quantity", "returned_quantity"]
        read_only_fields = fields


class StatusChangeSerializer(serializers.ModelSerializer[StatusChange]):
    user = serializers.EmailField(source="user.email", read_only=True, allow_null=True)

    class Meta:
        model = StatusChange
        fields = ["from_status", "to_status", "user", "note", "created_at"]
        read_only_fields = fields


class ShipmentLineSerializer(serializers.ModelSerializer[ShipmentLine]):
    class Meta:
        model = ShipmentLine
        fields = ["order_line", "quantity"]
        read_only_fields = fields


class ShipmentSerializer(serializers.ModelSerializer[Shipment]):
    lines = ShipmentLineSerializer(many=True, read_only=True)

    class Meta:
        model = Shipment
        fields = ["id", "carrier", "tracking_number", "note", "lines", "created_at"]
        read_only_fields = fields


class ReceiptLineSerializer(serializers.ModelSerializer[ReceiptLine]):
    class Meta:
        model = ReceiptLine
        fields = ["order_line", "warehouse", "quantity", "unit_cost"]
        read_only_fields = fields


class ReceiptSerializer(serializers.ModelSerializer[Receipt]):
    lines = ReceiptLineSerializer(many=True, read_only=True)

    class Meta:
        model = Receipt
        fields = ["id", "note", "lines", "created_at"]
        read_only_fields = fields


class ReturnLineSerializer(serializers.ModelSerializer[OrderReturnLine]):
    order_line = serializers.SerializerMethodField()

    class Meta:
        model = OrderReturnLine
        fields = ["order_line", "warehouse", "quantity", "disposition"]
        read_only_fields = fields

    def get_order_line(self, row: OrderReturnLine) -> str:
        return str(row.sales_line_id or row.purchase_line_id)


class ReturnSerializer(serializers.ModelSerializer[OrderReturn]):
    lines = ReturnLineSerializer(many=True, read_only=True)

    class Meta:
        model = OrderReturn
        fields = ["id", "reason", "lines", "created_at"]
        read_only_fields = fields


_ORDER_FIELDS = [
    "id",
    "number",
    "status",
    "currency",
    "subtotal",
    "discount_total",
    "tax_total",
    "total",
    "notes",
    "expected_date",
    "external_reference",
    "lines",
    "history",
    "created_at",
    "updated_at",
]


class SalesOrderSerializer(serializers.ModelSerializer[SalesOrder]):
    customer = PartyBriefSerializer(read_only=True)
    lines = SalesLineSerializer(many=True, read_only=True)
    history = StatusChangeSerializer(many=True, read_only=True)
    status = serializers.ChoiceField(choices=SalesStatus.choices, read_only=True)

    class Meta:
        model = SalesOrder
        fields = [*_ORDER_FIELDS[:3], "customer", *_ORDER_FIELDS[3:]]
        read_only_fields = fields


class SalesOrderDetailSerializer(SalesOrderSerializer):
    shipments = ShipmentSerializer(many=True, read_only=True)
    returns = ReturnSerializer(many=True, read_only=True)

    class Meta(SalesOrderSerializer.Meta):
        fields = [*SalesOrderSerializer.Meta.fields, "shipments", "returns"]
        read_only_fields = fields


class PurchaseOrderSerializer(serializers.ModelSerializer[PurchaseOrder]):
    supplier = PartyBriefSerializer(read_only=True)
    lines = PurchaseLineSerializer(many=True, read_only=True)
    history = StatusChangeSerializer(many=True, read_only=True)
    status = serializers.ChoiceField(choices=PurchaseStatus.choices, read_only=True)

    class Meta:
        model = PurchaseOrder
        fields = [*_ORDER_FIELDS[:3], "supplier", "over_receipt_tolerance_percent", *_ORDER_FIELDS[3:]]
        read_only_fields = fields


class PurchaseOrderDetailSerializer(PurchaseOrderSerializer):
    receipts = ReceiptSerializer(many=True, read_only=True)
    returns = ReturnSerializer(many=True, read_only=True)

    class Meta(PurchaseOrderSerializer.Meta):
        fields = [*PurchaseOrderSerializer.Meta.fields, "receipts", "returns"]
        read_only_fields = fields


# --- Actions ------------------------------------------------------------------------------------


class LineQuantitySerializer(serializers.Serializer[Any]):
    line = serializers.UUIDField(help_text="Id of a line of this order.")
    quantity = QUANTITY.serializer_field(min_value=QUANTITY.quantum)


class ShipInput(serializers.Serializer[Any]):
    lines = LineQuantitySerializer(many=True, min_length=1, max_length=MAX_LINES)  # type: ignore[call-arg]
    carrier = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    tracking_number = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ReceiveLineSerializer(LineQuantitySerializer):
    warehouse = TenantRelatedField(Warehouse, required=False, help_text="Defaults to the line's warehouse.")


class PurchaseReceiveInput(serializers.Serializer[Any]):
    lines = ReceiveLineSerializer(many=True, min_length=1, max_length=MAX_LINES)  # type: ignore[call-arg]
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class SalesReturnLineSerializer(ReceiveLineSerializer):
    disposition = serializers.ChoiceField(
        choices=ReturnDisposition.choices,
        help_text="restock: back into stock (a receipt at average cost); write_off: recorded, no stock moves.",
    )


class SalesReturnInput(serializers.Serializer[Any]):
    lines = SalesReturnLineSerializer(many=True, min_length=1, max_length=MAX_LINES)  # type: ignore[call-arg]
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class PurchaseReturnInput(serializers.Serializer[Any]):
    lines = ReceiveLineSerializer(many=True, min_length=1, max_length=MAX_LINES)  # type: ignore[call-arg]
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class CancelInput(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


# --- Stats and settings ----------------------------------------------------------------------------


class StatsQuerySerializer(serializers.Serializer[Any]):
    type = serializers.ChoiceField(choices=["sales", "purchase"], default="sales")
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False, help_text="Not before `date_from`.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "date_from" in attrs and "date_to" in attrs and attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError({"date_from": ["Must not be after `date_to`."]}, code="invalid_range")
        return attrs


class StatusStatSerializer(serializers.Serializer[Any]):
    status = serializers.CharField()
    count = serializers.IntegerField()
    total = AMOUNT.sum_field()


class DayStatSerializer(serializers.Serializer[Any]):
    date = serializers.DateField()
    count = serializers.IntegerField()
    total = AMOUNT.sum_field()


class CancelledStatSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField()
    total = AMOUNT.sum_field()


class StatsSerializer(serializers.Serializer[Any]):
    type = serializers.CharField()
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    currency = serializers.CharField()
    count = serializers.IntegerField(help_text="Orders created in the range, cancelled ones left out.")
    total = AMOUNT.sum_field(help_text="Their total, cancelled orders left out.")
    cancelled = CancelledStatSerializer(help_text="The cancelled orders of the range, apart.")
    by_status = StatusStatSerializer(many=True)
    by_day = DayStatSerializer(many=True, help_text="Per day of creation, cancelled orders left out.")


class NumberingSerializer(serializers.Serializer[Any]):
    sales_prefix = serializers.RegexField(
        PREFIX_PATTERN,
        required=False,
        help_text="1-12 letters or digits, e.g. SO.",
        error_messages={"invalid": PREFIX_MESSAGE},
    )
    purchase_prefix = serializers.RegexField(
        PREFIX_PATTERN,
        required=False,
        help_text="1-12 letters or digits, e.g. PO.",
        error_messages={"invalid": PREFIX_MESSAGE},
    )
    next_sales_number = serializers.CharField(read_only=True)
    next_purchase_number = serializers.CharField(read_only=True)
