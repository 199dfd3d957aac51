"""The container's entrypoint (scripts/container-entrypoint.sh), gunicorn settings
(config/gunicorn.py) and HEALTHCHECK (scripts/container-healthcheck.py), run for real:
gunicorn with the production settings on a free port against the test database and
Redis, the release task creating roles and migrating a fresh database, a Celery worker
on both queues and beat sending its schedule through Redis.

There is no Docker daemon here: these run the image's commands on this machine, with the
venv's interpreter first on PATH as /opt/venv/bin is in the image.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from psycopg import sql

from tenants.db_roles import drop_database

ROOT = Path(settings.BASE_DIR)
ENTRYPOINT = str(ROOT / "scripts" / "container-entrypoint.sh")
HEALTHCHECK = str(ROOT / "scripts" / "container-healthcheck.py")
HOST = "stockroom.test"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _url(user: str, password: str, database: str) -> str:
    host = quote(str(settings.DATABASES["default"]["HOST"]), safe="")
    port = settings.DATABASES["default"]["PORT"] or 5432
    return f"postgres://{user}:{quote(password, safe='')}@{host}:{port}/{database}"


def _role_url(alias: str) -> str:
    database = settings.DATABASES[alias]
    return _url(str(database["USER"]), str(database["PASSWORD"]), str(database["NAME"]))


def _production_env(**extra: str) -> dict[str, str]:
    """What the ECS task definition gives the container (secrets as throwaway values)."""
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "STOCKROOM_ENVIRONMENT": "test",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "JWT_SIGNING_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": HOST,
        "EMAIL_URL": "consolemail://",
        "REDIS_URL": settings.REDIS_URL,
        "LOG_LEVEL": "WARNING",
    }
    env.update(extra)
    return env


def _get(port: int, path: str, host: str = HOST) -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - a fixed http URL
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _wait_until_up(server: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"gunicorn exited with {server.returncode}: {server.stderr.read().decode()[-3000:]}")  # type: ignore[union-attr]
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not listen within 60 s")


def _workers(master_pid: int) -> list[int]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    return [int(pid) for pid in children]


@contextmanager
def _web_server(tmp_path: Path, **extra_env: str) -> Iterator[tuple[int, subprocess.Popen[bytes], Path]]:
    """`container-entrypoint.sh web` (one worker) on a free port, as the runtime role."""
    port = _free_port()
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir(parents=True)
    (metrics_dir / "counter_12345.db").write_bytes(b"a previous run's file")
    env = _production_env(
        PORT=str(port),
        WEB_CONCURRENCY="1",
        DATABASE_URL=_role_url("default"),
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        **extra_env,
    )
    server = subprocess.Popen([ENTRYPOINT, "web"], env=env, cwd=tmp_path, stderr=subprocess.PIPE)
    try:
        _wait_until_up(server, port)
        yield port, server, metrics_dir
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        assert server.stderr is not None
        server.stderr.close()


@pytest.fixture
def web(django_db_setup: None, tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[bytes], Path]]:
    with _web_server(tmp_path) as running:
        yield running


def test_web_serves_healthz_and_readyz_with_the_production_settings(web):
    port, _server, metrics_dir = web

    assert _get(port, "/healthz") == (200, b'{"status": "ok"}')
    # The load balancer calls the task by its address, a host name Django does not serve.
    assert _get(port, "/healthz", host=f"10.0.37.5:{port}")[0] == 200
    # Readiness reaches the real database (as the runtime role) and Redis.
    status, body = _get(port, "/readyz")
    assert status == 200, body
    assert b'"status": "ok"' in body
    # The image's HEALTHCHECK command says healthy.
    check = subprocess.run(
        [sys.executable, HEALTHCHECK],
        env={**os.environ, "PORT": str(port)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert check.returncode == 0, check.stderr
    # A previous run's metric files are gone: they would be summed into this run's counters.
    assert not (metrics_dir / "counter_12345.db").exists()


def test_healthcheck_fails_when_nothing_listens():
    check = subprocess.run(
        [sys.executable, HEALTHCHECK],
        env={**os.environ, "PORT": str(_free_port())},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert check.returncode == 1
    assert "healthcheck:" in check.stderr


def test_a_dead_worker_s_live_gauges_are_removed(web):
    port, server, metrics_dir = web
    (worker,) = _workers(server.pid)
    live_gauge = metrics_dir / f"gauge_livesum_{worker}.db"
    live_gauge.write_bytes(b"")

    os.kill(worker, signal.SIGKILL)

    deadline = time.monotonic() + 30
    while live_gauge.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not live_gauge.exists(), "child_exit did not call mark_process_dead"
    # The master replaced the worker.
    while time.monotonic() < deadline:
        if _workers(server.pid) and _workers(server.pid) != [worker]:
            break
        time.sleep(0.2)
    assert _get(port, "/healthz")[0] == 200


@pytest.fixture
def fresh_database(django_db_setup: None) -> Iterator[dict[str, str]]:
    """Names for a database and three roles that do not exist yet; dropped afterwards."""
    suffix = uuid.uuid4().hex[:10]
    names = {
        "database": f"stockroom_release_{suffix}",
        "owner": f"stockroom_release_owner_{suffix}",
        "runtime": f"stockroom_release_app_{suffix}",
        "ops": f"stockroom_release_ops_{suffix}",
    }
    yield names
    admin_url = settings.TEST_DATABASE_ADMIN_URL
    drop_database(admin_url=admin_url, database=names["database"])
    with psycopg.connect(admin_url, autocommit=True) as conn:
        for kind in ("runtime", "ops", "owner"):
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(names[kind])))


def test_release_creates_the_roles_and_migrates_as_the_owner(fresh_database):
    names, password = fresh_database, secrets.token_urlsafe(16)
    urls = {kind: _url(names[kind], password, names["database"]) for kind in ("owner", "runtime", "ops")}
    env = _production_env(
        DATABASE_URL=urls["runtime"],
        DATABASE_OWNER_URL=urls["owner"],
        DATABASE_OPS_URL=urls["ops"],
        DATABASE_ADMIN_URL=settings.TEST_DATABASE_ADMIN_URL,
    )

    release = subprocess.run([ENTRYPOINT, "release"], env=env, capture_output=True, text=True, timeout=300)

    assert release.returncode == 0, release.stderr[-3000:]
    assert f"created role {names['runtime']} (runtime)" in release.stdout
    assert "Applying tenants.0001_initial... OK" in release.stdout
    with psycopg.connect(urls["runtime"]) as conn:
        owner = conn.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'django_migrations'").fetchone()
        applied = conn.execute("SELECT count(*) FROM django_migrations").fetchone()
    assert owner == (names["owner"],)  # migrated as the owner, not the runtime role
    assert applied is not None and applied[0] > 0


def test_release_works_as_a_master_user_that_is_not_a_superuser(fresh_database):
    # RDS's master user: CREATEROLE and CREATEDB, no SUPERUSER. On PostgreSQL 16+ such a role
    # may not act as the roles it creates (CREATE DATABASE ... OWNER, ALTER SCHEMA ... OWNER TO)
    # until it is made a member of the owner, and may give BYPASSRLS only if it has it.
    names, password = fresh_database, secrets.token_urlsafe(16)
    master = f"stockroom_release_master_{names['database'].rsplit('_', 1)[1]}"
    with psycopg.connect(settings.TEST_DATABASE_ADMIN_URL, autocommit=True) as conn:
        server_version = conn.info.server_version
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN CREATEROLE CREATEDB BYPASSRLS NOSUPERUSER PASSWORD {}").format(
                sql.Identifier(master), sql.Literal(password)
            )
        )
    urls = {kind: _url(names[kind], password, names["database"]) for kind in ("owner", "runtime", "ops")}
    env = _production_env(
        DATABASE_URL=urls["runtime"],
        DATABASE_OWNER_URL=urls["owner"],
        DATABASE_OPS_URL=urls["ops"],
        DATABASE_ADMIN_URL=_url(master, password, "postgres"),
    )
    try:
        first = subprocess.run([ENTRYPOINT, "release"], env=env, capture_output=True, text=True, timeout=300)
        if server_version < 160000:
            # Before 16 only a superuser may create a BYPASSRLS role: the release says so.
            assert first.returncode != 0
            assert "may not create" in first.stderr and "BYPASSRLS" in first.stderr, first.stderr[-3000:]
            return
        again = subprocess.run([ENTRYPOINT, "release"], env=env, capture_output=True, text=True, timeout=300)
        with psycopg.connect(urls["runtime"]) as conn:
            owners = conn.execute(
                "SELECT d.datdba::regrole::text, n.nspowner::regrole::text FROM pg_database d, pg_namespace n "
                "WHERE d.datname = current_database() AND n.nspname = 'public'"
            ).fetchone()
            table_owner = conn.execute(
                "SELECT tableowner FROM pg_tables WHERE tablename = 'django_migrations'"
            ).fetchone()
    finally:
        with psycopg.connect(settings.TEST_DATABASE_ADMIN_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(names["database"])))
            for kind in ("runtime", "ops", "owner"):
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(names[kind])))
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(master)))

    assert first.returncode == 0, first.stderr[-3000:]
    assert again.returncode == 0, again.stderr[-3000:]  # idempotent: ALTER ROLE as a non-superuser
    assert "Applying tenants.0001_initial... OK" in first.stdout and "No migrations to apply." in again.stdout
    assert owners == (names["owner"], names["owner"]) and table_owner == (names["owner"],)


def test_release_without_the_admin_url_only_migrates(django_db_setup):
    env = _production_env(DATABASE_URL=_role_url("default"), DATABASE_OWNER_URL=_role_url("owner"))

    release = subprocess.run([ENTRYPOINT, "release"], env=env, capture_output=True, text=True, timeout=120)

    assert release.returncode == 0, release.stderr[-3000:]
    assert "DATABASE_ADMIN_URL is not set: skipping create_db_roles" in release.stderr
    assert "No migrations to apply." in release.stdout


def test_any_other_command_is_executed_as_it_is(tmp_path):
    env = _production_env()

    done = subprocess.run(
        [ENTRYPOINT, "python", "-c", "import os, sys; print(os.getcwd(), os.environ['DJANGO_SETTINGS_MODULE'])"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(ROOT), "config.settings.production"]


def _redis_url(database: int) -> str:
    """The test Redis server, another database number (its own queues)."""
    base, _, _ = settings.REDIS_URL.rpartition("/")
    return f"{base}/{database}"


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output


def test_worker_consumes_both_queues(django_db_setup, tmp_path):
    node = f"container-test-{uuid.uuid4().hex[:8]}@localhost"
    env = _production_env(DATABASE_URL=_role_url("default"), REDIS_URL=_redis_url(13), LOG_LEVEL="INFO")
    worker = subprocess.Popen(
        [ENTRYPOINT, "worker", "--concurrency", "1", "--hostname", node],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        queues = None
        deadline = time.monotonic() + 60
        while queues is None and time.monotonic() < deadline and worker.poll() is None:
            inspect = subprocess.run(
                [
                    str(Path(sys.executable).parent / "celery"),
                    "--app",
                    "config",
                    "inspect",
                    "active_queues",
                    "--json",
                    "--destination",
                    node,
                ],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=60,
            )
            if inspect.returncode == 0:
                queues = json.loads(inspect.stdout)[node]
            else:
                time.sleep(1)
    finally:
        output = _stop(worker)
    assert queues is not None, output[-3000:]
    assert sorted(queue["name"] for queue in queues) == ["celery", "events"]


def _sent_by(client: Any, origin: str) -> list[str]:
    """The messages waiting in the "celery" queue that a process of ``origin`` sent."""
    messages = [str(message) for message in client.lrange("celery", 0, -1)]
    return [message for message in messages if json.loads(message)["headers"]["origin"].startswith(origin)]


def test_beat_sends_the_scheduled_tasks(tmp_path):
    import redis

    broker = _redis_url(14)
    client = redis.Redis.from_url(broker, decode_responses=True)
    schedule = tmp_path / "celerybeat-schedule"
    env = _production_env(DATABASE_URL=_role_url("default"), REDIS_URL=broker, EVENT_RELAY_SWEEP_SECONDS="1")
    # The image writes the schedule to /tmp; here to this test's own directory.
    beat = subprocess.Popen(
        [ENTRYPOINT, "beat", "--schedule", str(schedule)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # Messages carry their sender's process (the entrypoint execs celery: same pid); only
    # this beat's are read, and removed afterwards (a Redis of REDIS_URL is never flushed).
    origin = f"gen{beat.pid}@"
    ours: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and beat.poll() is None:
            time.sleep(0.5)
            ours = _sent_by(client, origin)
            if "tenants.tasks.relay_sweep" in {json.loads(m)["headers"]["task"] for m in ours}:
                break
    finally:
        output = _stop(beat)
        ours = _sent_by(client, origin)
        for message in ours:
            client.lrem("celery", 0, message)
        client.close()
    assert "tenants.tasks.relay_sweep" in {json.loads(m)["headers"]["task"] for m in ours}, output[-3000:]
    assert list(tmp_path.glob("celerybeat-schedule*")), "beat wrote no schedule file"
