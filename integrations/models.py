"""Integration tables (docs/integrations.md)."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from inventory.models import Warehouse
from orders.models import SalesOrder
from tenants.fields import TenantForeignKey
from tenants.models import User
from tenants.scoping import TenantScopedModel

# --- Connectors -------------------------------------------------------------------------------


class ConnectorKind(models.TextChoices):
    SHOPIFY = "shopify", "Shopify"


class Connector(TenantScopedModel):
    """A shop that sends the workspace its orders (Shopify's ``orders/create`` webhook).

    ``shared_secret`` is kept as given: verifying Shopify's HMAC needs the secret itself,
    not a hash of it. It is never shown again after it is written (docs/integrations.md).

    Found before any tenant is known (Shopify calls without credentials of ours): the
    ``connector_lookup`` policy (``tenants/rls.py``) lets a transaction that set
    ``app.connector_id`` read that one row, and no other; the signature then proves the
    caller knows its secret."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=ConnectorKind.choices, default=ConnectorKind.SHOPIFY)
    name = models.CharField(max_length=100)
    shop_domain = models.CharField(max_length=255, help_text="e.g. acme.myshopify.com (stored lower-cased).")
    shared_secret = models.CharField(max_length=255)
    warehouse = TenantForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+")
    auto_confirm = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "kind", "shop_domain"], name="connector_unique_shop"),
        ]
        indexes = [models.Index(fields=["tenant", "created_at"], name="connector_tenant_created")]

    def __str__(self) -> str:
        return f"{self.kind} connector {self.shop_domain}"


class ConnectorDelivery(TenantScopedModel):
    """One webhook delivery received (by ``X-Shopify-Webhook-Id``): Shopify sends a delivery
    again until it gets a 2xx, always with the same id; a second one is answered without
    doing anything."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    connector = TenantForeignKey(Connector, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    webhook_id = models.CharField(max_length=255)
    topic = models.CharField(max_length=100)
    outcome = models.CharField(max_length=16)  # created, duplicate, failed, ignored
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "connector", "webhook_id"], name="connector_delivery_unique"),
        ]

    def __str__(self) -> str:
        return f"delivery {self.webhook_id}"


class ConnectorOrder(TenantScopedModel):
    """A shop's order that became a sales order: one per (connector, the shop's order id),
    so the same order sent twice (two webhooks, a retried error) makes one sales order."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    connector = TenantForeignKey(Connector, on_delete=models.CASCADE, related_name="orders", db_index=False)
    external_id = models.CharField(max_length=32)
    sales_order = TenantForeignKey(SalesOrder, on_delete=models.CASCADE, related_name="+", db_index=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "connector", "external_id"], name="connector_order_unique"),
        ]
        indexes = [models.Index(fields=["tenant", "sales_order"], name="connector_order_sales_order")]

    def __str__(self) -> str:
        return f"connector order {self.external_id}"


class ConnectorErrorStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class ConnectorError(TenantScopedModel):
    """A delivery that could not become a sales order (an unknown SKU, no email, too little
    stock, a malformed payload...): kept with its body so nothing is lost, retried after the
    cause is fixed (``connector_error_retry``). One open entry per (connector, the shop's
    order id); another delivery of the same order counts as an attempt."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    connector = TenantForeignKey(Connector, on_delete=models.CASCADE, related_name="errors", db_index=False)
    external_id = models.CharField(max_length=32, blank=True, help_text="The shop's order id; blank when unknown.")
    webhook_id = models.CharField(max_length=255, blank=True)
    topic = models.CharField(max_length=100)
    body = models.TextField(help_text="The request body as received (UTF-8; NUL characters replaced).")
    code = models.CharField(max_length=64)
    message = models.TextField()
    details = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=ConnectorErrorStatus.choices, default=ConnectorErrorStatus.OPEN)
    attempts = models.PositiveIntegerField(default=1)
    sales_order = TenantForeignKey(
        SalesOrder, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "connector", "external_id"],
                condition=Q(status="open") & ~Q(external_id=""),
                name="connector_error_one_open_per_order",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "connector", "-created_at"], name="connector_error_list"),
            models.Index(fields=["tenant", "sales_order"], name="connector_error_sales_order"),
        ]

    def __str__(self) -> str:
        return f"connector error {self.code} ({self.status})"
