"""Orders API: CRUD on drafts, actions as POST .../{id}/<action>/, statistics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.fast import RowListMixin
from core.api.filters import FilterSet, parse_query
from orders import selectors, services
from orders.api import serializers as s
from orders.models import PurchaseOrder, PurchaseStatus, SalesOrder, SalesStatus, SequenceKind
from tenants.api.base import TenantViewSet
from tenants.context import get_current_tenant
from tenants.models import Role
from tenants.permissions import request_membership, request_user

_LINE = {
    "product": "6f1c2b9e-0000-4000-8000-000000000001",
    "warehouse": "6f1c2b9e-0000-4000-8000-000000000002",
    "quantity": "3",
    "unit_price": "17.90",
    "discount_percent": "10",
    "tax_rate": "20",
}
_ACTIONS = {"confirm", "cancel", "ship", "order", "receive", "return_goods"}


def _line_inputs(lines: list[dict[str, Any]]) -> list[services.LineInput]:
    return [services.LineInput(**line) for line in lines]


def _quantity_inputs(lines: list[dict[str, Any]]) -> list[services.QuantityInput]:
    return [services.QuantityInput(**line) for line in lines]


class OrderFilter(FilterSet):
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    expected_after = filters.DateFilter(field_name="expected_date", lookup_expr="gte")
    expected_before = filters.DateFilter(field_name="expected_date", lookup_expr="lte")
    number = filters.CharFilter(lookup_expr="iexact")
    external_reference = filters.CharFilter()


class SalesOrderFilter(OrderFilter):
    status = filters.MultipleChoiceFilter(choices=SalesStatus.choices)
    customer = filters.UUIDFilter(field_name="customer_id")

    class Meta:
        model = SalesOrder
        fields = ["status", "customer", "number", "external_reference"]


class PurchaseOrderFilter(OrderFilter):
    status = filters.MultipleChoiceFilter(choices=PurchaseStatus.choices)
    supplier = filters.UUIDFilter(field_name="supplier_id")

    class Meta:
        model = PurchaseOrder
        fields = ["status", "supplier", "number", "external_reference"]


class _OrderViewSet(TenantViewSet, RowListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    scope_group = "orders"
    write_role = Role.CLERK
    action_roles = dict.fromkeys(_ACTIONS, Role.CLERK)
    ordering_fields = ["created_at", "updated_at", "number", "total", "expected_date", "status"]
    ordering = ["-created_at"]
    detail_serializer: Any
    write_serializer: Any

    def get_serializer_class(self) -> Any:
        return self.detail_serializer if self.action == "retrieve" else self.serializer_class

    def _detail(self, order: Any, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.scoped_detail().get(pk=order.pk)
        return Response(self.detail_serializer(fresh).data, status=code)

    def scoped_detail(self) -> QuerySet[Any]:
        raise NotImplementedError

    # The services of the order type: create(**fields, user), update(order_id, **fields), delete(order_id).
    create_service: Any
    update_service: Any
    delete_service: Any

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        order = self.create_service(**self._write(request, partial=False), user=request_user(request))
        return self._detail(order, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        order = self.get_object()
        data = self._write(request, partial=kwargs.get("partial", False))
        return self._detail(self.update_service(order_id=order.pk, **data))

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.delete_service(order_id=self.get_object().pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _write(self, request: Request, partial: bool) -> dict[str, Any]:
        data = self.write_serializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "lines" in values:
            values["lines"] = _line_inputs(values["lines"])
        return values

    def _run(self, request: Request, serializer: Any, call: Callable[[dict[str, Any]], Any]) -> Response:
        data = serializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "lines" in values:
            values["lines"] = _quantity_inputs(values["lines"])
        call(values)
        return self._detail(self.get_object())


@extend_schema_view(
    create=extend_schema(
        request=s.SalesOrderWriteSerializer,
        responses={201: s.SalesOrderDetailSerializer},
        examples=[
            OpenApiExample(
                "Draft sales order",
                value={
                    "customer": "6f1c2b9e-0000-4000-8000-000000000009",
                    "lines": [_LINE],
                    "expected_date": "2026-12-01",
                    "external_reference": "SHOP-1001",
                },
                request_only=True,
            )
        ],
    ),
    partial_update=extend_schema(request=s.SalesOrderWriteSerializer, responses=s.SalesOrderDetailSerializer),
    update=extend_schema(request=s.SalesOrderWriteSerializer, responses=s.SalesOrderDetailSerializer),
    destroy=extend_schema(responses={204: None}, description="Drafts only (409 `invalid_transition` otherwise)."),
)
@extend_schema(tags=["sales orders"])
class SalesOrderViewSet(_OrderViewSet, mixins.CreateModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin):
    """Sales orders. Drafts can be edited and deleted; `confirm` reserves stock and gives the number;
    `ship` issues reserved stock in shipments; `cancel` releases what is still reserved;
    `return` takes shipped goods back."""

    model = SalesOrder
    serializer_class = s.SalesOrderSerializer
    detail_serializer = s.SalesOrderDetailSerializer
    write_serializer = s.SalesOrderWriteSerializer
    filterset_class = SalesOrderFilter
    search_fields = ["number", "external_reference", "customer__name", "notes"]

    def scoped_queryset(self) -> QuerySet[SalesOrder]:
        return selectors.sales_order_list()

    def scoped_detail(self) -> QuerySet[SalesOrder]:
        return selectors.sales_order_detail()

    create_service = staticmethod(services.sales_order_create)
    update_service = staticmethod(services.sales_order_update)
    delete_service = staticmethod(services.sales_order_delete)

    @extend_schema(
        request=None,
        responses=s.SalesOrderDetailSerializer,
        summary="draft -> confirmed: reserve every line (409 insufficient_stock names the short lines)",
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: Any = None) -> Response:
        order = self.get_object()
        services.sales_order_confirm(order_id=order.pk, user=request_user(request))
        return self._detail(order)

    @extend_schema(
        request=s.CancelInput,
        responses=s.SalesOrderDetailSerializer,
        summary="Cancel; releases what is still reserved (a confirmed order needs a manager)",
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: Any = None) -> Response:
        membership, user = request_membership(request), request_user(request)
        order = self.get_object()
        return self._run(
            request,
            s.CancelInput,
            lambda v: services.sales_order_cancel(order_id=order.pk, actor=membership, user=user, **v),
        )

    @extend_schema(
        request=s.ShipInput,
        responses=s.SalesOrderDetailSerializer,
        summary="Ship quantities of lines (at most ordered minus shipped) with carrier and tracking number",
        examples=[
            OpenApiExample(
                "Ship",
                value={
                    "lines": [{"line": "6f1c2b9e-0000-4000-8000-00000000000a", "quantity": "2"}],
                    "carrier": "DHL",
                    "tracking_number": "JD014600006281234567",
                },
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def ship(self, request: Request, pk: Any = None) -> Response:
        user = request_user(request)
        order = self.get_object()
        return self._run(request, s.ShipInput, lambda v: services.sales_order_ship(order_id=order.pk, user=user, **v))

    @extend_schema(
        request=s.SalesReturnInput,
        responses=s.SalesOrderDetailSerializer,
        summary="A customer return of shipped quantities: restock, or write off with a reason",
    )
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_goods(self, request: Request, pk: Any = None) -> Response:
        user = request_user(request)
        order = self.get_object()
        return self._run(
            request, s.SalesReturnInput, lambda v: services.sales_order_return(order_id=order.pk, user=user, **v)
        )


@extend_schema_view(
    create=extend_schema(
        request=s.PurchaseOrderWriteSerializer,
        responses={201: s.PurchaseOrderDetailSerializer},
        examples=[
            OpenApiExample(
                "Draft purchase order",
                value={
                    "supplier": "6f1c2b9e-0000-4000-8000-000000000008",
                    "lines": [{**_LINE, "unit_price": "8.50"}],
                    "over_receipt_tolerance_percent": "5",
                },
                request_only=True,
            )
        ],
    ),
    partial_update=extend_schema(request=s.PurchaseOrderWriteSerializer, responses=s.PurchaseOrderDetailSerializer),
    update=extend_schema(request=s.PurchaseOrderWriteSerializer, responses=s.PurchaseOrderDetailSerializer),
    destroy=extend_schema(responses={204: None}, description="Drafts only (409 `invalid_transition` otherwise)."),
)
@extend_schema(tags=["purchase orders"])
class PurchaseOrderViewSet(_OrderViewSet, mixins.CreateModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin):
    """Purchase orders. Drafts can be edited and deleted; `order` places the order and gives the number;
    `receive` books receipts (and average cost); `cancel` before anything is received; `return` sends goods back."""

    model = PurchaseOrder
    serializer_class = s.PurchaseOrderSerializer
    detail_serializer = s.PurchaseOrderDetailSerializer
    write_serializer = s.PurchaseOrderWriteSerializer
    filterset_class = PurchaseOrderFilter
    search_fields = ["number", "external_reference", "supplier__name", "notes"]

    def scoped_queryset(self) -> QuerySet[PurchaseOrder]:
        return selectors.purchase_order_list()

    def scoped_detail(self) -> QuerySet[PurchaseOrder]:
        return selectors.purchase_order_detail()

    create_service = staticmethod(services.purchase_order_create)
    update_service = staticmethod(services.purchase_order_update)
    delete_service = staticmethod(services.purchase_order_delete)

    @extend_schema(request=None, responses=s.PurchaseOrderDetailSerializer, summary="draft -> ordered (numbered)")
    @action(detail=True, methods=["post"])
    def order(self, request: Request, pk: Any = None) -> Response:
        order = self.get_object()
        services.purchase_order_place(order_id=order.pk, user=request_user(request))
        return self._detail(order)

    @extend_schema(
        request=s.CancelInput,
        responses=s.PurchaseOrderDetailSerializer,
        summary="Cancel a draft, or an ordered order with nothing received (a manager for ordered ones)",
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: Any = None) -> Response:
        membership, user = request_membership(request), request_user(request)
        order = self.get_object()
        return self._run(
            request,
            s.CancelInput,
            lambda v: services.purchase_order_cancel(order_id=order.pk, actor=membership, user=user, **v),
        )

    @extend_schema(
        request=s.PurchaseReceiveInput,
        responses=s.PurchaseOrderDetailSerializer,
        summary="Receive quantities of lines (over-receipt refused beyond the tolerance)",
    )
    @action(detail=True, methods=["post"])
    def receive(self, request: Request, pk: Any = None) -> Response:
        user = request_user(request)
        order = self.get_object()
        return self._run(
            request,
            s.PurchaseReceiveInput,
            lambda v: services.purchase_order_receive(order_id=order.pk, user=user, **v),
        )

    @extend_schema(
        request=s.PurchaseReturnInput,
        responses=s.PurchaseOrderDetailSerializer,
        summary="Return received goods to the supplier (issues stock)",
    )
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_goods(self, request: Request, pk: Any = None) -> Response:
        user = request_user(request)
        order = self.get_object()
        return self._run(
            request, s.PurchaseReturnInput, lambda v: services.purchase_order_return(order_id=order.pk, user=user, **v)
        )


class OrderStatsView(APIView):
    scope_group = "orders"

    @extend_schema(
        parameters=[s.StatsQuerySerializer],
        responses=s.StatsSerializer,
        summary="Counts and totals by status and by day (default: the last 30 days)",
        tags=["sales orders"],
    )
    def get(self, request: Request) -> Response:
        query = parse_query(s.StatsQuerySerializer, request)
        stats = selectors.order_stats(
            kind=query["type"], date_from=query.get("date_from"), date_to=query.get("date_to")
        )
        return Response(s.StatsSerializer({**stats, "currency": get_current_tenant().currency}).data)


class NumberingView(APIView):
    """Order number prefixes; numbers are given when an order leaves draft."""

    scope_group = "orders"
    write_role = Role.ADMIN

    def _render(self) -> Response:
        rows = services.sequences()
        data = {
            "sales_prefix": rows[SequenceKind.SALES].prefix,
            "purchase_prefix": rows[SequenceKind.PURCHASE].prefix,
            "next_sales_number": services.next_number(rows[SequenceKind.SALES]),
            "next_purchase_number": services.next_number(rows[SequenceKind.PURCHASE]),
        }
        return Response(s.NumberingSerializer(data).data)

    @extend_schema(responses=s.NumberingSerializer, tags=["sales orders"])
    def get(self, request: Request) -> Response:
        return self._render()

    @extend_schema(request=s.NumberingSerializer, responses=s.NumberingSerializer, tags=["sales orders"])
    def patch(self, request: Request) -> Response:
        data = s.NumberingSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if "sales_prefix" in data.validated_data:
            services.sequence_update(kind=SequenceKind.SALES, prefix=data.validated_data["sales_prefix"])
        if "purchase_prefix" in data.validated_data:
            services.sequence_update(kind=SequenceKind.PURCHASE, prefix=data.validated_data["purchase_prefix"])
        return self._render()
