"""Domain events: written with the change or not at all, append-only, per tenant, and
relayed to each subscriber once, in commit-safe order."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import ProgrammingError, connection, transaction

from inventory.services import catalog
from inventory.tests.factories import make_product, make_warehouse, receive
from orders import services as orders
from orders.tests.factories import line, make_customer
from tenants import events
from tenants.context import tenant_context
from tenants.models import DomainEvent, EventCursor
from tenants.tests.factories import make_tenant


def _types(**filters):
    return list(DomainEvent.objects.filter(**filters).order_by("txid", "seq").values_list("type", flat=True))


@pytest.mark.django_db
def test_a_product_records_created_updated_and_archived_with_the_changes(in_a):
    product = make_product(sku="EV-1", selling_price=Decimal("2.00"))
    catalog.product_update(product=product, selling_price=Decimal("2.50"), name=product.name)
    warehouse = make_warehouse("MAIN")
    receive(product, warehouse, 3)
    catalog.product_delete(product=product)
    assert _types(subject_id=str(product.id)) == [
        "product.created",
        "product.updated",
        "stock.changed",
        "product.archived",
    ]
    updated = DomainEvent.objects.get(type="product.updated")
    assert list(updated.changes) == ["selling_price"]  # the name did not change: not listed
    assert [Decimal(v) for v in updated.changes["selling_price"]] == [Decimal("2"), Decimal("2.5")]


@pytest.mark.django_db
def test_each_stock_movement_is_one_stock_changed_event_with_its_numbers(in_a):
    product, warehouse = make_product(sku="EV-2"), make_warehouse("MAIN")
    receive(product, warehouse, 10)
    receive(product, warehouse, 5)
    changed = list(DomainEvent.objects.filter(type="stock.changed").order_by("txid", "seq"))
    assert [(e.data["kind"], Decimal(e.data["quantity"]), Decimal(e.data["on_hand_after"])) for e in changed] == [
        ("receipt", Decimal(10), Decimal(10)),
        ("receipt", Decimal(5), Decimal(15)),
    ]


@pytest.mark.django_db
def test_a_sales_order_records_its_life(in_a):
    product, warehouse = make_product(sku="EV-3"), make_warehouse("MAIN")
    receive(product, warehouse, 10)
    order = orders.sales_order_create(customer=make_customer(), lines=[line(product, warehouse, 4)], user=None)
    orders.sales_order_confirm(order_id=order.pk, user=None)
    order_line = order.lines.get()
    orders.sales_order_ship(order_id=order.pk, lines=[orders.QuantityInput(order_line.id, Decimal(1))], user=None)
    orders.sales_order_ship(order_id=order.pk, lines=[orders.QuantityInput(order_line.id, Decimal(3))], user=None)
    assert _types(subject_id=str(order.pk)) == [
        "sales_order.created",
        "sales_order.confirmed",
        "sales_order.shipped",
        "sales_order.shipped",
        "sales_order.fulfilled",
    ]


@pytest.mark.django_db
def test_a_rolled_back_change_leaves_no_event(in_a):
    with pytest.raises(RuntimeError), transaction.atomic():
        make_product(sku="EV-GONE")
        raise RuntimeError("changed our mind")
    assert not DomainEvent.objects.filter(data__sku="EV-GONE").exists()


def test_events_are_recorded_only_inside_a_transaction(committed):
    with (
        tenant_context(make_tenant(slug="no-transaction")),
        pytest.raises(RuntimeError, match="inside the transaction"),
    ):
        events.record_many([events.Event("x.y", "product", "1")])


@pytest.mark.django_db
def test_the_runtime_role_may_not_change_or_delete_events(in_a):
    make_product(sku="EV-4")
    for statement in ("UPDATE tenants_domainevent SET type = 'forged'", "DELETE FROM tenants_domainevent"):
        with pytest.raises(ProgrammingError, match="permission denied"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement)


@pytest.mark.django_db
def test_a_tenant_sees_only_its_own_events(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        make_product(sku="EV-A")
    with tenant_context(tenant_b):
        assert not DomainEvent.objects.filter(data__sku="EV-A").exists()
        assert DomainEvent.unscoped.filter(data__sku="EV-A").count() == 0  # Row Level Security too


# --- The relay ---------------------------------------------------------------------------


@pytest.fixture
def collected():
    seen: dict[str, list[str]] = {"first": [], "second": []}
    events.subscribe("test-first", lambda batch: seen["first"].extend(e.type for e in batch))
    events.subscribe("test-second", lambda batch: seen["second"].extend(e.type for e in batch))
    yield seen
    events._SUBSCRIBERS.pop("test-first", None)
    events._SUBSCRIBERS.pop("test-second", None)


def test_the_relay_hands_each_subscriber_every_event_once_in_order(committed, collected):
    tenant = make_tenant(slug="relay-once")
    with tenant_context(tenant):
        make_product(sku="R-1")
        make_product(sku="R-2")
        assert events.relay(only=["test-first", "test-second"]) == {"test-first": 2, "test-second": 2}
        assert events.relay(only=["test-first", "test-second"]) == {"test-first": 0, "test-second": 0}
        make_product(sku="R-3")
        events.relay(only=["test-first"])
    assert collected["first"] == ["product.created"] * 3
    assert collected["second"] == ["product.created"] * 2  # its own cursor: still one behind
    with tenant_context(tenant):
        assert EventCursor.objects.get(subscriber="test-second").delivered == 2


def test_a_failing_subscriber_gets_its_batch_again_and_holds_back_no_other(committed, collected):
    tenant = make_tenant(slug="relay-fail")
    calls = {"n": 0}

    def flaky(batch):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("the event store is down")
        collected["first"].extend(e.type for e in batch)

    events.subscribe("test-flaky", flaky)
    try:
        with tenant_context(tenant):
            make_product(sku="F-1")
            assert events.relay(only=["test-flaky", "test-second"]) == {"test-flaky": 0, "test-second": 1}
            assert events.relay(only=["test-flaky", "test-second"]) == {"test-flaky": 1, "test-second": 0}
    finally:
        events._SUBSCRIBERS.pop("test-flaky", None)
    assert collected["first"] == ["product.created"]


def test_an_event_that_commits_late_is_not_skipped(committed, collected):
    """T1 records first but commits after T2: the relay waits for T1 rather than moving
    its cursor past T1's event."""
    tenant = make_tenant(slug="relay-late")
    recorded, release = threading.Event(), threading.Event()

    def slow_writer():
        try:
            with tenant_context(tenant), transaction.atomic():
                make_product(sku="LATE")
                recorded.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert recorded.wait(10)
    with tenant_context(tenant):
        make_product(sku="EARLY-COMMIT")
        assert events.relay(only=["test-first"]) == {"test-first": 0}  # T1 still running
    release.set()
    thread.join(10)
    with tenant_context(tenant):
        assert events.relay(only=["test-first"]) == {"test-first": 2}
        skus = list(DomainEvent.objects.order_by("txid", "seq").values_list("data__sku", flat=True))
    assert skus == ["LATE", "EARLY-COMMIT"]


