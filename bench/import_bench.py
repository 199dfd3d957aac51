"""End-to-end CSV import benchmark: 100,000 products through the HTTP API and Celery.

    .venv/bin/python bench/import_bench.py                       # the benchmark
    .venv/bin/python bench/import_bench.py --profile cprofile    # same, worker under cProfile

Steps: recreate + migrate + seed the bench database (setup_db.prepare); write a
CSV of ``--rows`` products (unique SKUs and barcodes, 6 categories such as
"Hardware > Bolts", prices, opening stock in MAIN and EAST); start gunicorn (sync
workers) and one Celery worker (solo pool) with the production settings; log in;
POST the file to /api/v1/imports/; poll the job until it has finished.

Reported: end-to-end rows/s = rows / (upload start -> first poll that sees
``succeeded``), plus the upload time, the queue wait, pass 1 (validation) and
pass 2 (writing) as far as the job's timestamps and the polls show them. Then the
database is checked: products, stock levels and movements of the tenant, the
stock totals of the file, and the stock invariant (inventory.services.integrity).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import shutil
import sys
import time
import urllib.request
import uuid
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
import setup_db

CATEGORIES = [
    "Hardware > Bolts",
    "Hardware > Nuts",
    "Hardware > Washers",
    "Electrical > Cables",
    "Electrical > Fuses",
    "Tools",
]
UNITS = ["pcs", "pcs", "pcs", "box", "pack", "kg", "m"]
HEADER = [
    "sku",
    "name",
    "description",
    "category",
    "unit",
    "barcode",
    "cost_price",
    "selling_price",
    "reorder_point",
    "reorder_quantity",
    "lead_time_days",
    "is_active",
    "image_url",
    "attributes",
    "stock:MAIN",
    "stock:EAST",
]
TARGET_ROWS_PER_SECOND = 5000


def write_csv(path: Path, rows: int, seed: int = 20260101, first: int = 1) -> dict[str, Any]:
    """A deterministic file (SKUs BENCH-<first> ...); returns the totals the database must show afterwards."""
    rng = random.Random(seed)
    totals = {"MAIN": Decimal(0), "EAST": Decimal(0)}
    nonzero_levels = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(first, first + rows):
            category = CATEGORIES[n % len(CATEGORIES)]
            unit = UNITS[n % len(UNITS)]
            cost = Decimal(rng.randint(5, 50_000)) / 100
            selling = (cost * Decimal("1.35")).quantize(Decimal("0.01"))
            main = rng.randint(0, 500)
            east = rng.randint(0, 200)
            totals["MAIN"] += main
            totals["EAST"] += east
            nonzero_levels += (main > 0) + (east > 0)
            writer.writerow(
                [
                    f"BENCH-{n:07d}",
                    f"{category.split(' > ')[-1]} item {n}",
                    f"Benchmark product number {n}",
                    category,
                    unit,
                    f"99{n:011d}",  # 13 digits, unique
                    f"{cost}",
                    f"{selling}",
                    str(rng.randint(0, 50)),
                    str(rng.randint(0, 100)),
                    str(rng.randint(0, 30)),
                    "true",
                    "",
                    json.dumps({"size": f"M{4 + n % 8}", "finish": "zinc"}),
                    str(main),
                    str(east),
                ]
            )
    return {
        "rows": rows,
        "bytes": path.stat().st_size,
        "stock_main": totals["MAIN"],
        "stock_east": totals["EAST"],
        "nonzero_levels": nonzero_levels,
    }


def upload(base_url: str, token: str, path: Path) -> tuple[int, Any]:
    boundary = uuid.uuid4().hex
    body = io.BytesIO()
    body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="skip_invalid_rows"\r\n\r\nfalse\r\n'.encode())
    body.write(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
        "Content-Type: text/csv\r\n\r\n".encode()
    )
    body.write(path.read_bytes())
    body.write(f"\r\n--{boundary}--\r\n".encode())
    request = urllib.request.Request(f"{base_url}/api/v1/imports/", data=body.getvalue(), method="POST")
    request.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
    request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def poll(base_url: str, token: str, job_id: str, t0: float, timeout: float, interval: float) -> tuple[dict, list]:
    """Polls until the job has finished or ``timeout`` seconds have passed (then the last
    state is returned as it is, still running)."""
    samples: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    job: dict[str, Any] = {}
    while True:
        status, job = common.http_json("GET", f"{base_url}/api/v1/imports/{job_id}/", token=token)
        now = time.monotonic() - t0
        if status != 200:
            raise RuntimeError(f"poll failed: {status} {job}")
        samples.append(
            {
                "t": round(now, 3),
                "status": job["status"],
                "total": job["total_rows"],
                "processed": job["processed_rows"],
            }
        )
        if job["status"] in ("succeeded", "failed") or time.monotonic() >= deadline:
            return job, samples
        time.sleep(interval)


# The stock invariant of inventory.services.integrity (each level's on_hand and reserved
# equal the sums of its ledger movements), as one aggregate join. The service's own
# level_discrepancies() uses correlated subqueries; right after a bulk import, with
# stale planner statistics, PostgreSQL planned them as a scan of every movement of the
# warehouse per level, which did not finish in minutes for 200,000 levels.
INVARIANT_SQL = """
SELECT count(*) FROM inventory_stocklevel l
LEFT JOIN (
    SELECT product_id, warehouse_id,
           sum(quantity) FILTER (
               WHERE kind IN ('receipt', 'issue', 'adjustment', 'transfer_in', 'transfer_out')
           ) AS on_hand,
           sum(quantity) FILTER (WHERE kind IN ('reservation', 'release')) AS reserved
    FROM inventory_stockmovement GROUP BY product_id, warehouse_id
) m ON m.product_id = l.product_id AND m.warehouse_id = l.warehouse_id
WHERE l.on_hand <> coalesce(m.on_hand, 0) OR l.reserved <> coalesce(m.reserved, 0)
"""


def verify(tenant: Any, expected: dict[str, Any]) -> dict[str, Any]:
    """Counts as the runtime role inside the tenant's context (Row Level Security on)."""
    from django.db import connection, transaction
    from django.db.models import Count, Sum

    from inventory.models import (
        ON_HAND_KINDS,
        RESERVED_KINDS,
        Category,
        MovementKind,
        Product,
        StockLevel,
        StockMovement,
    )
    from tenants.context import tenant_context

    assert set(ON_HAND_KINDS) == {"receipt", "issue", "adjustment", "transfer_in", "transfer_out"}, ON_HAND_KINDS
    assert set(RESERVED_KINDS) == {"reservation", "release"}, RESERVED_KINDS
    with tenant_context(tenant), transaction.atomic():
        products = Product.objects.count()
        distinct_skus = Product.objects.aggregate(n=Count("sku", distinct=True))["n"]
        with_category = Product.objects.filter(category__isnull=False).count()
        levels = dict(
            StockLevel.objects.values("warehouse__code")
            .annotate(total=Sum("on_hand"))
            .values_list("warehouse__code", "total")
        )
        level_rows = StockLevel.objects.count()
        movements = StockMovement.objects.filter(kind=MovementKind.ADJUSTMENT, reason="import").count()
        categories = Category.objects.count()
        with connection.cursor() as cursor:
            cursor.execute(INVARIANT_SQL)
            discrepancies = cursor.fetchone()[0]
    connection.close()
    checks = {
        "products": products,
        "distinct_skus": distinct_skus,
        "products_with_category": with_category,
        "categories": categories,
        "stock_level_rows": level_rows,
        "import_movements": movements,
        "expected_nonzero_levels": expected["nonzero_levels"],
        "on_hand_MAIN": levels.get("MAIN"),
        "expected_MAIN": expected["stock_main"],
        "on_hand_EAST": levels.get("EAST"),
        "expected_EAST": expected["stock_east"],
        "levels_disagreeing_with_ledger": discrepancies,
    }
    checks["ok"] = (
        products == expected["rows"]
        and distinct_skus == expected["rows"]
        and with_category == expected["rows"]
        and levels.get("MAIN") == expected["stock_main"]
        and levels.get("EAST") == expected["stock_east"]
        and movements == expected["nonzero_levels"]
        and discrepancies == 0
    )
    return checks


