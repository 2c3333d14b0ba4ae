from django.urls import path

from apps.content import views

app_name = "content"

urlpatterns = [
    path("courses/", views.catalog, name="catalog"),
    path("courses/mine/", views.my_courses, name="my_courses"),
    path("courses/<slug:slug>/", views.course_page, name="course"),
    path("courses/<slug:slug>/versions/", views.course_versions_page, name="course_versions"),
    path("courses/<slug:slug>/lessons/<uuid:lesson_id>/", views.lesson_page, name="lesson"),
    path("planner/", views.planner, name="planner"),
    path("planner/new/", views.plan_create, name="plan_create"),
    path("planner/<uuid:plan_id>/", views.plan_edit, name="plan_edit"),
    path("planner/<uuid:plan_id>/duplicate/", views.plan_duplicate, name="plan_duplicate"),
]
