"""Provision the bench database and seed the bench tenant.

    .venv/bin/python bench/setup_db.py            # recreate stockroom_bench, migrate, seed, print the env
    .venv/bin/python bench/setup_db.py --drop     # drop the bench database (the roles stay)

1. ``tenants.db_roles.provision`` creates the roles stockroom_bench_owner /
   stockroom_bench_app / stockroom_bench_ops and a fresh database ``stockroom_bench``
   (recreated: any previous bench data is dropped);
2. ``manage.py migrate`` runs as a subprocess with DATABASE_OWNER_URL set (the
   post_migrate hook grants the runtime role and installs Row Level Security);
3. a tenant ``bench``, its owner user and the warehouses MAIN and EAST are created
   (tenant data inside ``tenant_context``), as the runtime role.

Both benchmarks import ``prepare()`` from here.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import common


def provision_and_migrate() -> float:
    from tenants.db_roles import RoleSpec, provision

    started = time.monotonic()
    provision(
        admin_url=common.ADMIN_URL,
        database=common.DATABASE,
        owner=RoleSpec(common.ROLES["owner"], common.ROLE_PASSWORD),
        runtime=RoleSpec(common.ROLES["runtime"], common.ROLE_PASSWORD),
        ops=RoleSpec(common.ROLES["ops"], common.ROLE_PASSWORD),
        recreate=True,
    )
    subprocess.run(
        [common.PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=common.REPO,
        env=common.process_env(common.migrate_env()),
        check=True,
    )
    return time.monotonic() - started


def seed() -> dict[str, Any]:
    """The bench tenant, its owner and two warehouses. Django must be configured."""
    from django.db import transaction

    from inventory.services import catalog
    from tenants.context import tenant_context
    from tenants.models import Membership, Role, Tenant, User

    with transaction.atomic():
        tenant = Tenant.objects.create(name="Bench Co", slug=common.TENANT_SLUG, plan_code="enterprise")
        user = User.objects.create_user(email=common.OWNER_EMAIL, password=common.OWNER_PASSWORD)
        with tenant_context(tenant):  # memberships are under Row Level Security
            membership = Membership.objects.create(tenant=tenant, user=user, role=Role.OWNER)
    warehouses = {}
    with tenant_context(tenant), transaction.atomic():
        for code, name in common.WAREHOUSES:
            warehouses[code] = catalog.warehouse_create(code=code, name=name)
    return {"tenant": tenant, "user": user, "membership": membership, "warehouses": warehouses}


def prepare() -> dict[str, Any]:
    """Recreate + migrate + configure Django in this process + seed."""
    seconds = provision_and_migrate()
    common.configure_django()
    seeded = seed()
    seeded["provision_seconds"] = seconds
    return seeded


def drop() -> None:
    from tenants.db_roles import drop_database

    drop_database(admin_url=common.ADMIN_URL, database=common.DATABASE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--drop", action="store_true", help="drop the bench database and exit")
    args = parser.parse_args()
    if args.drop:
        drop()
        print(f"dropped database {common.DATABASE}")
        return
    seeded = prepare()
    print(f"# database {common.DATABASE} recreated and migrated in {seeded['provision_seconds']:.1f} s")
    tenant = seeded["tenant"]
    print(f"# tenant {tenant.slug} ({tenant.id}), owner {common.OWNER_EMAIL} / {common.OWNER_PASSWORD}")
    for code, warehouse in seeded["warehouses"].items():
        print(f"# warehouse {code}: {warehouse.id}")
    print("# environment of the web and worker processes:")
    for key, value in common.runtime_env().items():
        print(f"export {key}='{value}'")


if __name__ == "__main__":
    main()
