"""Shared pieces of the benchmarks: the bench environment, processes, HTTP helpers.

Nothing here touches the repository outside ``bench/``. Scratch files (uploads,
CSV, logs, wrk scripts) go to ``BENCH_WORK_DIR`` (default /tmp/stockroom_bench).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
VENV_BIN = REPO / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python")
WORK = Path(os.environ.get("BENCH_WORK_DIR", "/tmp/stockroom_bench"))
RESULTS = BENCH_DIR / "results"

PG_HOST = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
PG_PORT = os.environ.get("BENCH_PG_PORT", "5432")
ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", f"postgres://postgres@{PG_HOST}:{PG_PORT}/postgres")
DATABASE = os.environ.get("BENCH_DATABASE", "stockroom_bench")
ROLE_PASSWORD = "bench-password-not-secret"
# Role names follow the database, so two bench databases (BENCH_DATABASE) never share roles.
ROLES = {
    "owner": f"{DATABASE}_owner",
    "runtime": f"{DATABASE}_app",
    "ops": f"{DATABASE}_ops",
}
# A Redis database index of its own, so the bench's Celery queue and cache keys
# never mix with other users of the server. Nothing is flushed.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")

TENANT_SLUG = "bench"
OWNER_EMAIL = "owner@bench.stockroom.local"
OWNER_PASSWORD = "bench-owner-password-2026"
WAREHOUSES = [("MAIN", "Main warehouse"), ("EAST", "East warehouse")]


def _url(role: str) -> str:
    return f"postgres://{ROLES[role]}:{ROLE_PASSWORD}@{PG_HOST}:{PG_PORT}/{DATABASE}"


def runtime_env(**overrides: str) -> dict[str, str]:
    """The environment of the web and worker processes (production settings, runtime role)."""
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + "k3y-" * 15,  # 66 characters; production refuses < 50
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "EMAIL_URL": "consolemail://",
        "DATABASE_URL": _url("runtime"),
        "DATABASE_OPS_URL": _url("ops"),
        "REDIS_URL": REDIS_URL,
        "MEDIA_ROOT": str(WORK / "media"),
        # Long enough for any benchmark run; the token is checked on every request regardless.
        "JWT_ACCESS_MINUTES": "240",
        # The default user throttle (1200/min = 20 req/s per user) would cap a single-user
        # load test at 20 req/s. The throttle still runs (one Redis round trip per request).
        "THROTTLE_USER": "10000000/min",
        # Likewise the per-key rate (6000/min) for the product list with an API key.
        "THROTTLE_API_KEY": "10000000/min",
    }
    env.update(overrides)
    return env


def migrate_env() -> dict[str, str]:
    return {**runtime_env(), "DATABASE_OWNER_URL": _url("owner")}


def process_env(env: dict[str, str]) -> dict[str, str]:
    """os.environ without any inherited app settings, plus ``env``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "DJANGO_", "REDIS_"))}
    base.update(env)
    base["PYTHONUNBUFFERED"] = "1"
    return base


def configure_django(env: dict[str, str] | None = None) -> None:
    """Set up Django in this process with the bench environment (runtime role)."""
    import django

    for key in list(os.environ):
        if key.startswith(("DATABASE_", "REDIS_")):
            del os.environ[key]
    os.environ.update(env or runtime_env())
    sys.path.insert(0, str(REPO))
    django.setup()


# --- Processes ------------------------------------------------------------------------


