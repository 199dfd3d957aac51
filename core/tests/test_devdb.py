"""The development database of ``make run`` (config/devdb.py, scripts/devdb.py)."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from psycopg.conninfo import conninfo_to_dict

from config import devdb
from scripts import devdb as devdb_cli


def _settings_databases(**environ):
    """DATABASES as config.settings.base builds them from ``environ`` (a fresh interpreter)."""
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps({a: [d['USER'], d['HOST'], d['NAME']] for a, d in settings.DATABASES.items()}))"
    )
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings.base", **environ}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True
    )
    return result


def test_development_urls_name_the_three_roles_over_the_socket():
    urls = devdb.urls(Path("/srv/a dir/pg"))

    parsed = {name: conninfo_to_dict(url) for name, url in urls.items()}
    assert {name: (p["user"], p["dbname"], p["host"]) for name, p in parsed.items()} == {
        "DATABASE_URL": ("stockroom_app", "stockroom", "/srv/a dir/pg"),
        "DATABASE_OWNER_URL": ("stockroom_owner", "stockroom", "/srv/a dir/pg"),
        "DATABASE_OPS_URL": ("stockroom_ops", "stockroom", "/srv/a dir/pg"),
        "DATABASE_ADMIN_URL": ("postgres", "postgres", "/srv/a dir/pg"),
    }


def test_data_dir_is_relative_to_the_project():
    assert devdb.data_dir({}) == settings.BASE_DIR / ".data" / "postgres"
    assert devdb.data_dir({"DEV_DATABASE_DIR": ""}) == settings.BASE_DIR / ".data" / "postgres"
    assert devdb.data_dir({"DEV_DATABASE_DIR": "var/pg"}) == settings.BASE_DIR / "var" / "pg"
    assert devdb.data_dir({"DEV_DATABASE_DIR": "/srv/pg"}) == Path("/srv/pg")


def test_settings_without_database_url_use_the_development_database():
    result = _settings_databases(DATABASE_URL="", DEV_DATABASE_DIR="/srv/dev pg")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "default": ["stockroom_app", "/srv/dev pg", "stockroom"],
        "owner": ["stockroom_owner", "/srv/dev pg", "stockroom"],
        "ops": ["stockroom_ops", "/srv/dev pg", "stockroom"],
    }


def test_settings_with_database_url_use_only_the_databases_named():
    result = _settings_databases(DATABASE_URL="postgres://app:pw@db.internal:5433/stock")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"default": ["app", "db.internal", "stock"]}


def test_settings_refuse_a_database_that_is_not_postgresql():
    result = _settings_databases(DATABASE_URL="sqlite:///db.sqlite3")

    assert result.returncode != 0
    assert "Stockroom runs on PostgreSQL only, not sqlite" in result.stderr


@pytest.fixture
def scratch_dir():
    # mkdtemp, not tmp_path: a short path (the socket lives in it) the server's user can reach.
    path = Path(tempfile.mkdtemp(prefix="stockroom-devdb-"))
    path.chmod(0o755)
    server = devdb_cli.Server(path / "pg")
    yield server
    server.stop(mode="immediate")
    shutil.rmtree(path, ignore_errors=True)


def test_devdb_server_gets_the_three_roles_and_keeps_its_data_between_runs(scratch_dir):
    server = scratch_dir
    env = devdb_cli.development_env(server)

    assert server.start() is True
    devdb_cli.manage("create_db_roles", env=env)

    with psycopg.connect(server.urls()["DATABASE_URL"]) as conn:
        runtime = conn.execute(
            "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
    with psycopg.connect(server.urls()["DATABASE_OWNER_URL"], autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (id int)")
    assert runtime == ("stockroom_app", False, False)
    assert server.start() is False  # already running: reused, not started twice

    server.stop()
    assert not server.running()
    assert server.start() is True  # the same data directory, no new initdb
    with psycopg.connect(server.urls()["DATABASE_OWNER_URL"]) as conn:
        owner = conn.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'kept'").fetchone()
    assert owner == ("stockroom_owner",)


def test_devdb_refuses_a_data_dir_too_long_for_the_socket(tmp_path):
    server = devdb_cli.Server(tmp_path / ("x" * 120), user=None)

    with pytest.raises(SystemExit, match="too long a path for PostgreSQL's Unix socket"):
        server.start()
    assert not (tmp_path / ("x" * 120)).exists()


def test_no_code_branches_on_the_database_vendor():
    """One program everywhere (shared/design.md): PostgreSQL only, so no code asks which
    database it runs on. Migrations included: they run on PostgreSQL too."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    pattern = re.compile(r"\.vendor\b|sqlite", re.IGNORECASE)
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for top in ("config", "core", "tenants", "inventory", "orders", "billing", "integrations", "demo", "scripts")
        for path in (root / top).rglob("*.py")
        if "tests" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line) and "PostgreSQL only" not in line
    ]
    assert offenders == []
