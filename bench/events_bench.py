"""Webhook fan-out and the outbox relay's lag (issue 11; docs/performance.md, "Events").

    .venv/bin/python bench/events_bench.py                 # ~2 min
    .venv/bin/python bench/events_bench.py --endpoints 8 --events 1000 --duration 30

Steps: recreate + migrate + seed the bench database (bench/setup_db.py), start gunicorn
(production settings, runtime role, ``EVENT_RELAY_KICK`` on, as deployed) and one Celery
worker (threads pool: sending a webhook waits on the network), and a local HTTP receiver
in this process that answers 200 and records each delivery's ``webhook-id``, the event
time of its payload (``timestamp``) and when it arrived. Then:

The worker runs the beat schedule too (``--beat``): the relay's sweep queues the relay
when a kick found nothing it could yet hand over (an event behind a transaction still
running anywhere on the server: docs/integrations.md, "The relay").

1. **Fan-out.** ``--endpoints`` endpoints subscribed to ``stock.changed``; ``--events``
   stock receipts written one transaction each (through the service, in this process);
   every event becomes one message per endpoint, sent by the worker. Measured: the
   deliveries per second from the first to the last arrival, the time from the first
   write until every delivery arrived, the end-to-end latency (arrival minus the event's
   time) and that every message arrived exactly once (distinct ``webhook-id``s).
2. **Relay lag under the stock-issue load.** wrk issues stock on one hot product for
   ``--duration`` seconds (16 connections, as bench/stock_issue_bench.py), each issue
   recording its ``stock.changed`` event in the ledger's statement. Every half second a
   sampler reads, per relay subscriber, the age of the oldest event not yet handed to it
   (0 when it is caught up): the relay's lag. The deliveries' end-to-end latency is
   measured as in 1; after the load, the time until every subscriber and every delivery
   caught up.

Results: JSON in bench/results/events-<time>.json and a summary on stdout. Exits 2 when a
delivery is missing or duplicated. Run it alone on the machine (it measures time).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from datetime import datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
import setup_db
import stock_issue_bench

EVENT_TYPE = "stock.changed"


class Receiver:
    """A local webhook receiver: 200 to every POST, each delivery recorded."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.deliveries: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                arrived = time.time()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                try:
                    stamp = datetime.fromisoformat(json.loads(body)["timestamp"].replace("Z", "+00:00")).timestamp()
                except (ValueError, KeyError, TypeError):
                    stamp = None
                with receiver.lock:
                    receiver.deliveries.append(
                        {"id": self.headers.get("webhook-id"), "path": self.path, "arrived": arrived, "event_at": stamp}
                    )

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def count(self) -> int:
        with self.lock:
            return len(self.deliveries)

    def since(self, start: int) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.deliveries[start:])

    def stop(self) -> None:
        self.server.shutdown()


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "max": None, "n": 0}
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 3),
        "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 3),
        "max": round(ordered[-1], 3),
        "n": len(ordered),
    }


def _delivery_stats(deliveries: list[dict[str, Any]]) -> dict[str, Any]:
    ids = [d["id"] for d in deliveries]
    arrivals = [d["arrived"] for d in deliveries]
    span = (max(arrivals) - min(arrivals)) if len(arrivals) > 1 else 0.0
    return {
        "deliveries": len(deliveries),
        "distinct_webhook_ids": len(set(ids)),
        "duplicates": len(ids) - len(set(ids)),
        "deliveries_per_second": round(len(deliveries) / span, 1) if span else None,
        "latency_s": _percentiles([d["arrived"] - d["event_at"] for d in deliveries if d["event_at"] is not None]),
    }


def _wait_for(receiver: Receiver, start: int, expected: int, timeout: float) -> float | None:
    """Seconds until ``expected`` deliveries arrived after ``start`` (None: timed out)."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if receiver.count() - start >= expected:
            return time.monotonic() - began
        time.sleep(0.05)
    return None


# --- The relay's lag -------------------------------------------------------------------------

LAG_SQL = """
SELECT c.subscriber,
       EXTRACT(EPOCH FROM clock_timestamp() - (
           SELECT min(e.created_at) FROM tenants_domainevent e
           WHERE e.tenant_id = c.tenant_id AND (e.txid, e.seq) > (c.txid, c.seq)
       ))
