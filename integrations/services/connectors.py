"""Writes of the integrations app: connectors, and the Shopify orders they receive.

A delivery of Shopify's ``orders/create`` webhook becomes a sales order through the order
services (``sales_order_create``, then ``sales_order_confirm`` when the connector
auto-confirms), in one transaction with the records that make it idempotent: the
delivery (``X-Shopify-Webhook-Id``) and the link from the shop's order id to the sales
order. Every delivery of a connector runs under a lock of the connector's row, so two
deliveries of one order at once make one sales order. An order that cannot be made (an
unknown SKU, no email, too little stock to confirm, a malformed body...) is kept as a
``ConnectorError`` with its body, and retried once the cause is fixed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from core.errors import Conflict, DomainError, ValidationFailed
from core.models import UNSET, Unset, update_fields
from integrations import errors, selectors, shopify
from integrations.models import (
    Connector,
    ConnectorDelivery,
    ConnectorError,
    ConnectorErrorStatus,
    ConnectorKind,
    ConnectorOrder,
)
from inventory.models import Customer, Product, Warehouse
from inventory.services import catalog
from orders import services as orders
from orders.models import SalesOrder
from tenants import events
from tenants.context import get_current_tenant
from tenants.entitlements import Feature, require_feature
from tenants.models import User

# --- Connectors -------------------------------------------------------------------------------


def _check_warehouse(warehouse: Warehouse | Unset) -> None:
    if isinstance(warehouse, Warehouse) and not warehouse.is_active:
        raise ValidationFailed.for_field("warehouse", errors.INACTIVE, f"Warehouse {warehouse.code} is inactive.")


def _save_connector(connector: Connector, names: list[str] | None = None) -> Connector:
    try:
        with transaction.atomic():
            return update_fields(connector, **{name: getattr(connector, name) for name in names or []})
    except IntegrityError as exc:
        raise ValidationFailed.for_field(
            "shop_domain", errors.UNIQUE, "This workspace has a connector for this shop already."
        ) from exc


@transaction.atomic
def connector_create(
    *,
    name: str,
    shop_domain: str,
    shared_secret: str,
    warehouse: Warehouse,
    kind: str = ConnectorKind.SHOPIFY,
    auto_confirm: bool = False,
    is_active: bool = True,
    user: User | None,
) -> Connector:
    """A connector; 403 ``feature_not_in_plan`` when the plan has no connectors."""
    require_feature(get_current_tenant(), Feature.CONNECTORS)
    _check_warehouse(warehouse)
    connector = Connector(
        kind=kind,
        name=name,
        shop_domain=shop_domain.lower(),
        shared_secret=shared_secret,
        warehouse=warehouse,
        auto_confirm=auto_confirm,
        is_active=is_active,
        created_by=user,
    )
    return _save_connector(connector)


@transaction.atomic
def connector_update(
    *,
    connector_id: uuid.UUID,
    name: str | Unset = UNSET,
    shop_domain: str | Unset = UNSET,
    shared_secret: str | Unset = UNSET,
    warehouse: Warehouse | Unset = UNSET,
    auto_confirm: bool | Unset = UNSET,
    is_active: bool | Unset = UNSET,
) -> Connector:
    """Changes the fields given (under the connector's lock: never in the middle of a delivery)."""
    found = selectors.connector_get(id=connector_id)
    connector = (
        Connector.objects.select_for_update(no_key=True, of=("self",)).select_related("warehouse").get(pk=found.pk)
    )
    _check_warehouse(warehouse)
    changes: dict[str, Any] = {
        "name": name,
        "shop_domain": shop_domain.lower() if isinstance(shop_domain, str) else shop_domain,
        "shared_secret": shared_secret,
        "warehouse": warehouse,
        "auto_confirm": auto_confirm,
        "is_active": is_active,
    }
    given = {key: value for key, value in changes.items() if value is not UNSET}
    for key, value in given.items():
        setattr(connector, key, value)
    return _save_connector(connector, list(given))


@transaction.atomic
def connector_delete(*, connector_id: uuid.UUID) -> None:
    """Deletes the connector with its delivery records, order links and error entries; the
    sales orders it made stay."""
    Connector.objects.select_for_update().get(pk=selectors.connector_get(id=connector_id).pk).delete()


# --- Shopify orders ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    """What a delivery came to: ``created``, ``duplicate`` (a delivery or an order seen
    before: nothing done), ``failed`` (kept as an error entry) or ``ignored`` (a topic
    other than ``orders/create``)."""

    status: str
    sales_order: SalesOrder | None = None
    error: ConnectorError | None = None


class _OrderRefused(DomainError):
    """A shop's order that cannot become a sales order, for an error entry."""