def test_a_commit_kicks_the_relay(committed, collected, settings):
    settings.EVENT_RELAY_KICK = True  # the test settings turn it off: relays are run by hand above
    tenant = make_tenant(slug="relay-kick")
    events._last_kick.clear()
    with tenant_context(tenant):
        make_product(sku="K-1")  # eager Celery in the tests: the relay ran at commit
        assert EventCursor.objects.get(subscriber="test-first").delivered == 1
    assert collected["first"] == ["product.created"]


def test_the_last_writes_of_a_burst_are_kicked_too(committed, collected, settings):
    """With a broker, a write within a second of a kick queues one relay for the end of
    that second, so the burst's last events do not wait for the sweep; without one (make
    run, eager Celery) every commit runs the relay. Found trying the product: under make
    run a burst's last events waited for the next write. The broker is the tests' Redis:
    the queued relay tasks are read back from its queue."""
    import json

    import redis
    from celery import current_app

    settings.EVENT_RELAY_KICK = True
    tenant = make_tenant(slug="relay-burst")
    events._last_kick.clear()
    events._delayed_kick.clear()
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("celery", "events")
    current_app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    try:
        with tenant_context(tenant):
            for number in range(3):
                make_product(sku=f"B-{number}")
        queued = [json.loads(raw)["headers"] for raw in broker.lrange("events", 0, -1)]  # the relay's queue
    finally:
        current_app.conf.task_always_eager = True
        settings.CELERY_TASK_ALWAYS_EAGER = True
        broker.delete("celery", "events")
    relays = [headers for headers in queued if headers["task"] == "tenants.tasks.relay_events"]
    assert [headers["eta"] is not None for headers in reversed(relays)] == [False, True]  # now, then the second's end

    with tenant_context(tenant):
        for number in range(3, 6):
            make_product(sku=f"B-{number}")
    assert collected["first"][-3:] == ["product.created"] * 3


def test_the_sweep_queues_the_relay_for_the_tenants_behind_and_only_those(committed, collected):
    """Tenants whose newest event is beyond a subscriber's cursor (or that have no cursor
    yet) are relayed; caught-up tenants and tenants without events are not. The relay
    runs at once here (eager Celery), so a second sweep finds nothing."""
    from tenants.tasks import relay_sweep

    caught_up, behind, never_relayed = (make_tenant(slug=f"sweep-{n}") for n in ("caught-up", "behind", "never"))
    make_tenant(slug="sweep-no-events")
    for tenant in (caught_up, behind):
        with tenant_context(tenant):
            make_product(sku="SW-1")
            events.relay()
    with tenant_context(never_relayed):
        make_product(sku="SW-1")
    with tenant_context(behind):
        make_product(sku="SW-2")
    collected["first"].clear()

    assert relay_sweep() == 2
    assert collected["first"] == ["product.created", "product.created"]  # SW-2 of behind, SW-1 of never
    assert relay_sweep() == 0
