"""The stock operations' hot path (docs/performance.md, section 2): one prepared query
resolves and locks, the response comes from one reused serializer, and nothing of it
changes what the API answers."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from core.errors import CrossTenantWrite, TenantRequired
from core.sql import PreparedSelect, insert_objects
from inventory.api.serializers import MovementsSerializer, movements_payload
from inventory.models import Product, StockLevel, StockMovement
from inventory.services import stock
from inventory.services.integrity import stock_discrepancies
from inventory.tests.factories import make_product, make_warehouse, receive
from tenants.context import tenant_context
from tenants.models import Membership
from tenants.selectors import active_membership

pytestmark = pytest.mark.django_db

MISSING = "00000000-0000-4000-8000-000000000000"


def _post(client, operation, **body):
    return client.post(f"/api/v1/stock/{operation}/", {k: str(v) for k, v in body.items()})


def test_issue_costs_three_statements_with_the_level_locked_in_the_first(client_a, bolt, wh):
    receive(bolt, wh, 10)
    with CaptureQueriesContext(connection) as queries:
        response = _post(client_a, "issue", product=bolt.id, warehouse=wh.id, quantity=1)

    assert response.status_code == 201, response.json()
    captured = [q["sql"] for q in queries.captured_queries]
    # The service opens its own transaction; inside the test's it opens none (no savepoint).
    savepoints = [sql for sql in captured if "SAVEPOINT" in sql]
    statements = [sql for sql in captured if "SAVEPOINT" not in sql]
    # membership, level+product+warehouse (locked), level update + movement insert in one;
    # set_config goes in front of the level's select, in the same query string
    assert len(statements) == 3, statements
    assert "FOR NO KEY UPDATE OF" in statements[1] and "inventory_product" in statements[1]
    assert statements[2].startswith('WITH levels AS (UPDATE "inventory_stocklevel"')
    assert 'INSERT INTO "inventory_stockmovement"' in statements[2]
    assert savepoints == [], savepoints


@pytest.mark.parametrize("operation", ["receive", "issue", "adjust"])
def test_unknown_and_foreign_ids_name_each_field(client_a, in_a, tenant_b, bolt, wh, operation):
    with tenant_context(tenant_b):
        foreign_product = make_product(sku="B-1", name="theirs")
        foreign_warehouse = make_warehouse("BW")
    extra = {"reason": "count", "delta": "1"} if operation == "adjust" else {}

    both = _post(client_a, operation, product=MISSING, warehouse=MISSING, quantity=1, **extra)
    theirs = _post(client_a, operation, product=foreign_product.id, warehouse=foreign_warehouse.id, quantity=1, **extra)
    product_only = _post(client_a, operation, product=bolt.id, warehouse=foreign_warehouse.id, quantity=1, **extra)

    for response in (both, theirs):
        assert response.status_code == 400, response.json()
        fields = response.json()["fields"]
        assert set(fields) == {"product", "warehouse"}
        assert fields["product"][0]["code"] == fields["warehouse"][0]["code"] == "does_not_exist"
    assert product_only.status_code == 400 and set(product_only.json()["fields"]) == {"warehouse"}
    assert StockMovement.objects.count() == 0


def test_transfer_resolves_both_warehouses_and_creates_the_missing_level(client_a, bolt, wh, wh2):
    receive(bolt, wh, 5)

    unknown = _post(client_a, "transfer", product=bolt.id, from_warehouse=wh.id, to_warehouse=MISSING, quantity=1)
    moved = _post(client_a, "transfer", product=bolt.id, from_warehouse=wh.id, to_warehouse=wh2.id, quantity=2)

    assert unknown.status_code == 400 and set(unknown.json()["fields"]) == {"to_warehouse"}
    assert moved.status_code == 201
    assert StockLevel.objects.get(product=bolt, warehouse=wh2).on_hand == Decimal("2")
    assert stock_discrepancies() == []


def test_first_issue_of_a_product_never_stocked_here_is_409(client_a, bolt, wh):
    response = _post(client_a, "issue", product=bolt.id, warehouse=wh.id, quantity=1)

    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_stock"


def test_movements_payload_is_what_the_serializer_renders(in_a, bolt, wh, wh2, owner_a):
    movements = stock.stock_receive(product_id=bolt.id, warehouse_id=wh.id, quantity=Decimal("3"), user=owner_a.user)
    movements += stock.stock_transfer(
        product_id=bolt.id, from_warehouse_id=wh.id, to_warehouse_id=wh2.id, quantity=Decimal("1")
    )

    assert movements_payload(movements) == MovementsSerializer({"movements": movements}).data
    assert movements_payload(movements)["movements"][0]["user"] == owner_a.user.email


def test_prepared_select_matches_the_orm(in_a, bolt, wh, owner_a):
    receive(bolt, wh, 4)
    query = PreparedSelect(
        StockLevel, related=("product", "warehouse"), where=("product", "warehouse"), tenant_scoped=True
    )

    level = query.first(bolt.id, wh.id, tenant_id=in_a.id)
    orm = StockLevel.objects.select_related("product", "warehouse").get(product=bolt, warehouse=wh)

    assert level == orm and level.on_hand == orm.on_hand == Decimal("4")
    assert level.product.sku == "BOLT-1" and level.warehouse.code == "MAIN"
    assert level.updated_at == orm.updated_at and level._state.adding is False
    assert query.first(bolt.id, MISSING, tenant_id=in_a.id) is None
    membership = active_membership(user_id=owner_a.user_id, tenant_id=owner_a.tenant_id, token_version=0)
    assert membership == Membership.objects.get(pk=owner_a.pk)
    assert membership.user.email == owner_a.user.email and membership.tenant.slug == owner_a.tenant.slug


def test_prepared_select_fails_closed_without_a_tenant(bolt, wh):
    query = PreparedSelect(StockLevel, related=("product",), where=("product", "warehouse"), tenant_scoped=True)
    with pytest.raises(TenantRequired):
        query.first(bolt.id, wh.id)


def test_prepared_select_sees_only_the_current_tenant(in_a, tenant_b, bolt, wh):
    receive(bolt, wh, 1)
    query = PreparedSelect(StockLevel, related=("product",), where=("product", "warehouse"), tenant_scoped=True)
    with tenant_context(tenant_b):
        assert query.first(bolt.id, wh.id, tenant_id=tenant_b.id) is None


def test_insert_objects_writes_what_bulk_create_writes(in_a, bolt, wh, tenant_b):
    receive(bolt, wh, 2)
    movement = StockMovement(
        kind="issue",
        product=bolt,
        warehouse=wh,
        quantity=Decimal("-1"),
        on_hand_after=Decimal("1"),
        reserved_after=Decimal("0"),
    )
    with transaction.atomic():
        insert_objects(StockMovement, [movement], tenant_id=in_a.id)

    stored = StockMovement.objects.get(pk=movement.pk)
    assert stored.tenant_id == in_a.id and stored.created_at is not None and stored.quantity == Decimal("-1")
    assert movement._state.adding is False
    with tenant_context(tenant_b), pytest.raises(CrossTenantWrite):
        insert_objects(StockMovement, [movement], tenant_id=tenant_b.id)
    with pytest.raises(TenantRequired):
        insert_objects(StockMovement, [StockMovement(kind="issue", product=bolt, warehouse=wh)])


def test_errors_of_the_first_statement_after_set_config_are_djangos(in_a, tenant_b):
    """The first statement after the tenant changes goes in one query string with
    set_config; its errors must still arrive as Django's exceptions (services catch them)."""
    with tenant_context(tenant_b):
        Product.objects.create(sku="B-9", name="theirs")
    assert Product.objects.count() == 0  # tenant A applied again
    with pytest.raises(IntegrityError), transaction.atomic(), tenant_context(tenant_b):
        Product.objects.create(sku="b-9", name="same SKU, other case")  # the first statement for B
