"""Test data for orders, made through the services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from inventory.models import Customer, Supplier
from inventory.services import catalog
from inventory.tests.factories import make_product, make_warehouse, receive
from orders import services
from orders.models import DocumentSequence
from tenants.models import Tenant


def make_customer(name: str = "Customer") -> Customer:
    return catalog.party_create(model=Customer, name=name)


def make_supplier(name: str = "Supplier") -> Supplier:
    return catalog.party_create(model=Supplier, name=name)


def line(product: Any, warehouse: Any, quantity: str | int | Decimal, **extra: Any) -> services.LineInput:
    return services.LineInput(product=product, warehouse=warehouse, quantity=Decimal(str(quantity)), **extra)


def cross_tenant_seed(tenant: Tenant) -> list[Any]:
    """One row of every orders model for the cross-tenant harness: a shipped and
    returned sales order and a received and returned purchase order."""
    product = make_product(sku=f"ORD-{tenant.slug}")
    warehouse = make_warehouse()
    receive(product, warehouse, 20)
    customer, supplier = make_customer(), make_supplier()
    sale = services.sales_order_create(customer=customer, lines=[line(product, warehouse, 5)], user=None)
    services.sales_order_confirm(order_id=sale.pk, user=None)
    sale_line = sale.lines.get()
    shipment = services.sales_order_ship(
        order_id=sale.pk, lines=[services.QuantityInput(sale_line.id, Decimal(2))], user=None, carrier="UPS"
    )
    customer_return = services.sales_order_return(
        order_id=sale.pk, lines=[services.QuantityInput(sale_line.id, Decimal(1), disposition="restock")], user=None
    )
    purchase = services.purchase_order_create(supplier=supplier, lines=[line(product, warehouse, 4)], user=None)
    services.purchase_order_place(order_id=purchase.pk, user=None)
    purchase_line = purchase.lines.get()
    receipt = services.purchase_order_receive(
        order_id=purchase.pk, lines=[services.QuantityInput(purchase_line.id, Decimal(3))], user=None
    )
    supplier_return = services.purchase_order_return(
        order_id=purchase.pk, lines=[services.QuantityInput(purchase_line.id, Decimal(1))], user=None
    )
    return [
        sale,
        sale_line,
        *sale.history.all(),
        shipment,
        *shipment.lines.all(),
        customer_return,
        *customer_return.lines.all(),
        purchase,
        purchase_line,
        receipt,
        *receipt.lines.all(),
        supplier_return,
        *supplier_return.lines.all(),
        *DocumentSequence.objects.all(),
    ]
