"""Low-stock alerts: opened when a level drops under its reorder point in effect (the
level's own, else the product's: ``selectors.stock_level_list``), closed when it is
restocked or its reorder point is lowered; a daily digest to the tenant's managers. An
alert opened records ``stock.low``."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from inventory import selectors
from inventory.models import LowStockAlert, StockLevel
from tenants import events
from tenants.context import get_current_tenant
from tenants.models import ROLE_RANK, Membership, Role


@transaction.atomic
def low_stock_scan() -> tuple[int, int]:
    """Opens an alert per low level without one; closes alerts of levels no longer low.
    Returns (opened, closed)."""
    low = {(level.product_id, level.warehouse_id): level for level in selectors.low_stock_list()}
    open_alerts = {
        (a.product_id, a.warehouse_id): a
        for a in LowStockAlert.objects.select_for_update().filter(closed_at__isnull=True)
    }
    now = timezone.now()
    restocked = [alert.pk for key, alert in open_alerts.items() if key not in low]
    closed = LowStockAlert.objects.filter(pk__in=restocked).update(closed_at=now) if restocked else 0
    new = [
        LowStockAlert(
            product_id=level.product_id,
            warehouse_id=level.warehouse_id,
            available_at_open=level.available,
            reorder_point=level.reorder_point_in_effect,  # type: ignore[attr-defined]
        )
        for key, level in low.items()
        if key not in open_alerts
    ]
    LowStockAlert.objects.bulk_create(new, ignore_conflicts=True)
    # An alert a concurrent scan opened first is not this scan's: only the rows written
    # here are opened (the ids were made here), each with one stock.low event.
    opened = (
        set(LowStockAlert.objects.filter(pk__in=[a.pk for a in new]).values_list("pk", flat=True)) if new else set()
    )
    events.record_many(
        [_stock_low(alert, low[(alert.product_id, alert.warehouse_id)]) for alert in new if alert.pk in opened]
    )
    return len(opened), closed


def _stock_low(alert: LowStockAlert, level: StockLevel) -> events.Event:
    return events.Event(
        "stock.low",
        "low_stock_alert",
        alert.pk,
        {
            "product": alert.product_id,
            "sku": level.product.sku,
            "warehouse": alert.warehouse_id,
            "on_hand": level.on_hand,
            "available": level.available,
            "reorder_point": alert.reorder_point,
        },
    )


def low_stock_digest() -> int:
    """Emails the open alerts to every manager, admin and owner. Returns the number of emails."""
    alerts = list(selectors.low_stock_alert_list().filter(closed_at__isnull=True).order_by("product__sku"))
    if not alerts:
        return 0
    tenant = get_current_tenant()
    roles = [role for role, rank in ROLE_RANK.items() if rank >= ROLE_RANK[Role.MANAGER]]
    recipients = list(
        Membership.objects.filter(tenant=tenant, role__in=roles, user__is_active=True).values_list(
            "user__email", flat=True
        )
    )
    lines = [
        f"- {a.product.sku} {a.product.name} in {a.warehouse.code}: "
        f"{a.available_at_open} available, reorder point {a.reorder_point} (since {a.opened_at:%Y-%m-%d})"
        for a in alerts
    ]
    for email in recipients:
        send_mail(
            subject=f"[{tenant.name}] {len(alerts)} products are low on stock",
            message="These products are under their reorder point:\n\n"
            + "\n".join(lines)
            + f"\n\nSee {settings.FRONTEND_URL}/api/v1/inventory/low-stock/",
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[email],
        )
    return len(recipients)
