"""``stockroom_analyze(tables)``: lets the runtime role refresh the planner's statistics of
the application's tables after a bulk write, and nothing else.

ANALYZE needs the table's owner (PostgreSQL 15 and 16) or the MAINTAIN privilege (17+,
which also allows VACUUM FULL, CLUSTER, REINDEX and LOCK TABLE: locks that stop every
read and write). The runtime role owns nothing, so this function, owned by the owner role
(``SECURITY DEFINER``), runs ``ANALYZE`` on the named tables of this schema that the owner
owns and refuses any other name. EXECUTE is granted to the runtime role only, after every
migrate (``tenants.rls``). docs/performance.md, "Statistics after bulk writes"."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION {schema}.stockroom_analyze(tables text[]) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    name text;
    analyzed integer := 0;
BEGIN
    FOREACH name IN ARRAY tables LOOP
        IF NOT EXISTS (
            SELECT 1 FROM pg_class c
            WHERE c.relnamespace = {schema_literal}::regnamespace AND c.relname = name
              AND c.relkind IN ('r', 'p') AND pg_get_userbyid(c.relowner) = current_user
        ) THEN
            RAISE EXCEPTION 'stockroom_analyze: %% is not a table of this application', name
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        EXECUTE format('ANALYZE %%I.%%I', {schema_literal}, name);
        analyzed := analyzed + 1;
    END LOOP;
    RETURN analyzed;
END;
$$;
REVOKE ALL ON FUNCTION {schema}.stockroom_analyze(text[]) FROM PUBLIC;
"""

BACKWARD = "DROP FUNCTION IF EXISTS {schema}.stockroom_analyze(text[]);"


def _schema(schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT current_schema(), quote_ident(current_schema()), quote_literal(current_schema())")
        return cursor.fetchone()


def forward(apps, schema_editor):
    _, schema, literal = _schema(schema_editor)
    schema_editor.execute(FORWARD.format(schema=schema, schema_literal=literal))


def backward(apps, schema_editor):
    _, schema, _ = _schema(schema_editor)
    schema_editor.execute(BACKWARD.format(schema=schema))


class Migration(migrations.Migration):
    dependencies = [("tenants", "0004_auth_token_version")]
    operations = [migrations.RunPython(forward, backward)]
