"""manage.py create_db_roles --admin-url postgres://postgres@host/postgres

Creates (or updates) the owner, runtime and operations roles named by
DATABASE_OWNER_URL, DATABASE_URL and DATABASE_OPS_URL, with their passwords, and
the database they name, owned by the owner role. Then run
``manage.py migrate`` (it migrates as the owner and grants the other two roles).
"""

from typing import Any

import environ
from django.core.management.base import BaseCommand, CommandError

from tenants.db_roles import RoleSpec, database_of, provision


class Command(BaseCommand):
    help = "Create the PostgreSQL owner, runtime and operations roles and the database (superuser connection)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--admin-url",
            default=environ.Env().str("DATABASE_ADMIN_URL", default=""),
            help="Superuser connection URL (default: $DATABASE_ADMIN_URL).",
        )

    def handle(self, *args: Any, admin_url: str, **options: Any) -> None:
        env = environ.Env()
        variables = {"owner": "DATABASE_OWNER_URL", "runtime": "DATABASE_URL", "ops": "DATABASE_OPS_URL"}
        urls = {kind: env.str(variable, default="") for kind, variable in variables.items()}
        missing = [
            variables[kind] for kind, url in urls.items() if not url.startswith(("postgres://", "postgresql://"))
        ]
        if not admin_url or missing:
            raise CommandError(
                "Set --admin-url (or DATABASE_ADMIN_URL) and PostgreSQL URLs in DATABASE_OWNER_URL, "
                f"DATABASE_URL and DATABASE_OPS_URL (missing or not PostgreSQL: {', '.join(missing) or 'none'})."
            )
        databases = {database_of(url) for url in urls.values()}
        if len(databases) != 1:
            raise CommandError(f"The three URLs must name the same database, not {sorted(databases)}.")
        try:
            done = provision(
                admin_url=admin_url,
                database=databases.pop(),
                owner=RoleSpec.from_url(urls["owner"]),
                runtime=RoleSpec.from_url(urls["runtime"]),
                ops=RoleSpec.from_url(urls["ops"]),
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        for line in done:
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS("Roles ready. Now run: python manage.py migrate"))
