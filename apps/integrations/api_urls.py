from django.urls import path

from apps.integrations import apis

app_name = "integrations"

urlpatterns = [
    path("enrollments/bulk/", apis.BulkEnrollmentApi.as_view(), name="bulk_jobs"),
    path(
        "enrollments/bulk/<uuid:job_id>/", apis.BulkEnrollmentDetailApi.as_view(), name="bulk_job"
    ),
    path(
        "enrollments/bulk/<uuid:job_id>/rows/",
        apis.BulkEnrollmentRowsApi.as_view(),
        name="bulk_job_rows",
    ),
    path(
        "enrollments/bulk/<uuid:job_id>/results.csv",
        apis.BulkEnrollmentResultsCsvApi.as_view(),
        name="bulk_job_csv",
    ),
    path("webhooks/endpoints/", apis.WebhookEndpointListApi.as_view(), name="webhook_endpoints"),
    path(
        "webhooks/endpoints/<uuid:endpoint_id>/",
        apis.WebhookEndpointDetailApi.as_view(),
        name="webhook_endpoint",
    ),
    path(
        "webhooks/endpoints/<uuid:endpoint_id>/rotate-secret/",
        apis.WebhookEndpointRotateApi.as_view(),
        name="webhook_endpoint_rotate",
    ),
    path(
        "webhooks/endpoints/<uuid:endpoint_id>/ping/",
        apis.WebhookEndpointPingApi.as_view(),
        name="webhook_endpoint_ping",
    ),
    path(
        "webhooks/endpoints/<uuid:endpoint_id>/deliveries/",
        apis.WebhookDeliveryListApi.as_view(),
        name="webhook_deliveries",
    ),
]
