"""Inventory API: thin views over inventory.services and inventory.selectors."""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from django.db import transaction
from django.db.models import QuerySet, Subquery
from django.http import FileResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.utils.decorators import method_decorator
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.fast import RowListMixin, RowRetrieveMixin
from core.api.filters import FilterBackend, FilterSet, parse_query
from core.api.pagination import NewestFirstCursorPagination
from core.api.parsers import MultiPartParser
from core.api.rows import row_format
from core.api.schema import ErrorSerializer
from inventory import selectors
from inventory.api import serializers as s
from inventory.imports.services import import_job_create
from inventory.models import (
    Category,
    Customer,
    ExportJob,
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
from inventory.services import catalog, stock
from inventory.services.exports import EXPORT_CONTENT_TYPE, ExportLink, export_job_create, export_job_download
from inventory.tasks import run_export, run_import
from tenants.api.base import TenantViewSet
from tenants.context import get_current_tenant
from tenants.models import Role
from tenants.permissions import request_user
from tenants.tasking import enqueue_on_commit

# --- Categories -------------------------------------------------------------------------


class CategoryFilter(FilterSet):
    parent = filters.UUIDFilter(field_name="parent_id")
    root = filters.BooleanFilter(field_name="parent", lookup_expr="isnull", label="Only top-level categories")
    subtree_of = filters.UUIDFilter(method="filter_subtree", label="A category and all its descendants")

    class Meta:
        model = Category
        fields = ["parent", "root"]

    @extend_schema_field(OpenApiTypes.UUID)
    def filter_subtree(self, queryset: QuerySet[Category], name: str, value: Any) -> QuerySet[Category]:
        path = Category.objects.filter(pk=value).values("path")[:1]
        return queryset.filter(path__startswith=Subquery(path))


@extend_schema(tags=["catalog"])
class CategoryViewSet(
    TenantViewSet,
    RowListMixin,
    RowRetrieveMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    """Categories form a tree. Moving one (changing ``parent``) moves its subtree;
    ``?subtree_of=<id>`` lists a category with all its descendants in one query."""

    scope_group = "catalog"
    model = Category
    serializer_class = s.CategorySerializer
    filterset_class = CategoryFilter
    search_fields = ["name"]
    ordering_fields = ["name", "path", "created_at"]
    ordering = ["path"]

    def scoped_queryset(self) -> QuerySet[Category]:
        return selectors.category_list()

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = catalog.category_create(**serializer.validated_data)

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = catalog.category_update(category=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance: Category) -> None:
        catalog.category_delete(category=instance)


# --- Products ---------------------------------------------------------------------------


class ProductFilter(FilterSet):
    category = filters.UUIDFilter(field_name="category_id")
    category_tree = filters.UUIDFilter(method="filter_category_tree", label="In this category or its descendants")
    unit = filters.ChoiceFilter(choices=Unit.choices)
    sku = filters.CharFilter(field_name="sku", lookup_expr="iexact")
    barcode = filters.CharFilter(field_name="barcode")

    class Meta:
        model = Product
        fields = ["category", "is_active", "unit", "sku", "barcode"]

    @extend_schema_field(OpenApiTypes.UUID)
    def filter_category_tree(self, queryset: QuerySet[Product], name: str, value: Any) -> QuerySet[Product]:
        path = Category.objects.filter(pk=value).values("path")[:1]
        return queryset.filter(category__path__startswith=Subquery(path))


PRODUCT_EXAMPLE = OpenApiExample(
    "Product",
    value={
        "sku": "BOLT-M8-40",
        "name": "Hex bolt M8 x 40",
        "unit": "pcs",
        "barcode": "4006381333931",
        "cost_price": "0.1200",
        "selling_price": "0.3500",
        "reorder_point": "500",
        "reorder_quantity": "2000",
        "lead_time_days": 7,
        "attributes": {"material": "steel", "finish": "zinc"},
    },
    request_only=True,
)


@extend_schema_view(
    create=extend_schema(examples=[PRODUCT_EXAMPLE]),
    destroy=extend_schema(
        description="Deletes a product without stock history (204); a product with history is archived "
        "instead (200, `is_active` false).",
        responses={200: s.ProductSerializer, 204: None},
    ),
)
@extend_schema(tags=["catalog"])
class ProductViewSet(
    TenantViewSet,
    RowListMixin,
    RowRetrieveMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    """Products: SKU unique per workspace (case-insensitive); the unit decides whether
    quantities may have decimals; a product with stock history is archived, not deleted."""

    scope_group = "catalog"
    model = Product
    serializer_class = s.ProductSerializer
    filterset_class = ProductFilter
    search_fields = ["sku", "name", "barcode", "description"]
    ordering_fields = ["sku", "name", "created_at", "updated_at", "selling_price", "cost_price"]
    ordering = ["sku"]

    def scoped_queryset(self) -> QuerySet[Product]:
        return selectors.product_list()

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = catalog.product_create(**serializer.validated_data)

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = catalog.product_update(product=serializer.instance, **serializer.validated_data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        product = self.get_object()
        if catalog.product_delete(product=product) == "deleted":
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(s.ProductSerializer(product).data)

    @extend_schema(
        responses=s.StockMovementSerializer(many=True),
        parameters=[s.WarehouseQuerySerializer],
        summary="The product's ledger, newest first (cursor-paginated)",
    )
    @action(detail=True, methods=["get"], pagination_class=NewestFirstCursorPagination, filter_backends=[])
    def history(self, request: Request, pk: Any = None) -> Response:
        movements = selectors.product_history(product=self.get_object())
        warehouse = parse_query(s.WarehouseQuerySerializer, request).get("warehouse")
        if warehouse:
            movements = movements.filter(warehouse_id=warehouse)
        paginator: Any = self.paginator
        page = paginator.paginate_rows(movements, row_format(s.StockMovementSerializer), request, view=self)
        return paginator.get_paginated_response(page)


# --- Warehouses, suppliers, customers -----------------------------------------------------


@extend_schema(tags=["catalog"])
class WarehouseViewSet(
    TenantViewSet,
    RowListMixin,
    RowRetrieveMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    """Deleting a warehouse with stock or history is refused (409 `in_use`): deactivate it."""

    scope_group = "stock"
    model = Warehouse
    serializer_class = s.WarehouseSerializer
    filterset_fields = ["is_active"]
    search_fields = ["code", "name", "address"]
    ordering_fields = ["code", "name", "created_at"]
    ordering = ["code"]

    def scoped_queryset(self) -> QuerySet[Warehouse]:
        return selectors.warehouse_list()

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = catalog.warehouse_create(**serializer.validated_data)

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = catalog.warehouse_update(warehouse=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance: Warehouse) -> None:
        catalog.warehouse_delete(warehouse=instance)


class _PartyViewSet(
    TenantViewSet,
    RowListMixin,
    RowRetrieveMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    scope_group = "parties"
    filterset_fields = ["is_active"]
    search_fields = ["name", "contact_name", "email", "phone", "tax_id"]
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = ["name"]

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = catalog.party_create(model=self.model, **serializer.validated_data)  # type: ignore[type-var]

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = catalog.party_update(party=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance: Any) -> None:
        catalog.party_delete(party=instance)


@extend_schema(tags=["parties"])
class SupplierViewSet(_PartyViewSet):
    """Deleting a supplier referenced by orders is refused (409 `in_use`): deactivate it."""

    model = Supplier
    serializer_class = s.SupplierSerializer

    def scoped_queryset(self) -> QuerySet[Supplier]:
        return selectors.supplier_list()


@extend_schema(tags=["parties"])
class CustomerViewSet(_PartyViewSet):
    """Deleting a customer referenced by orders is refused (409 `in_use`): deactivate it."""

    model = Customer
    serializer_class = s.CustomerSerializer

    def scoped_queryset(self) -> QuerySet[Customer]:
        return selectors.customer_list()


@extend_schema(tags=["parties"])
class SupplierProductViewSet(
    TenantViewSet,
    RowListMixin,
    RowRetrieveMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    """The products a supplier supplies, with the supplier's SKU, price and lead time."""

    scope_group = "catalog"
    model = SupplierProduct
    serializer_class = s.SupplierProductSerializer
    filterset_fields = ["supplier", "product"]
    search_fields = ["supplier_sku", "product__sku", "product__name", "supplier__name"]
    ordering_fields = ["price", "lead_time_days", "created_at"]
    ordering = ["created_at"]

    def scoped_queryset(self) -> QuerySet[SupplierProduct]:
        return selectors.supplier_product_list()

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = catalog.supplier_product_create(**serializer.validated_data)

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = catalog.supplier_product_update(item=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance: SupplierProduct) -> None:
        catalog.supplier_product_delete(item=instance)


# --- Stock: levels, ledger, operations -----------------------------------------------------


class StockLevelFilter(FilterSet):
    product = filters.UUIDFilter(field_name="product_id")
    warehouse = filters.UUIDFilter(field_name="warehouse_id")
    below_reorder_point = filters.BooleanFilter(
        method="filter_below", label="Available quantity under the reorder point (the level's, else the product's)"
    )

    class Meta:
        model = StockLevel
        fields = ["product", "warehouse"]

    def filter_below(self, queryset: QuerySet[StockLevel], name: str, value: bool) -> QuerySet[StockLevel]:
        below = selectors.below_reorder_point(queryset)
        return below if value else queryset.exclude(pk__in=below.values("pk"))


@extend_schema(tags=["stock"])
class StockLevelViewSet(
    TenantViewSet, RowListMixin, RowRetrieveMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin
):
    """On hand, reserved and available per product and warehouse (stock changes through
    the stock operations and orders), and the reorder point and quantity in effect: the
    level's own (``PATCH``, managers and up), else the product's."""

    scope_group = "stock"
    model = StockLevel
    serializer_class = s.StockLevelSerializer
    filterset_class = StockLevelFilter
    search_fields = ["product__sku", "product__name", "warehouse__code"]
    ordering_fields = ["on_hand", "reserved", "available", "updated_at", "product__sku", "warehouse__code"]
    ordering = ["product__sku", "warehouse__code"]

    def scoped_queryset(self) -> QuerySet[StockLevel]:
        return selectors.stock_level_list()

    @extend_schema(
        request=s.StockLevelReorderInput,
        responses=s.StockLevelSerializer,
        summary="Set this warehouse's reorder point and quantity (null: back to the product's)",
    )
    def partial_update(self, request: Request, pk: Any = None) -> Response:
        level = self.get_object()
        data = s.StockLevelReorderInput(data=request.data)
        data.is_valid(raise_exception=True)
        catalog.stock_level_set_reorder(level=level, **data.validated_data)
        return Response(s.StockLevelSerializer(selectors.stock_level_get(id=level.pk)).data)


@extend_schema_field({"type": "string", "pattern": stock.SOURCE_PATTERN.pattern, "maxLength": 32})
class SourceFilter(filters.CharFilter):
    """A source name (``reference_type``): lowercase letters, digits and ``_``."""


class MovementFilter(FilterSet):
    product = filters.UUIDFilter(field_name="product_id")
    warehouse = filters.UUIDFilter(field_name="warehouse_id")
    kind = filters.MultipleChoiceFilter(choices=MovementKind.choices)
    reference_type = SourceFilter(
        max_length=32,
        validators=[RegexValidator(stock.SOURCE_PATTERN, "A source name: lowercase letters, digits and _.")],
        label="The source: manual, import_job, transfer, or another app's (sales_order_line, ...)",
    )
    reference_id = filters.UUIDFilter()
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = StockMovement
        fields = ["product", "warehouse", "kind", "reference_type", "reference_id"]


@extend_schema(tags=["stock"])
class StockMovementViewSet(
    TenantViewSet, RowListMixin, RowRetrieveMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin
):
    """The ledger: append-only, newest first, cursor-paginated (stable while new movements arrive)."""

    scope_group = "stock"
    model = StockMovement
    serializer_class = s.StockMovementSerializer
    filterset_class = MovementFilter
    pagination_class = NewestFirstCursorPagination
    filter_backends = [FilterBackend]

    def scoped_queryset(self) -> QuerySet[StockMovement]:
        return selectors.movement_list()


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class _StockOperationView(APIView):
    """The stock service resolves the ids, takes its locks and runs in its own
    transaction, which commits before the response is rendered: a hot level's row lock
    is held only while it is written."""

    scope_group = "stock"
    write_role = Role.CLERK
    input_serializer: type[Any]

    def run(self, data: dict[str, Any], user: Any) -> list[StockMovement]:
        raise NotImplementedError

    def post(self, request: Request) -> Response:
        data = self.input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        movements = self.run(dict(data.validated_data), request_user(request))
        return Response(s.movements_payload(movements), status=status.HTTP_201_CREATED)


def _stock_schema(summary: str, example: dict[str, Any], input_serializer: Any) -> Any:
    return extend_schema(
        request=input_serializer,
        responses={201: s.MovementsSerializer},
        summary=summary,
        description="Returns the ledger movements written. Not enough stock: 409 `insufficient_stock` "
        "with `details.available` and `details.lines`.",
        examples=[OpenApiExample("Request", value=example, request_only=True)],
        tags=["stock"],
    )


_IDS = {"product": "6f1c2b9e-0000-4000-8000-000000000001", "warehouse": "6f1c2b9e-0000-4000-8000-000000000002"}


class ReceiveView(_StockOperationView):
    input_serializer = s.ReceiveInput

    @_stock_schema("Receive stock into a warehouse", {**_IDS, "quantity": "100", "unit_cost": "2.50"}, s.ReceiveInput)
    def post(self, request: Request) -> Response:
        return super().post(request)

    def run(self, data: dict[str, Any], user: Any) -> list[StockMovement]:
        return stock.stock_receive(
            product_id=data["product"],
            warehouse_id=data["warehouse"],
            quantity=data["quantity"],
            unit_cost=data.get("unit_cost"),
            note=data["note"],
            user=user,
        )


class IssueView(_StockOperationView):
    input_serializer = s.IssueInput

    @_stock_schema("Issue stock from a warehouse", {**_IDS, "quantity": "3"}, s.IssueInput)
    def post(self, request: Request) -> Response:
        return super().post(request)

    def run(self, data: dict[str, Any], user: Any) -> list[StockMovement]:
        return stock.stock_issue(
            product_id=data["product"],
            warehouse_id=data["warehouse"],
            quantity=data["quantity"],
            note=data["note"],
            user=user,
        )


class AdjustView(_StockOperationView):
    input_serializer = s.AdjustInput

    @_stock_schema(
        "Adjust to a counted quantity or by a delta",
        {**_IDS, "counted_quantity": "42", "reason": "count", "note": "Cycle count aisle 4"},
        s.AdjustInput,
    )
    def post(self, request: Request) -> Response:
        return super().post(request)

    def run(self, data: dict[str, Any], user: Any) -> list[StockMovement]:
        return stock.stock_adjust(
            product_id=data["product"],
            warehouse_id=data["warehouse"],
            reason=data["reason"],
            counted_quantity=data.get("counted_quantity"),
            delta=data.get("delta"),
            note=data["note"],
            user=user,
        )


class TransferView(_StockOperationView):
    input_serializer = s.TransferInput

    @_stock_schema(
        "Move stock between warehouses",
        {
            "product": _IDS["product"],
            "from_warehouse": _IDS["warehouse"],
            "to_warehouse": "6f1c2b9e-0000-4000-8000-000000000003",
            "quantity": "10",
        },
        s.TransferInput,
    )
    def post(self, request: Request) -> Response:
        return super().post(request)

    def run(self, data: dict[str, Any], user: Any) -> list[StockMovement]:
        return stock.stock_transfer(
            product_id=data["product"],
            from_warehouse_id=data["from_warehouse"],
            to_warehouse_id=data["to_warehouse"],
            quantity=data["quantity"],
            note=data["note"],
            user=user,
        )


@extend_schema(tags=["stock"])
class LowStockViewSet(TenantViewSet, mixins.ListModelMixin):
    """Levels whose available quantity is under their reorder point (the level's, else the
    product's), with a suggested order quantity."""

    scope_group = "stock"
    model = StockLevel
    serializer_class = s.LowStockSerializer
    filterset_fields = ["warehouse"]
    ordering_fields = ["available", "product__sku"]

    def scoped_queryset(self) -> QuerySet[StockLevel]:
        return selectors.low_stock_list()


class ValuationView(APIView):
    scope_group = "stock"

    @extend_schema(
        responses=s.ValuationSerializer,
        parameters=[s.WarehouseQuerySerializer],
        summary="Inventory value: on hand x weighted average cost, per warehouse and in total",
        tags=["stock"],
    )
    def get(self, request: Request) -> Response:
        warehouse = None
        warehouse_id = parse_query(s.WarehouseQuerySerializer, request).get("warehouse")
        if warehouse_id:
            warehouse = selectors.get_or_404(selectors.warehouse_list(), id=warehouse_id, what="warehouse")
        data = {"currency": get_current_tenant().currency, **selectors.valuation(warehouse=warehouse)}
        return Response(s.ValuationSerializer(data).data)


class AlertFilter(FilterSet):
    open = filters.BooleanFilter(field_name="closed_at", lookup_expr="isnull", label="Only open alerts")

    class Meta:
        model = LowStockAlert
        fields = ["open", "product", "warehouse"]


@extend_schema(tags=["stock"])
class LowStockAlertViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Alerts recorded by the periodic low-stock scan: one open alert per product and warehouse."""

    scope_group = "stock"
    model = LowStockAlert
    serializer_class = s.LowStockAlertSerializer
    filterset_class = AlertFilter
    ordering_fields = ["opened_at", "closed_at"]
    ordering = ["-opened_at"]

    def scoped_queryset(self) -> QuerySet[LowStockAlert]:
        return selectors.low_stock_alert_list()


# --- Import and export --------------------------------------------------------------------------


@extend_schema(tags=["jobs"])
class ImportJobViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """CSV imports of products (and opening stock), run by Celery. Poll the job for progress."""

    scope_group = "imports"
    model = ImportJob
    serializer_class = s.ImportJobSerializer
    parser_classes = [MultiPartParser]
    filterset_fields = ["status"]
    ordering_fields = ["created_at"]
    ordering = ["-created_at"]

    def scoped_queryset(self) -> QuerySet[ImportJob]:
        return selectors.import_job_list()

    @extend_schema(
        request={"multipart/form-data": s.ImportInput},
        responses={202: s.ImportJobSerializer},
        summary="Upload a CSV of products; returns the job (202)",
    )
    def create(self, request: Request) -> Response:
        data = s.ImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        job = import_job_create(
            upload=data.validated_data["file"],
            skip_invalid_rows=data.validated_data["skip_invalid_rows"],
            user=request_user(request),
        )
        enqueue_on_commit(run_import, job_id=str(job.id))
        return Response(s.ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["jobs"])
class ExportJobViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """CSV exports of products, stock levels or movements, run by Celery; download when succeeded."""

    scope_group = "imports"
    model = ExportJob
    serializer_class = s.ExportJobSerializer
    write_role = Role.VIEWER
    filterset_fields = ["status", "kind"]
    ordering_fields = ["created_at"]
    ordering = ["-created_at"]

    def scoped_queryset(self) -> QuerySet[ExportJob]:
        return selectors.export_job_list()

    @extend_schema(
        request=s.ExportInput,
        responses={202: s.ExportJobSerializer},
        summary="Start an export; returns the job (202)",
        examples=[
            OpenApiExample(
                "Movements of one warehouse in November",
                value={
                    "kind": "movements",
                    "warehouse": _IDS["warehouse"],
                    "created_after": "2026-11-01T00:00:00Z",
                    "created_before": "2026-12-01T00:00:00Z",
                },
                request_only=True,
            )
        ],
    )
    def create(self, request: Request) -> Response:
        data = s.ExportInput(data=request.data)
        data.is_valid(raise_exception=True)
        job = export_job_create(**data.validated_data, user=request_user(request))
        enqueue_on_commit(run_export, job_id=str(job.id))
        return Response(s.ExportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The CSV itself, when files are stored on the server's disk."
            ),
            302: OpenApiResponse(
                description=(
                    "Files stored on S3: `Location` is a presigned URL of the file that expires after "
                    "`AWS_QUERYSTRING_EXPIRE` seconds (default 300) and answers the CSV as an attachment. "
                    "Follow it without this API's `Authorization` header."
                ),
                response=None,
            ),
            409: ErrorSerializer,
        },
        parameters=[
            OpenApiParameter(
                "Location",
                OpenApiTypes.URI,
                OpenApiParameter.HEADER,
                response=[302],
                description="The presigned URL of the CSV on S3 (expires).",
            )
        ],
        summary="The CSV of a finished export",
        description=(
            "404 for an export of another workspace; 409 `export_not_ready` until the export has succeeded, "
            "409 `export_expired` once its file is no longer kept (exports expire from the storage). "
            "Then the CSV (200), or a redirect (302) to a short-lived URL of the file on S3."
        ),
    )
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: Any = None) -> HttpResponseBase:
        export = export_job_download(job=self.get_object())
        if isinstance(export, ExportLink):
            return HttpResponseRedirect(export.url)
        return FileResponse(export.file, as_attachment=True, filename=export.name, content_type=EXPORT_CONTENT_TYPE)
