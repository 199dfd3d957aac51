from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from inventory.services.integrity import register_check
        from orders.integrity import reservation_discrepancies

        register_check(reservation_discrepancies)
