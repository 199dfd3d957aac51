from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from inventory.services.integrity import register_check
        from inventory.services.units import register_fraction_check
        from orders.integrity import reservation_discrepancies
        from orders.selectors import open_lines_with_fractions

        register_check(reservation_discrepancies)
        register_fraction_check(open_lines_with_fractions)
