from django.contrib import admin

from apps.core.models import BackupRecord, IdempotencyKey, MaintenanceRun, WorkerHeartbeat


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ("hostname", "last_seen_at", "beats")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(BackupRecord)
class BackupRecordAdmin(admin.ModelAdmin):
    list_display = ("pk", "database", "started_at", "finished_at", "status", "size_bytes", "path")
    list_filter = ("status", "database")
    readonly_fields = [f.name for f in BackupRecord._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(MaintenanceRun)
class MaintenanceRunAdmin(admin.ModelAdmin):
    """Every run of a maintenance task (core.tasks, audit and progress retention)."""

    list_display = ("task", "started_at", "finished_at", "duration_seconds", "outcome")
    list_filter = ("task", "outcome")
    date_hierarchy = "started_at"
    readonly_fields = [*(f.name for f in MaintenanceRun._meta.fields), "duration_seconds"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ("key", "scope", "applied_at")
    list_filter = ("scope",)
    search_fields = ("key",)
    readonly_fields = [f.name for f in IdempotencyKey._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
