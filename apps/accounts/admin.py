from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.utils import timezone

from apps.accounts import selectors, services
from apps.accounts.models import (
    PersonalAccessToken,
    TeacherProfile,
    TOTPDevice,
    User,
    UserPreferences,
)


class UserCreationAdminForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "username")


class UserChangeAdminForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class PreferencesInline(admin.StackedInline):
    model = UserPreferences
    can_delete = False
    extra = 0


class TeacherProfileInline(admin.StackedInline):
    model = TeacherProfile
    can_delete = False
    extra = 0


class DeletedFilter(admin.SimpleListFilter):
    title = "account"
    parameter_name = "account"

    def lookups(self, request, model_admin):
        return [("live", "Not deleted"), ("deleted", "Deleted"), ("all", "All")]

    def choices(self, changelist):
        # "Not deleted" is the default: deleted users leave lists unless asked for.
        for lookup, title in self.lookup_choices:
            yield {
                "selected": (self.value() or "live") == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or "live"
        if value == "live":
            return queryset.filter(deleted_at__isnull=True)
        if value == "deleted":
            return queryset.filter(deleted_at__isnull=False)
        return queryset


class LockedFilter(admin.SimpleListFilter):
    title = "login lockout"
    parameter_name = "locked"

    def lookups(self, request, model_admin):
        return [("yes", "Has failed logins")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            emails = AccessAttempt.objects.values_list("username", flat=True)
            return queryset.filter(email__in=emails)
        return queryset


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeAdminForm
    add_form = UserCreationAdminForm
    inlines = [PreferencesInline, TeacherProfileInline]
    ordering = ("email",)
    list_display = (
        "email",
        "username",
        "first_name",
        "last_name",
        "is_staff",
        "is_active",
        "is_email_verified",
        "deleted_at",
    )
    list_filter = (
        DeletedFilter,
        LockedFilter,
        "is_staff",
        "is_superuser",
        "is_active",
        "is_email_verified",
        "groups",
    )
    # The phone is encrypted: a search term that is a whole phone number matches its blind index.
    search_fields = ("email", "username", "first_name", "last_name")
    readonly_fields = (
        "last_login",
        "date_joined",
        "created_at",
        "updated_at",
        "deleted_at",
        "email_verified_at",
        "phone_verified_at",
    )
    actions = ["unlock", "soft_delete", "restore"]
    fieldsets = (
        (None, {"fields": ("email", "username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "phone", "date_of_birth")}),
        (
            "Verification",
            {"fields": ("is_email_verified", "email_verified_at", "phone_verified_at")},
        ),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (
            "Dates",
            {"fields": ("last_login", "date_joined", "created_at", "updated_at", "deleted_at")},
        ),
    )
    add_fieldsets = (
        (
            None,
            {"classes": ("wide",), "fields": ("email", "username", "password1", "password2")},
        ),
    )

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip().startswith("+"):
            results |= queryset.filter(pk__in=selectors.users_with_phone(phone=search_term))
        return results, may_have_duplicates

    def has_delete_permission(self, request, obj=None):
        # Users are soft-deleted (history and audit stay); use the "Delete accounts" action.
        return False

    @admin.action(description="Unlock: clear failed logins and lockouts")
    def unlock(self, request, queryset):
        cleared = sum(services.user_unlock(user=user) for user in queryset)
        self.message_user(
            request,
            f"Unlocked {queryset.count()} account(s) ({cleared} failed-login record(s) cleared).",
        )

    @admin.action(description="Delete accounts (soft: they can be restored)")
    def soft_delete(self, request, queryset):
        for user in queryset:
            services.user_soft_delete(user=user)
        self.message_user(
            request, f"Deleted {queryset.count()} account(s) at {timezone.now():%Y-%m-%d %H:%M}."
        )

    @admin.action(description="Restore deleted accounts")
    def restore(self, request, queryset):
        for user in queryset:
            services.user_restore(user=user)
        self.message_user(request, f"Restored {queryset.count()} account(s).")


@admin.register(PersonalAccessToken)
class PersonalAccessTokenAdmin(admin.ModelAdmin):
    """Users make their own tokens (the plaintext is shown to them once); staff see and revoke."""

    list_display = ("name", "prefix", "user", "scope", "created_at", "expires_at", "last_used_at")
    list_filter = ("revoked_at", "expires_at")
    search_fields = ("name", "prefix", "user__email")
    list_select_related = ("user",)
    readonly_fields = [f.name for f in PersonalAccessToken._meta.fields if f.name != "token_hash"]
    exclude = ("token_hash",)
    actions = ("revoke",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            services.personal_access_token_revoke(token=token)
        self.message_user(request, f"Revoked {queryset.count()} token(s).")


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(admin.ModelAdmin):
    """Users enrol their own authenticator; staff see who has one, rename or unconfirm it, and
    delete it (a reset: the user enrols again). The secret is never shown or editable here."""

    list_display = ("name", "user", "confirmed", "created_at", "last_used_at")
    list_filter = ("confirmed",)
    search_fields = ("name", "user__email")
    list_select_related = ("user",)
    fields = ("user", "name", "confirmed", "created_at", "last_used_at", "throttling_failure_count")
    readonly_fields = ("user", "created_at", "last_used_at", "throttling_failure_count")

    def has_add_permission(self, request):
        return False
