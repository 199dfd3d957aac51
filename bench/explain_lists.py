"""The query plans of every list endpoint, as the API runs them (runtime role, Row Level Security).

    .venv/bin/python bench/explain_lists.py --seed 1000       # recreate the database: 10 tenants x 1,000 rows
    .venv/bin/python bench/explain_lists.py --seed 100000     # ... x 100,000 rows (about 10 min)
    .venv/bin/python bench/explain_lists.py                   # explain again on the data already there
    .venv/bin/python bench/explain_lists.py --seed 100000 --no-analyze   # leave the tables unanalyzed

Each list is requested once through Django's test client, in this process, with the
production settings, as the owner of the tenant ``bench`` (the first of the seeded
tenants) and a page of 50 rows in the default ordering; the SQL it ran is captured
(``CaptureQueriesContext``). Every SELECT of the list (the COUNT, the page, the
prefetches; not the membership look-up) then runs under ``EXPLAIN (ANALYZE, BUFFERS)``
on a connection of the runtime role with ``app.tenant_id`` set, exactly as in a
request. For each page query a second shape is explained as well: the page with
``COUNT(*) OVER ()`` folded in (one query instead of the page and the COUNT).
Printed per query: the warm execution time (median of 3), shared buffers hit/read,
and the plan's nodes with their actual rows. A query slower than ``--timeout`` seconds
(default 10) is cancelled and shown with the plan it had chosen (estimated rows).

``--seed N`` recreates the database (``BENCH_DATABASE``, default ``stockroom_explain``;
roles ``<database>_owner``, ``_app``, ``_ops``) through ``setup_db.prepare`` and adds
nine more tenants; every tenant gets N products, 2 levels per product, N ledger
movements (10 per timestamp), N supplier products, N/10 categories, customers and
suppliers, N/2 sales and N/2 purchase orders with 2 lines and 1 status change each,
written with ``INSERT ... SELECT generate_series`` as the superuser
(``BENCH_ADMIN_URL``). Then ``ANALYZE`` (unless ``--no-analyze``). ``--analyze`` runs
``ANALYZE`` before explaining; ``--forget-statistics`` first deletes the statistics of
the application's tables (superuser: ``pg_statistic`` rows, ``reltuples`` -1), which is
how a table looks after a bulk load when nothing has analyzed it (autovacuum off, or not
yet run). ``--json FILE`` writes the plans as JSON.

Without ``--seed`` it explains whatever the database holds (for example the tenant of
``profile_import.py`` right after its import: ``--tenant bench``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

os.environ.setdefault("BENCH_DATABASE", "stockroom_explain")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
import psycopg
import setup_db

EXTRA_TENANTS = 9
PAGE = 50
RUNS = 3

SEED_SQL = """
SET session_replication_role = replica;  -- rows are consistent by construction: skip the FK triggers
CREATE TEMP TABLE seed_i AS SELECT i FROM generate_series(1, %(n)s) AS i;
WITH c AS (SELECT gen_random_uuid() AS id, i FROM generate_series(1, %(n10)s) AS i)
INSERT INTO inventory_category (id, tenant_id, name, description, path, depth, created_at, parent_id)
SELECT c.id, %(t)s, 'Category ' || md5(%(t)s::text || c.i), '', c.id::text || '/', 0, now(), NULL FROM c;
INSERT INTO inventory_customer (id, tenant_id, name, contact_name, email, phone, address, tax_id,
    payment_terms, notes, is_active, created_at, updated_at)
SELECT gen_random_uuid(), %(t)s, 'Customer ' || md5('c' || %(t)s::text || i), '', '', '', '', '', '', '',
    true, now(), now()
FROM generate_series(1, %(n10)s) AS i;
INSERT INTO inventory_supplier (id, tenant_id, name, contact_name, email, phone, address, tax_id,
    payment_terms, notes, is_active, created_at, updated_at)
SELECT gen_random_uuid(), %(t)s, 'Supplier ' || md5('s' || %(t)s::text || i), '', '', '', '', '', '', '',
    true, now(), now()
FROM generate_series(1, %(n10)s) AS i;
CREATE TEMP TABLE seed_ref AS SELECT
    (SELECT array_agg(id) FROM inventory_category WHERE tenant_id = %(t)s) AS cats,
    (SELECT array_agg(id) FROM inventory_customer WHERE tenant_id = %(t)s) AS customers,
    (SELECT array_agg(id) FROM inventory_supplier WHERE tenant_id = %(t)s) AS suppliers;
