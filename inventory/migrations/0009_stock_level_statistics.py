"""Extended statistics on the stock levels' (tenant, warehouse): the two are dependent (a
warehouse belongs to one tenant), which the planner cannot know from per-column
statistics. Multiplying the two selectivities as if independent, it estimated a large
tenant's levels in one warehouse at a few dozen rows where there were 5,000, and sorted
all of them for a page instead of walking the products in SKU order and stopping after
50 (docs/performance.md, "Row Level Security and the planner"). ANALYZE fills them in."""

from django.db import migrations

FORWARD = """
CREATE STATISTICS IF NOT EXISTS stock_level_tenant_warehouse_stats (dependencies)
    ON tenant_id, warehouse_id FROM inventory_stocklevel;
ANALYZE inventory_stocklevel;
"""

BACKWARD = "DROP STATISTICS IF EXISTS stock_level_tenant_warehouse_stats;"


class Migration(migrations.Migration):
    dependencies = [("inventory", "0008_list_order_indexes")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
