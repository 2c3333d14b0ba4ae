from django.apps import AppConfig


class RBACConfig(AppConfig):
    name = "apps.rbac"
    label = "rbac"
    verbose_name = "RBAC"
