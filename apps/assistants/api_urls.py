from django.urls import path

from apps.assistants import apis

app_name = "assistants"

urlpatterns = [
    path("", apis.AssistantListApi.as_view(), name="list"),
    path("memories/", apis.MemoryListApi.as_view(), name="memories"),
    path("memories/<uuid:memory_id>/", apis.MemoryDetailApi.as_view(), name="memory"),
    path("recommendations/", apis.RecommendationsApi.as_view(), name="recommendations"),
    path("<uuid:profile_id>/chat/", apis.ChatApi.as_view(), name="chat"),
    path("<uuid:profile_id>/recall/", apis.RecallApi.as_view(), name="recall"),
]
