"""The database layer outside any transaction (autocommit, as the tenant middleware's
membership look-up runs): the settings live in a short transaction of their own."""

import pytest
from django.db import DataError, connection

from tenants.context import tenant_context, user_context
from tenants.selectors import active_membership
from tenants.tests.factories import make_member, make_tenant


def _setting(name):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true)", [name])
        return cursor.fetchone()[0]


def test_membership_look_up_in_autocommit_sees_the_users_own_row_and_leaves_nothing_set(committed):
    member = make_member(make_tenant(), "clerk")
    assert connection.get_autocommit() and not connection.in_atomic_block

    with user_context(member.user_id):
        found = active_membership(user_id=member.user_id, tenant_id=member.tenant_id, token_version=0)
        assert _setting("app.user_id") == str(member.user_id)

    assert found == member and found.user.email == member.user.email
    assert connection.connection.info.transaction_status.name == "IDLE"
    assert _setting("app.user_id") in ("", None) and _setting("app.tenant_id") in ("", None)


def test_failed_statement_in_autocommit_rolls_back_and_the_connection_goes_on(committed):
    tenant = make_tenant()

    with tenant_context(tenant):
        with pytest.raises(DataError):
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 / %s", [0])
        assert connection.connection.info.transaction_status.name == "IDLE"
        assert _setting("app.tenant_id") == str(tenant.id)
    assert _setting("app.tenant_id") in ("", None)
