"""The create_db_roles command makes the three roles of shared/design.md."""

import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from tenants.db_roles import drop_database


def _url(user, password, database):
    admin = settings.TEST_DATABASE_ADMIN_URL
    host = admin.split("@", 1)[1].split("/", 1)[0]
    return f"postgres://{user}:{password}@{host}/{database}"


def test_create_db_roles_makes_owner_runtime_and_ops(monkeypatch, capsys):
    database = f"{settings.TEST_DATABASE_NAME}_roles"
    names = {"owner": "sr_cmd_owner", "runtime": "sr_cmd_app", "ops": "sr_cmd_ops"}
    monkeypatch.setenv("DATABASE_OWNER_URL", _url(names["owner"], "pw-owner", database))
    monkeypatch.setenv("DATABASE_URL", _url(names["runtime"], "pw-app", database))
    monkeypatch.setenv("DATABASE_OPS_URL", _url(names["ops"], "pw-ops", database))
    try:
        call_command("create_db_roles", admin_url=settings.TEST_DATABASE_ADMIN_URL)
        call_command("create_db_roles", admin_url=settings.TEST_DATABASE_ADMIN_URL)  # idempotent
        with psycopg.connect(settings.TEST_DATABASE_ADMIN_URL) as conn:
            roles = {
                name: (superuser, bypass, login)
                for name, superuser, bypass, login in conn.execute(
                    "SELECT rolname, rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = ANY(%s)",
                    [list(names.values())],
                )
            }
            owner = conn.execute(
                "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [database]
            ).fetchone()
        assert roles == {
            "sr_cmd_owner": (False, False, True),
            "sr_cmd_app": (False, False, True),
            "sr_cmd_ops": (False, True, True),
        }
        assert owner == ("sr_cmd_owner",)
        assert "Roles ready" in capsys.readouterr().out
    finally:
        drop_database(admin_url=settings.TEST_DATABASE_ADMIN_URL, database=database)


def test_create_db_roles_refuses_incomplete_configuration(monkeypatch):
    monkeypatch.setenv("DATABASE_OWNER_URL", _url("o", "p", "d"))
    monkeypatch.setenv("DATABASE_URL", _url("a", "p", "d"))
    monkeypatch.setenv("DATABASE_OPS_URL", "mysql://o:p@h/d")
    with pytest.raises(CommandError, match=r"missing or not PostgreSQL: DATABASE_OPS_URL\)"):
        call_command("create_db_roles", admin_url=settings.TEST_DATABASE_ADMIN_URL)


def test_migrate_runs_as_the_owner_alias_by_default():
    from tenants.management.commands.migrate import Command

    parser = Command().create_parser("manage.py", "migrate")
    assert parser.parse_args([]).database == "owner"
    assert parser.parse_args(["--database", "default"]).database == "default"
