"""Raw-SQL floors: what the cheapest correct code for each endpoint costs on this stack.

Each view is what Stockroom must at least do for the same response: decode the JWT
(simplejwt's ``AccessToken``: signature and expiry, no membership look-up), run one
query (two for orders with lines) as the runtime role inside the request's
transaction with ``app.tenant_id`` set by our database backend (Row Level Security
in force), and ``json.dumps`` the rows into the same JSON keys as the API. The token
comes as ``Authorization: Floor <jwt>`` so that the tenant middleware (which acts on
``Bearer`` only) does not run its membership query for these requests.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken

from tenants.context import (
    current_tenant_id,
    current_user_id,
    reset_current_tenant,
    reset_current_user_id,
    set_current_tenant,
    set_current_user_id,
)
from tenants.models import Tenant
from tenants.tokens import TENANT_CLAIM

PAGE_SIZE = 50
SCHEME = "floor"

PRODUCT_COLUMNS = [
    "id",
    "sku",
    "name",
    "description",
    "category",
    "category_name",
    "unit",
    "barcode",
    "cost_price",
    "selling_price",
    "average_cost",
    "reorder_point",
    "reorder_quantity",
    "lead_time_days",
    "is_active",
    "archived_at",
    "attributes",
    "image_url",
    "created_at",
    "updated_at",
]
PRODUCT_SELECT = """
SELECT p.id, p.sku, p.name, p.description, p.category_id, c.name, p.unit, p.barcode, p.cost_price,
       p.selling_price, p.average_cost, p.reorder_point, p.reorder_quantity, p.lead_time_days, p.is_active,
       p.archived_at, p.attributes, p.image_url, p.created_at, p.updated_at{extra}
FROM inventory_product p LEFT JOIN inventory_category c ON c.id = p.category_id
"""
PRODUCT_LIST_SQL = (
    PRODUCT_SELECT.format(extra=", (SELECT count(*) FROM inventory_product WHERE tenant_id = %s)")
    + "WHERE p.tenant_id = %s ORDER BY p.sku LIMIT %s"
)
PRODUCT_DETAIL_SQL = PRODUCT_SELECT.format(extra="") + "WHERE p.tenant_id = %s AND p.id = %s"

STOCK_LEVEL_SQL = """
SELECT l.id, p.id, p.sku, p.name, p.unit, w.id, w.code, w.name, l.on_hand, l.reserved, l.available,
       coalesce(l.reorder_point, p.reorder_point), coalesce(l.reorder_quantity, p.reorder_quantity),
       l.reorder_point, l.reorder_quantity, l.updated_at,
       (SELECT count(*) FROM inventory_stocklevel WHERE tenant_id = %s AND warehouse_id = %s)