CREATE TEMP TABLE seed_p AS SELECT i, gen_random_uuid() AS id FROM seed_i;
INSERT INTO inventory_product (id, tenant_id, sku, name, description, unit, barcode, cost_price, selling_price,
    average_cost, reorder_point, reorder_quantity, lead_time_days, is_active, archived_at, attributes, image_url,
    created_at, updated_at, category_id)
SELECT p.id, %(t)s, upper(substr(md5(%(t)s::text || p.i), 1, 12)), 'Product ' || p.i, '', 'pcs', '', 1.5, 3, 1.5,
    p.i %% 50, 100, 7, true, NULL, '{}', '', now() - p.i * interval '1 minute', now(),
    r.cats[1 + p.i %% cardinality(r.cats)]
FROM seed_p AS p, seed_ref AS r;
INSERT INTO inventory_stocklevel (id, tenant_id, product_id, warehouse_id, on_hand, reserved, updated_at)
SELECT gen_random_uuid(), %(t)s, p.id, w.id, (p.i * 7 + w.k) %% 200, 0, now()
FROM seed_p AS p, (VALUES (%(w1)s::uuid, 0), (%(w2)s::uuid, 3)) AS w(id, k);
INSERT INTO inventory_stockmovement (id, tenant_id, kind, product_id, warehouse_id, quantity, on_hand_after,
    reserved_after, unit_cost, reason, note, reference_type, reference_id, user_id, created_at)
SELECT gen_random_uuid(), %(t)s, 'receipt', p.id, CASE WHEN p.i %% 2 = 0 THEN %(w1)s::uuid ELSE %(w2)s::uuid END,
    1, 1, 0, 1.5, '', '', 'manual', NULL, NULL, now() - (p.i / 10) * interval '1 second'
FROM seed_p AS p;
INSERT INTO inventory_supplierproduct (id, tenant_id, supplier_id, product_id, supplier_sku, price, lead_time_days,
    created_at)
SELECT gen_random_uuid(), %(t)s, r.suppliers[1 + p.i %% cardinality(r.suppliers)], p.id, '', 1.2, 5,
    now() - ((p.i * 7919) %% %(n)s) * interval '1 second'
FROM seed_p AS p, seed_ref AS r;
CREATE TEMP TABLE seed_o AS
SELECT i, gen_random_uuid() AS id, now() - i * interval '1 minute' AS at FROM seed_i WHERE i <= %(n2)s;
INSERT INTO orders_salesorder (id, tenant_id, number, notes, expected_date, external_reference, currency,
    subtotal, discount_total, tax_total, total, created_at, updated_at, status, created_by_id, customer_id)
SELECT o.id, %(t)s, 'SO-' || o.i, '', NULL, '', 'USD', 10, 0, 0, 10, o.at, o.at, 'confirmed', NULL,
    r.customers[1 + o.i %% cardinality(r.customers)]
FROM seed_o AS o, seed_ref AS r;
INSERT INTO orders_purchaseorder (id, tenant_id, number, notes, expected_date, external_reference, currency,
    subtotal, discount_total, tax_total, total, created_at, updated_at, status, over_receipt_tolerance_percent,
    created_by_id, supplier_id)
SELECT o.id, %(t)s, 'PO-' || o.i, '', NULL, '', 'USD', 10, 0, 0, 10, o.at, o.at, 'ordered', 0, NULL,
    r.suppliers[1 + o.i %% cardinality(r.suppliers)]
FROM seed_o AS o, seed_ref AS r;
INSERT INTO orders_salesorderline (id, tenant_id, order_id, position, product_id, warehouse_id, quantity,
    unit_price, discount_percent, tax_rate, line_subtotal, line_discount, line_tax, line_total, shipped_quantity,
    returned_quantity)
SELECT gen_random_uuid(), %(t)s, o.id, k, p.id, %(w1)s, 1, 5, 0, 0, 5, 0, 0, 5, 0, 0
FROM seed_o AS o, generate_series(1, 2) AS k, seed_p AS p WHERE p.i = 1 + (o.i * 31 + k * 7919) %% %(n)s;
INSERT INTO orders_purchaseorderline (id, tenant_id, order_id, position, product_id, warehouse_id, quantity,
    unit_price, discount_percent, tax_rate, line_subtotal, line_discount, line_tax, line_total, received_quantity,
    returned_quantity)
