"""CPU per request of the product list, in process: the WSGI application called
directly (no gunicorn, no network client), production settings.

    .venv/bin/python bench/profile_list.py                 # 1,000 GET /api/v1/products/?page_size=1
    .venv/bin/python bench/profile_list.py --requests 3000 --path '/api/v1/products/?page_size=50'

Recreates and seeds the bench database (``setup_db``), makes 60 products, then sends
the requests one after another with one owner's access token (persistent database
connection, ``DATABASE_CONN_MAX_AGE=60`` as in production). Prints the wall time and
this process's CPU per request, and the database round trips and statements of one
warm request (libpq's protocol trace: a burst of messages to the server answered by
the server is one round trip, so a pipeline counts once).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
import setup_db


def round_trips(trace: str) -> tuple[int, int]:
    """(round trips, statements) in a libpq trace: a message from the server after one
    to it ends a round trip."""
    trips, statements, last = 0, 0, ""
    for line in trace.splitlines():
        parts = line.split("\t")
        if len(parts) < 3:
            continue
        direction, message = parts[0], parts[2]
        if direction == "B" and last == "F":
            trips += 1
        if direction == "F" and message.split(" ")[0] in ("Parse", "Query", "Bind"):
            statements += message.startswith(("Bind", "Query"))
        last = direction
    return trips, statements


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--path", default="/api/v1/products/?page_size=1")
    args = parser.parse_args()

    setup_db.provision_and_migrate()
    common.configure_django(common.runtime_env(DATABASE_CONN_MAX_AGE="60"))
    seeded = setup_db.seed()

    from django.db import connections
    from psycopg import pq

    from config.wsgi import application
    from inventory.services import catalog
    from tenants.context import tenant_context
    from tenants.tokens import tokens_for_membership

    with tenant_context(seeded["tenant"]):
        for n in range(60):
            catalog.product_create(sku=f"LIST-{n:03d}", name=f"listed {n}")
    token = tokens_for_membership(seeded["membership"])["access"]
    path, _, query = args.path.partition("?")
    for conn in connections.all():
        conn.close()

    def call() -> int:
        return common.wsgi_call(application, "GET", f"{path}?{query}" if query else path, token=token)

    for _ in range(50):  # warm-up: imports, URL resolver, the connection, the caches
        assert call() == 200
    connection = connections["default"]
    assert connection.connection is not None
    pgconn = connection.connection.pgconn
    with tempfile.TemporaryFile("w+") as trace_file:
        pgconn.trace(trace_file.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        assert call() == 200
        pgconn.untrace()
        trace_file.seek(0)
        trace = trace_file.read()
    trips, statements = round_trips(trace)
    if os.environ.get("BENCH_TRACE"):
        Path(os.environ["BENCH_TRACE"]).write_text(trace)

    started, cpu_started = time.perf_counter(), time.process_time()
    codes = [call() for _ in range(args.requests)]
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(f"GET {args.path}: statuses {sorted(set(codes))}, pid {os.getpid()}")
    print(f"one warm request: {trips} database round trips, {statements} statements")
    print(
        f"{args.requests} requests: {1000 * wall / args.requests:.2f} ms per request, "
        f"CPU of this process {1000 * cpu / args.requests:.2f} ms per request"
    )


if __name__ == "__main__":
    main()
