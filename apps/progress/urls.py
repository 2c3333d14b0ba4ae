from django.urls import path

from apps.progress import views

app_name = "progress"

urlpatterns = [
    path("learn/", views.my_learning, name="my_learning"),
    path("learn/<slug:slug>/", views.course_outline, name="outline"),
    path("learn/<slug:slug>/enroll/", views.enroll, name="enroll"),
    path("learn/<slug:slug>/drop/", views.drop, name="drop"),
    path("learn/<slug:slug>/reset/", views.reset, name="reset"),
    path("learn/<slug:slug>/lessons/<uuid:lesson_id>/", views.lesson_player, name="lesson"),
    path("learn/<slug:slug>/lessons/<uuid:lesson_id>/quiz/", views.quiz_submit, name="quiz"),
    path("certificates/<str:code>/", views.certificate, name="certificate"),
    path("teach/<slug:slug>/roster/", views.roster, name="roster"),
    path("teach/<slug:slug>/gradebook/", views.gradebook, name="gradebook"),
    path("teach/<slug:slug>/learners/<uuid:user_id>/", views.learner_detail, name="learner"),
]
