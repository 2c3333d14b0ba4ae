"""Content endpoints of the REST API (/api/v1/content/): catalog, courses and their syllabus,
categories, lesson plans and course versions."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.content import selectors, services
from apps.content.models import (
    SLUG_REGEX,
    AccessType,
    Category,
    ContentType,
    Course,
    CourseLevel,
    CourseStatus,
    InteractiveContent,
    Lesson,
    LessonType,
    Module,
    PlanStatus,
    Visibility,
)
from apps.content.versions import course_version_diff, course_versions
from apps.core.api.conditional import ConditionalGetMixin
from apps.core.api.pagination import PageNumberPagination
from apps.core.api.permissions import HasResourceScope
from apps.core.exceptions import NotFoundError

# The database's slug rule (a CHECK constraint): refuse other slugs with a 400, not a 500.
SLUG_ERRORS = {"invalid": "Use lowercase letters and digits, words joined by single hyphens."}

# -- shared output ------------------------------------------------------------------------


class CategoryRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    slug = serializers.CharField()


class InstructorSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField(source="get_full_name")


class CourseSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    slug = serializers.CharField()
    short_description = serializers.CharField()
    category = CategoryRefSerializer(allow_null=True)
    level = serializers.CharField()
    language = serializers.CharField()
    access_type = serializers.CharField()
    price_minor = serializers.IntegerField()
    currency = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    is_featured = serializers.BooleanField()
    status = serializers.CharField()
    visibility = serializers.CharField()
    instructor = InstructorSerializer()
    lesson_count = serializers.IntegerField(required=False)


class InteractiveSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    content_type = serializers.CharField()
    configuration = serializers.JSONField()


class LessonSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    lesson_type = serializers.CharField()
    position = serializers.IntegerField()
    duration_minutes = serializers.IntegerField(allow_null=True)
    is_preview = serializers.BooleanField()
    unlock_conditions = serializers.JSONField()


class SyllabusLessonSerializer(LessonSerializer):
    interactive = InteractiveSerializer(many=True)


class ModuleSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    description = serializers.CharField()
    position = serializers.IntegerField()
    estimated_duration_minutes = serializers.IntegerField(allow_null=True)


class SyllabusModuleSerializer(ModuleSerializer):
    lessons = SyllabusLessonSerializer(many=True)


class CourseDetailSerializer(CourseSummarySerializer):
    description = serializers.CharField()
    estimated_duration_minutes = serializers.IntegerField(allow_null=True)
    learning_objectives = serializers.ListField(child=serializers.CharField())
    thumbnail_url = serializers.CharField()
    preview_video_url = serializers.CharField()
    seo_title = serializers.CharField()
    seo_description = serializers.CharField()
    meta_keywords = serializers.ListField(child=serializers.CharField())
    max_enrollments = serializers.IntegerField(allow_null=True)
    published_at = serializers.DateTimeField(allow_null=True)
    prerequisites = serializers.SerializerMethodField()
    modules = SyllabusModuleSerializer(many=True)

    def get_prerequisites(self, course) -> list[dict]:
        return [
            {"id": str(p.id), "title": p.title, "slug": p.slug} for p in course.prerequisites.all()
        ]


def _course_detail(request, course: Course) -> dict:
    detail = selectors.course_detail(user=request.user, slug=course.slug)
    return CourseDetailSerializer(detail).data


# -- courses ------------------------------------------------------------------------------


class CourseInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    slug = serializers.RegexField(SLUG_REGEX, max_length=200, error_messages=SLUG_ERRORS)
    short_description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.all(), required=False, allow_null=True
    )
    level = serializers.ChoiceField(choices=CourseLevel.choices, required=False)
    language = serializers.RegexField(r"^[a-z]{2}(-[A-Z]{2})?$", required=False)
    price_minor = serializers.IntegerField(min_value=0, required=False)
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False)
    access_type = serializers.ChoiceField(choices=AccessType.choices, required=False)
    estimated_duration_minutes = serializers.IntegerField(
        min_value=1, required=False, allow_null=True
    )
    learning_objectives = serializers.ListField(
        child=serializers.CharField(max_length=300), required=False
    )
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False)
    thumbnail_url = serializers.URLField(required=False, allow_blank=True)
    preview_video_url = serializers.URLField(required=False, allow_blank=True)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    is_featured = serializers.BooleanField(required=False)
    seo_title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    seo_description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    meta_keywords = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False
    )
    max_enrollments = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    instructor = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.all(), required=False
    )
    prerequisites = serializers.PrimaryKeyRelatedField(
        queryset=Course.objects.all(), many=True, required=False
    )


class CourseListApi(APIView):
    """The catalog (anyone): search, filter, best match first. POST creates a draft course."""

    scope_resource = "courses"
    pagination_class = PageNumberPagination

    class FilterSerializer(serializers.Serializer):
        q = serializers.CharField(required=False, allow_blank=True, max_length=200)
        category = serializers.SlugField(required=False)
        level = serializers.ChoiceField(choices=CourseLevel.choices, required=False)
        language = serializers.CharField(required=False, max_length=5)
        price_type = serializers.ChoiceField(choices=AccessType.choices, required=False)

    class InputSerializer(CourseInputSerializer):
        pass

    class OutputSerializer(CourseSummarySerializer):
        pass

    def get_permissions(self):
        if self.request.method == "GET":
            return [AllowAny(), HasResourceScope()]
        return super().get_permissions()

    @extend_schema(
        parameters=[FilterSerializer],
        responses=OutputSerializer(many=True),
        operation_id="content_course_list",
    )
    def get(self, request: Request) -> Response:
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        category = None
        if data.get("category"):
            category = Category.objects.filter(slug=data["category"]).first()
            if category is None:
                raise NotFoundError(
                    "No such category.", fields={"category": ["No category has this slug."]}
                )
        courses = selectors.course_catalog(
            query=data.get("q", ""),
            category=category,
            level=data.get("level", ""),
            language=data.get("language", ""),
            price_type=data.get("price_type", ""),
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(courses, request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={201: CourseDetailSerializer},
        operation_id="content_course_create",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        course = services.course_create(actor=request.user, **serializer.validated_data)
        return Response(_course_detail(request, course), status=status.HTTP_201_CREATED)


class CourseDetailApi(ConditionalGetMixin, APIView):
    """One course with its syllabus (who may see it: see the selectors). PATCH edits it."""

    scope_resource = "courses"

    class InputSerializer(CourseInputSerializer):
        pass

    class OutputSerializer(CourseDetailSerializer):
        pass

    def get_permissions(self):
        if self.request.method == "GET":
            return [AllowAny(), HasResourceScope()]
        return super().get_permissions()

    @extend_schema(responses=OutputSerializer, operation_id="content_course_retrieve")
    def get(self, request: Request, course_id) -> Response:
        course = selectors.course_visible_queryset(user=request.user).filter(pk=course_id).first()
        if course is None:
            raise NotFoundError("No such course.")
        return Response(_course_detail(request, course))

    @extend_schema(
        request=InputSerializer, responses=OutputSerializer, operation_id="content_course_update"
    )
    def patch(self, request: Request, course_id) -> Response:
        course = selectors.course_for_edit(user=request.user, course_id=course_id)
        serializer = self.InputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        course = services.course_update(
            actor=request.user, course=course, **serializer.validated_data
        )
        return Response(_course_detail(request, course))


class CourseTransitionApi(APIView):
    """Move a course along its workflow: draft -> review -> published -> archived."""

    scope_resource = "courses"

    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=CourseStatus.choices)

    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        status = serializers.CharField()
        published_at = serializers.DateTimeField(allow_null=True)

    @extend_schema(
        request=InputSerializer,
        responses=OutputSerializer,
        operation_id="content_course_transition",
    )
    def post(self, request: Request, course_id) -> Response:
        course = selectors.course_visible_queryset(user=request.user).filter(pk=course_id).first()
        if course is None:
            raise NotFoundError("No such course.")
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        course = services.course_transition(
            actor=request.user, course=course, to_status=serializer.validated_data["status"]
        )
        return Response(self.OutputSerializer(course).data)


class ReorderInputSerializer(serializers.Serializer):
    order = serializers.ListField(child=serializers.UUIDField(), allow_empty=False)


class ModuleCreateApi(APIView):
    """Add a module to a course (at the end, or at `position`)."""

    scope_resource = "courses"

    class InputSerializer(serializers.Serializer):
        title = serializers.CharField(max_length=200)
        description = serializers.CharField(required=False, allow_blank=True)
        position = serializers.IntegerField(min_value=1, required=False)
        estimated_duration_minutes = serializers.IntegerField(
            min_value=1, required=False, allow_null=True
        )

    class OutputSerializer(ModuleSerializer):
        pass

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer},
        operation_id="content_module_create",
    )
    def post(self, request: Request, course_id) -> Response:
        course = selectors.course_for_edit(user=request.user, course_id=course_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        module = services.module_create(
            actor=request.user, course=course, **serializer.validated_data
        )
        return Response(self.OutputSerializer(module).data, status=status.HTTP_201_CREATED)


class ModuleReorderApi(APIView):
    """Renumber a course's modules in the order given (every module id exactly once)."""

    scope_resource = "courses"

    class InputSerializer(ReorderInputSerializer):
        pass

    class OutputSerializer(ModuleSerializer):
        pass

    @extend_schema(
        request=InputSerializer,
        responses=OutputSerializer(many=True),
        operation_id="content_module_reorder",
    )
    def post(self, request: Request, course_id) -> Response:
        course = selectors.course_for_edit(user=request.user, course_id=course_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        modules = services.module_reorder(
            actor=request.user, course=course, module_ids=serializer.validated_data["order"]
        )
        return Response(self.OutputSerializer(modules, many=True).data)


def _module_for_edit(request, module_id) -> Module:
    module = Module.objects.select_related("course").filter(pk=module_id).first()
    if module is None or not services.course_can_edit(user=request.user, course=module.course):
        raise NotFoundError("No such module.")
    return module


def _lesson_for_edit(request, lesson_id) -> Lesson:
    lesson = Lesson.objects.select_related("module__course").filter(pk=lesson_id).first()
    if lesson is None or not services.course_can_edit(
        user=request.user, course=lesson.module.course
    ):
        raise NotFoundError("No such lesson.")
    return lesson


class ModuleDetailApi(APIView):
    """Change a module's title, description or duration."""

    scope_resource = "courses"

    class InputSerializer(serializers.Serializer):
        title = serializers.CharField(max_length=200, required=False)
        description = serializers.CharField(required=False, allow_blank=True)
        estimated_duration_minutes = serializers.IntegerField(
            min_value=1, required=False, allow_null=True
        )

    class OutputSerializer(ModuleSerializer):
        pass

    @extend_schema(
        request=InputSerializer, responses=OutputSerializer, operation_id="content_module_update"
    )
    def patch(self, request: Request, module_id) -> Response:
        module = _module_for_edit(request, module_id)
        serializer = self.InputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        module = services.module_update(
            actor=request.user, module=module, **serializer.validated_data
        )
        return Response(self.OutputSerializer(module).data)


class LessonInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    content = serializers.CharField(required=False, allow_blank=True)
    lesson_type = serializers.ChoiceField(choices=LessonType.choices, required=False)
    duration_minutes = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    video_url = serializers.URLField(required=False, allow_blank=True)
    is_preview = serializers.BooleanField(required=False)
    unlock_conditions = serializers.JSONField(required=False)


class LessonCreateApi(APIView):
    """Add a lesson to a module; unlock conditions are checked (same course, known shapes)."""

    scope_resource = "courses"

    class InputSerializer(LessonInputSerializer):
        position = serializers.IntegerField(min_value=1, required=False)

    class OutputSerializer(LessonSerializer):
        pass

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer},
        operation_id="content_lesson_create",
    )
    def post(self, request: Request, module_id) -> Response:
        module = _module_for_edit(request, module_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lesson = services.lesson_create(
            actor=request.user, module=module, **serializer.validated_data
        )
        return Response(self.OutputSerializer(lesson).data, status=status.HTTP_201_CREATED)


class LessonReorderApi(APIView):
    """Renumber a module's lessons in the order given (every lesson id exactly once)."""

    scope_resource = "courses"

    class InputSerializer(ReorderInputSerializer):
        pass

    class OutputSerializer(LessonSerializer):
        pass

    @extend_schema(
        request=InputSerializer,
        responses=OutputSerializer(many=True),
        operation_id="content_lesson_reorder",
    )
    def post(self, request: Request, module_id) -> Response:
        module = _module_for_edit(request, module_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lessons = services.lesson_reorder(
            actor=request.user, module=module, lesson_ids=serializer.validated_data["order"]
        )
        return Response(self.OutputSerializer(lessons, many=True).data)


class LessonDetailApi(APIView):
    """Change a lesson."""

    scope_resource = "courses"

    class InputSerializer(LessonInputSerializer):
        title = serializers.CharField(max_length=200, required=False)

    class OutputSerializer(LessonSerializer):
        pass

    @extend_schema(
        request=InputSerializer, responses=OutputSerializer, operation_id="content_lesson_update"
    )
    def patch(self, request: Request, lesson_id) -> Response:
        lesson = _lesson_for_edit(request, lesson_id)
        serializer = self.InputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        lesson = services.lesson_update(
            actor=request.user, lesson=lesson, **serializer.validated_data
        )
        return Response(self.OutputSerializer(lesson).data)


class InteractiveCreateApi(APIView):
    """Attach a quiz, interactive video or simulation; the configuration is checked against
    the JSON Schema of its type, with one message per problem."""

    scope_resource = "courses"

    class InputSerializer(serializers.Serializer):
        title = serializers.CharField(max_length=200)
        content_type = serializers.ChoiceField(choices=ContentType.choices)
        configuration = serializers.JSONField()

    class OutputSerializer(InteractiveSerializer):
        pass

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer},
        operation_id="content_interactive_create",
    )
    def post(self, request: Request, lesson_id) -> Response:
        lesson = _lesson_for_edit(request, lesson_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = services.interactive_content_create(
            actor=request.user, lesson=lesson, **serializer.validated_data
        )
        return Response(self.OutputSerializer(item).data, status=status.HTTP_201_CREATED)


class InteractiveDetailApi(APIView):
    """Change an interactive content's title or configuration."""

    scope_resource = "courses"

    class InputSerializer(serializers.Serializer):
        title = serializers.CharField(max_length=200, required=False)
        configuration = serializers.JSONField(required=False)

    class OutputSerializer(InteractiveSerializer):
        pass

    @extend_schema(
        request=InputSerializer,
        responses=OutputSerializer,
        operation_id="content_interactive_update",
    )
    def patch(self, request: Request, item_id) -> Response:
        item = InteractiveContent.objects.select_related("lesson__module__course").filter(
            pk=item_id
        )
        item = item.first()
        if item is None or not services.course_can_edit(
            user=request.user, course=item.lesson.module.course
        ):
            raise NotFoundError("No such interactive content.")
        serializer = self.InputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        item = services.interactive_content_update(
            actor=request.user, item=item, **serializer.validated_data
        )
        return Response(self.OutputSerializer(item).data)


# -- categories ---------------------------------------------------------------------------


class CategoryNodeSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="category.id")
    name = serializers.CharField(source="category.name")
    slug = serializers.CharField(source="category.slug")
    level = serializers.IntegerField(source="category.level")
    is_active = serializers.BooleanField(source="category.is_active")
    children = serializers.SerializerMethodField()

    def get_children(self, node) -> list[dict]:
        return CategoryNodeSerializer(node.children, many=True).data


