from django.urls import path

from apps.core import security, views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("csp-report", security.csp_report, name="csp_report"),
    path("metrics", views.metrics, name="metrics"),
]
