from django.urls import path

from apps.analytics import apis

app_name = "analytics"

urlpatterns = [
    path("exports/", apis.ExportListApi.as_view(), name="exports"),
    path("exports/<uuid:job_id>/", apis.ExportDetailApi.as_view(), name="export"),
    path(
        "exports/<uuid:job_id>/download/",
        apis.ExportDownloadApi.as_view(),
        name="export_download",
    ),
    path("engagement/", apis.EngagementApi.as_view(), name="engagement"),
]
