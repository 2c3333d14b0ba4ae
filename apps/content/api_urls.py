from django.urls import path

from apps.content import apis

app_name = "content"

urlpatterns = [
    path("courses/", apis.CourseListApi.as_view(), name="courses"),
    path("courses/<uuid:course_id>/", apis.CourseDetailApi.as_view(), name="course"),
    path(
        "courses/<uuid:course_id>/transitions/",
        apis.CourseTransitionApi.as_view(),
        name="course_transition",
    ),
    path("courses/<uuid:course_id>/modules/", apis.ModuleCreateApi.as_view(), name="modules"),
    path(
        "courses/<uuid:course_id>/modules/reorder/",
        apis.ModuleReorderApi.as_view(),
        name="module_reorder",
    ),
    path(
        "courses/<uuid:course_id>/versions/",
        apis.CourseVersionListApi.as_view(),
        name="course_versions",
    ),
    path(
        "courses/<uuid:course_id>/versions/diff/",
        apis.CourseVersionDiffApi.as_view(),
        name="course_version_diff",
    ),
    path("modules/<uuid:module_id>/", apis.ModuleDetailApi.as_view(), name="module"),
    path("modules/<uuid:module_id>/lessons/", apis.LessonCreateApi.as_view(), name="lessons"),
    path(
        "modules/<uuid:module_id>/lessons/reorder/",
        apis.LessonReorderApi.as_view(),
        name="lesson_reorder",
    ),
    path("lessons/<uuid:lesson_id>/", apis.LessonDetailApi.as_view(), name="lesson"),
    path(
        "lessons/<uuid:lesson_id>/interactive/",
        apis.InteractiveCreateApi.as_view(),
        name="interactive_create",
    ),
    path("interactive/<uuid:item_id>/", apis.InteractiveDetailApi.as_view(), name="interactive"),
    path("categories/", apis.CategoryTreeApi.as_view(), name="categories"),
    path(
        "categories/<uuid:category_id>/move/", apis.CategoryMoveApi.as_view(), name="category_move"
    ),
    path("lesson-plans/", apis.LessonPlanListApi.as_view(), name="lesson_plans"),
    path("lesson-plans/<uuid:plan_id>/", apis.LessonPlanDetailApi.as_view(), name="lesson_plan"),
    path(
        "lesson-plans/<uuid:plan_id>/duplicate/",
        apis.LessonPlanDuplicateApi.as_view(),
        name="lesson_plan_duplicate",
    ),
]
