from decimal import Decimal

import pytest

from inventory.models import Unit
from inventory.tests.factories import make_product, make_warehouse


@pytest.fixture
def wh(in_a):
    return make_warehouse("MAIN", name="Main warehouse")


@pytest.fixture
def wh2(in_a):
    return make_warehouse("EAST", name="East depot")


@pytest.fixture
def bolt(in_a):
    return make_product(sku="BOLT-1", name="Bolt", unit=Unit.PIECE, cost_price=Decimal("1.00"))


@pytest.fixture
def rope(in_a):
    return make_product(sku="ROPE-1", name="Rope", unit=Unit.METRE, cost_price=Decimal("0.50"))
