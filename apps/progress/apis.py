"""Progress API: enroll/drop/reset, my enrollments, heartbeats, quiz attempts, a learner's
course progress, roster and gradebook for instructors, certificate verification."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.content.models import Course
from apps.content.selectors import course_visible_queryset
from apps.core.api.conditional import ConditionalGetMixin
from apps.core.api.pagination import PageNumberPagination
from apps.core.api.permissions import HasResourceScope
from apps.core.exceptions import NotFoundError, PermissionDeniedError
from apps.progress import selectors, services
from apps.progress.models import Enrollment
from apps.rbac.selectors import user_has_permission


class EnrollmentOutput(serializers.Serializer):
    id = serializers.UUIDField()
    course = serializers.UUIDField(source="course_id")
    course_title = serializers.CharField(source="course.title")
    course_slug = serializers.CharField(source="course.slug")
    enrollment_type = serializers.CharField()
    status = serializers.CharField()
    run = serializers.IntegerField()
    progress_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    completed_lessons = serializers.IntegerField()
    total_lessons = serializers.IntegerField()
    study_time_seconds = serializers.IntegerField()
    average_quiz_score = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    certificate_issued = serializers.BooleanField()
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    last_accessed_at = serializers.DateTimeField(allow_null=True)


def _own_enrollment(request, enrollment_id) -> Enrollment:
    return get_object_or_404(
        Enrollment.objects.select_related("course"), pk=enrollment_id, user=request.user
    )


class EnrollmentListApi(APIView):
    """My enrollments; POST enrolls me in a course."""

    scope_resource = "enrollments"
    pagination_class = PageNumberPagination

    class InputSerializer(serializers.Serializer):
        course = serializers.UUIDField()

    @extend_schema(responses=EnrollmentOutput(many=True), operation_id="enrollments_list")
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.my_enrollments(user=request.user), request, view=self
        )
        return paginator.get_paginated_response(EnrollmentOutput(page, many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={201: EnrollmentOutput},
        operation_id="enrollments_create",
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        course = get_object_or_404(
            course_visible_queryset(user=request.user), pk=data.validated_data["course"]
        )
        enrollment = services.enrollment_create(user=request.user, course=course)
        return Response(EnrollmentOutput(enrollment).data, status=status.HTTP_201_CREATED)


class EnrollmentDetailApi(ConditionalGetMixin, APIView):
    """One of my enrollments with its course outline (lesson states and where to resume)."""

    scope_resource = "enrollments"

    class OutputSerializer(EnrollmentOutput):
        outline = serializers.SerializerMethodField()
        resume_lesson = serializers.SerializerMethodField()

        def get_outline(self, enrollment) -> list[dict]:
            outline = self.context["outline"]
            return [
                {
                    "module": str(m.module.pk),
                    "title": m.module.title,
                    "lessons": [
                        {
                            "lesson": str(s.lesson.pk),
                            "title": s.lesson.title,
                            "state": s.state,
                            "percent": s.percent,
                            "unmet": list(s.unmet),
                        }
                        for s in m.lessons
                    ],
                }
                for m in outline.modules
            ]

        def get_resume_lesson(self, enrollment) -> str | None:
            resume = self.context["outline"].resume
            return str(resume.pk) if resume else None

    @extend_schema(responses=OutputSerializer, operation_id="enrollments_retrieve")
    def get(self, request, enrollment_id):
        enrollment = _own_enrollment(request, enrollment_id)
        outline = selectors.course_outline(course=enrollment.course, enrollment=enrollment)
        return Response(self.OutputSerializer(enrollment, context={"outline": outline}).data)


class EnrollmentDropApi(APIView):
    scope_resource = "enrollments"

    @extend_schema(request=None, responses=EnrollmentOutput, operation_id="enrollments_drop")
    def post(self, request, enrollment_id):
        enrollment = services.enrollment_drop(enrollment=_own_enrollment(request, enrollment_id))
        return Response(EnrollmentOutput(enrollment).data)


class EnrollmentResetApi(APIView):
    scope_resource = "enrollments"

    @extend_schema(request=None, responses=EnrollmentOutput, operation_id="enrollments_reset")
    def post(self, request, enrollment_id):
        enrollment = services.enrollment_reset(enrollment=_own_enrollment(request, enrollment_id))
        return Response(EnrollmentOutput(enrollment).data)


class ProgressApi(APIView):
    """A heartbeat from the lesson player."""

    scope_resource = "progress"

    class InputSerializer(serializers.Serializer):
        lesson = serializers.UUIDField()
        percent = serializers.DecimalField(
            max_digits=5, decimal_places=2, min_value=0, max_value=100
        )
        time_delta_seconds = serializers.IntegerField(min_value=0, default=0)
        position = serializers.DictField(required=False)
        notes = serializers.CharField(required=False, allow_blank=True, max_length=10000)

    class OutputSerializer(serializers.Serializer):
        lesson = serializers.UUIDField(source="lesson_id")
        progress_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
        time_spent_seconds = serializers.IntegerField()
        completed_at = serializers.DateTimeField(allow_null=True)
        last_position = serializers.DictField()

    @extend_schema(
        request=InputSerializer, responses=OutputSerializer, operation_id="progress_record"
    )
    def post(self, request, enrollment_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        row = services.lesson_progress_record(
            learner=request.user,  # the learner's own enrollment, read once and locked
            enrollment_id=enrollment_id,
            lesson_id=values["lesson"],
            percent=values["percent"],
            time_delta_seconds=values["time_delta_seconds"],
            position=values.get("position"),
            notes=values.get("notes"),
        )
        return Response(self.OutputSerializer(row).data)


class QuizAttemptApi(APIView):
    scope_resource = "progress"

    class InputSerializer(serializers.Serializer):
        quiz = serializers.UUIDField()
        answers = serializers.DictField()

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        number = serializers.IntegerField()
        score = serializers.DecimalField(max_digits=8, decimal_places=2)
        max_score = serializers.DecimalField(max_digits=8, decimal_places=2)
        percent = serializers.DecimalField(max_digits=5, decimal_places=2)
        passed = serializers.BooleanField()
        results = serializers.DictField()

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer},
        operation_id="quiz_attempts_create",
    )
    def post(self, request, enrollment_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attempt = services.quiz_attempt_submit(
            enrollment=_own_enrollment(request, enrollment_id),
            quiz_id=data.validated_data["quiz"],
            answers=data.validated_data["answers"],
        )
        return Response(self.OutputSerializer(attempt).data, status=status.HTTP_201_CREATED)


def _teaching_course(request, course_id) -> Course:
    course = get_object_or_404(Course.objects.select_related("category"), pk=course_id)
    user = request.user
    if not (
        course.instructor_id == user.pk or user_has_permission(user, "enrollment.view", course)
    ):
        raise PermissionDeniedError("Only the course's teachers may see its learners.")
    return course


class RosterPagination(CursorPagination):
    ordering = "created_at"
    page_size = 50


class RosterApi(APIView):
    """The course's learners and their progress (teachers; cursor pagination)."""

    scope_resource = "enrollments"
    pagination_class = RosterPagination

    class OutputSerializer(EnrollmentOutput):
        user = serializers.UUIDField(source="user_id")
        email = serializers.EmailField(source="user.email")
        name = serializers.CharField(source="user.get_full_name")

    @extend_schema(responses=OutputSerializer(many=True), operation_id="roster_list")
    def get(self, request, course_id):
        course = _teaching_course(request, course_id)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.roster(course=course).select_related("course").order_by(), request, view=self
        )
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class GradebookApi(APIView):
    """Learners x lessons: progress per lesson and the best score of quiz lessons."""

    scope_resource = "grades"

    class OutputSerializer(serializers.Serializer):
        class LessonSerializer(serializers.Serializer):
            id = serializers.UUIDField()
            title = serializers.CharField()
            type = serializers.CharField()

        class RowSerializer(serializers.Serializer):
            user = serializers.UUIDField()
            email = serializers.EmailField()
            progress_percent = serializers.CharField()
            cells = serializers.ListField(
                child=serializers.DictField(allow_null=True),
                help_text='Per lesson: {"progress": percent or null, "quiz": best percent or null}',
            )

        lessons = LessonSerializer(many=True)
        rows = RowSerializer(many=True)

    @extend_schema(
        responses=inline_serializer(
            "GradebookPage",
            {
                "next": serializers.URLField(allow_null=True),
                "previous": serializers.URLField(allow_null=True),
                "results": OutputSerializer(),
            },
        ),
        operation_id="gradebook_retrieve",
        parameters=[OpenApiParameter("cursor", str, description="From `next` or `previous`.")],
    )
    def get(self, request, course_id):
        course = _teaching_course(request, course_id)
        paginator = RosterPagination()
        page = paginator.paginate_queryset(
            selectors.roster(course=course).order_by(), request, view=self
        )
        lessons, rows = selectors.gradebook(course=course, enrollments=page)
        return paginator.get_paginated_response(
            {
                "lessons": [
                    {"id": str(lesson.pk), "title": lesson.title, "type": lesson.lesson_type}
                    for lesson in lessons
                ],
                "rows": [
                    {
                        "user": str(row.enrollment.user_id),
                        "email": row.enrollment.user.email,
                        "progress_percent": str(row.enrollment.progress_percent),
                        "cells": row.cells,
                    }
                    for row in rows
                ],
            }
        )


