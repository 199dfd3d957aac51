from decimal import Decimal

import pytest

from inventory.tests.factories import make_product, make_warehouse, receive
from orders.tests.factories import make_customer, make_supplier


@pytest.fixture
def shop(in_a):
    """Tenant A with a warehouse, two stocked products, a customer and a supplier."""

    class Shop:
        wh = make_warehouse("MAIN")
        bolt = make_product(sku="BOLT", selling_price=Decimal("0.50"), cost_price=Decimal("0.20"))
        saw = make_product(sku="SAW", selling_price=Decimal("20.00"), cost_price=Decimal("8.00"))
        customer = make_customer("Bob's Garage")
        supplier = make_supplier("Acme Supply")

    receive(Shop.bolt, Shop.wh, 100, "0.20")
    receive(Shop.saw, Shop.wh, 5, "8.00")
    return Shop
