"""RBAC in Django admin: permissions, roles (with permissions inline), grants, explanations.

The explanation page is `admin:rbac_explain` (/admin/rbac/rolegrant/explain/?user=<uuid>&...),
linkable from the user change page.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from apps.accounts.admin import UserAdmin as AccountsUserAdmin
from apps.core.exceptions import DomainError
from apps.rbac.models import Permission, Role, RoleGrant, RolePermission, ScopeType
from apps.rbac.selectors import ScopeTarget, permission_explain
from apps.rbac.services import grant_create, grant_revoke, role_validate_parent


@admin.register(Permission)
class PermissionAdmin(admin.ModelAdmin):
    list_display = ("name", "resource", "action", "description")
    list_filter = ("resource",)
    search_fields = ("name", "description")
    readonly_fields = ("name", "created_at", "updated_at")
    fields = ("name", "resource", "action", "description", "created_at", "updated_at")


class RolePermissionInline(admin.TabularInline):
    model = RolePermission
    extra = 1
    autocomplete_fields = ("permission",)
    fields = ("permission", "created_at")
    readonly_fields = ("created_at",)


class RoleAdminForm(forms.ModelForm):
    class Meta:
        model = Role
        fields = ("name", "display_name", "description", "parent", "level", "is_system")

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        try:
            role_validate_parent(role=self.instance, parent=parent)
        except DomainError as exc:
            raise ValidationError(exc.message, code=exc.code) from exc
        return parent

    def clean_name(self):
        name = self.cleaned_data["name"]
        if self.instance.pk and self.instance.is_system and name != self.instance.name:
            raise ValidationError("System roles cannot be renamed.")
        return name


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    form = RoleAdminForm
    inlines = (RolePermissionInline,)
    list_display = ("name", "display_name", "parent", "level", "is_system")
    list_filter = ("is_system",)
    search_fields = ("name", "display_name")
    readonly_fields = ("system_note", "created_at", "updated_at")

    @admin.display(description="Deletion")
    def system_note(self, obj):
        if obj is not None and obj.is_system:
            return (
                "System role: built in, so it cannot be deleted or renamed (the database refuses)."
            )
        return "Can be deleted while no grant and no child role refers to it."

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.is_system:
            fields.append("is_system")
        return fields

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_system:
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset):
        system = list(queryset.filter(is_system=True).values_list("name", flat=True))
        if system:
            self.message_user(
                request,
                f"System roles cannot be deleted and were kept: {', '.join(system)}.",
                messages.ERROR,
            )
        super().delete_queryset(request, queryset.filter(is_system=False))


class GrantStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return (
            ("active", "Active"),
            ("future", "Not yet valid"),
            ("expired", "Expired"),
            ("revoked", "Revoked"),
        )

    def queryset(self, request, queryset):
        now = timezone.now()
        live = queryset.filter(revoked_at__isnull=True)
        match self.value():
            case "active":
                return queryset.active(now)
            case "future":
                return live.filter(valid_from__gt=now)
            case "expired":
                return live.filter(expires_at__lte=now)
            case "revoked":
                return queryset.filter(revoked_at__isnull=False)
        return queryset


class RoleGrantAddForm(forms.ModelForm):
    """Validates like `grant_create` does, so bad input is a form error, not a 500."""

    class Meta:
        model = RoleGrant
        fields = ("user", "role", "scope_type", "scope_id", "valid_from", "expires_at")

    def clean(self):
        cleaned = super().clean()
        user = cleaned.get("user")
        if user is not None and (
            not user.is_active or getattr(user, "deleted_at", None) is not None
        ):
            self.add_error("user", "This user is inactive or deleted and cannot receive roles.")
        return cleaned


@admin.register(RoleGrant)
class RoleGrantAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "role",
        "scope_type",
        "scope_id",
        "valid_from",
        "expires_at",
        "status_label",
        "granted_by",
    )
    list_filter = ("role", "scope_type", GrantStatusFilter)
    search_fields = ("user__email", "role__name", "scope_id")
    list_select_related = ("user", "role", "granted_by")
    autocomplete_fields = ("user",)
    actions = ("revoke_selected",)
    date_hierarchy = "valid_from"

    @admin.display(description="Status")
    def status_label(self, obj):
        return obj.status()

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = RoleGrantAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # Grants are not edited: revoke and grant again, so the trail stays readable.
        return (
            "user",
            "role",
            "scope_type",
            "scope_id",
            "valid_from",
            "expires_at",
            "granted_by",
            "revoked_at",
            "revoked_by",
            "created_at",
            "updated_at",
        )

    def get_fields(self, request, obj=None):
        if obj is None:
            return RoleGrantAddForm.Meta.fields
        return self.get_readonly_fields(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # revocation is recorded, never a delete

    def save_model(self, request, obj, form, change):
        if change:
            return
        grant = grant_create(
            user=obj.user,
            role=obj.role,
            granted_by=request.user,
            scope_type=obj.scope_type,
            scope_id=obj.scope_id,
            valid_from=obj.valid_from,
            expires_at=obj.expires_at,
        )
        obj.pk = grant.pk
        obj.granted_by = grant.granted_by
        obj._state.adding = False

    @admin.action(description="Revoke selected grants")
    def revoke_selected(self, request, queryset):
        revoked = 0
        for grant in queryset.filter(revoked_at__isnull=True):
            grant_revoke(grant=grant, revoked_by=request.user)
            revoked += 1
        self.message_user(request, f"Revoked {revoked} grant(s).", messages.SUCCESS)

    # -- explanation -------------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "explain/",
                self.admin_site.admin_view(self.explain_view),
                name="rbac_explain",
            ),
            *super().get_urls(),
        ]

    def explain_view(self, request):
        form = ExplainForm(request.GET or None)
        explanation = None
        subject = None
        if form.is_valid():
            data = form.cleaned_data
            subject = data["user"]
            resource, action = data["permission"].name.split(".", 1)
            target = None
            if data["scope_type"] != ScopeType.GLOBAL:
                target = ScopeTarget(data["scope_type"], data["scope_id"])
            explanation = permission_explain(subject, action, resource, target)
        context = {
            **self.admin_site.each_context(request),
            "title": "Explain a permission",
            "opts": self.model._meta,
            "form": form,
            "subject": subject,
            "explanation": explanation,
            "grants_url": (
                reverse("admin:rbac_rolegrant_changelist") + f"?user__id__exact={subject.pk}"
                if subject
                else None
            ),
        }
        return TemplateResponse(request, "admin/rbac/explain.html", context)


class ExplainForm(forms.Form):
    user = forms.UUIDField(label="User id")
    permission = forms.ModelChoiceField(queryset=Permission.objects.all(), to_field_name="name")
    scope_type = forms.ChoiceField(choices=ScopeType.choices, initial=ScopeType.GLOBAL)
    scope_id = forms.UUIDField(required=False)

    def clean_user(self):
        user = get_user_model()._default_manager.filter(pk=self.cleaned_data["user"]).first()
        if user is None:
            raise ValidationError("No user has this id.")
        return user

    def clean(self):
        cleaned = super().clean()
        scope_type = cleaned.get("scope_type")
        if scope_type and (scope_type == ScopeType.GLOBAL) != (cleaned.get("scope_id") is None):
            self.add_error("scope_id", "Give a scope id exactly when the scope is not global.")
        return cleaned


def explain_link(user) -> str:
    """An HTML link to the explanation page for `user` (for the user admin to show)."""
    url = reverse("admin:rbac_explain") + f"?user={user.pk}"
    return format_html('<a href="{}">Explain permissions</a>', url)


class RoleGrantInline(admin.TabularInline):
    """The user's grants, read-only here: grants change through the grant admin (services)."""

    model = RoleGrant
    fk_name = "user"
    extra = 0
    can_delete = False
    fields = ("role", "scope_type", "scope_id", "valid_from", "expires_at", "revoked_at")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


# The user page gains the user's grants and a link to the permission explanation. rbac extends
# the accounts admin (not the other way round) because rbac sits above accounts.
User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class UserWithGrantsAdmin(AccountsUserAdmin):
    inlines = [*AccountsUserAdmin.inlines, RoleGrantInline]
    readonly_fields = (*AccountsUserAdmin.readonly_fields, "permissions")

    @admin.display(description="Permissions")
    def permissions(self, obj):
        return explain_link(obj) if obj.pk else "-"

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return (*fieldsets, ("Roles", {"fields": ("permissions",)}))