class Proc:
    """A subprocess in its own session, stopped (by its own pid/pgid) in ``stop``."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.log_path = log
        log.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(log, "wb")  # noqa: SIM115
        self.popen = subprocess.Popen(
            args, cwd=REPO, env=process_env(env), stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 20) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)  # the group this Popen created
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
        self._log.close()


def start_gunicorn(*, workers: int, port: int, env: dict[str, str], log: Path) -> Proc:
    args = [
        str(VENV_BIN / "gunicorn"),
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--timeout",
        "120",
        "--log-level",
        "warning",  # and no --access-logfile: gunicorn's access log stays off
    ]
    proc = Proc(f"gunicorn-{workers}w", args, env, log)
    wait_ready(f"http://127.0.0.1:{port}/readyz", proc)
    return proc


def start_celery(
    *,
    env: dict[str, str],
    log: Path,
    wrapper: list[str] | None = None,
    pool: str = "solo",
    concurrency: int = 1,
    beat: bool = False,
) -> Proc:
    args = [
        *(wrapper or []),
        str(VENV_BIN / "celery"),
        "-A",
        "config",
        "worker",
        f"--pool={pool}",
        f"--concurrency={concurrency}",
        "-l",
        "WARNING",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        # The embedded scheduler (the relay's and the webhooks' sweeps), as a beat process would.
        *(["--beat", "--schedule", str(WORK / "celerybeat-schedule")] if beat else []),
    ]
    proc = Proc("celery", args, env, log)
    # Ready when the worker prints its banner-less "ready" at WARNING? It does not;
    # ask it over the broker instead.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"celery exited early; see {log}")
        ping = subprocess.run(
            [str(VENV_BIN / "celery"), "-A", "config", "inspect", "ping", "--timeout", "1"],
            cwd=REPO,
            env=process_env(env),
            capture_output=True,
            text=True,
            check=False,
        )
        if "pong" in ping.stdout:
            return proc
        time.sleep(0.5)
    proc.stop()
    raise RuntimeError(f"celery did not answer ping within 60 s; see {log}")


def wait_ready(url: str, proc: Proc, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited early; see {proc.log_path}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    proc.stop()
    raise RuntimeError(f"{url} not ready within {timeout} s; see {proc.log_path}")


# --- HTTP -----------------------------------------------------------------------------


def http_json(method: str, url: str, *, token: str | None = None, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def login(base_url: str) -> str:
    status, body = http_json(
        "POST",
        f"{base_url}/api/v1/auth/token/",
        body={"email": OWNER_EMAIL, "password": OWNER_PASSWORD, "tenant": TENANT_SLUG},
    )
    if status != 200:
        raise RuntimeError(f"login failed: {status} {body}")
    return str(body["access"])


# --- Machine and results -----------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    def run(args: list[str]) -> str:
        try:
            return subprocess.run(args, capture_output=True, text=True, check=False).stdout.strip()
        except FileNotFoundError:
            return "unavailable"

    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kb = next(
        (
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0,
    )
    return {
        "nproc": run(["nproc"]),
        "cpu_model": model,
        "mem_total_mib": mem_kb // 1024,
        "postgres": run(["psql", ADMIN_URL, "-Atc", "select version()"]),
        "redis": run(["redis-cli", "-u", REDIS_URL, "info", "server"]).split("redis_version:")[-1].split()[0]
        if "redis_version:" in run(["redis-cli", "-u", REDIS_URL, "info", "server"])
        else "unknown",
        "python": run([PYTHON, "--version"]),
        "gunicorn": run([str(VENV_BIN / "gunicorn"), "--version"]),
        "wrk": (run(["sh", "-c", "wrk --version 2>&1 | head -1"]) or "not installed"),
    }


def _processes() -> dict[int, tuple[int, int, str]]:
    """pid -> (ppid, utime + stime ticks, command line)."""
    procs: dict[int, tuple[int, int, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        procs[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]), cmd[:140])
    return procs


def _ours(pid: int, procs: dict[int, tuple[int, int, str]]) -> bool:
    """This process, its descendants, and PostgreSQL backends of the bench database."""
    if DATABASE in procs.get(pid, (0, 0, ""))[2]:
        return True
    seen = 0
    while pid and pid in procs and seen < 64:
        if pid == os.getpid():
            return True
        pid, seen = procs[pid][0], seen + 1
    return False


def busy_processes(seconds: float = 1.0, threshold: float = 10.0, foreign_only: bool = False) -> list[dict[str, Any]]:
    """Processes using at least ``threshold`` % of one CPU over ``seconds``. With
    ``foreign_only``, leaves out this benchmark's own processes: a check that nothing
    else loads the machine during a measurement."""
    hz = os.sysconf("SC_CLK_TCK")
    before = _processes()
    time.sleep(seconds)
    after = _processes()
    busy = []
    for pid, (_, ticks, cmd) in after.items():
        if pid not in before or pid == os.getpid():
            continue
        if foreign_only and _ours(pid, after):
            continue
        percent = 100.0 * (ticks - before[pid][1]) / hz / seconds
        if percent >= threshold:
            busy.append({"pid": pid, "cpu_percent": round(percent, 1), "cmd": cmd})
    return sorted(busy, key=lambda p: -p["cpu_percent"])


class ForeignLoadMonitor:
    """Samples, in a thread, processes outside the benchmark that use CPU (>= 10 % of a core)."""

    def __init__(self, every: float = 5.0) -> None:
        import threading

        self.samples: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._every = every
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            busy = busy_processes(1.0, foreign_only=True)
            if busy:
                self.samples.append({"time": time.strftime("%H:%M:%S"), "busy": busy})
            self._stop.wait(self._every)

    def __enter__(self) -> ForeignLoadMonitor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def summary(self) -> dict[str, Any]:
        return {"samples_with_foreign_load": len(self.samples), "first": self.samples[:3]}


def cpu_snapshot() -> dict[str, Any]:
    """CPU ticks by group (gunicorn, postgres incl. exited backends, redis, celery), the
    machine's /proc/stat totals, and this process's children (wrk)."""
    import resource

    groups = {"gunicorn": 0, "postgres": 0, "redis": 0, "celery": 0}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        own, children = int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])
        if "gunicorn" in cmd:
            groups["gunicorn"] += own
        elif cmd.startswith("postgres") or "/postgresql/" in cmd:
            groups["postgres"] += own + children  # the postmaster reaps the per-connection backends
        elif "redis-server" in cmd:
            groups["redis"] += own
        elif "celery" in cmd:
            groups["celery"] += own
    cpu = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "groups": groups,
        "busy": sum(cpu) - cpu[3] - cpu[4],
        "total": sum(cpu),
        "children_seconds": usage.ru_utime + usage.ru_stime,
        "at": time.monotonic(),
    }


def cpu_breakdown(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Seconds of CPU per group over the interval, and the machine's utilisation."""
    hz = os.sysconf("SC_CLK_TCK")
    wall = after["at"] - before["at"]
    seconds = {k: round((after["groups"][k] - before["groups"][k]) / hz, 2) for k in after["groups"]}
    seconds["wrk (children of the bench)"] = round(after["children_seconds"] - before["children_seconds"], 2)
    total = after["total"] - before["total"]
    return {
        "wall_seconds": round(wall, 2),
        "cpu_seconds": seconds,
        "machine_busy_percent": round(100.0 * (after["busy"] - before["busy"]) / total, 1) if total else None,
        "cores": os.cpu_count(),
    }