class LearnerProgressApi(ConditionalGetMixin, APIView):
    """One learner's progress in the course, for the course's teachers."""

    scope_resource = "progress"

    @extend_schema(
        responses=EnrollmentDetailApi.OutputSerializer, operation_id="learner_progress_retrieve"
    )
    def get(self, request, course_id, user_id):
        course = _teaching_course(request, course_id)
        enrollment = get_object_or_404(
            selectors.roster(course=course).select_related("course"), user_id=user_id
        )
        outline = selectors.course_outline(course=course, enrollment=enrollment)
        return Response(
            EnrollmentDetailApi.OutputSerializer(enrollment, context={"outline": outline}).data
        )


class CertificateVerifyApi(APIView):
    """Public: is this certificate code genuine, and what does it certify?"""

    scope_resource = "certificates"

    permission_classes = [AllowAny, HasResourceScope]

    class OutputSerializer(serializers.Serializer):
        code = serializers.CharField()
        learner_name = serializers.CharField()
        course_title = serializers.CharField()
        instructor_name = serializers.CharField()
        issued_at = serializers.DateTimeField()

    @extend_schema(responses=OutputSerializer, operation_id="certificate_verify")
    def get(self, request, code):
        certificate = selectors.certificate_by_code(code=code)
        if certificate is None:
            raise NotFoundError("No valid certificate has this code.")
        return Response(self.OutputSerializer(certificate).data)
