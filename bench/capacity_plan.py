"""The capacity plan's arithmetic, from a bench/capacity.py result (docs/deploy.md, "Capacity plan").

    .venv/bin/python bench/capacity_plan.py                       # the newest capacity-*.json and events-*.json
    .venv/bin/python bench/capacity_plan.py bench/results/capacity-<time>.json --events bench/results/events-<time>.json

Reads the measured CPU per request (median of the rounds), per background job and the
table sizes, applies the load model below (every figure of it is a constant here, printed
with the result) and prints, for 100, 1,000 and 10,000 active tenants, the peak load, the
CPU each tier needs and the AWS sizes that give it. Nothing is measured here: change an
assumption and run it again.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"

# --- The load model (assumptions; docs/deploy.md explains each) -------------------------------

# Requests per active tenant per minute at the peak: 2 warehouse clerks doing 3 actions a
# minute (each 1 write + 2 reads), 1 manager browsing 6 pages a minute, and 1 integration
# polling stock levels every 10 s = 2 x 9 + 6 + 6 = 30 a minute, 6 of them writes (20 %).
MIX = {
    "product list (50)": 5.0,
    "product detail": 6.0,
    "stock levels of a warehouse (50)": 8.0,
    "sales orders with lines (50)": 5.0,
    "stock issue": 4.0,
    "create sales order (3 lines)": 2.0,
}
WRITES = ("stock issue", "create sales order (3 lines)")
LOGINS_PER_MINUTE = 3 / 60  # each of the 3 users logs in once in the peak hour
IMPORT_ROWS_PER_MINUTE = 0.1 * 1000 / 60  # one tenant in ten imports 1,000 rows in the peak hour
EVENTS_PER_WRITE = 1.0  # a stock issue records one stock.changed; an order its created event
DELIVERIES_PER_EVENT = 0.3  # 30 % of tenants have one webhook endpoint subscribed to everything
LOW_STOCK_SCAN_SECONDS = 900  # inventory.tasks.low_stock_scan: every active tenant, every 15 min
RELAY_SWEEP_SECONDS = 5  # tenants.tasks.relay_sweep (EVENT_RELAY_SWEEP_SECONDS)
UNCERTAINTY = 1.25  # measured on a shared 2-core x86 KVM guest, not on Fargate or Graviton
WEB_TARGET = 0.60  # web autoscaling target CPU
WORKER_TARGET = 0.60
DB_TARGET = 0.50
# config/gunicorn.py's defaults on a 1-vCPU Fargate task (which reports 2 vCPUs): 4 gthread
# workers x 4 threads, each thread with its own persistent database connection (CONN_MAX_AGE).
WEB_DB_CONNECTIONS_PER_TASK = 4 * 4
WORKER_CONCURRENCY = 8  # Celery threads per worker task (webhook sends wait on the network)
HOT_DAYS = 7  # the ledger, orders and events of the last 7 days are read often
HOT_SHARE_OF_RAM = 0.75  # the hot set within 3/4 of the instance's memory (shared_buffers + page cache)
WRITES_PER_TENANT_DAY = 1200  # 2 writes a minute over 10 working hours
STEPS = (100, 1000, 10000)

# (class, vCPU, GiB); RDS PostgreSQL, Graviton.
RDS = [
    ("db.t4g.medium", 2, 4),
    ("db.m7g.large", 2, 8),
    ("db.m7g.xlarge", 4, 16),
    ("db.r7g.xlarge", 4, 32),
    ("db.m7g.2xlarge", 8, 32),
    ("db.r7g.2xlarge", 8, 64),
    ("db.m7g.4xlarge", 16, 64),
    ("db.r7g.4xlarge", 16, 128),
    ("db.m7g.8xlarge", 32, 128),
    ("db.r7g.8xlarge", 32, 256),
    ("db.r7g.12xlarge", 48, 384),
    ("db.r7g.16xlarge", 64, 512),
]
T4G_MEDIUM_BASELINE_VCPU = 2 * 0.20  # a db.t4g.medium earns credits for 20 % of each vCPU
# (node type, GiB) ElastiCache Redis OSS, Graviton. One thread runs the commands on each.
ELASTICACHE = [
    ("cache.t4g.small", 1.37),
    ("cache.m7g.large", 6.38),
    ("cache.r7g.large", 13.07),
    ("cache.r7g.xlarge", 26.32),
]
REDIS_TARGET = 0.50  # of the one core that runs Redis commands
REDIS_BACKLOG_HOURS = 1.0  # Celery messages Redis must hold while the workers are down or behind
# RDS gp3 PostgreSQL: 3,000 IOPS baseline below 400 GiB of storage, 12,000 from 400 GiB.
COMMITS_PER_DELIVERY = 4  # bench/events_bench.py: 11 statements in 4 transactions per delivery


def newest(pattern: str) -> Path:
    files = sorted(RESULTS.glob(pattern))
    if not files:
        raise SystemExit(f"no {pattern} in {RESULTS}: run bench/capacity.py first")
    return files[-1]


def median(summary: dict[str, Any], name: str, group: str) -> float:
    return float(summary[name]["cpu_ms_per_request"][group]["median"])


def per_second(capacity: dict[str, Any], events: dict[str, Any], tenants: int) -> dict[str, float]:
    """CPU seconds per second (= cores busy) of each tier, and the rates, at the peak."""
    s = capacity["summary"]
    bg = capacity["background"]
    imp = capacity["import_summary"]["cpu_ms_per_1000_rows"]
    delivery = events["issue_load"]["cpu"]["cpu_ms_per_delivery"]
    per_min = tenants / 60.0
    writes = sum(MIX[w] for w in WRITES)
    deliveries = writes * EVENTS_PER_WRITE * DELIVERIES_PER_EVENT
    imports = IMPORT_ROWS_PER_MINUTE / 1000
    # An import records a stock.changed per non-zero level (~2 per row): webhooks fan them out too.
    import_events = imports * sorted(r["events_recorded"] for r in capacity["imports"])[len(capacity["imports"]) // 2]
    deliveries += import_events * DELIVERIES_PER_EVENT
    scan = bg["low_stock_scan"]["bench"]
    sweep_scale = tenants / bg["relay_sweep"]["tenants"]

    def requests(group: str) -> float:
        ms = sum(rate * median(s, name, group) for name, rate in MIX.items())
        return ms + LOGINS_PER_MINUTE * median(s, "login (token)", group)

    relayed = writes * EVENTS_PER_WRITE + import_events
    app_ms = requests("app") + imports * imp["app"]["median"]
    db_ms = (
        requests("db")
        + relayed * bg["relay_one_event"]["db_cpu_ms"]["median"]
        + deliveries * delivery["postgres"]
        + imports * imp["db"]["median"]
    )
    worker_ms = (
        relayed * bg["relay_one_event"]["worker_cpu_ms"]["median"]
        + deliveries * delivery["celery"]
        + imports * imp["celery"]["median"]
    )
    redis_ms = requests("redis") + deliveries * delivery["redis"] + imports * imp["redis"]["median"]
    redis_commands = sum(rate * s[name]["redis_commands_per_request"]["median"] for name, rate in MIX.items())
    return {
        "requests_per_second": per_min * (sum(MIX.values()) + LOGINS_PER_MINUTE),
        "writes_per_second": per_min * writes,
        "deliveries_per_second": per_min * deliveries,
        "logins_per_second": per_min * LOGINS_PER_MINUTE,
        "app": per_min * app_ms / 1000,
        "worker": per_min * worker_ms / 1000
        + tenants * scan["worker_cpu_ms"]["median"] / 1000 / LOW_STOCK_SCAN_SECONDS
        + bg["relay_sweep"]["worker_cpu_ms"]["median"] * sweep_scale / 1000 / RELAY_SWEEP_SECONDS,
        "db": per_min * db_ms / 1000
        + tenants * scan["db_cpu_ms"]["median"] / 1000 / LOW_STOCK_SCAN_SECONDS
        + bg["relay_sweep"]["db_cpu_ms"]["median"] * sweep_scale / 1000 / RELAY_SWEEP_SECONDS,
        "db_sweep": bg["relay_sweep"]["db_cpu_ms"]["median"] * sweep_scale / 1000 / RELAY_SWEEP_SECONDS,
        "redis": per_min * redis_ms / 1000,
        "redis_commands_per_second": per_min * redis_commands,
        "login_app": per_min * LOGINS_PER_MINUTE * median(s, "login (token)", "app") / 1000,
    }


def tenant_bytes(capacity: dict[str, Any]) -> dict[str, float]:
    """A typical active tenant's hot data: the bench tenant's rows as seeded (5,000 products,
    2 warehouses with their levels and opening movements, 50 customers, 300 orders of 1-5
    lines) at the bytes per row (heap, indexes, TOAST) of the tables after the run, plus
    HOT_DAYS of writes."""
    size = capacity["database_size_after"]
    tables = size["tables"]

    def row(table: str) -> float:
        return float(tables[table]["bytes_per_row"])

    issue = row("inventory_stockmovement") + row("tenants_domainevent")
    order = row("orders_salesorder") + 3 * row("orders_salesorderline") + row("orders_statuschange")
    order += row("tenants_domainevent")
    writes = sum(MIX[w] for w in WRITES)
    per_write = (MIX["stock issue"] * issue + MIX["create sales order (3 lines)"] * order) / writes
    return {
        "catalogue_and_orders": sum(
            n * row(table) for table, n in capacity["database_size"]["profiles"]["bench"]["rows"].items()
        ),
        "per_write": per_write,
        "hot_writes": per_write * WRITES_PER_TENANT_DAY * HOT_DAYS,
        "per_year": per_write * WRITES_PER_TENANT_DAY * 365,
    }


def redis_bytes_per_user(capacity: dict[str, Any]) -> float:
    """The membership entry and the throttle windows one user leaves (the bench's keys)."""
    kinds = capacity["redis_keys"]["by_kind"]
    per_user = 0.0
    for kind, entry in kinds.items():
        if "membership" in kind or "throttle_user" in kind or "throttle_plan" in kind:
            per_user += entry["bytes"] / max(entry["keys"], 1)
    return per_user


def rds_for(vcpu: float, gib: float) -> tuple[str, int, int]:
    for name, cores, memory in RDS:
        if cores >= vcpu and memory >= gib and not (name.startswith("db.t4g") and vcpu > T4G_MEDIUM_BASELINE_VCPU):
            return name, cores, memory
    return RDS[-1]


def max_connections(gib: int) -> int:
    """RDS PostgreSQL's default: LEAST(DBInstanceClassMemory / 9531392, 5000); the class
    memory less the ~10 % RDS keeps for itself."""
    return min(int(gib * 2**30 * 0.9 / 9531392), 5000)


def plan(capacity: dict[str, Any], events: dict[str, Any]) -> dict[str, Any]:
    sizes = tenant_bytes(capacity)
    user_bytes = redis_bytes_per_user(capacity)
    queues = capacity["celery_queues_before_worker"].values()
    message = max(q["bytes_per_message"] or 0 for q in queues)  # a queued task message in Redis
    steps = {}
    for tenants in STEPS:
        load = per_second(capacity, events, tenants)
        web_vcpu = load["app"] * UNCERTAINTY / WEB_TARGET
        web_tasks = max(2, math.ceil(web_vcpu))
        worker_vcpu = load["worker"] * UNCERTAINTY / WORKER_TARGET
        worker_tasks = max(2, math.ceil(worker_vcpu))
        db_vcpu = load["db"] * UNCERTAINTY / DB_TARGET
        hot = tenants * (sizes["catalogue_and_orders"] + sizes["hot_writes"])
        db_gib = hot / HOT_SHARE_OF_RAM / 2**30
        rds = rds_for(db_vcpu, db_gib)
        connections = web_tasks * WEB_DB_CONNECTIONS_PER_TASK + worker_tasks * (WORKER_CONCURRENCY + 1) + 2
        backlog_gib = load["deliveries_per_second"] * 3600 * REDIS_BACKLOG_HOURS * message / 2**30
        redis_gib = (tenants * 3 * user_bytes + tenants * message) / 2**30 + backlog_gib
        redis_node = next((n for n in ELASTICACHE if n[1] * 0.75 >= redis_gib), ELASTICACHE[-1])
        storage_gib = tenants * (sizes["catalogue_and_orders"] + sizes["per_year"]) / 2**30
        iops_limit = 12000 if storage_gib >= 400 else 3000
        # Commits per second: each write, each relay run (one per event at a console's pace),
        # each delivery's transactions. Each waits for a WAL flush (and the Multi-AZ standby).
        commits = (
            load["writes_per_second"]
            + load["writes_per_second"] * EVENTS_PER_WRITE
            + load["deliveries_per_second"] * COMMITS_PER_DELIVERY
        )
        db_cpu_limit = T4G_MEDIUM_BASELINE_VCPU if rds[0].startswith("db.t4g") else rds[1] * DB_TARGET
        usage = {
            "PostgreSQL CPU": load["db"] * UNCERTAINTY / db_cpu_limit,
            "PostgreSQL memory (hot set)": hot / 2**30 / (rds[2] * HOT_SHARE_OF_RAM),
            "PostgreSQL connections": connections / max_connections(rds[2]),
            "PostgreSQL commits vs gp3 IOPS": commits / iops_limit,
            "Redis command thread": load["redis"] * UNCERTAINTY / REDIS_TARGET,
            "Redis memory": redis_gib / (redis_node[1] * 0.75),
        }
        first = max(usage, key=lambda k: usage[k])
        steps[tenants] = {
            **{k: round(v, 3) for k, v in load.items()},
            "web_vcpu_needed": round(web_vcpu, 2),
            "web_tasks": web_tasks,
            "worker_vcpu_needed": round(worker_vcpu, 2),
            "worker_tasks": worker_tasks,
            "db_vcpu_needed": round(db_vcpu, 2),
            "db_hot_gib": round(hot / 2**30, 2),
            "db_memory_gib_needed": round(db_gib, 1),
            "rds": rds[0],
            "rds_vcpu": rds[1],
            "rds_gib": rds[2],
            "rds_cpu_at_peak_percent": round(100 * load["db"] * UNCERTAINTY / rds[1], 1),
            "db_connections_direct": connections,
            "rds_max_connections_default": max_connections(rds[2]),
            "data_per_year_gib": round(tenants * (sizes["catalogue_and_orders"] + sizes["per_year"]) / 2**30, 1),
            "redis_session_mib": round(tenants * 3 * user_bytes / 2**20, 2),
            "redis_core_percent": round(100 * load["redis"] * UNCERTAINTY, 1),
            "webhook_backlog_mib_per_hour": round(load["deliveries_per_second"] * 3600 * message / 2**20, 1),
            "redis_gib_needed": round(redis_gib, 2),
            "elasticache": redis_node[0],
            "commits_per_second": round(commits),
            "storage_first_year_gib": round(storage_gib),
            "iops_baseline": iops_limit,
            **{f"use of limit: {k}": f"{100 * v:.0f} %" for k, v in usage.items()},
            "first bottleneck": first,
            "tenants when it is reached": round(tenants / usage[first]),
        }
    return {"tenant_bytes": sizes, "redis_bytes_per_user": user_bytes, "steps": steps}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("capacity", nargs="?", help="a capacity-*.json (default: the newest)")
    parser.add_argument("--events", help="an events-*.json for the webhook delivery cost (default: the newest)")
    args = parser.parse_args(argv)
    capacity_path = Path(args.capacity) if args.capacity else newest("capacity-*.json")
    events_path = Path(args.events) if args.events else newest("events-*.json")
    capacity = json.loads(capacity_path.read_text())
    events = json.loads(events_path.read_text())
    result = plan(capacity, events)
    print(f"# from {capacity_path.name} (HEAD {capacity['code']['head'][:7]}) and {events_path.name}")
    print(
        f"# model: {sum(MIX.values()):.0f} requests per active tenant per minute {MIX}, logins {LOGINS_PER_MINUTE:.3f}"
        f"/min, import rows {IMPORT_ROWS_PER_MINUTE:.1f}/min, events per write {EVENTS_PER_WRITE}, deliveries per "
        f"event {DELIVERIES_PER_EVENT}, x{UNCERTAINTY} uncertainty, targets web {WEB_TARGET} worker "
        f"{WORKER_TARGET} db {DB_TARGET}"
    )
    sizes = result["tenant_bytes"]
    print(
        f"# tenant: catalogue+orders {sizes['catalogue_and_orders'] / 2**20:.1f} MiB, {sizes['per_write']:.0f} B per "
        f"write, hot writes ({HOT_DAYS} d) {sizes['hot_writes'] / 2**20:.1f} MiB, per year "
        f"{sizes['per_year'] / 2**20:.0f} MiB; Redis per user {result['redis_bytes_per_user']:.0f} B"
    )
    keys = list(next(iter(result["steps"].values())))
    print("| | " + " | ".join(f"{t:,} tenants" for t in result["steps"]) + " |")
    print("| --- |" + " --- |" * len(result["steps"]))
    for key in keys:
        print(f"| {key} | " + " | ".join(str(step[key]) for step in result["steps"].values()) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
