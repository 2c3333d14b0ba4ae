from django.urls import path

from apps.audit import apis

urlpatterns = [
    path("events/", apis.AuditEventListApi.as_view(), name="events"),
    path("domain-events/", apis.DomainEventListApi.as_view(), name="domain_events"),
]
