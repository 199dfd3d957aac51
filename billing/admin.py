"""Billing in the operations admin (platform staff only; the site is ``config.admin``):
each workspace's billing account (plan, subscription, status, grace) and the Stripe events
as received, read-only, read through the operations database alias (``ops``) when it is
configured. Registered on that site by ``register``, not on Django's default site."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from billing.models import BillingAccount, MeterReport, StripeEvent

OPS_ALIAS = "ops"


def _alias() -> str:
    return OPS_ALIAS if OPS_ALIAS in settings.DATABASES else "default"


def _is_staff(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_active and getattr(user, "is_staff", False))


class ReadOnlyOpsAdmin(admin.ModelAdmin):
    """Platform staff read; nobody writes here (billing changes come from Stripe)."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).using(_alias())

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_staff(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class BillingAccountAdmin(ReadOnlyOpsAdmin):
    list_display = (
        "tenant_name",
        "tenant_slug",
        "plan_code",
        "status",
        "grace_ends_at",
        "current_period_end",
        "cancel_at_period_end",
        "stripe_customer_id",
        "stripe_subscription_id",
        "synced_at",
    )
    list_filter = ("status", "plan_code", "cancel_at_period_end")
    search_fields = ("tenant__name", "tenant__slug", "=tenant__id", "stripe_customer_id", "stripe_subscription_id")
    list_select_related = ("tenant",)
    ordering = ("tenant__slug",)
    readonly_fields = [field.name for field in BillingAccount._meta.fields] + ["events"]

    @admin.display(description="Workspace", ordering="tenant__name")
    def tenant_name(self, account: BillingAccount) -> str:
        return account.tenant.name

    @admin.display(description="Slug", ordering="tenant__slug")
    def tenant_slug(self, account: BillingAccount) -> str:
        return account.tenant.slug

    @admin.display(description="Stripe events")
    def events(self, account: BillingAccount) -> str:
        url = f"../../stripeevent/?tenant__id__exact={account.tenant_id}"
        return format_html('<a href="{}">The workspace\'s Stripe events</a>', url)


class StripeEventAdmin(ReadOnlyOpsAdmin):
    list_display = ("id", "type", "created", "tenant", "received_at", "processed_at", "attempts", "outcome", "failing")
    list_filter = ("type", "outcome", "livemode", ("processed_at", admin.EmptyFieldListFilter))
    search_fields = ("=id", "type", "tenant__name", "tenant__slug", "=tenant__id", "last_error")
    list_select_related = ("tenant",)
    ordering = ("-created", "-received_at")
    date_hierarchy = "created"
    readonly_fields = [field.name for field in StripeEvent._meta.fields if field.name != "payload"] + ["payload_json"]
    exclude = ("payload",)

    @admin.display(boolean=True, description="Failing")
    def failing(self, event: StripeEvent) -> bool:
        return bool(event.last_error) and event.processed_at is None

    @admin.display(description="Payload")
    def payload_json(self, event: StripeEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(event.payload, indent=2, sort_keys=True))


class MeterReportAdmin(ReadOnlyOpsAdmin):
    list_display = ("event_id", "tenant", "event_type", "value", "occurred_at", "sent_at", "attempts", "last_error")
    list_filter = ("event_type", ("sent_at", admin.EmptyFieldListFilter))
    search_fields = ("=event_id", "=tenant__id", "tenant__slug")
    list_select_related = ("tenant",)
    ordering = ("-created_at",)
    readonly_fields = [field.name for field in MeterReport._meta.fields]


def register(site: admin.AdminSite) -> None:
    site.register(BillingAccount, BillingAccountAdmin)
    site.register(StripeEvent, StripeEventAdmin)
    site.register(MeterReport, MeterReportAdmin)