SELECT gen_random_uuid(), %(t)s, o.id, k, p.id, %(w1)s, 1, 5, 0, 0, 5, 0, 0, 5, 0, 0
FROM seed_o AS o, generate_series(1, 2) AS k, seed_p AS p WHERE p.i = 1 + (o.i * 17 + k * 104729) %% %(n)s;
INSERT INTO orders_statuschange (id, tenant_id, sales_order_id, purchase_order_id, from_status, to_status, note,
    created_at, user_id)
SELECT gen_random_uuid(), %(t)s, o.id, NULL::uuid, 'draft', 'confirmed', '', o.at, NULL::uuid FROM seed_o AS o
UNION ALL
SELECT gen_random_uuid(), %(t)s, NULL, o.id, 'draft', 'ordered', '', o.at, NULL FROM seed_o AS o;
DROP TABLE seed_i, seed_ref, seed_p, seed_o;
"""


def seed(rows: int) -> None:
    """Recreates the database and fills 1 + EXTRA_TENANTS tenants with ``rows`` rows each."""
    seeded = setup_db.prepare()  # configures Django
    from django.db import transaction

    from inventory.services import catalog
    from tenants.context import tenant_context
    from tenants.models import Membership, Role, Tenant, User

    tenants = [(seeded["tenant"], seeded["warehouses"])]
    user = User.objects.get(pk=seeded["user"].pk)
    for n in range(1, EXTRA_TENANTS + 1):
        with transaction.atomic():
            tenant = Tenant.objects.create(name=f"Other {n}", slug=f"other-{n}", plan_code="enterprise")
            with tenant_context(tenant):
                Membership.objects.create(tenant=tenant, user=user, role=Role.OWNER)
        with tenant_context(tenant), transaction.atomic():
            warehouses = {code: catalog.warehouse_create(code=code, name=name) for code, name in common.WAREHOUSES}
        tenants.append((tenant, warehouses))
    admin = common.ADMIN_URL.rsplit("/", 1)[0] + "/" + common.DATABASE
    with psycopg.connect(admin, autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:
        for tenant, warehouses in tenants:
            started = time.monotonic()
            params = {
                "t": tenant.id,
                "n": rows,
                "n2": max(rows // 2, 1),
                "n10": max(rows // 10, 10),
                "w1": warehouses["MAIN"].id,
                "w2": warehouses["EAST"].id,
            }
            with conn.transaction():
                conn.execute(SEED_SQL, params)
            print(f"# seeded {tenant.slug}: {rows:,} rows per list in {time.monotonic() - started:.1f} s", flush=True)


def forget_statistics() -> None:
    """The state of a freshly loaded database that was never analyzed: no column statistics
    and no row estimate (``reltuples`` -1) for the application's tables. Superuser only."""
    admin = common.ADMIN_URL.rsplit("/", 1)[0] + "/" + common.DATABASE
    with psycopg.connect(admin, autocommit=True) as conn, conn.transaction():
        tables = "SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'"
        conn.execute(f"DELETE FROM pg_statistic WHERE starelid IN ({tables})")
        conn.execute(f"UPDATE pg_class SET reltuples = -1, relpages = 0 WHERE oid IN ({tables})")


def analyze() -> float:
    started = time.monotonic()
    admin = common.ADMIN_URL.rsplit("/", 1)[0] + "/" + common.DATABASE
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("ANALYZE")
    return time.monotonic() - started


# --- The lists ------------------------------------------------------------------------------


