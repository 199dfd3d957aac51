"""Where the import's time goes: the import job run in this process, instrumented.

    .venv/bin/python bench/profile_import.py --rows 10000
    .venv/bin/python bench/profile_import.py --rows 10000 --cprofile /tmp/stockroom_bench/import.prof

No HTTP and no Celery: the bench database is recreated and seeded
(setup_db.prepare), a CSV is written (import_bench.write_csv), an ImportJob is
stored the way ``import_job_create`` stores it, and
``inventory.imports.services.import_job_run`` runs in the tenant's context, as the
Celery task does (``atomic=False``). Nothing in the application is changed: the
functions below are wrapped at run time, in this process only, to time them.

Reported per function (wall time, inclusive, calls) and per SQL statement kind
(time in ``cursor.execute``, i.e. network + PostgreSQL, plus commits, which run
the deferred foreign-key checks), and the wall time of each 1,000-row batch of
pass 2 (to see whether it grows with the table).
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import json
import re
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
import import_bench
import setup_db

LOCK = threading.Lock()
TIMES: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
SQL: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
BATCHES: list[float] = []
COMMITS: list[float] = []


def timed(name: str, fn: Any) -> Any:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            took = time.perf_counter() - started
            with LOCK:
                entry = TIMES[name]
                entry[0] += took
                entry[1] += 1

    return wrapper


def sql_kind(sql: str) -> str:
    text = " ".join(sql.split())
    verb = text.split(" ", 1)[0].upper()
    tables = re.findall(r'(?:FROM|INTO|UPDATE) "?([a-z_]+)"?', text)
    table = tables[0] if tables else ""
    extra = ""
    if "set_config" in text:
        return "SELECT set_config(app.tenant_id)"
    if "FOR NO KEY UPDATE" in text or "FOR UPDATE" in text:
        extra = " FOR (NO KEY) UPDATE"
    if verb == "UPDATE" and " CASE WHEN " in text:
        extra = " (bulk_update CASE WHEN)"
    if verb == "SELECT" and "SUM(" in text.upper():
        extra = " (aggregate)"
    if verb == "SELECT" and table == "inventory_product" and "LOWER(" in text.upper():
        extra = " (by lower(sku))"
    if verb == "SELECT" and table == "inventory_product" and '"barcode" IN' in text:
        extra = " (by barcode)"
    return f"{verb} {table}{extra}"


def sql_timer(execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        entry = SQL[sql_kind(sql)]
        entry[0] += time.perf_counter() - started
        entry[1] += 1


def instrument() -> None:
    """Wraps functions and times SQL on every connection, the writer threads' included
    (their times add up: with 2 writers, SQL seconds can exceed the wall time)."""
    from django.db.backends.postgresql.base import DatabaseWrapper
    from django.db.backends.utils import CursorWrapper

    from core import sql
    from inventory.imports import parse, validate, write
    from inventory.services import stock

    for module, names in (
        (parse, ["parse_row"]),
        (validate, ["validate_batch"]),
        (write, ["prepare_batch", "resolve_categories", "insert_new_products", "update_existing_products"]),
        (sql, ["insert_columns"]),
        (stock, ["apply_changes", "_lock_levels", "_select_levels"]),
    ):
        for name in names:
            if hasattr(module, name):
                setattr(module, name, timed(f"{module.__name__.rsplit('.', 1)[-1]}.{name}", getattr(module, name)))
    # write imported these from stock by name: wrap its references too.
    setattr(write, "_lock_levels", timed("write->stock._lock_levels", write._lock_levels))  # noqa: B010
    setattr(write, "apply_changes", timed("write->stock.apply_changes", write.apply_changes))  # noqa: B010

    from django.db.models import query

    setattr(query.QuerySet, "bulk_update", timed("QuerySet.bulk_update", query.QuerySet.bulk_update))  # noqa: B010
    setattr(query.QuerySet, "bulk_create", timed("QuerySet.bulk_create", query.QuerySet.bulk_create))  # noqa: B010

    original_commit = getattr(DatabaseWrapper, "_commit")  # noqa: B009

    def commit(self: Any) -> Any:
        started = time.perf_counter()
        try:
            return original_commit(self)
        finally:
            took = time.perf_counter() - started
            with LOCK:
                entry = SQL["COMMIT (deferred FK checks run here)"]
                entry[0] += took
                entry[1] += 1
                COMMITS.append(took)

    setattr(DatabaseWrapper, "_commit", commit)  # noqa: B010

    original_execute = getattr(CursorWrapper, "_execute")  # noqa: B009 - not in the type stubs

    def execute(self: Any, sql: str, params: Any, *ignored_wrapper_args: Any) -> Any:
        started = time.perf_counter()
        try:
            return original_execute(self, sql, params, *ignored_wrapper_args)
        finally:
            took = time.perf_counter() - started
            with LOCK:
                entry = SQL[sql_kind(sql)]
                entry[0] += took
                entry[1] += 1

    setattr(CursorWrapper, "_execute", execute)  # noqa: B010


def drop_tenant_indexes() -> list[str]:
    """Drops, as the owner, every single-column index on tenant_id of a table that also has a
    unique index starting with tenant_id (bench database only)."""
    import psycopg

    url = common._url("owner").replace("postgres://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            """
            SELECT i.indexrelid::regclass::text
            FROM pg_index i
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
            WHERE i.indnatts = 1 AND a.attname = 'tenant_id' AND NOT i.indisunique
              AND EXISTS (
                SELECT 1 FROM pg_index u JOIN pg_attribute ua ON ua.attrelid = u.indrelid AND ua.attnum = u.indkey[0]
                WHERE u.indrelid = i.indrelid AND u.indisunique AND ua.attname = 'tenant_id' AND u.indnatts > 1)
            """
        ).fetchall()
        for (name,) in rows:
            conn.execute(f"DROP INDEX {name}")
    return [name for (name,) in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--cprofile", help="also write a cProfile file here (slows Python down)")
    parser.add_argument(
        "--analyze-every", type=float, default=0, help="ANALYZE every N seconds during the job (see import_bench.py)"
    )
    parser.add_argument(
        "--no-replan",
        action="store_true",
        help="experiment: disable the import's cached-plan hook (write.discard_cached_plans: DISCARD PLANS at "
        "each writer's batches 2, 4, 8, ...)",
    )
    parser.add_argument(
        "--drop-tenant-indexes",
        action="store_true",
        help="experiment: drop the single-column tenant_id indexes of the tenant tables in the bench database "
        "(each table also has UNIQUE (tenant_id, id)), so a cached foreign-key plan cannot pick them",
    )
    parser.add_argument("--writers", type=int, help="override writers.WRITERS (writer threads)")
    parser.add_argument("--batch", type=int, help="override parse.BATCH (rows per batch)")
    args = parser.parse_args()
    code_start = common.code_version()

    seeded = setup_db.prepare()
    dropped = drop_tenant_indexes() if args.drop_tenant_indexes else []
    csv_path = common.WORK / f"products-{args.rows}.csv"
    expected = import_bench.write_csv(csv_path, args.rows)

    from django.core.files import File
    from django.core.files.storage import default_storage
    from django.db import connection

    from inventory.imports import parse, services, write, writers
    from inventory.models import ImportJob
    from tenants.context import tenant_context

    tenant = seeded["tenant"]
    with tenant_context(tenant):
        job = ImportJob(file_name=csv_path.name, skip_invalid_rows=False, created_by=seeded["user"])
        with csv_path.open("rb") as handle:
            job.storage_key = default_storage.save(f"imports/{tenant.id}/{job.id}.csv", File(handle))
        job.save()
        connection.close()  # start the job on a fresh connection, as a worker would

        instrument()
        if args.no_replan:
            setattr(write, "discard_cached_plans", lambda: None)  # noqa: B010
        if args.writers is not None:
            writers.WRITERS = args.writers
        if args.batch is not None:
            parse.BATCH = args.batch
        write_batch = writers.Writers._write

        def batch_timer(self: Any, *a: Any, **k: Any) -> Any:
            started = time.perf_counter()
            try:
                return write_batch(self, *a, **k)
            finally:
                with LOCK:
                    BATCHES.append(time.perf_counter() - started)

        writers.Writers._write = batch_timer  # type: ignore[method-assign]
        profiler = cProfile.Profile() if args.cprofile else None
        started = time.perf_counter()
        with common.PeriodicAnalyze(args.analyze_every) as analyzer:
            if profiler:
                profiler.enable()
            job = services.import_job_run(job=job)
            if profiler:
                profiler.disable()
                profiler.dump_stats(args.cprofile)
        total = time.perf_counter() - started

    sql_total = sum(v[0] for v in SQL.values())
    result = {
        "benchmark": "import-profile (in process, no HTTP, no Celery)",
        "code": code_start,
        "code_at_end": common.code_version(),
        "rows": args.rows,
        "analyze_every_seconds": args.analyze_every,
        "analyze_runs_seconds": analyzer.runs,
        "experiment_no_replan": args.no_replan,
        "experiment_dropped_indexes": dropped,
        "status": job.status,
        "message": job.message,
        "import_job_run_seconds": round(total, 3),
        "rows_per_second": round(args.rows / total, 1),
        "sql_seconds_total": round(sql_total, 3),
        "python_seconds_total": round(total - sql_total, 3),
        "functions": {
            k: {"seconds": round(v[0], 3), "calls": v[1]} for k, v in sorted(TIMES.items(), key=lambda i: -i[1][0])
        },
        "sql": {k: {"seconds": round(v[0], 3), "calls": v[1]} for k, v in sorted(SQL.items(), key=lambda i: -i[1][0])},
        "pass2_batch_seconds": {
            "count": len(BATCHES),
            "first_5": [round(b, 3) for b in BATCHES[:5]],
            "last_5": [round(b, 3) for b in BATCHES[-5:]],
            "mean": round(sum(BATCHES) / len(BATCHES), 3) if BATCHES else None,
        },
        "commit_seconds": {
            "count": len(COMMITS),
            "slowest_5": sorted((round(c, 3) for c in COMMITS), reverse=True)[:5],
            "last_5": [round(c, 3) for c in COMMITS[-5:]],
        },
        "writers": writers.WRITERS,
        "batch_rows": parse.BATCH,
        "verification": import_bench.verify(tenant, expected),
        "cprofile": args.cprofile,
    }
    tag = f"-analyze{args.analyze_every:g}s" if args.analyze_every else ""
    tag += "-noreplan" if args.no_replan else ""
    tag += "-droptenantidx" if args.drop_tenant_indexes else ""
    path = common.save_result(f"import-profile-{args.rows}{tag}", result)
    print(json.dumps(result, indent=2, default=str))
    print(f"result saved to {path}")


if __name__ == "__main__":
    main()
