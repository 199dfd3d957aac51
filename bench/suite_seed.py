"""Set-based seeding of the benchmark suite's data (bench/run), as the owner role.

The owner is subject to Row Level Security (FORCE), so each tenant's rows are
inserted after ``set_config('app.tenant_id', ...)`` for that tenant: the statements
below read the tenant from that setting, and every SELECT in them sees only that
tenant's rows. A filler tenant costs ~10 statements. This server runs without
autovacuum, so while the tables grow their statistics are refreshed each time the
number of tenants doubles: with the statistics of 10 tenants every SELECT above
expects a tenth of a 2,000-tenant table, and filling took 0.55 s per tenant instead
of a few tens of milliseconds.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import common
import psycopg

_TENANT = "current_setting('app.tenant_id')::uuid"

WAREHOUSES_SQL = f"""
INSERT INTO inventory_warehouse (id, tenant_id, code, name, address, is_active, created_at)
VALUES (gen_random_uuid(), {_TENANT}, 'MAIN', 'Main warehouse', '', true, now()),
       (gen_random_uuid(), {_TENANT}, 'EAST', 'East warehouse', '', true, now())
"""
CATEGORIES_SQL = f"""
INSERT INTO inventory_category (id, tenant_id, name, description, parent_id, path, depth, created_at)
SELECT id, {_TENANT}, 'Category ' || g, '', NULL, replace(id::text, '-', '') || '/', 0, now()
FROM (SELECT gen_random_uuid() AS id, g FROM generate_series(1, 6) g) s
"""
PRODUCTS_SQL = f"""
INSERT INTO inventory_product (id, tenant_id, sku, name, description, unit, barcode, cost_price, selling_price,
    average_cost, reorder_point, reorder_quantity, lead_time_days, is_active, archived_at, attributes, image_url,
    created_at, updated_at, category_id)
SELECT gen_random_uuid(), {_TENANT}, 'P-' || lpad(g::text, 7, '0'), 'Product ' || g, 'Benchmark product ' || g,
       'pcs', '', (mod(g, 997) + 1) / 4.0, (mod(g, 997) + 1) / 3.0, (mod(g, 997) + 1) / 4.0, mod(g, 20), 50,
       mod(g, 30), true, NULL,
       jsonb_build_object('size', 'M' || (4 + mod(g, 8)), 'finish', 'zinc'), '',
       now() - g * interval '1 second', now(), c.ids[1 + mod(g, 6)]
FROM generate_series(1, %(products)s::int) g, (SELECT array_agg(id ORDER BY name) AS ids FROM inventory_category) c
"""
LEVELS_SQL = f"""
INSERT INTO inventory_stocklevel (id, tenant_id, product_id, warehouse_id, on_hand, reserved, updated_at)
SELECT gen_random_uuid(), {_TENANT}, p.id, w.id, hashtext(p.sku || w.code) & 511, 0, now()
FROM inventory_product p CROSS JOIN inventory_warehouse w
"""
# One adjustment per non-zero level, so the ledger invariant holds on the seeded data.
MOVEMENTS_SQL = """
INSERT INTO inventory_stockmovement (id, tenant_id, kind, product_id, warehouse_id, quantity, on_hand_after,
    reserved_after, unit_cost, reason, note, reference_type, reference_id, user_id, created_at)
SELECT gen_random_uuid(), tenant_id, 'adjustment', product_id, warehouse_id, on_hand, on_hand, 0, NULL, 'seed', '',
       'manual', NULL, NULL, now()
FROM inventory_stocklevel WHERE on_hand > 0
"""
CUSTOMERS_SQL = f"""
INSERT INTO inventory_customer (id, tenant_id, name, contact_name, email, phone, address, tax_id, payment_terms,
    notes, is_active, created_at, updated_at)
SELECT gen_random_uuid(), {_TENANT}, 'Customer ' || g, '', '', '', '', '', '', '', true, now(), now()
FROM generate_series(1, %(customers)s::int) g
"""
# Distinct created_at: the order list's ordering (-created_at) is then total, so the
# floor and the API return the same page.
ORDERS_SQL = f"""
INSERT INTO orders_salesorder (id, tenant_id, number, notes, expected_date, external_reference, currency, subtotal,
    discount_total, tax_total, total, created_at, updated_at, status, created_by_id, customer_id)
SELECT gen_random_uuid(), {_TENANT}, NULL, '', NULL, '', 'USD', 0, 0, 0, 0, now() - g * interval '1 minute', now(),
       'draft', NULL, c.ids[1 + mod(g, array_length(c.ids, 1))]
FROM generate_series(1, %(orders)s::int) g, (SELECT array_agg(id ORDER BY name) AS ids FROM inventory_customer) c
"""
LINES_SQL = f"""
INSERT INTO orders_salesorderline (id, tenant_id, position, quantity, unit_price, discount_percent, tax_rate,
    line_subtotal, line_discount, line_tax, line_total, shipped_quantity, returned_quantity, order_id, product_id,
    warehouse_id)
