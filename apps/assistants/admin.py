from django import forms
from django.contrib import admin
from django.utils import timezone

from apps.assistants.models import (
    AssistantCapability,
    AssistantProfile,
    Conversation,
    MemoryInteraction,
    MemoryPreference,
    Message,
    UsageRecord,
    UserMemory,
)


class CapabilityInline(admin.TabularInline):
    model = AssistantCapability
    extra = 0
    fields = ("name", "description", "is_enabled", "priority", "version", "parameters")


class AssistantProfileForm(forms.ModelForm):
    """The provider key is write-only: never shown again; blank keeps the stored one."""

    api_key = forms.CharField(
        label="Provider API key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Encrypted at rest. Leave blank to keep the current key; tick the box to remove.",
    )
    clear_api_key = forms.BooleanField(label="Remove the stored API key", required=False)

    class Meta:
        model = AssistantProfile
        fields = [
            f.name
            for f in AssistantProfile._meta.get_fields()
            if getattr(f, "editable", False) and not f.auto_created and f.concrete
        ]

    def clean_api_key(self):
        key = self.cleaned_data["api_key"]
        return key or (self.instance.api_key if self.instance.pk else "")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("clear_api_key"):
            cleaned["api_key"] = ""
        return cleaned


@admin.register(AssistantProfile)
class AssistantProfileAdmin(admin.ModelAdmin):
    form = AssistantProfileForm
    list_display = ("name", "model_version", "provider", "is_active", "temperature", "updated_at")
    list_filter = ("is_active", "provider")
    search_fields = ("name", "description")
    filter_horizontal = ("categories",)
    inlines = [CapabilityInline]


class ExpiryFilter(admin.SimpleListFilter):
    title = "expiry"
    parameter_name = "expiry"

    def lookups(self, request, model_admin):
        return [
            ("never", "Never expires"),
            ("week", "Expires within a week"),
            ("expired", "Expired (awaiting the expiry task)"),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "never":
            return queryset.filter(expires_at__isnull=True)
        if self.value() == "week":
            return queryset.filter(expires_at__gt=now, expires_at__lte=now + timezone.timedelta(7))
        if self.value() == "expired":
            return queryset.filter(expires_at__lte=now)
        return queryset


class ForgottenFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("live", "Live"), ("forgotten", "Forgotten")]

    def queryset(self, request, queryset):
        if self.value() == "live":
            return queryset.filter(forgotten_at__isnull=True)
        if self.value() == "forgotten":
            return queryset.filter(forgotten_at__isnull=False)
        return queryset


@admin.register(UserMemory)
class UserMemoryAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "user",
        "profile",
        "category",
        "importance",
        "confidence",
        "source",
        "expires_at",
        "forgotten_at",
    )
    list_filter = ("profile", "category", "source", ExpiryFilter, ForgottenFilter)
    search_fields = ("user__email", "content", "category")
    raw_id_fields = ("user",)
    list_select_related = ("user", "profile")
    readonly_fields = ("version", "last_accessed_at", "forgotten_at", "created_at", "updated_at")


@admin.register(MemoryInteraction)
class MemoryInteractionAdmin(admin.ModelAdmin):
    list_display = ("created_at", "interaction_type", "user", "memory", "success", "duration_ms")
    list_filter = ("interaction_type", "success")
    search_fields = ("user__email",)
    raw_id_fields = ("user", "memory")
    list_select_related = ("user", "memory")
    date_hierarchy = "created_at"


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    can_delete = False
    fields = ("role", "content", "prompt_tokens", "completion_tokens", "latency_ms", "error_code")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("title", "user", "profile", "last_error_code", "updated_at")
    list_filter = ("profile", "last_error_code")
    search_fields = ("user__email", "title")
    raw_id_fields = ("user",)
    list_select_related = ("user", "profile")
    inlines = [MessageInline]


@admin.register(UsageRecord)
class UsageRecordAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "user",
        "profile",
        "provider",
        "model",
        "prompt_tokens",
        "completion_tokens",
        "latency_ms",
        "attempts",
        "success",
        "error_code",
    )
    list_filter = ("provider", "success", "profile", "error_code")
    search_fields = ("user__email", "model")
    raw_id_fields = ("user", "conversation")
    list_select_related = ("user", "profile")
    date_hierarchy = "created_at"

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(MemoryPreference)
class MemoryPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "memory_enabled", "updated_at")
    list_filter = ("memory_enabled",)
    raw_id_fields = ("user",)
