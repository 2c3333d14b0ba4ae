from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for `make run`: writes only through the other apps' services."""

    name = "apps.demo"
    label = "demo"
    verbose_name = "Demo data"
