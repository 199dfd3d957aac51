"""Row Level Security: the database isolates tenants even from raw SQL."""

import pytest
from django.db import DatabaseError, connection, connections, transaction

from tenants.context import tenant_context
from tenants.rls import tables_missing_isolation
from tenants.tests.isolation_app.models import Widget, WidgetPart

pytestmark = pytest.mark.django_db(databases=["default", "owner"])


def _names(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return sorted(row[0] for row in cursor.fetchall())


@pytest.fixture
def widgets(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        a = Widget.objects.create(name="alpha-widget")
    with tenant_context(tenant_b):
        b = Widget.objects.create(name="beta-widget")
    return a, b


def test_tests_run_as_runtime_role_without_bypass():
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls, current_user FROM pg_roles WHERE rolname = current_user")
        superuser, bypass, user = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user")
        owned = cursor.fetchone()[0]
    assert (superuser, bypass, owned) == (False, False, 0)
    assert user == connections["default"].settings_dict["USER"]


def test_every_tenant_table_has_enabled_forced_policy():
    with connections["owner"].cursor() as cursor:
        assert tables_missing_isolation(cursor) == []


def test_a_tenant_table_without_policy_is_detected():
    with connections["owner"].cursor() as cursor:
        cursor.execute("CREATE TABLE rogue_table (id uuid PRIMARY KEY, tenant_id uuid NOT NULL)")
        assert tables_missing_isolation(cursor) == ["rogue_table"]
        cursor.execute("ALTER TABLE rogue_table ENABLE ROW LEVEL SECURITY")
        cursor.execute("CREATE POLICY tenant_isolation ON rogue_table USING (true)")
        assert tables_missing_isolation(cursor) == ["rogue_table"], "enabled but not forced must still be flagged"


def test_raw_sql_sees_only_current_tenant_rows(widgets, tenant_a, tenant_b):
    with tenant_context(tenant_a):
        assert _names("SELECT name FROM isolation_app_widget") == ["alpha-widget"]
    with tenant_context(tenant_b):
        assert _names("SELECT name FROM isolation_app_widget") == ["beta-widget"]


def test_raw_sql_without_tenant_sees_nothing_and_cannot_insert(widgets, tenant_a):
    assert _names("SELECT name FROM isolation_app_widget") == []
    with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO isolation_app_widget (id, tenant_id, name) VALUES (gen_random_uuid(), %s, 'x')",
                [tenant_a.id],
            )


def test_raw_sql_cannot_write_into_another_tenant(widgets, tenant_a, tenant_b):
    with tenant_context(tenant_a):
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO isolation_app_widget (id, tenant_id, name) VALUES (gen_random_uuid(), %s, 'x')",
                    [tenant_b.id],
                )
        with connection.cursor() as cursor:
            cursor.execute("UPDATE isolation_app_widget SET name = 'hijacked' WHERE name = 'beta-widget'")
            assert cursor.rowcount == 0
            cursor.execute("DELETE FROM isolation_app_widget")
            assert cursor.rowcount == 1
    with tenant_context(tenant_b):
        assert _names("SELECT name FROM isolation_app_widget") == ["beta-widget"]


