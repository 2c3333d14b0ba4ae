"""The rbac permission check as a Django authentication backend.

`user.has_perm("rbac:course.edit", obj)` asks `user_has_permission(user, "course.edit", obj)`.
Only permissions with the `rbac:` prefix are answered here; for them this backend is the
authority: it returns True or raises PermissionDenied, which makes Django answer False without
asking later backends (guardian's backend would reject the dotted name for another app's
object). Guardian object permissions are consulted inside the check itself.
"""

from django.contrib.auth.backends import BaseBackend
from django.core.exceptions import PermissionDenied

from apps.rbac.selectors import user_has_permission

PREFIX = "rbac:"


class RBACBackend(BaseBackend):
    def authenticate(self, request, **credentials):
        return None  # permissions only; ModelBackend authenticates

    def has_perm(self, user_obj, perm, obj=None) -> bool:
        if not isinstance(perm, str) or not perm.startswith(PREFIX):
            return False
        if user_has_permission(user_obj, perm.removeprefix(PREFIX), obj):
            return True
        raise PermissionDenied