def endpoints(tenant_id: Any) -> list[tuple[str, str]]:
    from inventory.models import Product, Warehouse
    from orders.models import SalesOrder
    from tenants.context import tenant_context
    from tenants.models import Tenant

    with tenant_context(Tenant.objects.get(pk=tenant_id)):
        warehouse = Warehouse.objects.order_by("code").first()
        product = Product.objects.order_by("sku").first()
        customer = SalesOrder.objects.values_list("customer_id", flat=True).first()
    lists = [
        ("products", "/api/v1/products/"),
        ("stock levels", "/api/v1/stock-levels/"),
        ("stock levels ?warehouse", f"/api/v1/stock-levels/?warehouse={warehouse.pk if warehouse else ''}"),
        ("low stock", "/api/v1/inventory/low-stock/"),
        ("movements", "/api/v1/stock-movements/"),
        ("product history", f"/api/v1/products/{product.pk}/history/" if product else ""),
        ("sales orders", "/api/v1/sales-orders/"),
        ("sales orders ?customer", f"/api/v1/sales-orders/?customer={customer}" if customer else ""),
        ("purchase orders", "/api/v1/purchase-orders/"),
        ("customers", "/api/v1/customers/"),
        ("suppliers", "/api/v1/suppliers/"),
        ("categories", "/api/v1/categories/"),
        ("supplier products", "/api/v1/supplier-products/"),
    ]
    return [(name, path) for name, path in lists if path]


def captured_selects(client: Any, path: str) -> list[str]:
    """The SELECTs a GET of ``path`` ran, other than the tenancy's own (membership, set_config)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path}: {response.status_code} {response.content[:300]!r}")
    selects = []
    for query in ctx.captured_queries:
        for sql in _statements(query["sql"]):
            if not sql.lstrip().upper().startswith("SELECT") or "set_config" in sql or '"tenants_membership"' in sql:
                continue
            if sql.strip() == "SELECT 1":
                continue
            selects.append(sql)
    return selects


_SET_CONFIG_PREFIX = re.compile(
    r"^SELECT set_config\('app\.tenant_id', '[0-9a-f-]*', true\), "
    r"set_config\('app\.user_id', '[0-9a-f-]*', true\); "
)
_COUNT_END = ") AS counted; "


def _statements(sql: str) -> list[str]:
    """The statements of one query string as sent: the database layer's set_config in front
    (tenants.dbbackend) dropped, a list's COUNT and page (core.sql.count_and_page) apart."""
    sql = _SET_CONFIG_PREFIX.sub("", sql, count=1)
    if sql.startswith("SELECT COUNT(*) FROM (") and _COUNT_END in sql:
        count, page = sql.split(_COUNT_END, 1)
        return [count + _COUNT_END.rstrip("; "), page]
    return [sql]


def folded_count(sql: str) -> str:
    """The page query with the total in each row (``COUNT(*) OVER ()``)."""
    head, rest = sql.split("SELECT", 1)
    return f"{head}SELECT COUNT(*) OVER () AS total_count,{rest}"


def label(sql: str) -> str:
    upper = sql.upper()
    if upper.startswith("SELECT COUNT(*) OVER ()"):
        return "page + count(*) over ()"
    if upper.startswith("SELECT COUNT(*)"):
        return "count"
    if " IN (" in upper and "LIMIT" not in upper:
        return "prefetch"
    return "page"


def _nodes(node: dict[str, Any], depth: int, out: list[str]) -> None:
    if node.get("Parent Relationship") == "InitPlan":  # the policy's (SELECT current_setting(...))
        return
    name = node["Node Type"]
    if node.get("Index Name"):
        name += f" using {node['Index Name']}"
    if node.get("Relation Name"):
        name += f" on {node['Relation Name']}"
    if node.get("Sort Key"):
        name += f" by {', '.join(node['Sort Key'])}"
    if node.get("Presorted Key"):
        name += f" (presorted {', '.join(node['Presorted Key'])})"
    loops = node.get("Actual Loops", 1)
    if "Actual Rows" in node:
        rows = f"rows={node['Actual Rows']}" + (f" x{loops}" if loops != 1 else "")
    else:  # not run (timed out): the planner's estimate
        rows = f"estimated rows={node['Plan Rows']}"
    if node.get("Rows Removed by Filter"):
        rows += f" filtered={node['Rows Removed by Filter']}"
    out.append(f"{'  ' * depth}{name} {rows}")
    for child in node.get("Plans", []):
        _nodes(child, depth + 1, out)


