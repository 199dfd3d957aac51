"""Creates the three PostgreSQL roles of shared/design.md and the database.

- owner:   owns the database, schema and tables; runs migrations. NOSUPERUSER, NOBYPASSRLS.
- runtime: web and Celery. LOGIN, NOSUPERUSER, NOBYPASSRLS, not the owner; migrations
           (tenants.rls) grant it what it needs, table by table.
- ops:     cross-tenant maintenance on its own database alias. BYPASSRLS, never on the
           request path.

Used by ``manage.py create_db_roles`` (fresh installs, the Terraform deployment's
bootstrap task) and by the test suite, which provisions its own roles the same way.
It needs a connection as a superuser (or, on RDS, the master user).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import sql


@dataclass(frozen=True)
class RoleSpec:
    name: str
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> RoleSpec:
        parts = urlsplit(url)
        if not parts.username:
            raise ValueError(f"database URL has no user name: {parts.scheme}://{parts.hostname}/...")
        return cls(unquote(parts.username), unquote(parts.password) if parts.password else None)


ATTRIBUTES = {
    "owner": "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB",
    "runtime": "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB NOINHERIT",
    "ops": "LOGIN NOSUPERUSER BYPASSRLS NOCREATEROLE NOCREATEDB NOINHERIT",
}


def database_of(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    if not name:
        raise ValueError("database URL names no database")
    return unquote(name)


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return parts._replace(path="/" + database).geturl()


def _ensure_role(conn: psycopg.Connection[tuple[object, ...]], spec: RoleSpec, kind: str) -> str:
    exists = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [spec.name]).fetchone()
    verb = "ALTER" if exists else "CREATE"
    attributes = ATTRIBUTES[kind]
    admin_is_superuser = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    if exists and not (admin_is_superuser and admin_is_superuser[0]):
        # Only a superuser may even restate SUPERUSER; the role must simply not be one.
        if exists[0]:
            raise ValueError(f"{spec.name} is a superuser: the {kind} role must not be one")
        attributes = attributes.replace("NOSUPERUSER ", "")
    statement = sql.SQL("{} ROLE {} WITH " + attributes).format(sql.SQL(verb), sql.Identifier(spec.name))
    if spec.password is not None:
        statement = sql.SQL("{} PASSWORD {}").format(statement, sql.Literal(spec.password))
    try:
        conn.execute(statement)
    except psycopg.errors.InsufficientPrivilege as exc:
        if kind == "ops" and "bypassrls" in str(exc).lower():
            # Only a superuser (PostgreSQL 15 and older) or a role that has BYPASSRLS (16 and
            # newer) may give it; RDS's master user is not a superuser.
            raise ValueError(
                f"the admin role may not create {spec.name} with BYPASSRLS ({exc.diag.message_detail or exc}). "
                "Create the operations role once as a role that has BYPASSRLS, or give the admin role "
                "BYPASSRLS; docs/deploy.md, 'Database roles and URLs'."
            ) from exc
        raise
    return f"{'altered' if exists else 'created'} role {spec.name} ({kind})"


def _act_as_owner(conn: psycopg.Connection[tuple[object, ...]], owner: RoleSpec) -> str | None:
    """PostgreSQL 16+: a role with CREATEROLE but not superuser (RDS's master user)
    administers the roles it creates but may not act as them, and CREATE DATABASE ... OWNER
    and ALTER SCHEMA ... OWNER TO need that. The admin role becomes a member of the owner
    role, with SET and INHERIT (it may do nothing the owner may not do)."""
    row = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    if (row and row[0]) or conn.info.server_version < 160000:
        return None
    conn.execute(sql.SQL("GRANT {} TO CURRENT_USER WITH SET TRUE, INHERIT TRUE").format(sql.Identifier(owner.name)))
    return f"granted {owner.name} to the admin role (SET, INHERIT): it is not a superuser"


def provision(
    *,
    admin_url: str,
    database: str,
    owner: RoleSpec,
    runtime: RoleSpec,
    ops: RoleSpec,
    recreate: bool = False,
) -> list[str]:
    """Idempotent. With ``recreate``, drops the database first (tests only)."""
    if len({owner.name, runtime.name, ops.name}) != 3:
        raise ValueError("the owner, runtime and ops roles must be three different roles")
    done: list[str] = []
    with psycopg.connect(admin_url, autocommit=True) as conn:
        for spec, kind in ((owner, "owner"), (runtime, "runtime"), (ops, "ops")):
            done.append(_ensure_role(conn, spec, kind))
        if granted := _act_as_owner(conn, owner):
            done.append(granted)
        db = sql.Identifier(database)
        if recreate:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(db))
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(db, sql.Identifier(owner.name)))
            done.append(f"created database {database}")
        conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(db, sql.Identifier(owner.name)))
        conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(db))
        conn.execute(
            sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}, {}").format(
                db, sql.Identifier(runtime.name), sql.Identifier(ops.name)
            )
        )
    with psycopg.connect(_with_database(admin_url, database), autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(owner.name)))
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        conn.execute(
            sql.SQL("GRANT USAGE ON SCHEMA public TO {}, {}").format(
                sql.Identifier(runtime.name), sql.Identifier(ops.name)
            )
        )
        done.append(f"schema public owned by {owner.name}; usage granted to {runtime.name}, {ops.name}")
    return done


def drop_database(*, admin_url: str, database: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
