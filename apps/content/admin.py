"""Course authoring in the admin: modules and lessons inline and ordered, interactive content
with JSON Schema errors on the field, publish/archive actions, the category tree."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.html import format_html
from guardian.admin import GuardedModelAdminMixin

from apps.content import services
from apps.content.forms import InteractiveContentAdminForm
from apps.content.models import (
    CATEGORY_MAX_LEVEL,
    Category,
    Course,
    CoursePrerequisite,
    InteractiveContent,
    Lesson,
    LessonPlan,
    Module,
    Objective,
)
from apps.content.schemas import (
    ACTIVITIES_SCHEMA,
    LESSON_DATA_SCHEMA,
    STRING_LIST_SCHEMA,
    UNLOCK_CONDITIONS_SCHEMA,
    schema_errors,
)
from apps.core.exceptions import DomainError


class CategoryAdminForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ("name", "slug", "parent", "description", "is_active", "metadata")

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        category = self.instance
        if parent is None:
            return parent
        existing = not category._state.adding
        if existing and (parent.pk == category.pk or parent.path.startswith(category.path)):
            raise ValidationError(f"“{parent}” is inside “{category}”: that would make a cycle.")
        depth = 1
        if existing:
            levels = Category.objects.filter(path__startswith=category.path).values_list(
                "level", flat=True
            )
            depth = max(levels, default=category.level) - category.level + 1
        if parent.level + depth > CATEGORY_MAX_LEVEL:
            raise ValidationError(
                f"Categories nest at most {CATEGORY_MAX_LEVEL} levels deep; under “{parent}” "
                f"this would reach level {parent.level + depth}."
            )
        return parent


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    form = CategoryAdminForm
    list_display = ("tree_name", "slug", "level", "is_active")
    list_filter = ("is_active", "level")
    search_fields = ("name", "slug")
    ordering = ("path",)
    prepopulated_fields = {"slug": ("name",)}

    @admin.display(description="name", ordering="path")
    def tree_name(self, obj):
        return format_html("{}{}", "\u2003" * (obj.level - 1), obj.name)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        obj.refresh_from_db(fields=["level", "path"])


class ModuleInline(admin.TabularInline):
    model = Module
    extra = 0
    ordering = ("position",)
    fields = ("position", "title", "estimated_duration_minutes")
    show_change_link = True


class PrerequisiteInline(admin.TabularInline):
    model = CoursePrerequisite
    fk_name = "course"
    extra = 0
    autocomplete_fields = ("prerequisite",)


class CourseAdminForm(forms.ModelForm):
    thumbnail_url = forms.URLField(required=False, assume_scheme="https")
    preview_video_url = forms.URLField(required=False, assume_scheme="https")

    class Meta:
        model = Course
        fields = (
            "title",
            "slug",
            "short_description",
            "description",
            "category",
            "level",
            "language",
            "price_minor",
            "currency",
            "access_type",
            "estimated_duration_minutes",
            "learning_objectives",
            "tags",
            "thumbnail_url",
            "preview_video_url",
            "visibility",
            "is_featured",
            "seo_title",
            "seo_description",
            "meta_keywords",
            "instructor",
            "max_enrollments",
        )

    def clean(self):
        cleaned = super().clean()
        access_type, price = cleaned.get("access_type"), cleaned.get("price_minor")
        if access_type == "free" and price:
            self.add_error("price_minor", "A free course has price 0.")
        if access_type in ("paid", "subscription") and not price:
            self.add_error("price_minor", "Paid and subscription courses need a price above 0.")
        return cleaned


@admin.register(Course)
class CourseAdmin(GuardedModelAdminMixin, admin.ModelAdmin):
    form = CourseAdminForm
    list_display = ("title", "status", "visibility", "category", "instructor", "deleted_at")
    list_filter = ("status", "visibility", "level", "access_type", "is_featured")
    search_fields = ("title", "slug")
    autocomplete_fields = ("category", "instructor")
    readonly_fields = ("status", "published_at", "deleted_at", "created_by")
    prepopulated_fields = {"slug": ("title",)}
    inlines = [ModuleInline, PrerequisiteInline]
    actions = ["send_to_review", "publish", "archive"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def _transition(self, request, queryset, to_status: str) -> None:
        done, refused = 0, []
        for course in queryset:
            try:
                with transaction.atomic():
                    services.course_transition(
                        actor=request.user, course=course, to_status=to_status
                    )
                done += 1
            except DomainError as exc:
                refused.append(f"{course}: {exc.message}")
        if done:
            self.message_user(request, f"{done} course(s) now {to_status}.")
        for message in refused:
            self.message_user(request, message, level=messages.ERROR)

    @admin.action(description="Send to review")
    def send_to_review(self, request, queryset):
        self._transition(request, queryset, "review")

    @admin.action(description="Publish (from review)")
    def publish(self, request, queryset):
        self._transition(request, queryset, "published")

    @admin.action(description="Archive")
    def archive(self, request, queryset):
        self._transition(request, queryset, "archived")


class LessonAdminForm(forms.ModelForm):
    video_url = forms.URLField(required=False, assume_scheme="https")

    class Meta:
        model = Lesson
        fields = (
            "module",
            "title",
            "content",
            "lesson_type",
            "position",
            "duration_minutes",
            "video_url",
            "is_preview",
            "unlock_conditions",
        )

    def clean(self):
        cleaned = super().clean()
        conditions = cleaned.get("unlock_conditions")
        module = cleaned.get("module") or getattr(self.instance, "module", None)
        if conditions is None or module is None or "unlock_conditions" in self.errors:
            return cleaned
        messages_ = schema_errors(UNLOCK_CONDITIONS_SCHEMA, conditions)
        if not messages_:
            probe = Lesson(pk=self.instance.pk, module=module, unlock_conditions=conditions)
            probe._state.adding = self.instance._state.adding
            messages_ = services.lesson_unlock_errors(probe, conditions)
        if messages_:
            self.add_error("unlock_conditions", messages_)
        return cleaned


class LessonInline(admin.TabularInline):
    model = Lesson
    form = LessonAdminForm
    extra = 0
    ordering = ("position",)
    fields = ("position", "title", "lesson_type", "duration_minutes", "is_preview")
    show_change_link = True


@admin.register(Module)
class ModuleAdmin(admin.ModelAdmin):
    list_display = ("title", "course", "position")
    search_fields = ("title", "course__title")
    autocomplete_fields = ("course",)
    inlines = [LessonInline]


class InteractiveInline(admin.StackedInline):
    model = InteractiveContent
    form = InteractiveContentAdminForm
    extra = 0


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    form = LessonAdminForm
    list_display = ("title", "module", "lesson_type", "position", "is_preview")
    list_filter = ("lesson_type", "is_preview")
    search_fields = ("title", "module__title", "module__course__title")
    autocomplete_fields = ("module",)
    inlines = [InteractiveInline]


@admin.register(InteractiveContent)
class InteractiveContentAdmin(admin.ModelAdmin):
    form = InteractiveContentAdminForm
    list_display = ("title", "content_type", "lesson")
    list_filter = ("content_type",)
    search_fields = ("title", "lesson__title")
    autocomplete_fields = ("lesson",)


class ObjectiveInline(admin.TabularInline):
    model = Objective
    extra = 0
    ordering = ("position",)


class LessonPlanAdminForm(forms.ModelForm):
    class Meta:
        model = LessonPlan
        fields = (
            "owner",
            "title",
            "subject_category",
            "grade_level",
            "week_of",
            "content_area",
            "lesson_data",
            "materials",
            "activities",
            "assessment_criteria",
            "feedback",
            "status",
            "tags",
            "related_plans",
        )

    def clean(self):
        cleaned = super().clean()
        for field, schema in (
            ("lesson_data", LESSON_DATA_SCHEMA),
            ("materials", STRING_LIST_SCHEMA),
            ("assessment_criteria", STRING_LIST_SCHEMA),
            ("activities", ACTIVITIES_SCHEMA),
        ):
            if field in cleaned and field not in self.errors:
                problems = schema_errors(schema, cleaned[field])
                if problems:
                    self.add_error(field, problems)
        week_of = cleaned.get("week_of")
        if week_of is not None and week_of.weekday() != 0:
            self.add_error("week_of", "Choose the Monday of the week.")
        return cleaned


@admin.register(LessonPlan)
class LessonPlanAdmin(admin.ModelAdmin):
    form = LessonPlanAdminForm
    list_display = ("title", "owner", "week_of", "status", "grade_level")
    list_filter = ("status", "grade_level")
    search_fields = ("title", "owner__email")
    autocomplete_fields = ("owner", "subject_category")
    inlines = [ObjectiveInline]
