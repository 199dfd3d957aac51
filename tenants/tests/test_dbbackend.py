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


def test_set_config_travels_in_front_of_the_statement_in_one_message(committed):
    """A statement with parameters outside a transaction: set_config and the statement go
    as one query string (one message, one round trip), and the cursor holds the
    statement's own result: positional and named parameters, and a rowcount."""
    from inventory.models import Product
    from inventory.tests.factories import make_product
    from tenants.tests.roundtrips import traced

    tenant = make_tenant()
    with tenant_context(tenant):
        make_product(sku="ONE-1")
        with traced() as trace, connection.cursor() as cursor:
            sql = "SELECT sku, current_setting('app.tenant_id') FROM inventory_product WHERE sku = %s"
            cursor.execute(sql, ["ONE-1"])
            assert cursor.fetchall() == [("ONE-1", str(tenant.id))]
        assert trace.round_trips == 1
        assert any(line.startswith("F") and "\tQuery\t" in line and "set_config" in line for line in trace.lines)
        with connection.cursor() as cursor:
            cursor.execute("SELECT %(a)s::int + %(b)s::int", {"a": 2, "b": 3})
            assert cursor.fetchone() == (5,)
            cursor.execute("UPDATE inventory_product SET name = %s WHERE sku LIKE %s", ["renamed", "ONE-%"])
            assert cursor.rowcount == 1
        assert Product.objects.get().name == "renamed"
        assert connection.connection.info.transaction_status.name == "IDLE"


def test_a_tenant_value_that_is_not_an_id_is_never_written_into_the_sql():
    """The set_config values go inline only when they are ids; anything else would go as
    a bound parameter (the pipelined path), never into the query string."""
    from tenants.dbbackend.base import _context_prefix

    tenant, user = "8f06bbf8-b4ca-47cc-8692-cd398dda14c0", "1b2c3d4e-0000-4000-8000-000000000001"
    assert _context_prefix((tenant, user)) is not None
    assert _context_prefix((tenant, "")) is not None
    for hostile in ["x'); DROP TABLE t; --", "a%sb", "é", "1 2", "'"]:
        assert _context_prefix((hostile, user)) is None
        assert _context_prefix((tenant, hostile)) is None


def test_inside_a_transaction_the_settings_go_with_the_first_statement_only(committed):
    from django.db import transaction

    from tenants.tests.roundtrips import traced

    tenant = make_tenant()
    with tenant_context(tenant), traced() as trace, transaction.atomic():
        assert _setting("app.tenant_id") == str(tenant.id)
        assert _setting("app.tenant_id") == str(tenant.id)
    sent = [line for line in trace.lines if line.startswith("F") and "set_config" in line]
    assert len(sent) == 1, trace.lines