def explain(conn: psycopg.Connection[Any], tenant_id: Any, sql: str, timeout: float) -> dict[str, Any]:
    times = []
    plan: dict[str, Any] = {}
    for _ in range(RUNS + 1):
        try:
            with conn.transaction():
                conn.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
                conn.execute("SELECT set_config('statement_timeout', %s, true)", [f"{timeout * 1000:.0f}"])
                row = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, FORMAT JSON) {sql}").fetchone()
        except psycopg.errors.QueryCanceled:
            with conn.transaction():  # the plan it had chosen, without running it
                conn.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
                row = conn.execute(f"EXPLAIN (FORMAT JSON) {sql}").fetchone()
            plan = row[0][0] if row else {}
            times = [timeout * 1000] * 2
            break
        plan = row[0][0] if row else {}
        times.append(plan["Execution Time"] + plan["Planning Time"])
    top = plan["Plan"]
    lines: list[str] = []
    _nodes(top, 1, lines)
    return {
        "ms": statistics.median(times[1:]),  # the first run warms the cache
        "hit": top.get("Shared Hit Blocks", 0),
        "read": top.get("Shared Read Blocks", 0),
        "nodes": lines,
        "sql": sql,
    }


def run(tenant_slug: str, json_path: str | None, timeout: float) -> None:
    from rest_framework.test import APIClient

    from tenants.models import Membership, Tenant, User
    from tenants.tokens import tokens_for_membership

    tenant = Tenant.objects.get(slug=tenant_slug)
    user = User.objects.get(email=common.OWNER_EMAIL)
    from tenants.context import tenant_context

    with tenant_context(tenant):
        membership = Membership.objects.get(tenant=tenant, user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_for_membership(membership)['access']}")
    results: dict[str, list[dict[str, Any]]] = {}
    with psycopg.connect(common.runtime_env()["DATABASE_URL"], autocommit=True) as conn:
        server = conn.execute("SHOW server_version").fetchone()
        print(f"# PostgreSQL {server[0] if server else '?'}, database {common.DATABASE}, tenant {tenant_slug}")
        for name, path in endpoints(tenant.id):
            selects = captured_selects(client, path)
            pages = [sql for sql in selects if label(sql) == "page"]
            queries = [*selects, *(folded_count(sql) for sql in pages[:1] if "COUNT(*)" in " ".join(selects))]
            results[name] = []
            print(f"\n## {name}  GET {path}")
            for sql in queries:
                result = explain(conn, tenant.id, sql, timeout)
                result["label"] = label(sql)
                results[name].append(result)
                buffers = f"buffers hit {result['hit']}, read {result['read']}"
                took = f"{result['ms']:.2f} ms" if result["ms"] < timeout * 1000 else f"> {timeout:g} s, cancelled"
                print(f"  {result['label']}: {took} ({buffers})")
                print("\n".join(f"  {line}" for line in result["nodes"]))
    if json_path:
        Path(json_path).write_text(json.dumps(results, indent=1, default=str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, metavar="N", help="recreate the database with N rows per list and tenant")
    parser.add_argument("--no-analyze", action="store_true", help="with --seed: do not ANALYZE after seeding")
    parser.add_argument("--analyze", action="store_true", help="ANALYZE the database before explaining")
    parser.add_argument(
        "--forget-statistics",
        action="store_true",
        help="first delete the tables' statistics (as if never analyzed, as after a bulk load with autovacuum off)",
    )
    parser.add_argument("--tenant", default=common.TENANT_SLUG, help="the tenant whose lists are explained")
    parser.add_argument("--json", help="also write the plans to this file")
    parser.add_argument(
        "--timeout", type=float, default=10, help="seconds per query; a slower one shows its plan, not run"
    )
    args = parser.parse_args()
    env = common.runtime_env(ALLOWED_HOSTS="testserver")
    if args.seed:
        started = time.monotonic()
        seed(args.seed)  # configures Django (setup_db.prepare)
        print(f"# seeded in {time.monotonic() - started:.1f} s", flush=True)
        if not args.no_analyze:
            print(f"# ANALYZE in {analyze():.1f} s", flush=True)
    else:
        common.configure_django(env)
    if args.forget_statistics:
        forget_statistics()
        print("# statistics deleted: the tables look never analyzed", flush=True)
    if args.analyze:
        print(f"# ANALYZE in {analyze():.1f} s", flush=True)
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["testserver"]
    logging.getLogger("stockroom.access").setLevel(logging.WARNING)  # one line per request otherwise
    warnings.filterwarnings("ignore", message="No directory at")  # STATIC_ROOT: no collectstatic here
    run(args.tenant, args.json, args.timeout)


if __name__ == "__main__":
    main()
