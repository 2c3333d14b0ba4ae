from django.urls import path

from apps.progress import apis

app_name = "progress"

urlpatterns = [
    path("enrollments/", apis.EnrollmentListApi.as_view(), name="enrollments"),
    path(
        "enrollments/<uuid:enrollment_id>/", apis.EnrollmentDetailApi.as_view(), name="enrollment"
    ),
    path("enrollments/<uuid:enrollment_id>/drop/", apis.EnrollmentDropApi.as_view(), name="drop"),
    path(
        "enrollments/<uuid:enrollment_id>/reset/", apis.EnrollmentResetApi.as_view(), name="reset"
    ),
    path("enrollments/<uuid:enrollment_id>/progress/", apis.ProgressApi.as_view(), name="progress"),
    path(
        "enrollments/<uuid:enrollment_id>/quiz-attempts/",
        apis.QuizAttemptApi.as_view(),
        name="quiz_attempts",
    ),
    path("courses/<uuid:course_id>/roster/", apis.RosterApi.as_view(), name="roster"),
    path("courses/<uuid:course_id>/gradebook/", apis.GradebookApi.as_view(), name="gradebook"),
    path(
        "courses/<uuid:course_id>/learners/<uuid:user_id>/",
        apis.LearnerProgressApi.as_view(),
        name="learner",
    ),
    path("certificates/<str:code>/", apis.CertificateVerifyApi.as_view(), name="certificate"),
]
