from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for `make run` (``manage.py seed_demo``). Only an interface: it calls the
    domains' services, and nothing imports it."""

    name = "demo"
    verbose_name = "Demo data"
