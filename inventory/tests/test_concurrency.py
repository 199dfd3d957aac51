"""Real concurrent connections: the ledger never oversells and never loses a movement."""

import random
import threading
import uuid
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, connections, transaction

from inventory.errors import InsufficientStock
from inventory.models import MovementKind, ReferenceType, Reservation, StockLevel, StockMovement
from inventory.services import stock
from inventory.services.integrity import stock_discrepancies
from inventory.tests.factories import make_product, make_warehouse, receive
from tenants.context import tenant_context
from tenants.tests.factories import make_tenant

THREADS = 16
OPERATIONS_PER_THREAD = 25
START = 40


def _run_threads(target, count):
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def wrapped(index):
        try:
            barrier.wait()
            target(index)
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


def test_concurrent_issues_and_reservations_never_oversell(committed):
    tenant = make_tenant(slug="concurrency")
    with tenant_context(tenant):
        warehouse = make_warehouse("HOT")
        products = [make_product(sku=f"HOT-{n}") for n in range(3)]
        for product in products:
            receive(product, warehouse, START)
    issued = {p.id: Decimal(0) for p in products}
    received = {p.id: Decimal(0) for p in products}
    outcomes = {"issued": 0, "reserved": 0, "released": 0, "received": 0, "short": 0}
    lock = threading.Lock()

    def work(index):
        rng = random.Random(index)
        held: list[Reservation] = []
        with tenant_context(tenant):
            for _ in range(OPERATIONS_PER_THREAD):
                product = rng.choice(products)
                quantity = Decimal(rng.randint(1, 3))
                action = rng.choice(["issue", "issue", "issue", "reserve", "reserve", "release", "receive"])
                try:
                    with transaction.atomic():
                        if action == "issue":
                            stock.stock_issue(product_id=product.id, warehouse_id=warehouse.id, quantity=quantity)
                        elif action == "receive":
                            stock.stock_receive(
                                product_id=product.id,
                                warehouse_id=warehouse.id,
                                quantity=quantity,
                                unit_cost=Decimal("1.5"),
                            )
                        elif action == "reserve":
                            held += stock.stock_reserve(
                                source=ReferenceType.MANUAL,
                                lines=[stock.LineStock(uuid.uuid4(), product.id, warehouse.id, quantity)],
                            )
                        elif held:
                            released = held.pop(rng.randrange(len(held)))
                            stock.stock_release(source=ReferenceType.MANUAL, reference_ids=[released.reference_id])
                        else:
                            continue
                except InsufficientStock:
                    with lock:
                        outcomes["short"] += 1
                    continue
                with lock:
                    outcomes[
                        {"issue": "issued", "reserve": "reserved", "release": "released", "receive": "received"}[action]
                    ] += 1
                    if action == "issue":
                        issued[product.id] += quantity
                    if action == "receive":
                        received[product.id] += quantity

    _run_threads(work, THREADS)

    with tenant_context(tenant), transaction.atomic():
        levels = {level.product_id: level for level in StockLevel.objects.all()}
        for product in products:
            level = levels[product.id]
            assert level.on_hand == START + received[product.id] - issued[product.id]
            assert 0 <= level.reserved <= level.on_hand
        movements = StockMovement.objects.exclude(kind=MovementKind.RECEIPT)
        assert movements.filter(kind=MovementKind.ISSUE).count() == outcomes["issued"]
        assert movements.filter(kind=MovementKind.RESERVATION).count() == outcomes["reserved"]
        assert StockMovement.objects.filter(kind=MovementKind.RECEIPT).count() == len(products) + outcomes["received"]
        assert stock_discrepancies() == []
    # The run must have been contended to prove anything.
    assert outcomes["short"] > 0 and outcomes["issued"] > 0 and outcomes["reserved"] > 0


def test_last_units_go_to_exactly_one_of_many_concurrent_issues(committed):
    tenant = make_tenant(slug="last-units")
    with tenant_context(tenant):
        warehouse = make_warehouse("ONE")
        product = make_product(sku="LAST")
        receive(product, warehouse, 1)
    wins: list[int] = []

    def work(index):
        with tenant_context(tenant):
            try:
                stock.stock_issue(product_id=product.id, warehouse_id=warehouse.id, quantity=Decimal(1))
                wins.append(index)
            except InsufficientStock:
                pass

    _run_threads(work, 12)

    assert len(wins) == 1
    with tenant_context(tenant), transaction.atomic():
        assert StockLevel.objects.get(product=product).on_hand == 0
        assert StockMovement.objects.filter(kind=MovementKind.ISSUE).count() == 1


def test_ledger_trigger_refuses_changes_even_for_the_owner(committed):
    tenant = make_tenant(slug="ledger-owner")
    with tenant_context(tenant):
        receive(make_product(), make_warehouse(), 1)
    for sql in ["UPDATE inventory_stockmovement SET note = 'x'", "DELETE FROM inventory_stockmovement"]:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(using="owner"):
            with connections["owner"].cursor() as cursor:
                cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant.id)])
                cursor.execute(sql)
