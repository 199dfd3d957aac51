from django.apps import AppConfig


def _stock_is_valued() -> bool:
    """Stock on hand is valued at its average cost, in the workspace currency."""
    from inventory.models import StockLevel

    return StockLevel.objects.filter(on_hand__gt=0).exists()


class InventoryConfig(AppConfig):
    name = "inventory"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tenants.currency import register_currency_in_use_check

        register_currency_in_use_check("stock", _stock_is_valued)

        from inventory.selectors import product_usage, warehouse_usage
        from tenants.entitlements import Limit, register_usage

        register_usage(Limit.PRODUCTS, product_usage)
        register_usage(Limit.WAREHOUSES, warehouse_usage)
