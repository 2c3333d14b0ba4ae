from django.contrib import admin, messages
from django.db import connection

from apps.core.exceptions import DomainError
from apps.progress import services
from apps.progress.models import Certificate, Enrollment, LessonProgress, QuizAttempt


class LessonProgressInline(admin.TabularInline):
    model = LessonProgress
    extra = 0
    fields = ("lesson", "progress_percent", "time_spent_seconds", "completed_at", "updated_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "course",
        "status",
        "enrollment_type",
        "progress_percent",
        "completed_lessons",
        "total_lessons",
        "last_accessed_at",
    )
    list_filter = ("status", "enrollment_type", "certificate_issued", "course")
    search_fields = ("user__email", "course__title", "course__slug")
    list_select_related = ("user", "course")
    readonly_fields = [f.name for f in Enrollment._meta.concrete_fields]
    inlines = [LessonProgressInline]
    actions = ["drop_selected", "reset_selected"]
    change_list_template = "admin/progress/enrollment_change_list.html"

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "activity_partitions": activity_partitions()}
        return super().changelist_view(request, extra_context=extra_context)

    def has_add_permission(self, request):
        return False  # enrollments are made by enrolling (capacity, prerequisites, payment)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Drop selected enrollments")
    def drop_selected(self, request, queryset):
        self._each(request, queryset, services.enrollment_drop, "dropped")

    @admin.action(description="Reset progress of selected enrollments")
    def reset_selected(self, request, queryset):
        self._each(request, queryset, services.enrollment_reset, "reset")

    def _each(self, request, queryset, service, verb):
        done = 0
        for enrollment in queryset:
            try:
                service(enrollment=enrollment)
                done += 1
            except DomainError as error:
                self.message_user(request, f"{enrollment}: {error.message}", messages.WARNING)
        self.message_user(request, f"{done} enrollment(s) {verb}.")


@admin.register(LessonProgress)
class LessonProgressAdmin(admin.ModelAdmin):
    list_display = (
        "enrollment",
        "lesson",
        "progress_percent",
        "time_spent_seconds",
        "completed_at",
    )
    list_select_related = ("enrollment__user", "enrollment__course", "lesson")
    search_fields = ("enrollment__user__email", "lesson__title")
    readonly_fields = [f.name for f in LessonProgress._meta.concrete_fields]

    def has_add_permission(self, request):
        return False


@admin.register(QuizAttempt)
class QuizAttemptAdmin(admin.ModelAdmin):
    list_display = ("enrollment", "quiz", "run", "number", "percent", "passed", "created_at")
    list_filter = ("passed",)
    list_select_related = ("enrollment__user", "enrollment__course", "quiz")
    search_fields = ("enrollment__user__email",)
    readonly_fields = [f.name for f in QuizAttempt._meta.concrete_fields]

    def has_add_permission(self, request):
        return False


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    list_display = ("code", "learner_name", "course_title", "issued_at", "revoked_at")
    search_fields = ("code", "learner_name", "course_title")
    readonly_fields = (
        "enrollment",
        "code",
        "issued_at",
        "learner_name",
        "course_title",
        "instructor_name",
    )

    def has_add_permission(self, request):
        return False


def activity_partitions() -> list[tuple[str, str, int]]:
    """The activity stream's partitions, their bounds and (estimated) row counts."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), c.reltuples::bigint
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'progress.activity'::regclass ORDER BY c.relname
            """
        )
        return [(name, bound, max(rows, 0)) for name, bound, rows in cursor.fetchall()]
