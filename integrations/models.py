"""Integration tables (docs/integrations.md): connectors (a shop's orders in, their
deliveries, order links and error entries) and outbound webhooks (endpoints, the
messages made for them from domain events, each attempt to deliver one, and the email
telling admins an endpoint was disabled). Every table is the tenant's, under Row Level
Security."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

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


# --- Webhooks ---------------------------------------------------------------------------------


class DisabledReason(models.TextChoices):
    MANUAL = "manual", "Turned off by a user"
    GONE = "gone", "The endpoint answered 410 Gone"
    FAILING = "failing", "Every attempt failed for too long"


class WebhookEndpoint(TenantScopedModel):
    """A URL that receives the workspace's events of the types in ``events``, signed
    with ``secret`` (Standard Webhooks). During a rotation the previous secret also
    signs until ``previous_secret_expires_at``. ``failing_since`` is the first failed
    attempt since the last success: past WEBHOOK_DISABLE_AFTER_SECONDS the endpoint is
    disabled."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=500, blank=True)
    events = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)
    # Kept as is: signing needs the secret itself (shown to the user once, at creation or rotation).
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=16, choices=DisabledReason.choices, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "created_at"], name="webhook_endpoint_time")]

    def __str__(self) -> str:
        return f"webhook endpoint {self.url}"


class MessageStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class WebhookMessage(TenantScopedModel):
    """One event for one endpoint: its body is fixed when it is made, and its
    ``webhook-id`` (``msg_`` + the id) stays the same across retries and redeliveries.
    At most one per (endpoint, domain event): the relay's subscriber makes it in the
    relay's transaction, and the unique constraint backs that.

    ``next_attempt_at`` is when the next attempt is due (while pending); a worker that
    takes a message moves it past the attempt's timeout, a lease. ``dispatched_at`` and
    ``dispatch_attempts`` are the dispatch sweep's (``tenants.tasking.redispatch_claim``):
    a message whose task was lost is queued again."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = TenantForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="+", db_index=False)
    event_id = models.UUIDField(null=True, blank=True, help_text="The domain event; none for a test message.")
    event_type = models.CharField(max_length=64)
    body = models.TextField()
    status = models.CharField(max_length=16, choices=MessageStatus.choices, default=MessageStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(default=timezone.now)
    dispatch_attempts = models.PositiveSmallIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "endpoint", "event_id"],
                condition=models.Q(event_id__isnull=False),
                name="webhook_message_once",
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "endpoint", "status", "created_at"], name="webhook_message_endpoint"),
            # The dispatch sweep's look-up (across tenants, on the ops alias).
            models.Index(fields=["next_attempt_at"], condition=models.Q(status="pending"), name="webhook_message_due"),
            # The retention task's cross-tenant delete (integrations.tasks.delete_old_webhook_messages).
            models.Index(fields=["created_at"], name="webhook_message_created"),
        ]

    def __str__(self) -> str:
        return f"webhook message {self.event_type} {self.id}"

    @property
    def webhook_id(self) -> str:
        return f"msg_{self.id.hex}"


class WebhookDelivery(TenantScopedModel):
    """One attempt to deliver a message: the delivery log."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    message = TenantForeignKey(WebhookMessage, on_delete=models.CASCADE, related_name="+", db_index=False)
    endpoint = TenantForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="+", db_index=False)
    attempt = models.PositiveIntegerField()
    succeeded = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "endpoint", "-created_at"], name="webhook_delivery_endpoint"),
            models.Index(fields=["tenant", "message"], name="webhook_delivery_message"),
            # The failed attempts of every tenant by time: the WebhookFailures metric (core/emf.py).
            models.Index(fields=["created_at"], name="webhook_delivery_failed_time", condition=Q(succeeded=False)),
        ]

    def __str__(self) -> str:
        return f"webhook delivery {self.message_id} #{self.attempt}"


class WebhookDisabledNotice(TenantScopedModel):
    """The email telling the workspace's admins and owners that an endpoint was disabled
    (410, or failing for too long): queued with the change, re-queued by the dispatch
    sweep while unsent."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = TenantForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="+", db_index=False)
    reason = models.CharField(max_length=16, choices=DisabledReason.choices)
    created_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(default=timezone.now)
    dispatch_attempts = models.PositiveSmallIntegerField(default=1)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "endpoint"], name="webhook_notice_endpoint"),
            models.Index(
                fields=["dispatched_at"], condition=models.Q(sent_at__isnull=True), name="webhook_notice_unsent"
            ),
        ]

    def __str__(self) -> str:
        return f"webhook disabled notice {self.endpoint_id}"
