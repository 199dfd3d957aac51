"""Shopify's side of the connector: the webhook signature and the ``orders/create`` payload.

Pure functions, no database: ``signature_valid`` checks ``X-Shopify-Hmac-Sha256``;
``parse_order`` reads the fields Stockroom uses from a payload, refusing anything it
cannot use with a ``PayloadProblem`` (a stable code, a message and details), which the
services keep as a connector error entry (docs/integrations.md, "Shopify connector").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from core.numbers import PRICE, QUANTITY
from integrations import errors

ORDERS_CREATE = "orders/create"
SHOP_DOMAIN_PATTERN = r"^[a-z0-9][a-z0-9-]{0,59}\.myshopify\.com$"
MAX_LINES = 1000
MAX_ORDER_ID = 2**63 - 1  # Shopify's ids are 64-bit integers
# What PostgreSQL text cannot hold (NUL) or UTF-8 cannot encode (a lone surrogate).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class PayloadProblem(Exception):
    """A payload Stockroom cannot turn into an order; ``external_id`` when the order id was read."""

    def __init__(self, code: str, message: str, *, details: dict[str, Any] | None = None, external_id: str = ""):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}
        self.external_id = external_id


@dataclass(frozen=True)
class OrderLine:
    sku: str
    quantity: Decimal
    unit_price: Decimal
    title: str = ""


@dataclass(frozen=True)
class ShopifyOrder:
    external_id: str
    name: str  # "#1001"
    email: str  # "" when the payload has none
    customer_name: str
    currency: str
    total_price: str
    lines: list[OrderLine] = field(default_factory=list)


def signature(secret: str, body: bytes) -> str:
    """Base64 of the HMAC-SHA256 of ``body`` with ``secret``: what Shopify sends."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def signature_valid(secret: str, body: bytes, header: str) -> bool:
    """Constant-time comparison of ``header`` with the body's signature."""
    return hmac.compare_digest(signature(secret, body).encode(), header.strip().encode("utf-8", "replace"))


def storable_text(value: str, max_length: int | None = None) -> str:
    """``value`` with what PostgreSQL cannot store replaced, cut to ``max_length``."""
    text = _UNSTORABLE.sub("\ufffd", value)
    return text[:max_length] if max_length is not None else text


def body_text(body: bytes) -> str:
    """The body as stored with an error entry: UTF-8 (bad bytes replaced), no NUL."""
    return storable_text(body.decode("utf-8", "replace"))


def _text(value: Any, max_length: int) -> str:
    return storable_text(value, max_length).strip() if isinstance(value, str) else ""


def _order_id(payload: dict[str, Any]) -> str:
    value = payload.get("id")
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_ORDER_ID:
        raise PayloadProblem(errors.INVALID_ORDER_ID, "The payload has no valid order id (`id`).")
    return str(value)


def _email(payload: dict[str, Any]) -> str:
    customer = payload.get("customer")
    candidates = [payload.get("email"), payload.get("contact_email")]
    if isinstance(customer, dict):
        candidates.append(customer.get("email"))
    return next((_text(c, 254) for c in candidates if _text(c, 254)), "")


def _customer_name(payload: dict[str, Any], email: str) -> str:
    customer = payload.get("customer")
    if isinstance(customer, dict):
        full = " ".join(p for p in (_text(customer.get("first_name"), 100), _text(customer.get("last_name"), 100)) if p)
        if full:
            return full[:200]
    for key in ("billing_address", "shipping_address"):
        address = payload.get(key)
        if isinstance(address, dict) and _text(address.get("name"), 200):
            return _text(address.get("name"), 200)
    return email[:200]


def _quantity(value: Any, index: int, external_id: str) -> Decimal:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= QUANTITY.max_value:
        return Decimal(value)
    raise PayloadProblem(
        errors.INVALID_LINE,
        f"Line {index + 1}: the quantity must be a whole number from 1 to {int(QUANTITY.max_value)}.",
        details={"line": index},
        external_id=external_id,
    )


def _price(value: Any, index: int, external_id: str) -> Decimal:
    problem = PayloadProblem(
        errors.INVALID_LINE,
        f"Line {index + 1}: the price must be a number from 0 to {PRICE.max_value} with at most 4 decimals.",
        details={"line": index},
        external_id=external_id,
    )
    if (
        isinstance(value, bool)
        or not isinstance(value, str | int | float)
        or (isinstance(value, str) and len(value) > 40)
    ):
        raise problem
    try:
        price = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise problem from exc
    if not price.is_finite() or not 0 <= price <= PRICE.max_value or price != price.quantize(PRICE.quantum):
        raise problem
    return price.quantize(PRICE.quantum)


def _lines(payload: dict[str, Any], external_id: str) -> list[OrderLine]:
    items = payload.get("line_items")
    if not isinstance(items, list) or not items:
        raise PayloadProblem(errors.NO_LINES, "The order has no line items.", external_id=external_id)
    if len(items) > MAX_LINES:
        raise PayloadProblem(
            errors.INVALID_LINE, f"The order has more than {MAX_LINES} line items.", external_id=external_id
        )
    lines = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise PayloadProblem(
                errors.INVALID_LINE,
                f"Line {index + 1} is not an object.",
                details={"line": index},
                external_id=external_id,
            )
        sku = _text(item.get("sku"), 200)
        if not sku:
            raise PayloadProblem(
                errors.MISSING_SKU,
                f"Line {index + 1} ({_text(item.get('title'), 100) or 'untitled'}) has no SKU.",
                details={"line": index},
                external_id=external_id,
            )
        lines.append(
            OrderLine(
                sku=sku,
                quantity=_quantity(item.get("quantity"), index, external_id),
                unit_price=_price(item.get("price"), index, external_id),
                title=_text(item.get("title"), 200),
            )
        )
    return lines


def parse_order(body: bytes) -> ShopifyOrder:
    """The order of an ``orders/create`` body; ``PayloadProblem`` for what cannot be used."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise PayloadProblem(errors.INVALID_PAYLOAD, "The body is not valid UTF-8 JSON.") from exc
    if not isinstance(payload, dict):
        raise PayloadProblem(errors.INVALID_PAYLOAD, "The body is not a JSON object.")
    external_id = _order_id(payload)
    email = _email(payload)
    currency = _text(payload.get("currency"), 3).upper()
    return ShopifyOrder(
        external_id=external_id,
        name=_text(payload.get("name"), 50),
        email=email,
        customer_name=_customer_name(payload, email),
        currency=currency,
        total_price=_text(payload.get("total_price"), 40),
        lines=_lines(payload, external_id),
    )
