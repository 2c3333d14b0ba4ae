from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from apps.core import (
            rls_signals,  # noqa: F401  (row-level security context edges)
            signals,  # noqa: F401  (connects Celery task context handlers)
        )
