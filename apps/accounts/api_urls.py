from django.urls import path

from apps.accounts import apis

urlpatterns = [
    path("me/", apis.MeApi.as_view(), name="me"),
    path("me/preferences/", apis.PreferencesApi.as_view(), name="preferences"),
]
