"""CPU per request of the read endpoints, in this process (no gunicorn, no network client).

    .venv/bin/python bench/profile_reads.py                 # 300 requests per endpoint, 5 rounds
    .venv/bin/python bench/profile_reads.py --requests 1000 --profile products

Recreates and seeds the bench database (``BENCH_DATABASE``, default ``stockroom_bench``:
set another name while ``bench/run`` uses that one), then calls ``config.wsgi.application``
directly with the production settings and a persistent database connection, and prints,
per endpoint, the process CPU time and the wall time per request (the median of
interleaved rounds) and the queries per request, and the CPU ratio of each raw-SQL floor
(``bench/floor/``) to its endpoint. A diagnostic for finding where the time goes between two ``bench/run`` runs:
``--profile PATH`` prints the cProfile functions of one endpoint. ``products-key`` is the
product list with an API key instead of the JWT.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import pstats
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
import setup_db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds; the median round is printed")
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument("--profile", help="an endpoint to profile with cProfile: healthz, products, product, ...")
    parser.add_argument("--sort", default="cumulative", help="cProfile sort key (cumulative, tottime)")
    parser.add_argument("--lines", type=int, default=50)
    args = parser.parse_args()

    setup_db.provision_and_migrate()
    common.configure_django(common.runtime_env(DATABASE_CONN_MAX_AGE="600", BENCH_FLOOR_VIEWS="1"))
    seeded = setup_db.seed()

    from django.db import connections

    from config.wsgi import application
    from inventory.services import catalog, stock
    from orders import services as orders
    from orders.services import LineInput
    from tenants.context import tenant_context
    from tenants.tokens import tokens_for_membership

    warehouse = seeded["warehouses"]["MAIN"]
    with tenant_context(seeded["tenant"]):
        products = [
            catalog.product_create(
                sku=f"SKU-{number:05d}", name=f"Product {number}", cost_price=Decimal("2.50"), attributes={"n": number}
            )
            for number in range(args.products)
        ]
        for product in products[:100]:
            stock.stock_receive(product_id=product.id, warehouse_id=warehouse.id, quantity=Decimal(100))
        customer = catalog.party_create(model=_customer_model(), name="Customer")
        for number in range(60):
            lines = [
                LineInput(
                    product=products[(number + k) % min(100, len(products))], warehouse=warehouse, quantity=Decimal(1)
                )
                for k in range(1 + number % 4)
            ]
            orders.sales_order_create(customer=customer, lines=lines, user=seeded["user"])
    common.analyze()
    token = tokens_for_membership(seeded["membership"])["access"]
    from tenants.services import api_key_create

    with tenant_context(seeded["tenant"]):
        _, key = api_key_create(name="bench", scopes=["catalog:read"], expires_at=None, user=seeded["user"])
    endpoints = {
        "healthz": "/healthz",
        "products": "/api/v1/products/",
        "products-key": "/api/v1/products/#key",  # the same list with an API key (the fragment is not sent)
        "product": f"/api/v1/products/{products[0].id}/",
        "stock-levels": f"/api/v1/stock-levels/?warehouse={warehouse.id}",
        "movements": "/api/v1/stock-movements/",
        "sales-orders": "/api/v1/sales-orders/",
        "customers": "/api/v1/customers/",
        # the raw-SQL floors (bench/floor/) of four of them, for ratios in process
        "floor-products": "/bench/floor/products/",
        "floor-product": f"/bench/floor/products/{products[0].id}/",
        "floor-stock-levels": f"/bench/floor/stock-levels/?warehouse={warehouse.id}",
        "floor-sales-orders": "/bench/floor/sales-orders/",
    }

    def call(path: str) -> int:
        scheme = "Floor" if path.startswith("/bench/floor/") else "Bearer"
        if path.endswith("#key"):
            return common.wsgi_call(application, "GET", path.removesuffix("#key"), token=key, scheme=scheme)
        return common.wsgi_call(application, "GET", path, token=token, scheme=scheme)

    for path in endpoints.values():
        for _ in range(20):  # warm-up: imports, URL resolver, the connection
            assert call(path) == 200, path
    logging.getLogger("stockroom.access").disabled = True
    print(f"{'endpoint':58} {'CPU ms':>7} {'wall ms':>8} {'queries':>8}")
    statements: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        statements.append(sql)
        return execute(sql, params, many, context)

    queries: dict[str, int] = {}
    for path in endpoints.values():
        statements.clear()
        with connections["default"].execute_wrapper(count):
            call(path)
        queries[path] = len(statements)
    # Interleaved rounds (each endpoint gets args.requests / rounds requests per round),
    # the median round per endpoint: what the machine does meanwhile hits all alike.
    per_round = max(1, args.requests // args.rounds)
    cpu_ms: dict[str, list[float]] = {path: [] for path in endpoints.values()}
    wall_ms: dict[str, list[float]] = {path: [] for path in endpoints.values()}
    for _ in range(args.rounds):
        for path in endpoints.values():
            cpu, wall = time.process_time(), time.perf_counter()
            for _ in range(per_round):
                call(path)
            cpu_ms[path].append(1000 * (time.process_time() - cpu) / per_round)
            wall_ms[path].append(1000 * (time.perf_counter() - wall) / per_round)
    for path in endpoints.values():
        cpu, wall = statistics.median(cpu_ms[path]), statistics.median(wall_ms[path])
        print(f"{path[:58]:58} {cpu:7.2f} {wall:8.2f} {queries[path]:8d}")
    for name, floor in endpoints.items():
        if name.startswith("floor-"):
            path = endpoints[name.removeprefix("floor-")]
            ratio = statistics.median(cpu_ms[floor]) / statistics.median(cpu_ms[path])
            print(f"CPU of {name.removeprefix('floor-')}'s floor / its own: {ratio:.2f}")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.requests):
            call(endpoints[args.profile])
        profiler.disable()
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats(args.sort).print_stats(args.lines)
        print(stream.getvalue())


def _customer_model() -> Any:
    from inventory.models import Customer

    return Customer


if __name__ == "__main__":
    main()