ANALYZED_TABLES = ["inventory_product", "inventory_stocklevel", "inventory_stockmovement", "inventory_category"]


def analyze(tables: list[str] | None = None) -> float:
    """ANALYZE the inventory tables as the owner role; returns the seconds it took."""
    import psycopg

    started = time.monotonic()
    with psycopg.connect(_url("owner").replace("postgres://", "postgresql://"), autocommit=True) as conn:
        for table in tables or ANALYZED_TABLES:
            conn.execute(f'ANALYZE "{table}"')
    return time.monotonic() - started


class PeriodicAnalyze:
    """What autovacuum's auto-analyze would do during a long import, where the server
    runs with autovacuum = off (this machine's CI configuration): ANALYZE every
    ``every`` seconds from a separate connection. A bench-side diagnostic only."""

    def __init__(self, every: float) -> None:
        import threading

        self.every = every
        self.runs: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.runs.append(round(analyze(), 3))

    def __enter__(self) -> PeriodicAnalyze:
        if self.every > 0:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(30)


def server_settings() -> dict[str, str]:
    import psycopg

    names = [
        "autovacuum",
        "shared_buffers",
        "work_mem",
        "synchronous_commit",
        "fsync",
        "max_connections",
        "max_wal_size",
    ]
    with psycopg.connect(ADMIN_URL.replace("postgres://", "postgresql://")) as conn:
        rows = conn.execute(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s)", [names]
        ).fetchall()
    return dict(rows)


def code_version() -> dict[str, Any]:
    """The application code measured: HEAD and whether files outside bench/ differ from it."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False).stdout.strip()

    dirty = [
        line
        for line in git("status", "--porcelain").splitlines()
        if not line[3:].startswith("bench/") and line[3:] != "docs/performance.md"
    ]
    return {"head": git("rev-parse", "HEAD"), "subject": git("log", "-1", "--format=%s"), "dirty_files": dirty}


def save_result(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    path = RESULTS / f"{name}-{stamp}.json"
    payload.setdefault("code", code_version())
    payload.setdefault("postgres_settings", server_settings())
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path


def wsgi_call(
    application: Any,
    method: str,
    path: str,
    *,
    token: str,
    body: bytes = b"",
    content_type: str = "",
    scheme: str = "Bearer",
) -> int:
    """One request through the WSGI application in this process (no server, no network
    client); returns the status code. ``path`` may carry a query string."""
    import io

    route, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": route,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "HTTP_AUTHORIZATION": f"{scheme} {token}",
        "REMOTE_ADDR": "127.0.0.1",
    }
    if body:
        environ.update(CONTENT_TYPE=content_type, CONTENT_LENGTH=str(len(body)))
    status: list[str] = []
    result = application(environ, lambda s, h, *a: status.append(s))
    b"".join(result)
    if hasattr(result, "close"):
        result.close()
    return int(status[0].split()[0])