FROM tenants_eventcursor c
"""


def relay_lag(tenant: Any) -> dict[str, float]:
    """Per subscriber: the age in seconds of the oldest event not yet handed to it (0: caught up)."""
    from django.db import connection, transaction

    from tenants.context import tenant_context

    with tenant_context(tenant), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(LAG_SQL)
        return {name: float(lag or 0.0) for name, lag in cursor.fetchall()}


class LagSampler:
    def __init__(self, tenant: Any, every: float = 0.5) -> None:
        self.tenant, self.every = tenant, every
        self.samples: list[dict[str, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from django.db import connection

        while not self._stop.is_set():
            self.samples.append(relay_lag(self.tenant))
            self._stop.wait(self.every)
        connection.close()

    def __enter__(self) -> LagSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict[str, Any]:
        names = sorted({name for sample in self.samples for name in sample})
        return {name: _percentiles([s[name] for s in self.samples if name in s]) for name in names}


def wait_caught_up(tenant: Any, timeout: float) -> float | None:
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        lags = relay_lag(tenant)
        if lags and all(lag == 0.0 for lag in lags.values()):
            return time.monotonic() - began
        time.sleep(0.1)
    return None


# --- Phases -----------------------------------------------------------------------------------


def make_endpoints(tenant: Any, receiver: Receiver, count: int) -> list[str]:
    from django.db import connection

    from integrations.services.endpoints import webhook_endpoint_create
    from tenants.context import tenant_context

    made = []
    with tenant_context(tenant):
        for number in range(count):
            endpoint, _ = webhook_endpoint_create(
                url=f"http://127.0.0.1:{receiver.port}/hook/{number}", events=[EVENT_TYPE], description="bench"
            )
            made.append(str(endpoint.id))
    connection.close()
    return made


def fan_out(tenant: Any, product: Any, warehouse: Any, receiver: Receiver, args: argparse.Namespace) -> dict[str, Any]:
    from django.db import connection

    from inventory.services import stock
    from tenants.context import tenant_context

    start = receiver.count()
    expected = args.events * args.endpoints
    began = time.monotonic()
    first_event_at = time.time()
    with tenant_context(tenant):
        for _ in range(args.events):
            stock.stock_receive(product_id=product.id, warehouse_id=warehouse.id, quantity=Decimal(1))
    writes_s = time.monotonic() - began
    connection.close()
    waited = _wait_for(receiver, start, expected, timeout=args.timeout)
    deliveries = [d for d in receiver.since(start) if d["event_at"] is not None and d["event_at"] >= first_event_at]
    result = {
        "events": args.events,
        "endpoints": args.endpoints,
        "expected_deliveries": expected,
        "writes_seconds": round(writes_s, 2),
        "all_delivered_after_first_write_s": round(writes_s + waited, 2) if waited is not None else None,
        **_delivery_stats(deliveries),
    }
    result["ok"] = result["deliveries"] == expected and result["duplicates"] == 0
    return result


def issue_load(
    seeded: dict[str, Any], base: str, token: str, receiver: Receiver, args: argparse.Namespace
) -> dict[str, Any]:
    tenant = seeded["tenant"]
    script = stock_issue_bench.write_lua(
        common.WORK / "events-issue.lua",
        product=str(seeded["hot"].id),
        warehouse=str(seeded["warehouse"].id),
        token=token,
    )
    start = receiver.count()
    load_began = time.time()
    with LagSampler(tenant) as sampler:
        wrk = stock_issue_bench.run_wrk(
            url=base, script=script, seconds=args.duration, connections=args.connections, threads=2
        )
        time.sleep(1.0)  # requests wrk abandoned at its cutoff finish on the server
    caught_up = wait_caught_up(tenant, timeout=args.timeout)
    issued = _issued_since(seeded)
    waited = _wait_for(receiver, start, issued * args.endpoints, timeout=args.timeout)
    deliveries = [d for d in receiver.since(start) if d["event_at"] is not None and d["event_at"] >= load_began]
    result = {
        "duration_s": args.duration,
        "connections": args.connections,
        "issues_per_second": round(wrk["successes"] / wrk["duration_s"], 1),
        "statuses": wrk["statuses"],
        "issue_movements": issued,
        "relay_lag_s": sampler.summary(),
        "relay_caught_up_after_load_s": round(caught_up, 2) if caught_up is not None else None,
        "deliveries_done_after_load_s": round(waited, 2) if waited is not None else None,
        **_delivery_stats(deliveries),
        "expected_deliveries": issued * args.endpoints,
    }
    result["ok"] = result["deliveries"] == result["expected_deliveries"] and result["duplicates"] == 0
    return result


def _issued_since(seeded: dict[str, Any]) -> int:
    from django.db import connection

    from inventory.models import StockMovement
    from tenants.context import tenant_context

    with tenant_context(seeded["tenant"]):
        count = StockMovement.objects.filter(product=seeded["hot"], kind="issue").count()
    connection.close()
    return count


def _cpu() -> dict[str, Any]:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"snapshot": common.cpu_snapshot(), "self": usage.ru_utime + usage.ru_stime}


def _cpu_since(before: dict[str, Any], deliveries: int) -> dict[str, Any]:
    """CPU seconds per group over the phase (this process: the receiver and the writes),
    and the milliseconds of each per delivery."""
    after = _cpu()
    breakdown = common.cpu_breakdown(before["snapshot"], after["snapshot"])
    breakdown["cpu_seconds"]["bench process (receiver, writes, sampler)"] = round(after["self"] - before["self"], 2)
    breakdown["cpu_ms_per_delivery"] = {
        name: round(1000 * seconds / deliveries, 2) if deliveries else None
        for name, seconds in breakdown["cpu_seconds"].items()
    }
    return breakdown


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoints", type=int, default=4, help="webhook endpoints subscribed to stock.changed")
    parser.add_argument("--events", type=int, default=500, help="stock receipts written for the fan-out")
    parser.add_argument("--duration", type=int, default=20, help="seconds of stock-issue load")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--celery-pool", default="threads", choices=["threads", "prefork", "solo"])
    parser.add_argument("--celery-concurrency", type=int, default=8, help="threads (or processes) of the Celery worker")
    parser.add_argument("--port", type=int, default=8077)
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for deliveries to arrive")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    code = common.code_version()
    (common.WORK / "logs").mkdir(parents=True, exist_ok=True)
    setup_db.provision_and_migrate()
    env = common.runtime_env(WEBHOOKS_ALLOW_PRIVATE_TARGETS="1", LOG_LEVEL="WARNING", EVENT_RELAY_KICK="1")
    common.configure_django(env)
    seeded = setup_db.seed()
    seeded.update(stock_issue_bench.seed_products("events", big=10_000_000, small=1))
    receiver = Receiver()
    base = f"http://127.0.0.1:{args.port}"
    result: dict[str, Any] = {
        "benchmark": "events",
        "code": code,
        "options": vars(args),
        "machine": common.machine_info(),
        "foreign_load_before": common.busy_processes(2.0, foreign_only=True),
    }
    web = common.start_gunicorn(
        workers=args.web_workers, port=args.port, env=env, log=common.WORK / "logs" / "events-web.log"
    )
    worker = common.start_celery(
        env=env,
        log=common.WORK / "logs" / "events-celery.log",
        pool=args.celery_pool,
        concurrency=args.celery_concurrency,
        beat=True,
    )
    try:
        result["endpoints"] = make_endpoints(seeded["tenant"], receiver, args.endpoints)
        print(f"fan-out: {args.events} events x {args.endpoints} endpoints ...", flush=True)
        before = _cpu()
        result["fan_out"] = fan_out(seeded["tenant"], seeded["warm"], seeded["warehouse"], receiver, args)
        result["fan_out"]["cpu"] = _cpu_since(before, result["fan_out"]["deliveries"])
        print(json.dumps(result["fan_out"], indent=1), flush=True)
        print(f"stock issues for {args.duration} s with the relay and webhooks running ...", flush=True)
        token = common.login(base)
        before = _cpu()
        result["issue_load"] = issue_load(seeded, base, token, receiver, args)
        result["issue_load"]["cpu"] = _cpu_since(before, result["issue_load"]["deliveries"])
        print(json.dumps(result["issue_load"], indent=1), flush=True)
    finally:
        worker.stop()
        web.stop()
        receiver.stop()
    result["seconds"] = round(time.monotonic() - started, 1)
    path = common.save_result("events", result)
    print(f"result saved to {path} ({result['seconds']:.0f} s in all)")
    return 0 if result["fan_out"]["ok"] and result["issue_load"]["ok"] else 2


if __name__ == "__main__":
    sys.exit(main())
