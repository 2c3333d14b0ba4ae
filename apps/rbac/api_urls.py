from django.urls import path

from apps.rbac import apis

app_name = "rbac"

urlpatterns = [
    path("explain/", apis.ExplainApi.as_view(), name="explain"),
]
