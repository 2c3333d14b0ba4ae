from django.urls import path

from apps.accounts import apis

urlpatterns = [
    path("me/", apis.MeApi.as_view(), name="me"),
    path("me/preferences/", apis.PreferencesApi.as_view(), name="preferences"),
    path("me/tokens/", apis.PersonalAccessTokenListApi.as_view(), name="personal_tokens"),
    path(
        "me/tokens/<uuid:token_id>/",
        apis.PersonalAccessTokenDetailApi.as_view(),
        name="personal_token",
    ),
]
