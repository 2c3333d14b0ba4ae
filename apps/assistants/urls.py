from django.urls import path

from apps.assistants import views

app_name = "assistants"

urlpatterns = [
    path("", views.index, name="index"),
    path("memories/", views.memory_page, name="memories"),
    path("memories/settings/", views.memory_preference, name="memory_preference"),
    path("memories/forget-all/", views.memory_forget_all, name="memory_forget_all"),
    path("memories/<uuid:memory_id>/", views.memory_edit, name="memory_edit"),
    path("memories/<uuid:memory_id>/forget/", views.memory_forget, name="memory_forget"),
    path("planner/", views.planner, name="planner"),
    path("<uuid:profile_id>/", views.chat_page, name="chat"),
]