class CategoryTreeApi(APIView):
    """The category tree (anyone); POST adds a category (category.manage)."""

    scope_resource = "categories"

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100)
        slug = serializers.RegexField(SLUG_REGEX, max_length=100, error_messages=SLUG_ERRORS)
        description = serializers.CharField(required=False, allow_blank=True)
        parent = serializers.PrimaryKeyRelatedField(
            queryset=Category.objects.all(), required=False, allow_null=True
        )
        is_active = serializers.BooleanField(required=False)
        metadata = serializers.DictField(required=False)

    class OutputSerializer(CategoryNodeSerializer):
        pass

    def get_permissions(self):
        if self.request.method == "GET":
            return [AllowAny(), HasResourceScope()]
        return super().get_permissions()

    @extend_schema(responses=OutputSerializer(many=True), operation_id="content_category_tree")
    def get(self, request: Request) -> Response:
        tree = selectors.category_tree(active_only=not request.user.is_staff)
        return Response(self.OutputSerializer(tree, many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={201: CategoryRefSerializer},
        operation_id="content_category_create",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        category = services.category_create(actor=request.user, **serializer.validated_data)
        return Response(CategoryRefSerializer(category).data, status=status.HTTP_201_CREATED)


class CategoryMoveApi(APIView):
    """Move a category (and its subtree) under another parent, or to the top (parent null)."""

    scope_resource = "categories"

    class InputSerializer(serializers.Serializer):
        parent = serializers.PrimaryKeyRelatedField(
            queryset=Category.objects.all(), allow_null=True
        )

    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        level = serializers.IntegerField()
        parent = serializers.UUIDField(source="parent_id", allow_null=True)

    @extend_schema(
        request=InputSerializer, responses=OutputSerializer, operation_id="content_category_move"
    )
    def post(self, request: Request, category_id) -> Response:
        category = Category.objects.filter(pk=category_id).first()
        if category is None:
            raise NotFoundError("No such category.")
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        category = services.category_move(
            actor=request.user, category=category, parent=serializer.validated_data["parent"]
        )
        return Response(self.OutputSerializer(category).data)


# -- lesson plans -------------------------------------------------------------------------


class PlanOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    subject_category = CategoryRefSerializer(allow_null=True)
    grade_level = serializers.CharField()
    week_of = serializers.DateField()
    content_area = serializers.CharField()
    lesson_data = serializers.JSONField()
    objectives = serializers.SerializerMethodField()
    materials = serializers.JSONField()
    activities = serializers.JSONField()
    assessment_criteria = serializers.JSONField()
    status = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())

    def get_objectives(self, plan) -> list[dict]:
        return [{"id": str(o.id), "text": o.text} for o in plan.objectives.all()]


class PlanInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    subject_category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.all(), required=False, allow_null=True
    )
    grade_level = serializers.CharField(max_length=2, required=False, allow_blank=True)
    week_of = serializers.DateField()
    content_area = serializers.CharField(max_length=100, required=False, allow_blank=True)
    lesson_data = serializers.JSONField(required=False)
    objectives = serializers.ListField(child=serializers.CharField(max_length=500), required=False)
    materials = serializers.JSONField(required=False)
    activities = serializers.JSONField(required=False)
    assessment_criteria = serializers.JSONField(required=False)
    status = serializers.ChoiceField(choices=PlanStatus.choices, required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False)


