"""One import batch, taken apart: where the deferred foreign-key checks and the
level lookups cost time. Every transaction here is rolled back.

    .venv/bin/python bench/explain_import_batch.py            # on the data left by the last import run
    .venv/bin/python bench/explain_import_batch.py --fresh 10000   # recreate the bench DB and import 10,000 rows first

It runs the import (``validate.validate_batch``, ``write.prepare_batch`` and the writes) for one batch of
1,000 new products with opening stock in two warehouses, three ways:

A. as the application does (constraints DEFERRED): statement times, then
   ``SET CONSTRAINTS ALL IMMEDIATE``, which runs the queued foreign-key checks
   right there (what COMMIT would do), timed;
A2. as A, with ``SET LOCAL plan_cache_mode = force_custom_plan`` (what the import does per
   batch since commit d6b6ad0), to see what re-planning every check costs;
B. with ``SET CONSTRAINTS ALL IMMEDIATE`` first: each statement's time then includes
   its own foreign-key checks, which attributes them to inserts and updates;
C. EXPLAIN (ANALYZE) of the level-locking query ``_select_levels`` builds (2,000 OR'ed
   (product, warehouse) pairs) next to an equivalent ``IN`` on the products, to show
   planning and execution time.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
import import_bench
import setup_db

TIMES: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
CAPTURE: list[tuple[str, Any]] = []


def sql_timer(execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        text = " ".join(sql.split())
        verb = text.split(" ", 1)[0].upper()
        tables = re.findall(r'(?:FROM|INTO|UPDATE) "?([a-z_]+)"?', text)
        kind = f"{verb} {tables[0] if tables else ''}"
        if "FOR NO KEY UPDATE" in text:
            kind += " FOR NO KEY UPDATE"
            CAPTURE.append((sql, params))
        if "set_config" in text:
            kind = "set_config"
        entry = TIMES[kind]
        entry[0] += time.perf_counter() - started
        entry[1] += 1


def one_batch(
    tenant: Any, user: Any, csv_path: Path, immediate_first: bool, custom_plans: bool = False
) -> dict[str, Any]:
    from django.db import connection, transaction

    from inventory.imports import parse, validate, write
    from inventory.models import ImportJob, Warehouse
    from tenants.context import tenant_context

    TIMES.clear()
    CAPTURE.clear()
    out: dict[str, Any] = {}
    with tenant_context(tenant):
        warehouses = {w.code.lower(): w for w in Warehouse.objects.all()}
        with transaction.atomic():
            job = ImportJob.objects.create(file_name="explain.csv", storage_key="imports/none.csv", created_by=user)
            with csv_path.open(newline="", encoding="utf-8") as handle:
                reader = csv.reader(handle)
                layout = parse.header(reader, warehouses)
                batch = next(parse.batches(reader, layout))
            with connection.cursor() as cursor:
                if custom_plans:  # what the import did per batch at d6b6ad0 (re-planning every statement)
                    cursor.execute("SET LOCAL plan_cache_mode = force_custom_plan")
                if immediate_first:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                with connection.execute_wrapper(sql_timer):
                    started = time.perf_counter()
                    invalid: set[int] = set()
                    found: dict[str, Any] = {}
                    validate.validate_batch(batch, layout, set(), set(), invalid, found, warehouses)
                    prepared = write.prepare_batch(batch, invalid, {}, [], found)
                    write.insert_new_products(prepared.new, job, warehouses)
                    if prepared.existing:
                        write.update_existing_products(prepared.existing, job, user, warehouses)
                    made = len(prepared.new)
                    out["write_batch_seconds"] = round(time.perf_counter() - started, 3)
                started = time.perf_counter()
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # runs whatever checks are still queued
                out["deferred_fk_checks_seconds"] = round(time.perf_counter() - started, 3)
            out["created"] = made
            out["statements"] = {
                k: {"seconds": round(v[0], 3), "calls": v[1]} for k, v in sorted(TIMES.items(), key=lambda i: -i[1][0])
            }
            out["captured_lock_query"] = CAPTURE[-1] if CAPTURE else None
            transaction.set_rollback(True)
    connection.close()
    return out


def explain_lock_query(tenant: Any, captured: tuple[str, Any]) -> dict[str, Any]:
    """EXPLAIN ANALYZE of the captured OR query, and of an IN-on-products equivalent."""
    from django.db import connection, transaction

    from tenants.context import tenant_context

    sql, params = captured
    out: dict[str, Any] = {"or_terms": sql.count(" OR ") + 1}
    with tenant_context(tenant), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0][0]
            out["or_query"] = {
                "planning_ms": plan.get("Planning Time"),
                "execution_ms": plan.get("Execution Time"),
                "top_node": plan["Plan"]["Node Type"],
            }
            # The same rows through "product_id = ANY(...)" and "warehouse_id = ANY(...)".
            from inventory.models import Warehouse

            warehouses = sorted(str(w) for w in Warehouse.objects.values_list("id", flat=True))
            values = {str(p) for p in params}
            products = sorted(values - set(warehouses) - {str(tenant.id)})
            out["products_in_query"] = len(products)
            cursor.execute(
                "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT * FROM inventory_stocklevel "
                "WHERE tenant_id = %s AND product_id = ANY(%s::uuid[]) AND warehouse_id = ANY(%s::uuid[]) "
                "ORDER BY product_id, warehouse_id FOR NO KEY UPDATE",
                [str(tenant.id), products, warehouses],
            )
            plan = cursor.fetchone()[0][0]
            out["any_array_query"] = {
                "planning_ms": plan.get("Planning Time"),
                "execution_ms": plan.get("Execution Time"),
                "top_node": plan["Plan"]["Node Type"],
            }
        transaction.set_rollback(True)
    connection.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fresh", type=int, default=0, help="recreate the DB and import this many rows first")
    args = parser.parse_args()

    if args.fresh:
        seeded = setup_db.prepare()
        path = common.WORK / f"products-{args.fresh}.csv"
        import_bench.write_csv(path, args.fresh)
        from django.core.files import File
        from django.core.files.storage import default_storage

        from inventory.imports.services import import_job_run
        from inventory.models import ImportJob
        from tenants.context import tenant_context

        with tenant_context(seeded["tenant"]):
            job = ImportJob(file_name=path.name, created_by=seeded["user"])
            with path.open("rb") as handle:
                job.storage_key = default_storage.save(f"imports/{seeded['tenant'].id}/{job.id}.csv", File(handle))
            job.save()
            job = import_job_run(job=job)
        print(f"imported {args.fresh} rows first: {job.status} {job.message}")
    else:
        common.configure_django()
    from inventory.models import Product
    from tenants.context import tenant_context
    from tenants.models import Membership, Tenant

    tenant = Tenant.objects.get(slug=common.TENANT_SLUG)
    with tenant_context(tenant):  # memberships are under Row Level Security
        user = Membership.objects.select_related("user").get(tenant=tenant, user__email=common.OWNER_EMAIL).user
        existing = Product.objects.count()
    batch_csv = common.WORK / "explain-batch.csv"
    import_bench.write_csv(batch_csv, 1000, seed=7, first=10_000_001)

    deferred = one_batch(tenant, user, batch_csv, immediate_first=False)
    immediate = one_batch(tenant, user, batch_csv, immediate_first=True)
    custom = one_batch(tenant, user, batch_csv, immediate_first=False, custom_plans=True)
    result = {
        "benchmark": "explain-import-batch",
        "products_already_in_tenant": existing,
        "A_deferred_as_the_app_runs": {k: v for k, v in deferred.items() if k != "captured_lock_query"},
        "B_immediate_fk_checks_per_statement": {k: v for k, v in immediate.items() if k != "captured_lock_query"},
        "A2_deferred_with_force_custom_plan": {k: v for k, v in custom.items() if k != "captured_lock_query"},
        "C_lock_query": explain_lock_query(tenant, deferred["captured_lock_query"])
        if deferred["captured_lock_query"]
        else None,
    }
    saved = common.save_result("explain-import-batch", result)
    print(json.dumps(result, indent=2, default=str))
    print(f"result saved to {saved}")


if __name__ == "__main__":
    main()