def _seconds_between(a: str | None, b: str | None) -> float | None:
    if not a or not b:
        return None
    return (
        datetime.fromisoformat(b.replace("Z", "+00:00")) - datetime.fromisoformat(a.replace("Z", "+00:00"))
    ).total_seconds()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    parser.add_argument("--port", type=int, default=8311)
    parser.add_argument("--poll-interval", type=float, default=0.25)
    parser.add_argument("--timeout", type=float, default=1200, help="give up on the job after this many seconds")
    parser.add_argument("--profile", choices=["none", "cprofile"], default="none")
    parser.add_argument(
        "--analyze-every",
        type=float,
        default=0,
        help="diagnostic: ANALYZE the inventory tables every N seconds during the job, as autovacuum "
        "would (this server runs with autovacuum = off); default 0 = never",
    )
    args = parser.parse_args()
    code_start = common.code_version()

    work = common.WORK
    shutil.rmtree(work / "media", ignore_errors=True)
    (work / "logs").mkdir(parents=True, exist_ok=True)
    print(f"preparing database {common.DATABASE} ...", flush=True)
    seeded = setup_db.prepare()
    csv_path = work / f"products-{args.rows}.csv"
    t = time.monotonic()
    expected = write_csv(csv_path, args.rows)
    print(f"wrote {csv_path} ({expected['bytes'] / 1e6:.1f} MB) in {time.monotonic() - t:.1f} s", flush=True)

    env = common.runtime_env()
    base_url = f"http://127.0.0.1:{args.port}"
    stamp = time.strftime("%Y%m%dT%H%M%S")
    wrapper: list[str] = []
    profile_out: Path | None = None
    if args.profile == "cprofile":
        profile_out = work / f"import-worker-{stamp}.prof"
        wrapper = [common.PYTHON, "-m", "cProfile", "-o", str(profile_out)]
    procs: list[common.Proc] = []
    try:
        web = common.start_gunicorn(
            workers=args.web_workers, port=args.port, env=env, log=work / "logs" / "import-gunicorn.log"
        )
        procs.append(web)
        # With cProfile, `python -m cProfile -o FILE .venv/bin/celery ...` runs the worker script
        # in that interpreter; the solo pool runs the task in the same process.
        worker = common.start_celery(env=env, log=work / "logs" / "import-celery.log", wrapper=wrapper)
        procs.append(worker)
        token = common.login(base_url)
        foreign_before = common.busy_processes(2.0, foreign_only=True)
        if foreign_before:
            print(f"WARNING: other processes are using the CPU: {foreign_before}", flush=True)
        print(f"uploading {args.rows} rows ...", flush=True)
        with common.ForeignLoadMonitor() as monitor, common.PeriodicAnalyze(args.analyze_every) as analyzer:
            t0 = time.monotonic()
            status, job = upload(base_url, token, csv_path)
            upload_seconds = time.monotonic() - t0
            if status != 202:
                raise RuntimeError(f"upload refused: {status} {job}")
            job, samples = poll(base_url, token, job["id"], t0, args.timeout, args.poll_interval)
            elapsed = samples[-1]["t"]
    finally:
        for proc in reversed(procs):
            proc.stop()

    pass1_end = next((s["t"] for s in samples if s["total"]), None)
    result: dict[str, Any] = {
        "benchmark": "import",
        "code": code_start,
        "code_at_end": common.code_version(),
        "rows": args.rows,
        "analyze_every_seconds": args.analyze_every,
        "analyze_runs_seconds": analyzer.runs,
        "csv_bytes": expected["bytes"],
        "web_workers": args.web_workers,
        "profile": args.profile,
        "job_status": job["status"],
        "job_message": job["message"],
        "total_rows": job["total_rows"],
        "processed_rows": job["processed_rows"],
        "created_count": job["created_count"],
        "updated_count": job["updated_count"],
        "error_count": job["error_count"],
        "upload_seconds": round(upload_seconds, 3),
        "end_to_end_seconds": elapsed,
        "rows_per_second_end_to_end": round(args.rows / elapsed, 1),
        "target_rows_per_second": TARGET_ROWS_PER_SECOND,
        "queue_wait_seconds": _seconds_between(job["created_at"], job["started_at"]),
        "job_run_seconds": _seconds_between(job["started_at"], job["finished_at"]),
        "pass1_done_seen_at_seconds": pass1_end,
        "poll_interval": args.poll_interval,
        "progress_samples": [*samples[:: max(1, len(samples) // 40)], samples[-1]],
        "foreign_cpu_load_before": foreign_before,
        "foreign_cpu_load_during": monitor.summary(),
        "machine": common.machine_info(),
        "profile_output": str(profile_out) if profile_out else None,
    }
    result["timed_out"] = job["status"] not in ("succeeded", "failed")
    if result["timed_out"]:
        # Not finished within --timeout: report the progress reached (a rate while running, not a result).
        result["rows_per_second_end_to_end"] = None
        result["processed_rows_per_second_so_far"] = round(job["processed_rows"] / elapsed, 1)
        result["verification"] = {"ok": False, "skipped": "job did not finish within the timeout"}
    else:
        result["verification"] = verify(seeded["tenant"], expected)
    tag = ("-" + args.profile if args.profile != "none" else "") + (
        f"-analyze{args.analyze_every:g}s" if args.analyze_every else ""
    )
    path = common.save_result(f"import-{args.rows}{tag}", result)

    print(
        json.dumps({k: v for k, v in result.items() if k not in ("progress_samples", "machine")}, indent=2, default=str)
    )
    if result["timed_out"]:
        print(
            f"\nNOT FINISHED after {elapsed:.0f} s: {job['processed_rows']} of {args.rows} rows written "
            f"({result['processed_rows_per_second_so_far']} rows/s so far); the worker was stopped"
        )
    else:
        rps = result["rows_per_second_end_to_end"]
        verdict = "meets" if rps >= TARGET_ROWS_PER_SECOND else f"MISSES by {TARGET_ROWS_PER_SECOND - rps:.1f} rows/s"
        print(
            f"\n{args.rows} rows end to end in {elapsed:.2f} s = {rps} rows/s "
            f"({verdict} the {TARGET_ROWS_PER_SECOND} rows/s target); verification ok={result['verification']['ok']}"
        )
    if result["code"] != result["code_at_end"]:
        print(f"WARNING: the application code changed during the run: {result['code']} -> {result['code_at_end']}")
    if result["foreign_cpu_load_before"] or result["foreign_cpu_load_during"]["samples_with_foreign_load"]:
        print(f"WARNING: other processes used the CPU during the run: {result['foreign_cpu_load_during']}")
    print(f"result saved to {path}")
    if not result["verification"]["ok"] or job["status"] != "succeeded":
        sys.exit(1)


if __name__ == "__main__":
    main()
