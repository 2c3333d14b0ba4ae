"""DRF permission classes backed by the rbac check."""

from rest_framework.permissions import BasePermission

from apps.rbac.selectors import user_has_permission, user_is_eligible, user_permission_scopes


class HasRBACPermission(BasePermission):
    """The view's `required_permission` ("course.edit") must be held.

    On the view: held in some scope (the view should narrow its queryset with
    `user_permission_scopes`); on an object: held for that object (its `rbac_scopes()`).
    """

    message = "You do not have permission to perform this action."

    def has_permission(self, request, view) -> bool:
        name = view.required_permission
        return user_has_permission(request.user, name) or bool(
            user_permission_scopes(request.user, name)
        )

    def has_object_permission(self, request, view, obj) -> bool:
        return user_has_permission(request.user, view.required_permission, obj)


class IsStaff(BasePermission):
    """Active staff members only."""

    message = "Only staff members may do this."

    def has_permission(self, request, view) -> bool:
        return user_is_eligible(request.user) and request.user.is_staff
