"""Low-stock alerts: the periodic scan, the daily digest and the beat fan-out."""

from decimal import Decimal

import pytest
from django.core import mail

from inventory.models import LowStockAlert
from inventory.services import alerts
from inventory.tests.factories import make_product, make_warehouse, receive
from tenants.models import DomainEvent, Role
from tenants.tests.factories import make_member

pytestmark = pytest.mark.django_db


def test_low_stock_scan_opens_one_alert_per_level_and_closes_on_restock(in_a, wh):
    product = make_product(sku="LOW", reorder_point=Decimal("10"))
    receive(product, wh, 3)

    assert alerts.low_stock_scan() == (1, 0)
    assert alerts.low_stock_scan() == (0, 0)  # still open: no second alert
    receive(product, wh, 20)
    assert alerts.low_stock_scan() == (0, 1)
    assert LowStockAlert.objects.filter(closed_at__isnull=True).count() == 0


def test_an_opened_alert_records_one_stock_low_event_with_its_numbers(in_a, wh):
    product = make_product(sku="LOW-EV", reorder_point=Decimal("10"))
    receive(product, wh, 3)

    alerts.low_stock_scan()
    alerts.low_stock_scan()  # still open: no second event

    [event] = DomainEvent.objects.filter(type="stock.low")
    alert = LowStockAlert.objects.get()
    assert (event.subject_type, event.subject_id) == ("low_stock_alert", str(alert.pk))
    numbers = {name: Decimal(event.data.pop(name)) for name in ("on_hand", "available", "reorder_point")}
    assert numbers == {"on_hand": 3, "available": 3, "reorder_point": 10}
    assert event.data == {"product": str(product.pk), "sku": "LOW-EV", "warehouse": str(wh.pk)}
    assert event.actor_user_id is None and event.actor_api_key_id is None  # the scan is the system's


def test_a_restocked_level_records_no_stock_low(in_a, wh):
    product = make_product(sku="OK", reorder_point=Decimal("10"))
    receive(product, wh, 30)

    assert alerts.low_stock_scan() == (0, 0)
    assert not DomainEvent.objects.filter(type="stock.low").exists()


def test_daily_digest_goes_to_managers_and_up(owner_a, in_a, wh):
    manager = make_member(owner_a.tenant, Role.MANAGER)
    make_member(owner_a.tenant, Role.CLERK)
    product = make_product(sku="LOW", name="Low thing", reorder_point=Decimal("10"))
    receive(product, wh, 3)
    alerts.low_stock_scan()

    sent = alerts.low_stock_digest()

    assert sent == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted([owner_a.user.email, manager.user.email])
    assert "LOW Low thing in MAIN" in mail.outbox[0].body


def test_beat_task_fans_out_to_every_active_tenant(owner_a, owner_b, in_a, wh):
    from inventory.tasks import low_stock_scan
    from tenants.context import tenant_context

    receive(make_product(sku="A-LOW", reorder_point=Decimal("5")), wh, 1)
    with tenant_context(owner_b.tenant):
        receive(make_product(sku="B-LOW", reorder_point=Decimal("5")), make_warehouse("BW"), 1)

    with tenant_context(None):
        low_stock_scan.delay()

    assert list(LowStockAlert.objects.values_list("product__sku", flat=True)) == ["A-LOW"]
    with tenant_context(owner_b.tenant):
        assert list(LowStockAlert.objects.values_list("product__sku", flat=True)) == ["B-LOW"]