def _find_customer(order: shopify.ShopifyOrder) -> Customer:
    if not order.email:
        raise _OrderRefused("The order has no customer email.", code=errors.MISSING_EMAIL)
    try:
        validate_email(order.email)
    except ValidationError as exc:
        raise _OrderRefused(
            "The customer email is not a valid address.", code=errors.INVALID_EMAIL, details={"email": order.email}
        ) from exc
    customer = Customer.objects.filter(email__iexact=order.email).order_by("-is_active", "created_at").first()
    if customer is not None:
        return customer
    return catalog.party_create(model=Customer, name=order.customer_name or order.email, email=order.email.lower())


def _products(order: shopify.ShopifyOrder) -> dict[str, Product]:
    wanted = {line.sku.lower() for line in order.lines}
    found = {p.sku.lower(): p for p in Product.objects.annotate(sku_ci=Lower("sku")).filter(sku_ci__in=wanted)}
    unknown = sorted({line.sku for line in order.lines if line.sku.lower() not in found})
    if unknown:
        raise _OrderRefused(
            f"No product with the SKU {', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''} in the catalog.",
            code=errors.UNKNOWN_SKU,
            details={"skus": unknown[:100]},
        )
    return found


def _make_sales_order(connector: Connector, order: shopify.ShopifyOrder) -> SalesOrder:
    """The sales order of ``order`` (confirmed when the connector auto-confirms); raises a
    DomainError, with nothing written, when it cannot be made."""
    currency = get_current_tenant().currency
    if order.currency and order.currency != currency:
        raise _OrderRefused(
            f"The order is in {order.currency}; this workspace's prices are in {currency}.",
            code=errors.CURRENCY_MISMATCH,
            details={"currency": order.currency, "workspace_currency": currency},
        )
    products = _products(order)
    customer = _find_customer(order)
    lines = [
        orders.LineInput(
            product=products[line.sku.lower()],
            warehouse=connector.warehouse,
            quantity=line.quantity,
            unit_price=line.unit_price,
        )
        for line in order.lines
    ]
    total = f" (total {order.total_price} {order.currency})" if order.total_price and order.currency else ""
    sales_order = orders.sales_order_create(
        customer=customer,
        lines=lines,
        user=None,
        notes=f"Shopify order {order.name or order.external_id} from {connector.shop_domain}{total}.",
        external_reference=f"shopify:{order.external_id}",
    )
    if connector.auto_confirm:
        sales_order = orders.sales_order_confirm(order_id=sales_order.pk, user=None)
    return sales_order


@dataclass(frozen=True)
class _Refusal:
    """Why a shop order was not made: an error entry's code, message and details."""

    code: str
    message: str
    details: dict[str, Any]
    external_id: str = ""


def _refusal(exc: DomainError, external_id: str) -> _Refusal:
    """A refusal of the order services: a validation error is named by its first field's
    code (``inactive``, ``fractional_quantity``)."""
    details = dict(exc.details)
    code, message = exc.code, exc.message
    if exc.fields:
        details["fields"] = exc.fields
        if code == ValidationFailed.code:
            first = next(iter(exc.fields.values()))[0]
            code, message = first["code"], first["message"]
    return _Refusal(code, message, details, external_id)


@dataclass(frozen=True)
class _Outcome:
    status: str  # created, duplicate (the order was made before), failed
    external_id: str = ""
    sales_order: SalesOrder | None = None
    refusal: _Refusal | None = None


def _attempt(connector: Connector, body: bytes) -> _Outcome:
    """Makes the sales order of a delivery's body, all or nothing. The caller holds the
    connector's lock."""
    try:
        order = shopify.parse_order(body)
    except shopify.PayloadProblem as problem:
        refusal = _Refusal(problem.code, problem.message, problem.details, problem.external_id)
        return _Outcome("failed", problem.external_id, refusal=refusal)
    external_id = order.external_id
    link = (
        ConnectorOrder.objects.select_related("sales_order")
        .filter(connector=connector, external_id=external_id)
        .first()
    )
    if link is not None:
        return _Outcome("duplicate", external_id, sales_order=link.sales_order)
    if not connector.is_active:
        message = "The connector is paused (is_active is false): retry once it is active again."
        return _Outcome("failed", external_id, refusal=_Refusal(errors.CONNECTOR_INACTIVE, message, {}, external_id))
    try:
        # A plan without connectors (after a downgrade) keeps the shop's orders as error
        # entries, to retry once the workspace is on a plan with them again.
        require_feature(get_current_tenant(), Feature.CONNECTORS)
        with transaction.atomic():  # a savepoint: a refusal leaves nothing (no draft, no customer)
            sales_order = _make_sales_order(connector, order)
            ConnectorOrder.objects.create(connector=connector, external_id=external_id, sales_order=sales_order)
    except DomainError as exc:
        return _Outcome("failed", external_id, refusal=_refusal(exc, external_id))
    return _Outcome("created", external_id, sales_order=sales_order)


