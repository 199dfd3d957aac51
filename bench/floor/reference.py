"""The plain-DRF reference: the product list as a user of DRF and simplejwt would write it.

A ``ListAPIView`` with a ``ModelSerializer`` of the same fields, DRF's page-number
pagination (50 rows, a separate COUNT), and simplejwt's stock ``JWTAuthentication``
(which loads the user), the tenant taken from the token's claim. It reads the token
from ``Authorization: Floor <jwt>`` like the floors, so Stockroom's tenant middleware
adds nothing to it.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from rest_framework import generics, pagination, permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt.authentication import JWTAuthentication

from inventory.models import Product
from tenants.context import reset_current_tenant, set_current_tenant
from tenants.models import Tenant
from tenants.tokens import TENANT_CLAIM


class FloorJWTAuthentication(JWTAuthentication):
    www_authenticate_realm = "bench"

    def get_raw_token(self, header: bytes) -> bytes | None:
        parts = header.split()
        if len(parts) != 2 or parts[0].lower() != b"floor":
            return None
        return parts[1]


class ProductSerializer(serializers.ModelSerializer[Product]):
    category_name = serializers.CharField(source="category.name", read_only=True, allow_null=True)

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


class Pagination(pagination.PageNumberPagination):
    page_size = 50


class ProductList(generics.ListAPIView[Product]):
    serializer_class = ProductSerializer
    pagination_class = Pagination
    authentication_classes = [FloorJWTAuthentication]
    permission_classes = [permissions.IsAuthenticated]
    throttle_classes: list[Any] = []
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Product]:
        return Product.objects.select_related("category").order_by("sku")

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        token = set_current_tenant(None)
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            reset_current_tenant(token)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # The tenant of the token, as the database context (Row Level Security).
        set_current_tenant(Tenant(id=uuid.UUID(str(request.auth[TENANT_CLAIM]))))  # type: ignore[index]
        return super().list(request, *args, **kwargs)