def test_runtime_role_cannot_disable_or_bypass_rls(widgets, tenant_a):
    with pytest.raises(DatabaseError, match="must be owner"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE isolation_app_widget DISABLE ROW LEVEL SECURITY")
    with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL row_security = off")
            cursor.execute("SELECT name FROM isolation_app_widget")


def test_database_refuses_foreign_key_into_another_tenant(widgets, tenant_a):
    _, beta_widget = widgets
    with tenant_context(tenant_a):
        with pytest.raises(DatabaseError, match="tenant_fk"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO isolation_app_widgetpart (id, tenant_id, widget_id, label) "
                    "VALUES (gen_random_uuid(), %s, %s, 'stolen')",
                    [tenant_a.id, beta_widget.id],
                )
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        assert WidgetPart.objects.count() == 0


def test_tenant_setting_is_transaction_local(widgets, tenant_a):
    with tenant_context(tenant_a), transaction.atomic():
        assert _names("SELECT name FROM isolation_app_widget") == ["alpha-widget"]
    # The test's own transaction is still open; the context is gone, so is the tenant.
    assert _names("SELECT current_setting('app.tenant_id', true)") in ([""], [None])
    assert _names("SELECT name FROM isolation_app_widget") == []


def test_savepoint_rollback_does_not_lose_the_tenant(widgets, tenant_a):
    with tenant_context(tenant_a):
        try:
            with transaction.atomic():
                assert Widget.objects.count() == 1
                raise RuntimeError("roll back to the savepoint")
        except RuntimeError:
            pass
        assert _names("SELECT name FROM isolation_app_widget") == ["alpha-widget"]


def _constraints(table, kind):
    return _names("SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = %s", [table, kind])


def test_tenant_references_are_checked_once_by_the_composite_key():
    # Django's single-column keys between tenant tables are left out (TenantForeignKey), and the
    # ledger's tenant key is implied by its composite keys (implied_tenant_key): per movement
    # row, three checks instead of six.
    assert _constraints("inventory_stockmovement", "f") == [
        "inventory_stockmovement_product_id_tenant_fk",
        "inventory_stockmovement_user_id_9fe5f98d_fk_tenants_user_id",
        "inventory_stockmovement_warehouse_id_tenant_fk",
    ]
    # Nothing points at the ledger and other indexes lead with the tenant: no UNIQUE (tenant_id, id).
    assert "inventory_stockmovement_tenant_pk_uniq" not in _constraints("inventory_stockmovement", "u")
    assert "inventory_product_tenant_pk_uniq" in _constraints("inventory_product", "u")


def test_composite_key_refuses_a_level_for_a_product_that_does_not_exist(tenant_a, in_a):
    from inventory.tests.factories import make_warehouse

    warehouse = make_warehouse("RAW")
    with pytest.raises(DatabaseError, match="tenant_fk"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO inventory_stocklevel (id, tenant_id, product_id, warehouse_id, on_hand, reserved, "
                "updated_at) VALUES (gen_random_uuid(), %s, gen_random_uuid(), %s, 0, 0, now())",
                [tenant_a.id, warehouse.id],
            )
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


# --- Memberships: the current tenant's rows, plus the current user's own -----------------


@pytest.fixture
def memberships(tenant_a, tenant_b):
    from tenants.tests.factories import make_member

    return make_member(tenant_a, "owner"), make_member(tenant_b, "owner")


def _membership_tenants():
    return _names("SELECT tenant_id::text FROM tenants_membership")


def test_memberships_table_has_a_forced_policy_and_an_own_rows_read_policy():
    with connections["owner"].cursor() as cursor:
        cursor.execute("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = 'tenants_membership'")
        assert cursor.fetchone() == (True, True)
        cursor.execute("SELECT policyname, cmd FROM pg_policies WHERE tablename = 'tenants_membership' ORDER BY 1")
        assert cursor.fetchall() == [("own_rows", "SELECT"), ("tenant_isolation", "ALL")]


def test_runtime_role_reads_only_the_current_tenants_memberships(memberships, tenant_a, tenant_b):
    assert _membership_tenants() == []
    with tenant_context(tenant_a):
        assert _membership_tenants() == [str(tenant_a.id)]
    with tenant_context(tenant_b):
        assert _membership_tenants() == [str(tenant_b.id)]


def test_user_context_reads_only_the_users_own_memberships_and_writes_none(memberships, tenant_a, tenant_b):
    from tenants.context import user_context
    from tenants.tests.factories import make_member

    owner_a, owner_b = memberships
    make_member(tenant_b, "viewer", user=owner_a.user)
    with user_context(owner_a.user_id):
        assert _membership_tenants() == sorted([str(tenant_a.id), str(tenant_b.id)])
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM tenants_membership WHERE user_id = %s", [owner_b.user_id])
            assert cursor.fetchone()[0] == 0
            # Reading one's own rows elsewhere is not writing them: promote oneself in B, leave A.
            cursor.execute("UPDATE tenants_membership SET role = 'owner' WHERE user_id = %s", [owner_a.user_id])
            assert cursor.rowcount == 0
            cursor.execute("DELETE FROM tenants_membership WHERE user_id = %s", [owner_a.user_id])
            assert cursor.rowcount == 0
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO tenants_membership (id, user_id, tenant_id, role, created_at) "
                    "VALUES (gen_random_uuid(), %s, %s, 'owner', now())",
                    [owner_a.user_id, tenant_b.id],
                )


def test_runtime_role_cannot_write_another_tenants_memberships(memberships, tenant_a, tenant_b):
    owner_a, owner_b = memberships
    with tenant_context(tenant_a):
        with connection.cursor() as cursor:
            cursor.execute("UPDATE tenants_membership SET role = 'viewer' WHERE id = %s", [owner_b.id])
            assert cursor.rowcount == 0
            cursor.execute("DELETE FROM tenants_membership WHERE id = %s", [owner_b.id])
            assert cursor.rowcount == 0
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO tenants_membership (id, user_id, tenant_id, role, created_at) "
                    "VALUES (gen_random_uuid(), %s, %s, 'owner', now())",
                    [owner_a.user_id, tenant_b.id],
                )
    with tenant_context(tenant_b):
        assert _names("SELECT role FROM tenants_membership") == ["owner"]