class LessonPlanListApi(APIView):
    """The teacher's own lesson plans (optionally one week); POST creates one."""

    scope_resource = "lesson_plans"
    pagination_class = PageNumberPagination

    class FilterSerializer(serializers.Serializer):
        week_of = serializers.DateField(required=False)

    class InputSerializer(PlanInputSerializer):
        pass

    class OutputSerializer(PlanOutputSerializer):
        pass

    @extend_schema(
        parameters=[FilterSerializer],
        responses=OutputSerializer(many=True),
        operation_id="content_lesson_plan_list",
    )
    def get(self, request: Request) -> Response:
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        week = params.validated_data.get("week_of")
        plans = selectors.lesson_plan_list(
            owner=request.user, week_of=services.monday_of(week) if week else None
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(plans, request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer},
        operation_id="content_lesson_plan_create",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = services.lesson_plan_create(owner=request.user, **serializer.validated_data)
        plan = selectors.lesson_plan_get(owner=request.user, plan_id=plan.pk)
        return Response(self.OutputSerializer(plan).data, status=status.HTTP_201_CREATED)


class LessonPlanDetailApi(ConditionalGetMixin, APIView):
    """One of the teacher's plans; PATCH changes it."""

    scope_resource = "lesson_plans"

    class InputSerializer(PlanInputSerializer):
        title = serializers.CharField(max_length=200, required=False)
        week_of = serializers.DateField(required=False)

    class OutputSerializer(PlanOutputSerializer):
        pass

    @extend_schema(responses=OutputSerializer, operation_id="content_lesson_plan_retrieve")
    def get(self, request: Request, plan_id) -> Response:
        plan = selectors.lesson_plan_get(owner=request.user, plan_id=plan_id)
        return Response(self.OutputSerializer(plan).data)

    @extend_schema(
        request=InputSerializer,
        responses=OutputSerializer,
        operation_id="content_lesson_plan_update",
    )
    def patch(self, request: Request, plan_id) -> Response:
        plan = selectors.lesson_plan_get(owner=request.user, plan_id=plan_id)
        serializer = self.InputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.lesson_plan_update(actor=request.user, plan=plan, **serializer.validated_data)
        plan = selectors.lesson_plan_get(owner=request.user, plan_id=plan_id)
        return Response(self.OutputSerializer(plan).data)


class LessonPlanDuplicateApi(APIView):
    """Copy a plan as a draft to another week (default: the next one)."""

    scope_resource = "lesson_plans"

    class InputSerializer(serializers.Serializer):
        week_of = serializers.DateField(required=False)

    class OutputSerializer(PlanOutputSerializer):
        pass

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer},
        operation_id="content_lesson_plan_duplicate",
    )
    def post(self, request: Request, plan_id) -> Response:
        plan = selectors.lesson_plan_get(owner=request.user, plan_id=plan_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        copy = services.lesson_plan_duplicate(
            actor=request.user, plan=plan, week_of=serializer.validated_data.get("week_of")
        )
        copy = selectors.lesson_plan_get(owner=request.user, plan_id=copy.pk)
        return Response(self.OutputSerializer(copy).data, status=status.HTTP_201_CREATED)


# -- versions -----------------------------------------------------------------------------


class CourseVersionListApi(APIView):
    """Every recorded change of a course, its modules and lessons, numbered from 1 (editors)."""

    scope_resource = "courses"

    class OutputSerializer(serializers.Serializer):
        number = serializers.IntegerField()
        at = serializers.DateTimeField()
        kind = serializers.CharField()
        label = serializers.CharField()
        object_id = serializers.CharField()
        title = serializers.CharField()
        changed_fields = serializers.ListField(child=serializers.CharField())
        actor_id = serializers.CharField(allow_null=True)

    @extend_schema(responses=OutputSerializer(many=True), operation_id="content_course_versions")
    def get(self, request: Request, course_id) -> Response:
        course = selectors.course_for_edit(user=request.user, course_id=course_id)
        return Response(self.OutputSerializer(course_versions(course=course), many=True).data)


class CourseVersionDiffApi(APIView):
    """What changed between two versions of a course (editors)."""

    scope_resource = "courses"

    class FilterSerializer(serializers.Serializer):
        from_version = serializers.IntegerField(min_value=1)
        to_version = serializers.IntegerField(min_value=1)

    class OutputSerializer(serializers.Serializer):
        course = serializers.DictField()
        modules = serializers.DictField()
        lessons = serializers.DictField()

    @extend_schema(
        parameters=[FilterSerializer],
        responses=OutputSerializer,
        operation_id="content_course_version_diff",
    )
    def get(self, request: Request, course_id) -> Response:
        course = selectors.course_for_edit(user=request.user, course_id=course_id)
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        diff = course_version_diff(
            course=course,
            from_version=params.validated_data["from_version"],
            to_version=params.validated_data["to_version"],
        )
        return Response(diff)
