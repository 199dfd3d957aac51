"""The stock ledger is append-only for every role: a trigger refuses UPDATE and DELETE.
(The runtime role also lacks the privileges: StockMovement.runtime_privileges.)"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION stockroom_refuse_ledger_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'stock movements are append-only: %% refused on %%', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER stock_movement_append_only
    BEFORE UPDATE OR DELETE ON inventory_stockmovement
    FOR EACH ROW EXECUTE FUNCTION stockroom_refuse_ledger_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS stock_movement_append_only ON inventory_stockmovement;
DROP FUNCTION IF EXISTS stockroom_refuse_ledger_change();
"""


def forward(apps, schema_editor):
    schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
