"""Where one stock-issue request spends its time: the WSGI application called in
this process (no gunicorn, no network client), under cProfile.

    .venv/bin/python bench/profile_issue.py                      # 500 requests, CONN_MAX_AGE unset (0)
    .venv/bin/python bench/profile_issue.py --conn-max-age 60    # persistent database connection

Recreates and seeds the bench database (setup_db.prepare), makes one product with
stock, then sends ``--requests`` POST /api/v1/stock/issue/ requests through
``config.wsgi.application`` one after another (production settings, the same
environment as the benchmarks). Prints the wall time per request, the time in
SQL by statement kind, and the cProfile functions with the highest cumulative
time that belong to the project, Django, DRF, simplejwt, psycopg or logging.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import re
import sys
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
import setup_db

SQL: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])


def sql_timer(execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        text = " ".join(sql.split())
        text = re.sub(r'"s\d+_x\d+"', '"<savepoint>"', text)
        key = "set_config" if "set_config" in text else text[:110]
        SQL[key][0] += time.perf_counter() - started
        SQL[key][1] += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--conn-max-age", type=int, default=None)
    parser.add_argument("--output", help="write the cProfile data here too")
    parser.add_argument(
        "--pyinstrument", action="store_true", help="also print a sampling profile (pyinstrument, low overhead)"
    )
    args = parser.parse_args()
    overrides = {"DATABASE_CONN_MAX_AGE": str(args.conn_max_age)} if args.conn_max_age is not None else {}

    setup_db.provision_and_migrate()
    common.configure_django(common.runtime_env(**overrides))
    seeded = setup_db.seed()

    from django.core.signals import request_started
    from django.db import connections

    from config.wsgi import application
    from inventory.services import catalog, stock
    from tenants.context import tenant_context
    from tenants.tokens import tokens_for_membership

    warehouse = seeded["warehouses"]["MAIN"]
    with tenant_context(seeded["tenant"]):
        product = catalog.product_create(sku="PROFILE-1", name="profiled", cost_price=Decimal("2.00"))
        stock.stock_receive(product_id=product.id, warehouse_id=warehouse.id, quantity=Decimal(1_000_000))
    token = tokens_for_membership(seeded["membership"])["access"]
    body = json.dumps({"product": str(product.id), "warehouse": str(warehouse.id), "quantity": "1"}).encode()
    for conn in connections.all():
        conn.close()

    def install_timer(**_: Any) -> None:
        connection = connections["default"]
        if sql_timer not in connection.execute_wrappers:
            connection.execute_wrappers.insert(0, sql_timer)

    request_started.connect(install_timer)

    def call() -> int:
        return common.wsgi_call(
            application, "POST", "/api/v1/stock/issue/", token=token, body=body, content_type="application/json"
        )

    for _ in range(20):  # warm-up: imports, URL resolver, first connection
        assert call() == 201
    SQL.clear()
    import logging

    logging.getLogger("stockroom.access").disabled = False
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    codes = [call() for _ in range(args.requests)]
    profiler.disable()
    wall = time.perf_counter() - started
    if args.output:
        profiler.dump_stats(args.output)

    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream).sort_stats("cumulative")
    stats.print_stats(
        r"(work/main/(config|tenants|inventory)|django/|rest_framework|simplejwt|psycopg/connection|logging/__init__)",
        45,
    )
    sql_total = sum(v[0] for v in SQL.values())
    print(stream.getvalue())
    print(
        f"{args.requests} requests, statuses {sorted(set(codes))}, {wall:.2f} s under cProfile = "
        f"{1000 * wall / args.requests:.2f} ms per request (cProfile inflates Python time)"
    )
    print(f"SQL (cursor.execute, network + server) {1000 * sql_total / args.requests:.2f} ms per request:")
    for key, (seconds, calls) in sorted(SQL.items(), key=lambda i: -i[1][0])[:20]:
        print(f"  {1000 * seconds / args.requests:7.3f} ms/request  {calls / args.requests:4.1f} calls/request  {key}")

    # The same requests without cProfile, for the real per-request time.
    profiled_sql = {key: list(value) for key, value in SQL.items()}
    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in range(args.requests):
        call()
    plain, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(
        f"without cProfile: {1000 * plain / args.requests:.2f} ms per request "
        f"({args.requests / plain:.1f} requests/s in one process, one at a time); "
        f"CPU of this process {1000 * cpu / args.requests:.2f} ms per request"
    )
    if args.pyinstrument:
        from pyinstrument import Profiler

        sampler = Profiler(interval=0.0002)
        sampler.start()
        for _ in range(args.requests):
            call()
        sampler.stop()
        print(sampler.output_text(unicode=False, color=False, show_all=False))
    common.save_result(
        f"profile-issue{'-connmaxage' + str(args.conn_max_age) if args.conn_max_age is not None else ''}",
        {
            "requests": args.requests,
            "env_overrides": overrides,
            "ms_per_request_cprofile": round(1000 * wall / args.requests, 3),
            "ms_per_request_plain": round(1000 * plain / args.requests, 3),
            "cpu_ms_per_request_plain": round(1000 * cpu / args.requests, 3),
            # SQL time measured during the cProfile pass
            "sql_ms_per_request": {k: round(1000 * v[0] / args.requests, 3) for k, v in profiled_sql.items()},
            "sql_calls_per_request": {k: round(v[1] / args.requests, 2) for k, v in profiled_sql.items()},
            "cprofile_top": stream.getvalue().splitlines()[:80],
        },
    )


if __name__ == "__main__":
    main()
