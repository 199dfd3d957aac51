"""PgBouncer's admin console, for the pooled job (scripts/with-pgbouncer.sh started it).

``show("SERVERS")`` runs ``SHOW SERVERS`` and returns its rows as dicts. The console speaks
only the simple query protocol: psycopg's ClientCursor sends a query without parameters
that way."""

from __future__ import annotations

from typing import Any

import psycopg
from django.conf import settings


def pooled() -> bool:
    """Whether this run's runtime alias goes through PgBouncer (TEST_POOLER_URL set)."""
    return bool(getattr(settings, "TEST_POOLER_URL", ""))


def show(what: str) -> list[dict[str, Any]]:
    assert what.isalpha(), what
    with psycopg.connect(settings.TEST_POOLER_ADMIN_URL, autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:
        cursor = conn.execute(f"SHOW {what}")
        names = [column.name for column in cursor.description or []]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def rows_for(what: str, *, database: str, user: str | None = None) -> list[dict[str, Any]]:
    """The rows of ``SHOW <what>`` for one pooled database (and user)."""
    return [row for row in show(what) if row["database"] == database and (user is None or row["user"] == user)]