SELECT gen_random_uuid(), {_TENANT}, k, k, p.selling_price, 0, 20, round(k * p.selling_price, 2), 0,
       round(k * p.selling_price * 0.2, 2), round(k * p.selling_price, 2) + round(k * p.selling_price * 0.2, 2),
       0, 0, o.id, p.id, w.id
FROM (SELECT id, row_number() OVER (ORDER BY created_at) AS rn FROM orders_salesorder) o
CROSS JOIN LATERAL generate_series(1, (o.rn % 5)::int + 1) k
JOIN (SELECT id, selling_price, row_number() OVER (ORDER BY sku) AS pn FROM inventory_product) p
  ON p.pn = (o.rn * 7 + k * 13) % (SELECT count(*) FROM inventory_product) + 1
CROSS JOIN (SELECT id FROM inventory_warehouse ORDER BY code LIMIT 1) w
"""
TOTALS_SQL = """
UPDATE orders_salesorder o SET subtotal = s.subtotal, tax_total = s.tax, total = s.total
FROM (SELECT order_id, sum(line_subtotal) AS subtotal, sum(line_tax) AS tax, sum(line_total) AS total
      FROM orders_salesorderline GROUP BY order_id) s
WHERE s.order_id = o.id
"""
HISTORY_SQL = """
INSERT INTO orders_statuschange (id, tenant_id, from_status, to_status, note, created_at, purchase_order_id,
    sales_order_id, user_id)
SELECT gen_random_uuid(), tenant_id, '', 'draft', 'created', created_at, NULL, id, NULL FROM orders_salesorder
"""
FILLER_TENANTS_SQL = """
INSERT INTO tenants_tenant (id, name, slug, status, plan_code, billing_status, currency, created_at)
SELECT gen_random_uuid(), 'Filler ' || g, 'filler-' || g, 'active', 'free', '', 'USD', now()
FROM generate_series(%(first)s::int, %(last)s::int) g
RETURNING id
"""


def _owner_connection() -> psycopg.Connection[Any]:
    return psycopg.connect(common._url("owner").replace("postgres://", "postgresql://"))


def _fill(conn: psycopg.Connection[Any], tenant_id: uuid.UUID, sizes: dict[str, int], *, warehouses: bool) -> None:
    conn.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
    if warehouses:
        conn.execute(WAREHOUSES_SQL)
    for sql in (CATEGORIES_SQL, PRODUCTS_SQL, LEVELS_SQL, MOVEMENTS_SQL, CUSTOMERS_SQL, ORDERS_SQL):
        conn.execute(sql, sizes)
    for sql in (LINES_SQL, TOTALS_SQL, HISTORY_SQL):
        conn.execute(sql)


def seed_bench_tenant(tenant_id: uuid.UUID, *, products: int, customers: int, orders: int) -> None:
    """The benchmark tenant (its warehouses MAIN and EAST exist, from setup_db.seed)."""
    with _owner_connection() as conn, conn.transaction():
        _fill(conn, tenant_id, {"products": products, "customers": customers, "orders": orders}, warehouses=False)


def add_filler_tenants(first: int, last: int, *, products: int = 200, customers: int = 5, orders: int = 10) -> int:
    """Tenants filler-<first> .. filler-<last>, each with its own catalogue, stock and orders."""
    sizes = {"products": products, "customers": customers, "orders": orders}
    if last < first:
        return 0
    with _owner_connection() as conn:
        with conn.transaction():
            ids = [row[0] for row in conn.execute(FILLER_TENANTS_SQL, {"first": first, "last": last}).fetchall()]
        # The bench tenant and filler-1 .. filler-<first - 1> exist already.
        tenants = analyzed_at = max(first, 1)
        for start in range(0, len(ids), 50):
            with conn.transaction():
                for tenant_id in ids[start : start + 50]:
                    _fill(conn, tenant_id, sizes, warehouses=True)
            tenants += len(ids[start : start + 50])
            if tenants >= 2 * analyzed_at:
                with conn.transaction():
                    for table in GROWING_TABLES:
                        conn.execute(f'ANALYZE "{table}"')
                analyzed_at = tenants
    return len(ids)


# The tables _fill writes to.
GROWING_TABLES = (
    "tenants_tenant",
    "inventory_warehouse",
    "inventory_category",
    "inventory_product",
    "inventory_stocklevel",
    "inventory_stockmovement",
    "inventory_customer",
    "orders_salesorder",
    "orders_salesorderline",
    "orders_statuschange",
)


def analyze() -> float:
    """ANALYZE every table (owner), as after any bulk load; this server runs without autovacuum."""
    started = time.monotonic()
    with psycopg.connect(common._url("owner").replace("postgres://", "postgresql://"), autocommit=True) as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user"
        ).fetchall()
        for (table,) in tables:
            conn.execute(f'ANALYZE "{table}"')
    return time.monotonic() - started
