from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.numbers import AMOUNT, PRICE, QUANTITY
from inventory import errors
from inventory.models import (
    Category,
    Customer,
    ExportJob,
    ExportKind,
    ImportJob,
    LowStockAlert,
    MovementKind,
    Product,
    StockLevel,
    StockMovement,
    Supplier,
    SupplierProduct,
    Unit,
    Warehouse,
)
from tenants.api.fields import TenantRelatedField

POSITIVE = QUANTITY.quantum


class CategorySerializer(serializers.ModelSerializer[Category]):
    parent = TenantRelatedField(Category, allow_null=True, required=False)  # type: ignore[assignment]

    class Meta:
        model = Category
        fields = ["id", "name", "description", "parent", "depth", "path", "created_at"]
        read_only_fields = ["id", "depth", "path", "created_at"]


class CategoryBriefSerializer(serializers.ModelSerializer[Category]):
    class Meta:
        model = Category
        fields = ["id", "name"]
        read_only_fields = fields


class ProductSerializer(serializers.ModelSerializer[Product]):
    category = TenantRelatedField(Category, allow_null=True, required=False)
    category_name = serializers.CharField(source="category.name", read_only=True, allow_null=True)
    cost_price = PRICE.serializer_field(required=False)
    selling_price = PRICE.serializer_field(required=False)
    reorder_point = QUANTITY.serializer_field(required=False)
    reorder_quantity = QUANTITY.serializer_field(required=False)
    lead_time_days = serializers.IntegerField(min_value=0, max_value=3650, required=False)
    attributes = serializers.DictField(required=False, help_text="Free-form attributes (JSON object).")
    unit = serializers.ChoiceField(choices=Unit.choices, required=False)

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "name",
            "description",
            "category",
            "category_name",
            "unit",
            "barcode",
            "cost_price",
            "selling_price",
            "average_cost",
            "reorder_point",
            "reorder_quantity",
            "lead_time_days",
            "is_active",
            "archived_at",
            "attributes",
            "image_url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "average_cost", "archived_at", "created_at", "updated_at"]
        # Uniqueness is checked by the service (case-insensitive SKU), not by DRF validators.
        validators: list[Any] = []

    def validate_sku(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError("The SKU cannot be blank.")
        return value


class PartySerializer(serializers.ModelSerializer[Any]):
    class Meta:
        fields = [
            "id",
            "name",
            "contact_name",
            "email",
            "phone",
            "address",
            "tax_id",
            "payment_terms",
            "notes",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class SupplierSerializer(PartySerializer):
    class Meta(PartySerializer.Meta):
        model = Supplier


class CustomerSerializer(PartySerializer):
    class Meta(PartySerializer.Meta):
        model = Customer


class SupplierProductSerializer(serializers.ModelSerializer[SupplierProduct]):
    supplier = TenantRelatedField(Supplier)
    product = TenantRelatedField(Product)
    supplier_name = serializers.CharField(source="supplier.name", read_only=True)
    product_sku = serializers.CharField(source="product.sku", read_only=True)
    price = PRICE.serializer_field(required=False)
    lead_time_days = serializers.IntegerField(min_value=0, max_value=3650, required=False)

    class Meta:
        model = SupplierProduct
        fields = [
            "id",
            "supplier",
            "supplier_name",
            "product",
            "product_sku",
            "supplier_sku",
            "price",
            "lead_time_days",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]
        validators: list[Any] = []


class WarehouseSerializer(serializers.ModelSerializer[Warehouse]):
    class Meta:
        model = Warehouse
        fields = ["id", "code", "name", "address", "is_active", "created_at"]
        read_only_fields = ["id", "created_at"]
        validators: list[Any] = []


class ProductBriefSerializer(serializers.ModelSerializer[Product]):
    class Meta:
        model = Product
        fields = ["id", "sku", "name", "unit"]
        read_only_fields = fields


class WarehouseBriefSerializer(serializers.ModelSerializer[Warehouse]):
    class Meta:
        model = Warehouse
        fields = ["id", "code", "name"]
        read_only_fields = fields


class StockLevelSerializer(serializers.ModelSerializer[StockLevel]):
    """A level of ``selectors.stock_level_list()`` (which adds the values in effect)."""

    product = ProductBriefSerializer(read_only=True)
    warehouse = WarehouseBriefSerializer(read_only=True)
    available = QUANTITY.read_field()
    reorder_point = QUANTITY.read_field(
        source="reorder_point_in_effect", help_text="The level's reorder point, else the product's."
    )
    reorder_quantity = QUANTITY.read_field(
        source="reorder_quantity_in_effect", help_text="The level's reorder quantity, else the product's."
    )
    level_reorder_point = QUANTITY.read_field(
        source="reorder_point", allow_null=True, help_text="Set on this level; null: the product's applies."
    )
    level_reorder_quantity = QUANTITY.read_field(
        source="reorder_quantity", allow_null=True, help_text="Set on this level; null: the product's applies."
    )

    class Meta:
        model = StockLevel
        fields = [
            "id",
            "product",
            "warehouse",
            "on_hand",
            "reserved",
            "available",
            "reorder_point",
            "reorder_quantity",
            "level_reorder_point",
            "level_reorder_quantity",
            "updated_at",
        ]
        read_only_fields = fields


class StockLevelReorderInput(serializers.Serializer[Any]):
    reorder_point = QUANTITY.serializer_field(
        required=False, allow_null=True, help_text="This warehouse's reorder point; null: use the product's."
    )
    reorder_quantity = QUANTITY.serializer_field(
        required=False, allow_null=True, help_text="This warehouse's reorder quantity; null: use the product's."
    )


class LowStockSerializer(StockLevelSerializer):
    """A level of ``selectors.low_stock_list()``."""

    suggested_order_quantity = QUANTITY.read_field(
        help_text="The reorder quantity in effect, or enough to reach the reorder point, whichever is more."
    )

    class Meta(StockLevelSerializer.Meta):
        fields = [*StockLevelSerializer.Meta.fields, "suggested_order_quantity"]
        read_only_fields = fields


class StockMovementSerializer(serializers.ModelSerializer[StockMovement]):
    product = ProductBriefSerializer(read_only=True)
    warehouse = WarehouseBriefSerializer(read_only=True)
    user = serializers.EmailField(source="user.email", read_only=True, allow_null=True)

    class Meta:
        model = StockMovement
        fields = [
            "id",
            "kind",
            "product",
            "warehouse",
            "quantity",
            "on_hand_after",
            "reserved_after",
            "unit_cost",
            "reason",
            "note",
            "reference_type",
            "reference_id",
            "user",
            "created_at",
        ]
        read_only_fields = fields


class MovementsSerializer(serializers.Serializer[Any]):
    movements = StockMovementSerializer(many=True)


# Built once and reused: a ModelSerializer builds its fields (model introspection) every
# time one is instantiated, which was ~20 % of a stock operation's request. Rendering
# keeps no state on the serializer, so one instance serves every request and thread.
_MOVEMENT = StockMovementSerializer()


def movements_payload(movements: list[StockMovement]) -> dict[str, Any]:
    """The body of ``MovementsSerializer`` for the stock operations' responses."""
    return {"movements": [_MOVEMENT.to_representation(movement) for movement in movements]}


# --- Stock operation inputs ------------------------------------------------------------------


# Ids are checked for form here; the stock services look them up (and lock the
# levels) in one query, with a ``does_not_exist`` error per unknown field.
class _StockInput(serializers.Serializer[Any]):
    product = serializers.UUIDField(help_text="A product of this workspace.")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ReceiveInput(_StockInput):
    warehouse = serializers.UUIDField(help_text="A warehouse of this workspace.")
    quantity = QUANTITY.serializer_field(min_value=POSITIVE)
    unit_cost = PRICE.serializer_field(
        required=False, allow_null=True, help_text="Defaults to the product's cost price."
    )


class IssueInput(_StockInput):
    warehouse = serializers.UUIDField(help_text="A warehouse of this workspace.")
    quantity = QUANTITY.serializer_field(min_value=POSITIVE)


class AdjustInput(_StockInput):
    warehouse = serializers.UUIDField(help_text="A warehouse of this workspace.")
    counted_quantity = QUANTITY.serializer_field(required=False)
    delta = QUANTITY.serializer_field(min_value=-QUANTITY.max_value, required=False)
    reason = serializers.CharField(max_length=32, help_text="A short reason code: count, damage, loss, found, ...")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("counted_quantity" in attrs) == ("delta" in attrs):
            raise serializers.ValidationError("Give either counted_quantity or delta.", code=errors.COUNTED_OR_DELTA)
        if attrs.get("delta") == 0:
            raise serializers.ValidationError({"delta": ["The delta must not be zero."]}, code=errors.ZERO_QUANTITY)
        return attrs


class TransferInput(_StockInput):
    from_warehouse = serializers.UUIDField(help_text="A warehouse of this workspace.")
    to_warehouse = serializers.UUIDField(help_text="A warehouse of this workspace.")
    quantity = QUANTITY.serializer_field(min_value=POSITIVE)


class WarehouseQuerySerializer(serializers.Serializer[Any]):
    warehouse = serializers.UUIDField(required=False, help_text="Only this warehouse.")


class ValuationWarehouseSerializer(serializers.Serializer[Any]):
    warehouse = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()
    quantity = QUANTITY.sum_field()
    value = AMOUNT.sum_field()


class ValuationSerializer(serializers.Serializer[Any]):
    currency = serializers.CharField()
    total_value = AMOUNT.sum_field()
    warehouses = ValuationWarehouseSerializer(many=True)


class LowStockAlertSerializer(serializers.ModelSerializer[LowStockAlert]):
    product = ProductBriefSerializer(read_only=True)
    warehouse = WarehouseBriefSerializer(read_only=True)

    class Meta:
        model = LowStockAlert
        fields = ["id", "product", "warehouse", "available_at_open", "reorder_point", "opened_at", "closed_at"]
        read_only_fields = fields


# --- Jobs ------------------------------------------------------------------------------------------


class ImportInput(serializers.Serializer[Any]):
    file = serializers.FileField(help_text="CSV with a header row; see docs/inventory.md for the columns.")
    skip_invalid_rows = serializers.BooleanField(
        default=False, help_text="Import the valid rows and report the others (default: nothing if any row fails)."
    )


class ImportJobSerializer(serializers.ModelSerializer[ImportJob]):
    class Meta:
        model = ImportJob
        fields = [
            "id",
            "kind",
            "status",
            "file_name",
            "skip_invalid_rows",
            "total_rows",
            "processed_rows",
            "created_count",
            "updated_count",
            "error_count",
            "errors",
            "message",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class ExportInput(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=ExportKind.choices)
    product = TenantRelatedField(Product, required=False)
    warehouse = TenantRelatedField(Warehouse, required=False)
    movement_kind = serializers.ChoiceField(choices=MovementKind.choices, required=False)
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)


class ExportJobSerializer(serializers.ModelSerializer[ExportJob]):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "kind",
            "filters",
            "status",
            "row_count",
            "message",
            "download_url",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_download_url(self, job: ExportJob) -> str | None:
        if job.status != "succeeded":
            return None
        return f"/api/v1/exports/{job.id}/download/"
