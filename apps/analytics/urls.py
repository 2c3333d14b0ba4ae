from django.urls import path

from apps.analytics import views

app_name = "analytics"

urlpatterns = [
    path("", views.home, name="home"),
    path("overview/", views.overview, name="overview"),
    path("teach/", views.teaching, name="teaching"),
    path("teach/<slug:slug>/", views.course, name="course"),
    path("me/", views.me, name="me"),
    path("exports/", views.exports, name="exports"),
    path("exports/<uuid:job_id>/", views.export, name="export"),
    path("exports/<uuid:job_id>/status.json", views.export_status, name="export_status"),
    path("exports/<uuid:job_id>/download/", views.export_download, name="export_download"),
]
