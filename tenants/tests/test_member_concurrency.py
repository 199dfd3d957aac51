"""Real concurrent requests on memberships: owners removing each other or leaving at once."""

import threading

import pytest
from django.db import connection

from tenants.context import tenant_context
from tenants.models import Membership, Role
from tenants.tests.factories import client_for, make_member, make_tenant

MEMBERS = "/api/v1/members/"


def _at_once(*requests):
    """Runs each (client, membership id) DELETE in its own thread and connection, released together."""
    barrier = threading.Barrier(len(requests))
    statuses: list[int] = []
    lock = threading.Lock()

    def run(client, membership_id):
        try:
            barrier.wait()
            response = client.delete(f"{MEMBERS}{membership_id}/")
            with lock:
                statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=request) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(statuses)


@pytest.mark.parametrize("how", ["remove_each_other", "both_leave"])
def test_two_owners_removing_at_once_never_deadlock_and_one_owner_stays(committed, how):
    for round_ in range(6):
        tenant = make_tenant(slug=f"owners-{how.replace('_', '-')}-{round_}")
        first, second = make_member(tenant, Role.OWNER), make_member(tenant, Role.OWNER)
        if how == "remove_each_other":
            requests = ((client_for(first), second.pk), (client_for(second), first.pk))
        else:
            requests = ((client_for(first), first.pk), (client_for(second), second.pk))

        statuses = _at_once(*requests)

        # One wins; the other is refused: 409 last_owner, or (removing each other, when the
        # winner committed before the loser's request began) 401 for its removed membership.
        allowed = [[204, 409]] if how == "both_leave" else [[204, 409], [204, 401]]
        assert statuses in allowed, f"round {round_}: {statuses}"
        with tenant_context(tenant):
            remaining = Membership.objects.filter(tenant=tenant, role=Role.OWNER).count()
        assert remaining == 1, f"round {round_}: {remaining} owners left"