def _record_failure(
    connector: Connector, refusal: _Refusal, *, webhook_id: str, topic: str, body: bytes
) -> ConnectorError:
    """A new error entry, or another attempt on the open one of the same shop order."""
    entry = None
    if refusal.external_id:
        entry = (
            ConnectorError.objects.select_for_update()
            .filter(connector=connector, external_id=refusal.external_id, status=ConnectorErrorStatus.OPEN)
            .first()
        )
    if entry is None:
        entry = ConnectorError(
            connector=connector,
            external_id=refusal.external_id,
            webhook_id=shopify.storable_text(webhook_id, 255),
            topic=shopify.storable_text(topic, 100),
            body=shopify.body_text(body),
        )
    else:
        entry.attempts += 1
    entry.code, entry.message, entry.details = refusal.code, refusal.message, refusal.details
    entry.save()
    _failure_event(entry)
    return entry


def _failure_event(entry: ConnectorError) -> None:
    data = {
        "connector": str(entry.connector_id),
        "external_id": entry.external_id,
        "code": entry.code,
        "message": entry.message,
        "attempts": entry.attempts,
    }
    events.record_many([events.Event("connector.order_failed", "connector_error", entry.pk, data)])


def _resolve(entry: ConnectorError, sales_order: SalesOrder | None, user: User | None) -> None:
    entry.status = ConnectorErrorStatus.RESOLVED
    entry.sales_order = sales_order
    entry.resolved_at = timezone.now()
    entry.resolved_by = user
    entry.save(update_fields=["status", "sales_order", "resolved_at", "resolved_by", "updated_at"])


def _lock_connector(connector_id: uuid.UUID) -> Connector:
    """The connector under a row lock (``FOR NO KEY UPDATE`` of its row only): every delivery
    and retry of a connector runs one after another."""
    return (
        Connector.objects.select_for_update(no_key=True, of=("self",)).select_related("warehouse").get(pk=connector_id)
    )


@transaction.atomic
def shopify_order_receive(*, connector_id: uuid.UUID, body: bytes, topic: str, webhook_id: str = "") -> Receipt:
    """One signed delivery of the connector's webhook (the caller verified the signature and
    entered the connector's tenant). ``orders/create`` becomes a sales order, once per
    ``webhook_id`` and once per shop order; other topics are ignored, nothing stored."""
    if topic != shopify.ORDERS_CREATE:
        return Receipt("ignored")
    connector = _lock_connector(connector_id)
    if webhook_id and ConnectorDelivery.objects.filter(connector=connector, webhook_id=webhook_id).exists():
        return Receipt("duplicate")
    outcome = _attempt(connector, body)
    receipt = Receipt(outcome.status, sales_order=outcome.sales_order)
    if outcome.refusal is not None:
        entry = _record_failure(connector, outcome.refusal, webhook_id=webhook_id, topic=topic, body=body)
        receipt = Receipt(outcome.status, error=entry)
    elif outcome.status == "created":
        # The order failed before and now came through (a later delivery): its entry is done.
        for entry in ConnectorError.objects.select_for_update().filter(
            connector=connector, external_id=outcome.external_id, status=ConnectorErrorStatus.OPEN
        ):
            _resolve(entry, outcome.sales_order, None)
    if webhook_id:
        ConnectorDelivery.objects.create(
            connector=connector, webhook_id=webhook_id, topic=topic, outcome=outcome.status
        )
    return receipt


@transaction.atomic
def connector_error_retry(*, error_id: uuid.UUID, user: User | None) -> ConnectorError:
    """Tries an open entry's order again (after the catalog, the stock or the connector was
    fixed), under the connector's lock and the rules of a delivery. Made (or made since by
    another delivery): the entry is resolved and names the sales order. Refused again: the
    entry stays open with the new code and message and one more attempt. 409
    ``connector_error_resolved`` for a resolved entry."""
    found = selectors.connector_error_get(id=error_id)
    connector = _lock_connector(found.connector_id)
    entry = ConnectorError.objects.select_for_update().get(pk=found.pk)  # after the connector, as deliveries lock
    if entry.status != ConnectorErrorStatus.OPEN:
        raise Conflict("This error entry is resolved already.", code=errors.ERROR_RESOLVED)
    outcome = _attempt(connector, entry.body.encode())
    refusal = outcome.refusal
    if refusal is not None:
        entry.attempts += 1
        entry.code, entry.message, entry.details = refusal.code, refusal.message, refusal.details
        entry.save(update_fields=["attempts", "code", "message", "details", "updated_at"])
        _failure_event(entry)
        return entry
    _resolve(entry, outcome.sales_order, user)
    return entry


@transaction.atomic
def connector_error_dismiss(*, error_id: uuid.UUID, user: User | None) -> ConnectorError:
    """Resolves an open entry without an order (an order that is not to be made: a test
    order, a malformed delivery). 409 ``connector_error_resolved`` for a resolved entry."""
    entry = ConnectorError.objects.select_for_update().get(pk=selectors.connector_error_get(id=error_id).pk)
    if entry.status != ConnectorErrorStatus.OPEN:
        raise Conflict("This error entry is resolved already.", code=errors.ERROR_RESOLVED)
    _resolve(entry, None, user)
    return entry
