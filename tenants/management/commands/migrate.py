"""``migrate`` runs as the owner role when one is configured.

With ``DATABASE_OWNER_URL`` set there is an ``owner`` database alias; migrating
through it keeps DDL away from the runtime role, which may not create or alter
tables. ``--database`` still chooses explicitly.
"""

from typing import Any

from django.core.management.commands import migrate
from django.db import DEFAULT_DB_ALIAS, connections


class Command(migrate.Command):
    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        parser.set_defaults(database="owner" if "owner" in connections.settings else DEFAULT_DB_ALIAS)
