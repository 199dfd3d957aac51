from django.apps import AppConfig


def _orders_exist() -> bool:
    """Every order, a draft included, holds prices and totals in the workspace currency."""
    from orders.models import PurchaseOrder, SalesOrder

    return SalesOrder.objects.exists() or PurchaseOrder.objects.exists()


class OrdersConfig(AppConfig):
    name = "orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from inventory.services.integrity import register_check
        from inventory.services.units import register_fraction_check
        from orders.integrity import reservation_discrepancies
        from orders.selectors import open_lines_with_fractions
        from tenants.currency import register_currency_in_use_check

        register_check(reservation_discrepancies)
        register_fraction_check(open_lines_with_fractions)
        register_currency_in_use_check("orders", _orders_exist)

        from orders.selectors import sales_orders_this_month
        from tenants.entitlements import Limit, register_usage

        register_usage(Limit.SALES_ORDERS_PER_MONTH, sales_orders_this_month)
