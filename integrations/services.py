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
    require_feature(get_current_tenant().id, Feature.CONNECTORS)
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


def _refusal(exc: DomainError) -> tuple[str, str, dict[str, Any]]:
    """An error entry's code, message and details for a refusal of the order services: a
    validation error is named by its first field's code (``inactive``, ``fractional_quantity``)."""
    details = dict(exc.details)
    code, message = exc.code, exc.message
    if exc.fields:
        details["fields"] = exc.fields
        if code == ValidationFailed.code:
            first = next(iter(exc.fields.values()))[0]
            code, message = first["code"], first["message"]
    return code, message, details


def _record_failure(
    connector: Connector,
    *,
    external_id: str,
    webhook_id: str,
    topic: str,
    body: bytes,
    code: str,
    message: str,
    details: dict[str, Any],
) -> ConnectorError:
    """A new error entry, or another attempt on the open one of the same shop order."""
    entry = None
    if external_id:
        entry = (
            ConnectorError.objects.select_for_update()
            .filter(connector=connector, external_id=external_id, status=ConnectorErrorStatus.OPEN)
            .first()
        )
    if entry is None:
        entry = ConnectorError(
            connector=connector,
            external_id=external_id,
            webhook_id=shopify.storable_text(webhook_id, 255),
            topic=shopify.storable_text(topic, 100),
            body=shopify.body_text(body),
        )
    else:
        entry.attempts += 1
    entry.code, entry.message, entry.details = code, message, details
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


def _take_order(connector: Connector, order: shopify.ShopifyOrder) -> SalesOrder:
    """Makes the sales order and its link, all or nothing (a savepoint)."""
    with transaction.atomic():
        sales_order = _make_sales_order(connector, order)
        ConnectorOrder.objects.create(connector=connector, external_id=order.external_id, sales_order=sales_order)
    return sales_order


def _existing_order(connector: Connector, external_id: str) -> SalesOrder | None:
    link = (
        ConnectorOrder.objects.select_related("sales_order")
        .filter(connector=connector, external_id=external_id)
        .first()
    )
    return link.sales_order if link is not None else None


def _receive(connector: Connector, *, body: bytes, topic: str, webhook_id: str) -> Receipt:
    failure: dict[str, Any] = {"webhook_id": webhook_id, "topic": topic, "body": body}
    try:
        order = shopify.parse_order(body)
    except shopify.PayloadProblem as problem:
        entry = _record_failure(
            connector,
            external_id=problem.external_id,
            **failure,
            code=problem.code,
            message=problem.message,
            details=problem.details,
        )
        return Receipt("failed", error=entry)
    existing = _existing_order(connector, order.external_id)
    if existing is not None:
        return Receipt("duplicate", sales_order=existing)
    if not connector.is_active:
        entry = _record_failure(
            connector,
            external_id=order.external_id,
            **failure,
            code=errors.CONNECTOR_INACTIVE,
            message="The connector is paused (is_active is false): retry once it is active again.",
            details={},
        )
        return Receipt("failed", error=entry)
    try:
        sales_order = _take_order(connector, order)
    except DomainError as exc:
        code, message, details = _refusal(exc)
        entry = _record_failure(
            connector, external_id=order.external_id, **failure, code=code, message=message, details=details
        )
        return Receipt("failed", error=entry)
    # An order that failed before and now came through (a later delivery): its entry is done.
    for entry in ConnectorError.objects.select_for_update().filter(
        connector=connector, external_id=order.external_id, status=ConnectorErrorStatus.OPEN
    ):
        _resolve(entry, sales_order, None)
    return Receipt("created", sales_order=sales_order)


@transaction.atomic
def shopify_order_receive(*, connector_id: uuid.UUID, body: bytes, topic: str, webhook_id: str = "") -> Receipt:
    """One signed delivery of the connector's webhook (the caller verified the signature and
    entered the connector's tenant). ``orders/create`` becomes a sales order, once per
    ``webhook_id`` and once per shop order; other topics are ignored, nothing stored."""
    if topic != shopify.ORDERS_CREATE:
        return Receipt("ignored")
    connector = (
        Connector.objects.select_for_update(no_key=True, of=("self",)).select_related("warehouse").get(pk=connector_id)
    )
    if webhook_id and ConnectorDelivery.objects.filter(connector=connector, webhook_id=webhook_id).exists():
        return Receipt("duplicate")
    receipt = _receive(connector, body=body, topic=topic, webhook_id=webhook_id)
    if webhook_id:
        ConnectorDelivery.objects.create(
            connector=connector, webhook_id=webhook_id, topic=topic, outcome=receipt.status
        )
    return receipt


@transaction.atomic
def connector_error_retry(*, error_id: uuid.UUID, user: User | None) -> ConnectorError:
    """Tries an open entry's order again (after the catalog, the stock or the connector was
    fixed). Success: the entry is resolved and names the sales order; another refusal: the
    entry stays open with the new code and message and one more attempt. 409
    ``connector_error_resolved`` for a resolved entry."""
    found = selectors.connector_error_get(id=error_id)
    connector = (
        Connector.objects.select_for_update(no_key=True, of=("self",))
        .select_related("warehouse")
        .get(pk=found.connector_id)
    )
    entry = ConnectorError.objects.select_for_update().get(pk=found.pk)  # after the connector, as deliveries lock
    if entry.status != ConnectorErrorStatus.OPEN:
        raise Conflict("This error entry is resolved already.", code=errors.ERROR_RESOLVED)
    body = entry.body.encode()
    try:
        order = shopify.parse_order(body)
    except shopify.PayloadProblem as problem:
        return _retry_failed(entry, problem.code, problem.message, problem.details)
    existing = _existing_order(connector, order.external_id)
    if existing is not None:
        _resolve(entry, existing, user)
        return entry
    if not connector.is_active:
        return _retry_failed(
            entry, errors.CONNECTOR_INACTIVE, "The connector is paused (is_active is false): activate it first.", {}
        )
    try:
        sales_order = _take_order(connector, order)
    except DomainError as exc:
        return _retry_failed(entry, *_refusal(exc))
    _resolve(entry, sales_order, user)
    return entry


def _retry_failed(entry: ConnectorError, code: str, message: str, details: dict[str, Any]) -> ConnectorError:
    entry.attempts += 1
    entry.code, entry.message, entry.details = code, message, details
    entry.save(update_fields=["attempts", "code", "message", "details", "updated_at"])
    _failure_event(entry)
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