FROM inventory_stocklevel l
JOIN inventory_product p ON p.id = l.product_id
JOIN inventory_warehouse w ON w.id = l.warehouse_id
WHERE l.tenant_id = %s AND l.warehouse_id = %s
ORDER BY p.sku, w.code LIMIT %s
"""

# Counts are uncorrelated scalar subqueries (evaluated once; the page still stops after its
# rows), not count(*) over (), which reads the whole list before the limit.
# The page of orders with their customer and status history (a small json_agg per order),
# then the page's lines with their product and warehouse: two queries.
SALES_ORDER_SQL = """
SELECT o.id, o.number, o.status, cu.id, cu.name, o.currency, o.subtotal, o.discount_total, o.tax_total,
       o.total, o.notes, o.expected_date, o.external_reference,
       (SELECT coalesce(json_agg(json_build_object(
                  'from_status', h.from_status, 'to_status', h.to_status, 'user', u.email, 'note', h.note,
                  'created_at', to_char(h.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
                ORDER BY h.created_at, h.id), '[]')
        FROM orders_statuschange h LEFT JOIN tenants_user u ON u.id = h.user_id
        WHERE h.sales_order_id = o.id),
       o.created_at, o.updated_at, (SELECT count(*) FROM orders_salesorder WHERE tenant_id = %s)
FROM orders_salesorder o JOIN inventory_customer cu ON cu.id = o.customer_id
WHERE o.tenant_id = %s
ORDER BY o.created_at DESC LIMIT %s
"""
SALES_LINE_SQL = """
SELECT l.order_id, l.id, l.position, p.id, p.sku, p.name, p.unit, w.id, w.code, w.name, l.quantity, l.unit_price,
       l.discount_percent, l.tax_rate, l.line_subtotal, l.line_discount, l.line_tax, l.line_total,
       l.shipped_quantity, l.returned_quantity
FROM orders_salesorderline l
JOIN inventory_product p ON p.id = l.product_id
JOIN inventory_warehouse w ON w.id = l.warehouse_id
WHERE l.tenant_id = %s AND l.order_id = ANY(%s)
ORDER BY l.position, l.id
"""

# The same write as inventory.services.stock for one issue: the level's UPDATE (which
# row-locks it; the condition refuses an oversell) and the ledger INSERT, one statement.
STOCK_ISSUE_SQL = """
WITH level AS (
    UPDATE inventory_stocklevel SET on_hand = on_hand - %(quantity)s, updated_at = now()
    WHERE tenant_id = %(tenant)s AND product_id = %(product)s AND warehouse_id = %(warehouse)s
      AND on_hand - reserved >= %(quantity)s
    RETURNING tenant_id, product_id, warehouse_id, on_hand, reserved
)
INSERT INTO inventory_stockmovement (id, tenant_id, kind, product_id, warehouse_id, quantity, on_hand_after,
    reserved_after, unit_cost, reason, note, reference_type, reference_id, user_id, created_at)
SELECT gen_random_uuid(), level.tenant_id, 'issue', level.product_id, level.warehouse_id, -%(quantity)s,
       level.on_hand, level.reserved, p.average_cost, '', '', 'manual', NULL, %(user)s, now()
FROM level JOIN inventory_product p ON p.id = level.product_id
RETURNING id, product_id, warehouse_id, quantity, on_hand_after, created_at
"""


def _json_default(value: Any) -> Any:
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime.datetime):
        text = value.astimezone(datetime.UTC).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def _json(payload: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(payload, default=_json_default), content_type="application/json", status=status)


def _page(request: HttpRequest, count: int, results: list[dict[str, Any]]) -> dict[str, Any]:
    next_url = request.build_absolute_uri(f"{request.path}?page=2") if count > PAGE_SIZE else None
    return {"count": count, "next": next_url, "previous": None, "results": results}


@contextmanager
def _as_token_tenant(request: HttpRequest) -> Iterator[bool]:
    """The tenant and user of the ``Floor`` token as the database context (False: no valid token)."""
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    try:
        if scheme.lower() != SCHEME:
            raise TokenError("no floor token")
        token = AccessToken(raw.strip())  # type: ignore[arg-type]
        tenant_id, user_id = uuid.UUID(str(token[TENANT_CLAIM])), uuid.UUID(str(token["user_id"]))
    except (TokenError, KeyError, ValueError):
        yield False
        return
    tenant_token = set_current_tenant(Tenant(id=tenant_id))
    user_token = set_current_user_id(user_id)
    try:
        yield True
    finally:
        reset_current_user_id(user_token)
        reset_current_tenant(tenant_token)


def _authenticated(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with _as_token_tenant(request) as ok:
            if not ok:
                return _json({"detail": "A valid Floor token is required."}, status=401)
            return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    return wrapper


def _query(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _tenant_id() -> uuid.UUID:
    tenant_id = current_tenant_id()
    assert tenant_id is not None
    return tenant_id


def _product(row: Sequence[Any]) -> dict[str, Any]:
    return dict(zip(PRODUCT_COLUMNS, row, strict=False))


@require_GET
@_authenticated
def product_list(request: HttpRequest) -> HttpResponse:
    rows = _query(PRODUCT_LIST_SQL, [_tenant_id(), _tenant_id(), PAGE_SIZE])
    return _json(_page(request, rows[0][-1] if rows else 0, [_product(row) for row in rows]))


@require_GET
@_authenticated
def product_detail(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    rows = _query(PRODUCT_DETAIL_SQL, [_tenant_id(), pk])
    if not rows:
        return _json({"detail": "Not found."}, status=404)
    return _json(_product(rows[0]))


@require_GET
@_authenticated
def stock_level_list(request: HttpRequest) -> HttpResponse:
    try:
        warehouse = uuid.UUID(request.GET.get("warehouse", ""))
    except ValueError:
        return _json({"detail": "warehouse=<uuid> is required."}, status=400)
    rows = _query(STOCK_LEVEL_SQL, [_tenant_id(), warehouse, _tenant_id(), warehouse, PAGE_SIZE])
    results = [
        {
            "id": r[0],
            "product": {"id": r[1], "sku": r[2], "name": r[3], "unit": r[4]},
            "warehouse": {"id": r[5], "code": r[6], "name": r[7]},
            "on_hand": r[8],
            "reserved": r[9],
            "available": r[10],
            "reorder_point": r[11],
            "reorder_quantity": r[12],
            "level_reorder_point": r[13],
            "level_reorder_quantity": r[14],
            "updated_at": r[15],
        }
        for r in rows
    ]
    return _json(_page(request, rows[0][-1] if rows else 0, results))


@require_GET
@_authenticated
def sales_order_list(request: HttpRequest) -> HttpResponse:
    tenant_id = _tenant_id()
    orders = _query(SALES_ORDER_SQL, [tenant_id, tenant_id, PAGE_SIZE])
    lines: dict[uuid.UUID, list[dict[str, Any]]] = {o[0]: [] for o in orders}
    for r in _query(SALES_LINE_SQL, [tenant_id, list(lines)]) if orders else []:
        lines[r[0]].append(
            {
                "id": r[1],
                "position": r[2],
                "product": {"id": r[3], "sku": r[4], "name": r[5], "unit": r[6]},
                "warehouse": {"id": r[7], "code": r[8], "name": r[9]},
                "quantity": r[10],
                "unit_price": r[11],
                "discount_percent": r[12],
                "tax_rate": r[13],
                "line_subtotal": r[14],
                "line_discount": r[15],
                "line_tax": r[16],
                "line_total": r[17],
                "shipped_quantity": r[18],
                "returned_quantity": r[19],
            }
        )
    results = [
        {
            "id": o[0],
            "number": o[1],
            "status": o[2],
            "customer": {"id": o[3], "name": o[4]},
            "currency": o[5],
            "subtotal": o[6],
            "discount_total": o[7],
            "tax_total": o[8],
            "total": o[9],
            "notes": o[10],
            "expected_date": o[11],
            "external_reference": o[12],
            "lines": lines[o[0]],
            "history": o[13],
            "created_at": o[14],
            "updated_at": o[15],
        }
        for o in orders
    ]
    return _json(_page(request, orders[0][-1] if orders else 0, results))


@csrf_exempt
@require_POST
@_authenticated
def stock_issue(request: HttpRequest) -> HttpResponse:
    try:
        body = json.loads(request.body)
        params = {
            "tenant": _tenant_id(),
            "product": uuid.UUID(body["product"]),
            "warehouse": uuid.UUID(body["warehouse"]),
            "quantity": (quantity := Decimal(body["quantity"])),
            "user": current_user_id(),
        }
    except (ValueError, KeyError, TypeError, InvalidOperation):
        return _json({"detail": "Invalid input."}, status=400)
    if quantity <= 0:
        return _json({"detail": "The quantity must be positive."}, status=400)
    rows = _query(STOCK_ISSUE_SQL, params)  # type: ignore[arg-type]
    if not rows:
        return _json({"detail": "Insufficient stock."}, status=409)
    keys = ("id", "product", "warehouse", "quantity", "on_hand_after", "created_at")
    return _json(dict(zip(keys, rows[0], strict=True)), status=201)
