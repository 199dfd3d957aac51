"""Capacity: CPU seconds per request of the main endpoints, for the deploy guide's capacity plan.

    flock /tmp/stockroom-bench.lock .venv/bin/python bench/capacity.py                 # ~6 min on 2 cores
    flock /tmp/stockroom-bench.lock .venv/bin/python bench/capacity.py --rounds 1 --scale 0.3   # a quick look

Latency on a shared 2-core machine says little about a Fargate task; CPU time says more,
because it is much less disturbed by other load. So this measures CPU seconds, not wall
time, per request and per process group:

1. recreates its own database (``BENCH_DATABASE``, default ``stockroom_cap``, roles
   ``stockroom_cap_owner|app|ops``; setup_db), seeds the tenant ``bench`` as bench/run does
   (suite_seed: 5,000 products, 2 warehouses, 50 customers, 300 sales orders) plus filler
   tenants up to ``--tenants`` (default 1,000), then ANALYZE; records the size of every
   table and index and the rows of the two tenant profiles (bench, filler);
2. starts gunicorn with ONE sync worker, production settings, Redis cache (database 11),
   the runtime role (Row Level Security in force);
3. ``--rounds`` rounds; in each, every endpoint gets its N requests, one after the other
   from this process, in an order rotated each round. Around each endpoint's requests it
   reads from /proc the utime + stime of: the gunicorn worker (app), the PostgreSQL
   backends connected to the bench database (pids from pg_stat_activity, plus the CPU of
   backends that exited meanwhile, which the postmaster reaps into its children's time),
   the PostgreSQL server's own processes (WAL writer, checkpointer: pg_aux), and
   redis-server; and Redis's command counter. Also the machine's busy share, the 1-minute
   load average and processes outside the benchmark using CPU;
4. statements per request, counted once in this process through the same WSGI stack
   (Django's test client, production settings, CaptureQueriesContext; transaction
   control left out), and the bytes of each response (body, and body + headers);
5. the CSV import of 1,000 rows through ``POST /api/v1/imports/`` and one Celery worker
   (solo pool), per round into a new tenant: the same CPU groups plus the worker's;
6. the Redis keys the run left in database 11, by kind, with their memory;
7. writes bench/results/capacity-<time>.json (git HEAD, machine, PostgreSQL settings) and
   prints the table: per endpoint the median of the rounds and the min-max.

Nothing here relays events or sends webhooks (no beat): the Celery cost of a write is
measured by bench/events_bench.py (docs/performance.md, "Events and webhooks").
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("BENCH_DATABASE", "stockroom_cap")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
import import_bench
import psycopg
import setup_db
import suite
import suite_seed

HZ = os.sysconf("SC_CLK_TCK")
# The tables whose rows belong to tenants, for the per-tenant size.
TENANT_TABLES_SQL = """
SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace AND a.attname = 'tenant_id' AND NOT a.attisdropped
ORDER BY 1
"""


@dataclass
class Endpoint:
    name: str
    method: str
    path: str
    requests: int
    body: dict[str, Any] | None = None
    auth: bool = True
    expect: int = 200
    runs: list[dict[str, Any]] = field(default_factory=list)


# --- /proc ---------------------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def ticks(pid: int) -> int:
    fields = _stat(pid)
    return int(fields[11]) + int(fields[12]) if fields else 0


def cpu_ns(pid: int) -> int:
    """CPU time of the live threads of ``pid`` in nanoseconds (/proc/<pid>/task/*/schedstat,
    user + system): 10 ms ticks are too coarse for a Redis command or a primary-key read.
    Threads that exited are not in it, so a process that starts and ends threads (the
    Celery worker's import writers) is read in ticks instead."""
    total = 0
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return 0
    for task in tasks:
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return total


def children_ticks(pid: int) -> int:
    """CPU of the children ``pid`` has reaped (cutime + cstime)."""
    fields = _stat(pid)
    return int(fields[13]) + int(fields[14]) if fields else 0


def child_pids(parent: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields and int(fields[1]) == parent:
                pids.append(int(entry.name))
    return pids


def machine_ticks() -> tuple[int, int]:
    cpu = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(cpu) - cpu[3] - cpu[4], sum(cpu)


class Meter:
    """CPU ticks of the process groups serving the requests, read before and after."""

    def __init__(self, admin: psycopg.Connection[Any], redis: Any, web_worker: int, celery: int | None = None) -> None:
        self.admin = admin  # one persistent connection: its own backend never exits during a window
        self.redis = redis
        self.web_worker = web_worker
        self.celery = celery
        self.redis_pid = int(redis.info("server")["process_id"])
        own_backend = admin.execute("SELECT pg_backend_pid()").fetchone()
        assert own_backend is not None
        fields = _stat(int(own_backend[0]))
        assert fields is not None
        self.postmaster = int(fields[1])

    def backends(self) -> dict[int, int]:
        rows = self.admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend'",
            [common.DATABASE],
        ).fetchall()
        return {pid: cpu_ns(pid) for (pid,) in rows}

    def snapshot(self) -> dict[str, Any]:
        backends = self.backends()
        aux = {pid: cpu_ns(pid) for pid in child_pids(self.postmaster)} if self.postmaster else {}
        for pid in backends:
            aux.pop(pid, None)
        aux.pop(self._admin_pid(), None)
        commands = self.redis.info("commandstats")
        busy, total = machine_ticks()
        return {
            "at": time.monotonic(),
            "app": cpu_ns(self.web_worker),
            "celery": ticks(self.celery) if self.celery else 0,
            "backends": backends,
            "aux": aux,
            "reaped": children_ticks(self.postmaster),
            "redis": cpu_ns(self.redis_pid),
            "redis_calls": {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in commands.items()},
            "machine_busy": busy,
            "machine_total": total,
        }

    def _admin_pid(self) -> int:
        return int(self.admin.info.backend_pid)

    def window(self) -> Window:
        return Window(self)

    @staticmethod
    def delta(before: dict[str, Any], after: dict[str, Any], seen: dict[int, int]) -> dict[str, Any]:
        """Seconds of CPU per group between two snapshots. ``seen``: the last CPU time read
        of every bench backend during the window (a backend replaced meanwhile, e.g. a
        connection past its CONN_MAX_AGE, or the import's writers, counts up to its last
        reading)."""
        last = {**seen, **after["backends"]}
        live = sum(t - before["backends"].get(pid, 0) for pid, t in last.items())
        exited = [pid for pid in last if pid not in after["backends"]]
        aux = sum(t - before["aux"].get(pid, 0) for pid, t in after["aux"].items())
        # The postmaster's reaped children: ours, but also other databases' backends on a shared
        # server (other helpers' tests), so recorded only, never added.
        reaped = (after["reaped"] - before["reaped"]) / HZ
        busy = after["machine_busy"] - before["machine_busy"]
        total = after["machine_total"] - before["machine_total"]
        calls = {
            name: n - before["redis_calls"].get(name, 0)
            for name, n in after["redis_calls"].items()
            if n != before["redis_calls"].get(name, 0)
        }
        # Less the one INFO command of the "before" snapshot.
        calls["info"] = calls.get("info", 0) - 1
        return {
            "wall_seconds": after["at"] - before["at"],
            "app": (after["app"] - before["app"]) / 1e9,
            "celery": (after["celery"] - before["celery"]) / HZ,
            "db": live / 1e9,
            "pg_reaped_children_any_database": reaped,
            "db_backends_exited": len(exited),
            "db_backends_new": len([pid for pid in last if pid not in before["backends"]]),
            "pg_aux": aux / 1e9,
            "redis": (after["redis"] - before["redis"]) / 1e9,
            # Commands as Redis counts them: a Lua script's redis.call()s count one each.
            "redis_commands": sum(n for n in calls.values() if n > 0),
            "redis_calls": {name: n for name, n in calls.items() if n},
            "machine_busy_percent": round(100.0 * busy / total, 1) if total else None,
        }


class Window:
    """``with meter.window() as w:`` ... ``w.cpu``: the groups' CPU over the block. A thread
    reads the bench backends' CPU every 50 ms meanwhile, so one that exits inside the
    window is counted up to its last reading."""

    def __init__(self, meter: Meter) -> None:
        import threading

        self.meter = meter
        self.seen: dict[int, int] = {}
        self.cpu: dict[str, Any] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.seen.update(self.meter.backends())

    def __enter__(self) -> Window:
        self.before = self.meter.snapshot()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
        self.cpu = Meter.delta(self.before, self.meter.snapshot(), self.seen)


# --- Requests ------------------------------------------------------------------------------


def request(port: int, endpoint: Endpoint, token: str) -> tuple[int, int, int]:
    """One request on a new connection (gunicorn's sync workers close each one): status,
    body bytes, header bytes."""
    headers = {"Host": "127.0.0.1"}
    body = None
    if endpoint.auth:
        headers["Authorization"] = f"Bearer {token}"
    if endpoint.body is not None:
        body = json.dumps(endpoint.body).encode()
        headers["Content-Type"] = "application/json"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(endpoint.method, endpoint.path, body=body, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        header_bytes = sum(len(k) + len(v) + 4 for k, v in response.getheaders()) + 17
        return response.status, len(payload), header_bytes
    finally:
        conn.close()


def run_endpoint(endpoint: Endpoint, port: int, token: str, meter: Meter, scale: float) -> dict[str, Any]:
    count = max(3, round(endpoint.requests * scale))
    statuses: dict[int, int] = {}
    body_bytes = header_bytes = 0
    with common.ForeignLoadMonitor(every=2.0) as monitor, meter.window() as window:
        for _ in range(count):
            status, body, header = request(port, endpoint, token)
            statuses[status] = statuses.get(status, 0) + 1
            body_bytes += body
            header_bytes += header
    cpu = window.cpu
    ours = {meter.redis_pid, meter.postmaster, *window.before["aux"]}
    foreign = [
        {"time": s["time"], "busy": [b for b in s["busy"] if b["pid"] not in ours]}
        for s in monitor.samples
        if any(b["pid"] not in ours for b in s["busy"])
    ]
    per = {k: round(1000 * cpu[k] / count, 3) for k in ("app", "db", "pg_aux", "redis")}
    return {
        "requests": count,
        "statuses": statuses,
        "ok": statuses.get(endpoint.expect, 0) == count,
        "cpu_ms_per_request": {**per, "total": round(sum(per.values()), 3)},
        "cpu_seconds": {k: round(v, 4) if isinstance(v, float) else v for k, v in cpu.items()},
        "redis_commands_per_request": round(cpu["redis_commands"] / count, 2),
        "redis_calls_per_request": {k: round(v / count, 2) for k, v in cpu["redis_calls"].items()},
        "wall_ms_per_request": round(1000 * cpu["wall_seconds"] / count, 2),
        "body_bytes_per_response": round(body_bytes / count),
        "header_bytes_per_response": round(header_bytes / count),
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "foreign_load": {"samples_with_foreign_load": len(foreign), "first": foreign[:3]},
    }


def count_statements(endpoints: list[Endpoint], token: str) -> dict[str, int]:
    """Statements per request in this process through the same WSGI stack: the second of
    two requests, so caches are warm. Writes run twice too (two orders, two issues)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    counts = {}
    for e in endpoints:
        headers = {"Authorization": f"Bearer {token}"} if e.auth else {}

        def call(e: Endpoint = e, headers: dict[str, str] = headers) -> Any:
            if e.method == "GET":
                return client.get(e.path, headers=headers)
            return client.post(e.path, data=e.body, content_type="application/json", headers=headers)

        call()
        with CaptureQueriesContext(connection) as queries:
            response = call()
        if response.status_code != e.expect:
            raise RuntimeError(f"{e.name}: {response.status_code} {response.content[:300]!r}")
        counts[e.name] = sum(1 for q in queries.captured_queries if not suite.CONTROL.match(q["sql"]))
    connection.close()
    return counts


# --- Data ----------------------------------------------------------------------------------


def prepare(args: argparse.Namespace) -> dict[str, Any]:
    started = time.monotonic()
    setup_db.provision_and_migrate()
    common.configure_django(common.runtime_env(LOG_LEVEL="WARNING"))
    seeded = setup_db.seed()
    suite_seed.seed_bench_tenant(seeded["tenant"].id, products=5000, customers=50, orders=300)
    suite_seed.add_filler_tenants(1, args.tenants - 1)
    seeded["filler_events"] = filler_events()
    suite_seed.analyze()
    seeded["seed_seconds"] = round(time.monotonic() - started, 1)
    return seeded


# One event per filler tenant and the webhooks subscriber's cursor on it, as a tenant whose
# events were all relayed: the relay sweep (beat, every 5 s) probes each tenant's newest event
# and cursors, and a tenant without events would cost it nothing. As the superuser (Row Level
# Security does not apply to it); txid and seq take their defaults, as the app's inserts do.
FILLER_EVENTS_SQL = """
INSERT INTO tenants_domainevent (id, tenant_id, type, subject_type, subject_id, data, request_id, created_at)
SELECT gen_random_uuid(), t.id, 'warehouse.created', 'warehouse', w.id::text, '{}'::jsonb, '', now()
FROM tenants_tenant t
JOIN LATERAL (SELECT id FROM inventory_warehouse w WHERE w.tenant_id = t.id ORDER BY code LIMIT 1) w ON true
WHERE t.slug LIKE 'filler-%'
"""
FILLER_CURSORS_SQL = """
INSERT INTO tenants_eventcursor (id, tenant_id, subscriber, txid, seq, delivered, updated_at)
SELECT gen_random_uuid(), e.tenant_id, %s, max(e.txid), max(e.seq), 1, now()
FROM tenants_domainevent e JOIN tenants_tenant t ON t.id = e.tenant_id
WHERE t.slug LIKE 'filler-%%' GROUP BY e.tenant_id
"""


def bench_db_admin_url() -> str:
    """The superuser on the bench database."""
    return common.ADMIN_URL.replace("postgres://", "postgresql://").rsplit("/", 1)[0] + f"/{common.DATABASE}"


def filler_events() -> int:
    from tenants.events import subscribers

    with psycopg.connect(bench_db_admin_url()) as conn, conn.transaction():
        count = conn.execute(FILLER_EVENTS_SQL).rowcount
        for name in subscribers():
            conn.execute(FILLER_CURSORS_SQL, [name])
    return count


def database_size(admin_db: psycopg.Connection[Any], seeded: dict[str, Any]) -> dict[str, Any]:
    """Every tenant table's size (heap + indexes + TOAST), its rows, bytes per row; the rows
    of the bench tenant and of one filler tenant, and what they take at those bytes per row."""
    tables = [name for (name,) in admin_db.execute(TENANT_TABLES_SQL).fetchall()]
    filler = admin_db.execute("SELECT id FROM tenants_tenant WHERE slug = 'filler-1'").fetchone()
    profiles = {"bench": str(seeded["tenant"].id), "filler": str(filler[0]) if filler else None}
    out: dict[str, Any] = {"tables": {}, "profiles": {p: {"rows": {}, "bytes": 0} for p in profiles}}
    for table in tables:
        size, heap, rows = admin_db.execute(
            f"SELECT pg_total_relation_size('{table}'), pg_relation_size('{table}'), count(*) FROM \"{table}\""
        ).fetchone() or (0, 0, 0)
        per_row = size / rows if rows else 0.0
        out["tables"][table] = {"bytes": size, "heap_bytes": heap, "rows": rows, "bytes_per_row": round(per_row, 1)}
        for profile, tenant in profiles.items():
            if tenant is None:
                continue
            (n,) = admin_db.execute(f'SELECT count(*) FROM "{table}" WHERE tenant_id = %s', [tenant]).fetchone() or (0,)
            if n:
                out["profiles"][profile]["rows"][table] = n
                out["profiles"][profile]["bytes"] += round(n * per_row)
    row = admin_db.execute("SELECT pg_database_size(current_database()), (SELECT count(*) FROM tenants_tenant)")
    total, tenants = row.fetchone() or (0, 0)
    out["database_bytes"] = total
    out["tenants"] = tenants
    out["bytes_per_tenant_average"] = round(total / tenants) if tenants else None
    return out


def endpoints_for(seeded: dict[str, Any]) -> list[Endpoint]:
    from django.db import connection

    from inventory.models import Customer, Product
    from tenants.context import tenant_context

    with tenant_context(seeded["tenant"]):
        products = list(Product.objects.order_by("sku").values_list("id", flat=True)[100:103])
        customer = Customer.objects.order_by("name").values_list("id", flat=True)[0]
    connection.close()
    warehouse = str(seeded["warehouses"]["MAIN"].id)
    hot = suite._hot_product(seeded, f"CAP-{uuid.uuid4().hex[:10]}", 10_000_000)
    order = {
        "customer": str(customer),
        "lines": [
            {"product": str(p), "warehouse": warehouse, "quantity": str(n + 1), "tax_rate": "20"}
            for n, p in enumerate(products)
        ],
    }
    return [
        Endpoint("healthz (no auth, no DB)", "GET", "/healthz", 300, auth=False),
        Endpoint("product list (50)", "GET", "/api/v1/products/", 300),
        Endpoint("product detail", "GET", f"/api/v1/products/{products[0]}/", 400),
        Endpoint("stock levels of a warehouse (50)", "GET", f"/api/v1/stock-levels/?warehouse={warehouse}", 300),
        Endpoint("sales orders with lines (50)", "GET", "/api/v1/sales-orders/", 150),
        Endpoint("create sales order (3 lines)", "POST", "/api/v1/sales-orders/", 200, body=order, expect=201),
        Endpoint(
            "stock issue",
            "POST",
            "/api/v1/stock/issue/",
            300,
            body={"product": str(hot.id), "warehouse": warehouse, "quantity": "1"},
            expect=201,
        ),
        Endpoint(
            "login (token)",
            "POST",
            "/api/v1/auth/token/",
            15,
            body={"email": common.OWNER_EMAIL, "password": common.OWNER_PASSWORD, "tenant": common.TENANT_SLUG},
            auth=False,
        ),
    ]


# --- Import --------------------------------------------------------------------------------


def run_import(
    round_number: int, port: int, meter: Meter, rows: int, env: dict[str, str], celery_pid: int
) -> dict[str, Any]:
    slug = f"cap-import-{round_number}-{uuid.uuid4().hex[:6]}"
    tenant, _ = suite._import_tenant(slug)
    base = f"http://127.0.0.1:{port}"
    status, session = common.http_json(
        "POST",
        f"{base}/api/v1/auth/token/",
        body={"email": common.OWNER_EMAIL, "password": common.OWNER_PASSWORD, "tenant": slug},
    )
    if status != 200:
        raise RuntimeError(f"login to {slug} failed: {status} {session}")
    csv_path = common.WORK / f"capacity-{rows}.csv"
    expected = import_bench.write_csv(csv_path, rows)
    with common.ForeignLoadMonitor(every=2.0) as monitor, meter.window() as window:
        t0 = time.monotonic()
        status, job = import_bench.upload(base, session["access"], csv_path)
        if status != 202:
            raise RuntimeError(f"upload refused: {status} {job}")
        job, samples = import_bench.poll(base, session["access"], job["id"], t0, 300, 0.2)
    cpu = window.cpu
    verification = import_bench.verify(tenant, expected) if job["status"] == "succeeded" else {"ok": False}
    with psycopg.connect(bench_db_admin_url()) as conn:
        (events,) = conn.execute(
            "SELECT count(*) FROM tenants_domainevent WHERE tenant_id = %s", [tenant.id]
        ).fetchone() or (0,)
    per = {k: round(1000 * cpu[k] * 1000 / rows, 1) for k in ("app", "celery", "db", "pg_aux", "redis")}
    return {
        "rows": rows,
        "status": job["status"],
        "ok": bool(verification["ok"]),
        "seconds": samples[-1]["t"],
        "polls": len(samples),
        "events_recorded": events,
        "cpu_ms_per_1000_rows": {**per, "total": round(sum(per.values()), 1)},
        "cpu_seconds": {k: round(v, 4) if isinstance(v, float) else v for k, v in cpu.items()},
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "foreign_load": monitor.summary(),
        "celery_pid": celery_pid,
    }


# --- Periodic and background work --------------------------------------------------------


def _backend_pid(alias: str = "default") -> int:
    from django.db import connections

    connections[alias].ensure_connection()
    return int(connections[alias].connection.info.backend_pid)


def _timed(fn: Any, alias: str = "default") -> tuple[float, float, Any]:
    """(this process's CPU ms, the alias's backend CPU ms, result) of ``fn()``."""
    pid = _backend_pid(alias)
    cpu0, db0 = time.process_time(), cpu_ns(pid)
    out = fn()
    return 1000 * (time.process_time() - cpu0), (cpu_ns(pid) - db0) / 1e6, out


def background_costs(seeded: dict[str, Any], port: int, token: str, issue: Endpoint, repeats: int) -> dict[str, Any]:
    """In this process, as a Celery worker would run them (same code, production settings):

    - the relay of a write's domain event (``tenants.tasks.relay_events`` runs
      ``tenants.events.relay``), the way it runs at a console's pace: one stock issue
      through gunicorn, then one relay of the bench tenant (one event), ``repeats`` times;
    - the beat's relay sweep (``relay_sweep``, every 5 s): its SQL on the ops alias across
      all the tenants of the database;
    - the low-stock scan of one tenant (``low_stock_scan_tenant``, queued for every active
      tenant every 15 minutes), for the bench tenant (5,000 products x 2 warehouses) and a
      filler tenant (200 x 2), after one scan that opens the alerts.
    """
    from django.db import connection, connections, transaction

    from inventory.services import alerts
    from tenants import tasks
    from tenants.context import tenant_context
    from tenants.events import relay, subscribers
    from tenants.models import DomainEvent, EventCursor, Tenant
    from tenants.tasking import OPS_ALIAS

    out: dict[str, Any] = {"subscribers": sorted(subscribers())}
    tenant = seeded["tenant"]
    with tenant_context(tenant):
        relay()  # the events of the rounds: every cursor at the newest event
        runs = []
        for _ in range(repeats):
            status, _, _ = request(port, issue, token)
            assert status == issue.expect, status
            app, db, delivered = _timed(relay)
            runs.append({"worker_cpu_ms": app, "db_cpu_ms": db, "events_per_subscriber": delivered})
    connection.close()
    out["relay_one_event"] = {
        "runs": len(runs),
        "worker_cpu_ms": _spread([r["worker_cpu_ms"] for r in runs]),
        "db_cpu_ms": _spread([r["db_cpu_ms"] for r in runs]),
        "events_per_subscriber_last": runs[-1]["events_per_subscriber"],
    }
    names = list(subscribers())
    sql = tasks._BEHIND_SQL.format(
        tenant=Tenant._meta.db_table, event=DomainEvent._meta.db_table, cursor=EventCursor._meta.db_table
    )

    def sweep() -> int:
        with connections[OPS_ALIAS].cursor() as cursor:
            cursor.execute(sql, [names])
            return len(cursor.fetchall())

    sweep()
    sweeps = [_timed(sweep, OPS_ALIAS) for _ in range(repeats)]
    tenants = Tenant.objects.using(OPS_ALIAS).count()
    out["relay_sweep"] = {
        "tenants": tenants,
        "tenants_behind_last": sweeps[-1][2],
        "worker_cpu_ms": _spread([s[0] for s in sweeps]),
        "db_cpu_ms": _spread([s[1] for s in sweeps]),
    }
    connections[OPS_ALIAS].close()
    filler = Tenant.objects.using(OPS_ALIAS).get(slug="filler-1")
    out["low_stock_scan"] = {}
    for profile, t in (("bench", tenant), ("filler", filler)):

        def scan() -> Any:
            with transaction.atomic():
                return alerts.low_stock_scan()

        with tenant_context(t):
            first = scan()
            scans = [_timed(scan) for _ in range(repeats)]
        out["low_stock_scan"][profile] = {
            "first_scan_opened_closed": first,
            "worker_cpu_ms": _spread([s[0] for s in scans]),
            "db_cpu_ms": _spread([s[1] for s in scans]),
        }
    connection.close()
    return out


def celery_queues(redis: Any) -> dict[str, Any]:
    """The Celery queues the writes filled (relay kicks; no worker ran yet): messages and
    bytes per message, the size a webhook send or any small task's message takes in Redis."""
    queues = {}
    for name in ("celery", "events"):
        length = int(redis.llen(name))
        memory = int(redis.memory_usage(name, samples=0) or 0) if length else 0
        queues[name] = {
            "messages": length,
            "bytes": memory,
            "bytes_per_message": round(memory / length) if length else None,
        }
    return queues


# --- Redis keys ----------------------------------------------------------------------------


def redis_keys(redis: Any) -> dict[str, Any]:
    """The keys in the bench's Redis database by kind (the key with digits, ids and hashes
    blanked), with their count and MEMORY USAGE."""
    import re

    kinds: dict[str, dict[str, int]] = {}
    for key in redis.scan_iter(count=1000):
        text = key.decode(errors="replace") if isinstance(key, bytes) else str(key)
        kind = re.sub(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", "<uuid>", text)
        kind = re.sub(r"[0-9a-f]{16,}", "<hex>", kind)
        kind = re.sub(r"\d+", "<n>", kind)
        entry = kinds.setdefault(kind, {"keys": 0, "bytes": 0})
        entry["keys"] += 1
        entry["bytes"] += int(redis.memory_usage(key) or 0)
    info = redis.info("memory")
    return {"by_kind": kinds, "used_memory": info["used_memory"], "dataset": info.get("used_memory_dataset")}


# --- Report --------------------------------------------------------------------------------


def _spread(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3), "max": round(max(values), 3)}


def summarize(endpoints: list[Endpoint], statements: dict[str, int]) -> dict[str, Any]:
    summary = {}
    for e in endpoints:
        groups = {g: _spread([r["cpu_ms_per_request"][g] for r in e.runs]) for g in ("app", "db", "pg_aux", "redis")}
        groups["total"] = _spread([r["cpu_ms_per_request"]["total"] for r in e.runs])
        summary[e.name] = {
            "method": e.method,
            "path": e.path,
            "cpu_ms_per_request": groups,
            "statements_per_request": statements.get(e.name),
            "redis_commands_per_request": _spread([r["redis_commands_per_request"] for r in e.runs]),
            "redis_calls_per_request": e.runs[-1]["redis_calls_per_request"],
            "body_bytes_per_response": e.runs[-1]["body_bytes_per_response"],
            "header_bytes_per_response": e.runs[-1]["header_bytes_per_response"],
            "wall_ms_per_request": _spread([r["wall_ms_per_request"] for r in e.runs]),
            "all_ok": all(r["ok"] for r in e.runs),
        }
    return summary


def table(summary: dict[str, Any], imports: dict[str, Any] | None) -> str:
    def cell(s: dict[str, float]) -> str:
        return f"{s['median']:.2f} ({s['min']:.2f}-{s['max']:.2f})"

    lines = [
        "| endpoint | app CPU ms | DB CPU ms | Redis CPU ms | PG aux ms | total ms | statements | Redis cmds | bytes |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, s in summary.items():
        c = s["cpu_ms_per_request"]
        lines.append(
            f"| {name} | {cell(c['app'])} | {cell(c['db'])} | {cell(c['redis'])} | {c['pg_aux']['median']:.2f} | "
            f"{c['total']['median']:.2f} | {s['statements_per_request']} | "
            f"{s['redis_commands_per_request']['median']:.1f} | {s['body_bytes_per_response']} |"
        )
    if imports:
        c = imports["cpu_ms_per_1000_rows"]
        lines.append(
            f"| CSV import, per 1,000 rows (web + Celery worker) | {cell(c['app'])} + worker {cell(c['celery'])} | "
            f"{cell(c['db'])} | {cell(c['redis'])} | {c['pg_aux']['median']:.1f} | {c['total']['median']:.1f} | | | |"
        )
    return "\n".join(lines)


def start_web(args: argparse.Namespace, env: dict[str, str]) -> common.Proc:
    """One gunicorn worker: bench/'s sync worker, or with ``--threads N`` the gthread worker
    config/gunicorn.py runs in the container (N threads; requests still arrive one at a time)."""
    log = common.WORK / "logs" / "capacity-web.log"
    if not args.threads:
        return common.start_gunicorn(workers=1, port=args.port, env=env, log=log)
    command = [
        str(common.VENV_BIN / "gunicorn"),
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{args.port}",
        "--workers",
        "1",
        "--worker-class",
        "gthread",
        "--threads",
        str(args.threads),
        "--timeout",
        "120",
        "--log-level",
        "warning",
    ]
    proc = common.Proc("gunicorn-gthread", command, env, log)
    common.wait_ready(f"http://127.0.0.1:{args.port}/readyz", proc)
    return proc


# --- Main ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", type=int, default=1000, help="tenants in the database (bench + fillers)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies each endpoint's request count")
    parser.add_argument("--import-rows", type=int, default=1000, help="0: no import")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "8330")))
    parser.add_argument(
        "--threads", type=int, default=0, help="gthread worker with this many threads (0: sync, as bench/run)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    import redis as redis_lib

    args = parse_args(argv)
    started = time.monotonic()
    code = common.code_version()
    (common.WORK / "logs").mkdir(parents=True, exist_ok=True)
    print(f"preparing database {common.DATABASE} with {args.tenants} tenants ...", flush=True)
    seeded = prepare(args)
    print(f"seeded in {seeded['seed_seconds']} s", flush=True)
    admin_url = common.ADMIN_URL.replace("postgres://", "postgresql://")
    result: dict[str, Any] = {
        "benchmark": "capacity",
        "code": code,
        "options": vars(args),
        "machine": common.machine_info(),
        "foreign_load_before": common.busy_processes(2.0, foreign_only=True),
    }
    with psycopg.connect(bench_db_admin_url(), autocommit=True) as admin_db:
        result["database_size"] = database_size(admin_db, seeded)
    print(
        f"database {result['database_size']['database_bytes'] / 2**20:.0f} MiB for "
        f"{result['database_size']['tenants']} tenants",
        flush=True,
    )
    # The login endpoint is under the anonymous rate (120/min per address): raised like the user rate.
    env = common.runtime_env(THROTTLE_ANON="10000000/min")
    redis = redis_lib.Redis.from_url(common.REDIS_URL)
    endpoints = endpoints_for(seeded)
    web = start_web(args, env)
    imports: list[dict[str, Any]] = []
    try:
        (worker,) = suite.worker_pids(web.pid)
        token = common.login(f"http://127.0.0.1:{args.port}")
        result["statements_per_request"] = count_statements(endpoints, token)
        print(f"statements per request: {result['statements_per_request']}", flush=True)
        with psycopg.connect(admin_url, autocommit=True) as admin:
            meter = Meter(admin, redis, worker)
            for e in endpoints:  # warm-up: caches, compiled queries, the token's signature
                for _ in range(3):
                    request(args.port, e, token)
            for number in range(args.rounds):
                shift = number % len(endpoints)
                for e in endpoints[shift:] + endpoints[:shift]:
                    run = run_endpoint(e, args.port, token, meter, args.scale)
                    run["round"] = number + 1
                    e.runs.append(run)
                    c = run["cpu_ms_per_request"]
                    print(
                        f"[round {number + 1}] {e.name:<34} n={run['requests']:<4} app {c['app']:>7.2f}  "
                        f"db {c['db']:>6.2f}  redis {c['redis']:>5.2f}  ms/req  statuses {run['statuses']}  "
                        f"machine {run['cpu_seconds']['machine_busy_percent']} %  load {run['loadavg_1m']}",
                        flush=True,
                    )
            issue = next(e for e in endpoints if e.name == "stock issue")
            result["background"] = background_costs(seeded, args.port, token, issue, repeats=10)
            print(f"background work: {json.dumps(result['background'])}", flush=True)
            result["celery_queues_before_worker"] = celery_queues(redis)
            if args.import_rows:
                celery = common.start_celery(env=env, log=common.WORK / "logs" / "capacity-celery.log")
                try:
                    meter.celery = celery.pid
                    for number in range(args.rounds):
                        run = run_import(number + 1, args.port, meter, args.import_rows, env, celery.pid)
                        imports.append(run)
                        c = run["cpu_ms_per_1000_rows"]
                        print(
                            f"[import {number + 1}] {args.import_rows} rows {run['status']} in {run['seconds']} s, "
                            f"verified {run['ok']}: per 1,000 rows app {c['app']} celery {c['celery']} db {c['db']} "
                            f"redis {c['redis']} ms",
                            flush=True,
                        )
                finally:
                    celery.stop()
                    meter.celery = None
        result["worker_rss_mib"] = suite.rss_mib(worker)
    finally:
        web.stop()
    with psycopg.connect(bench_db_admin_url(), autocommit=True) as admin_db:
        after = database_size(admin_db, seeded)
    # What the writes added (3 warm-up + 2 counted + the measured ones per write endpoint; the imports' tenants).
    result["rows_added"] = {
        table: size["rows"] - result["database_size"]["tables"].get(table, {}).get("rows", 0)
        for table, size in after["tables"].items()
        if size["rows"] != result["database_size"]["tables"].get(table, {}).get("rows", 0)
    }
    result["writes_made"] = {e.name: 5 + sum(r["requests"] for r in e.runs) for e in endpoints if e.method == "POST"}
    result["database_size_after"] = after
    result["redis_keys"] = redis_keys(redis)
    result["endpoints"] = [{k: v for k, v in vars(e).items() if k != "body"} for e in endpoints]
    result["summary"] = summarize(endpoints, result["statements_per_request"])
    if imports:
        result["imports"] = imports
        result["import_summary"] = {
            "rows": args.import_rows,
            "cpu_ms_per_1000_rows": {
                g: _spread([r["cpu_ms_per_1000_rows"][g] for r in imports])
                for g in ("app", "celery", "db", "pg_aux", "redis", "total")
            },
            "all_ok": all(r["ok"] for r in imports),
        }
    result["table"] = table(result["summary"], result.get("import_summary"))
    result["seconds"] = round(time.monotonic() - started, 1)
    print(result["table"], flush=True)
    path = common.save_result("capacity", result)
    print(f"result saved to {path} ({result['seconds']:.0f} s in all)")
    ok = all(s["all_ok"] for s in result["summary"].values()) and (not imports or result["import_summary"]["all_ok"])
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
