"""Billing's tables: global (not tenant-scoped, design.md "Tables that are not
tenant-owned"), reached only through billing's services and selectors, which filter
them explicitly by workspace or by Stripe id.

Their foreign key to the workspace is stored in a ``workspace_id`` column, not
``tenant_id``: a ``tenant_id`` column is what marks a table for Row Level Security
(tenants/rls.py ``tables_missing_isolation``), and these rows are written by the webhook
before anyone knows which workspace they belong to.
"""

from __future__ import annotations

import uuid

from django.db import models

from tenants.models import BillingStatus, Tenant


class BillingAccount(models.Model):
    """A workspace's Stripe customer and the state of its subscription as last applied,
    with the per-subscription watermark: the ``created`` time and id of the last event
    applied to ``stripe_subscription_id``. An event older than the watermark changes
    nothing (an old ``updated`` delivered after ``deleted``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.OneToOneField(
        Tenant, on_delete=models.CASCADE, related_name="billing_account", db_column="workspace_id"
    )
    stripe_customer_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_subscription_id = models.CharField(max_length=255, blank=True, default="", db_index=True)
    stripe_price_id = models.CharField(max_length=255, blank=True, default="")
    plan_code = models.CharField(max_length=32, blank=True, default="")
    status = models.CharField(max_length=24, choices=BillingStatus.choices, blank=True, default="")
    trial_end = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    grace_ends_at = models.DateTimeField(null=True, blank=True)
    # When the end of the grace period was announced (billing.grace_ended, the owners'
    # email); cleared when the subscription leaves past_due.
    grace_ended_notified_at = models.DateTimeField(null=True, blank=True)
    # The last Checkout Session made for the workspace: expired before another is made, so
    # two tabs (or two owners) cannot pay for two subscriptions.
    checkout_session_id = models.CharField(max_length=255, blank=True, default="")
    # Set once the workspace has had a subscription: trials are for the first one only.
    has_subscribed = models.BooleanField(default=False)
    last_event_created = models.DateTimeField(null=True, blank=True)
    last_event_id = models.CharField(max_length=255, blank=True, default="")
    synced_at = models.DateTimeField(null=True, blank=True, help_text="Last re-fetched from Stripe.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.stripe_customer_id or 'no customer'} ({self.tenant_id})"


class StripeEvent(models.Model):
    """A webhook event as Stripe sent it, stored once (its id is the primary key) before it
    is processed by a Celery task. ``processed_at`` empty: still to do (the sweep queues
    it again after ``next_attempt_at``)."""

    id = models.CharField(primary_key=True, max_length=255)  # Stripe's evt_...
    type = models.CharField(max_length=100)
    created = models.DateTimeField(help_text="When Stripe created the event.")
    livemode = models.BooleanField(default=False)
    api_version = models.CharField(max_length=64, blank=True, default="")
    payload = models.JSONField()
    tenant = models.ForeignKey(
        Tenant,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_column="workspace_id",
        help_text="The workspace it was found to concern (set while processing).",
    )
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    outcome = models.CharField(max_length=64, blank=True, default="", help_text="What processing did.")

    class Meta:
        indexes = [
            models.Index(
                fields=["received_at"], name="billing_event_pending", condition=models.Q(processed_at__isnull=True)
            ),
            models.Index(fields=["type", "-created"], name="billing_event_type"),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.type}"


class MeterReport(models.Model):
    """A domain event to report to Stripe as a meter event (usage reporting). Written by
    the outbox subscriber in the relay's transaction (so once per event), sent by a Celery
    task after that commits, with the event's id as the meter event's ``identifier`` (Stripe
    counts a second send of it once)."""

    event_id = models.UUIDField(primary_key=True, help_text="The domain event's id (the outbox row).")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_column="workspace_id")
    event_type = models.CharField(max_length=64)
    value = models.PositiveIntegerField(default=1)
    occurred_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["created_at"], name="billing_meter_pending", condition=models.Q(sent_at__isnull=True))
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"