@pytest.mark.django_db
def test_runtime_role_analyzes_the_applications_tables_only_through_the_owners_function():
    """ANALYZE after a bulk write (core.sql.analyze_grown): the runtime role owns no table,
    so ANALYZE itself skips the table; ``stockroom_analyze`` runs it as the owner, for the
    application's tables and nothing else (no catalog, no other schema's table)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT stockroom_analyze(ARRAY['inventory_product', 'orders_salesorder'])")
        assert cursor.fetchone()[0] == 2
        for name in ("pg_authid", "pg_class", "no_such_table", "public.inventory_product"):
            with pytest.raises(DatabaseError, match="not a table of this application"), transaction.atomic():
                cursor.execute("SELECT stockroom_analyze(%s)", [[name]])
        # What the function does not hand out (MAINTAIN would): REINDEX, CLUSTER.
        for statement in ("REINDEX TABLE inventory_product", "CLUSTER inventory_product USING inventory_product_pkey"):
            # PostgreSQL 15-16: "must be owner of table"; 17+: "permission denied for table" (MAINTAIN).
            with pytest.raises(DatabaseError, match=r"must be owner|permission denied"), transaction.atomic():
                cursor.execute(statement)


def test_a_policy_in_the_first_sub_select_form_is_brought_to_the_current_predicate():
    """The policies were first written with ``(SELECT current_setting(...))``, which hides the
    tenant from the planner (tenants/rls.py); the post-migrate step replaces that form and
    leaves the current one alone."""
    from tenants.rls import POLICY_NAME, _isolate_table, _policy_qual

    owner = connections["owner"]
    old = "tenant_id = NULLIF((SELECT current_setting('app.tenant_id', true)), '')::uuid"
    with owner.cursor() as cursor:
        cursor.execute("CREATE TABLE legacy_table (id uuid PRIMARY KEY, tenant_id uuid NOT NULL)")
        cursor.execute(f"CREATE POLICY {POLICY_NAME} ON legacy_table USING ({old}) WITH CHECK ({old})")
        assert "SELECT current_setting" in (_policy_qual(cursor, "legacy_table", POLICY_NAME) or "")
        _isolate_table(owner, cursor, "legacy_table")
        upgraded = _policy_qual(cursor, "legacy_table", POLICY_NAME) or ""
        assert "SELECT" not in upgraded and "current_setting('app.tenant_id'" in upgraded
        cursor.execute("SELECT with_check FROM pg_policies WHERE tablename = 'legacy_table'")
        assert "SELECT" not in cursor.fetchone()[0]
        assert tables_missing_isolation(cursor) == []
        cursor.execute("SELECT qual FROM pg_policies WHERE policyname IN ('tenant_isolation', 'own_rows')")
        assert all("SELECT" not in qual for (qual,) in cursor.fetchall())


def test_the_planner_sees_the_tenant_of_the_policy(tenant_a, in_a):
    """With current_setting() called directly (no InitPlan), the planner folds the policy into
    the ORM's own ``tenant_id = <id>``: the plan checks the setting once (a one-time filter)
    instead of carrying an opaque parameter into every scan."""
    import json

    from inventory.models import Product

    sql, params = Product.objects.filter(sku="X").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = json.dumps(cursor.fetchone()[0])
    assert "InitPlan" not in plan and "One-Time Filter" in plan, plan
