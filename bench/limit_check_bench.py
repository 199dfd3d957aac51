"""How much a plan limit adds to a create (issue 12, docs/performance.md "Known costs").

300 product creates on a plan with a product limit (starter, 2,000; the workspace holds
1,500 products: the check takes its advisory lock and counts) against the same on
enterprise (no limit: no lock, no count), each create in its own transaction as a
request's, three rounds. Run against a development database (``make run`` made it):

    eval "$(.venv/bin/python scripts/devdb.py env)"
    PYTHONPATH=. .venv/bin/python bench/limit_check_bench.py
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from decimal import Decimal
from typing import Any


def _setup() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    django.setup()


def workspace(plan: str, products: int = 1500) -> Any:
    from django.db import transaction

    from inventory.models import Product
    from tenants.context import tenant_context
    from tenants.models import Tenant

    tenant = Tenant.objects.create(name=f"m-{plan}", slug=f"m-{plan}-{uuid.uuid4().hex[:6]}", plan_code=plan)
    with tenant_context(tenant), transaction.atomic():
        Product.objects.bulk_create(
            Product(tenant=tenant, sku=f"S{n}", name=f"S{n}", average_cost=Decimal(0)) for n in range(products)
        )
    return tenant


def creates(tenant: Any, count: int, prefix: str) -> list[float]:
    from django.db import transaction

    from inventory.services.catalog import product_create
    from tenants.context import tenant_context

    times = []
    with tenant_context(tenant):
        for n in range(count):
            start = time.perf_counter()
            with transaction.atomic():
                product_create(sku=f"{prefix}{n}", name=f"{prefix}{n}")
            times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    _setup()
    for round_ in range(3):
        for plan in ("enterprise", "starter"):
            tenant = workspace(plan)
            creates(tenant, 20, "W")  # warm-up
            times = creates(tenant, 300, "N")
            p90 = statistics.quantiles(times, n=10)[8]
            print(f"round {round_} {plan:10s} median {statistics.median(times):.2f} ms  p90 {p90:.2f} ms")


if __name__ == "__main__":
    main()
