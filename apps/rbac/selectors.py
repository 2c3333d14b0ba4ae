"""The one permission check (`user_can`), its explanation, and rbac reads.

Rules (docs/adr/0006-rbac.md):
- Inactive, deleted and anonymous users hold nothing; active superusers hold everything.
- A live grant (not revoked, started, not expired) gives its role's permissions and those of
  every ancestor role.
- A global grant applies everywhere; a scoped grant applies to objects whose `rbac_scopes()`
  include its (scope_type, scope_id). Without an object only global grants count.
- A django-guardian object permission whose codename is the rbac permission name
  ("course.edit") on that very object allows too.
- Effective permissions are read in one query and cached on the user object (one request).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from uuid import UUID

from django.db import connection, models
from django.utils import timezone
from guardian.core import ObjectPermissionChecker

from apps.rbac.models import Permission, Role, RoleGrant, ScopeType

Scope = tuple[str, UUID | None]
GLOBAL_SCOPE: Scope = (ScopeType.GLOBAL.value, None)

_EFFECTIVE_ATTR = "_rbac_effective_permissions"
_GUARDIAN_ATTR = "_rbac_guardian_checker"

# Live grants of one user, each followed up its role's parent chain, joined to the permissions
# of every role on the chain. The depth bound only guards against a cycle the trigger forbids.
_EFFECTIVE_SQL = """
WITH RECURSIVE live AS (
    SELECT g.id, g.role_id, g.scope_type, g.scope_id
    FROM "rbac"."role_grant" g
    WHERE g.user_id = %(user_id)s
      AND g.revoked_at IS NULL
      AND g.valid_from <= %(at)s
      AND (g.expires_at IS NULL OR g.expires_at > %(at)s)
), chain(grant_id, role_id, depth) AS (
    SELECT live.id, live.role_id, 0 FROM live
    UNION ALL
    SELECT chain.grant_id, r.parent_id, chain.depth + 1
    FROM chain JOIN "rbac"."role" r ON r.id = chain.role_id
    WHERE r.parent_id IS NOT NULL AND chain.depth < 64
)
SELECT DISTINCT live.scope_type, live.scope_id, p.name
FROM chain
JOIN live ON live.id = chain.grant_id
JOIN "rbac"."role_permission" rp ON rp.role_id = chain.role_id
JOIN "rbac"."permission" p ON p.id = rp.permission_id
"""

_ANCESTORS_SQL = """
WITH RECURSIVE ancestors(id, parent_id) AS (
    SELECT r.id, r.parent_id FROM "rbac"."role" r WHERE r.id = %s
    UNION
    SELECT r.id, r.parent_id FROM "rbac"."role" r JOIN ancestors a ON r.id = a.parent_id
)
SELECT id FROM ancestors
"""


def permission_name(action: str, resource: str) -> str:
    return f"{resource}.{action}"


def user_is_eligible(user) -> bool:
    """Whether `user` may hold roles at all: authenticated, active and not soft-deleted."""
    return (
        user is not None
        and bool(getattr(user, "is_authenticated", False))
        and bool(getattr(user, "is_active", False))
        and getattr(user, "deleted_at", None) is None
    )


def user_cache_clear(user) -> None:
    """Forget what was cached on this user object (services call it after a grant changes)."""
    user.__dict__.pop(_EFFECTIVE_ATTR, None)
    user.__dict__.pop(_GUARDIAN_ATTR, None)


def role_ancestor_ids(*, role: Role) -> set[UUID]:
    """Ids of `role` and all its ancestors, in one query."""
    with connection.cursor() as cursor:
        cursor.execute(_ANCESTORS_SQL, [role.pk])
        return {row[0] for row in cursor.fetchall()}


def object_scopes(obj) -> set[Scope]:
    """The scopes `obj` falls under: global, plus what its `rbac_scopes()` returns."""
    scopes: set[Scope] = {GLOBAL_SCOPE}
    if obj is not None and callable(getattr(obj, "rbac_scopes", None)):
        for scope_type, scope_id in obj.rbac_scopes():
            if scope_id is not None and not isinstance(scope_id, UUID):
                scope_id = UUID(str(scope_id))
            scopes.add((str(scope_type), scope_id))
    return scopes


@dataclass(frozen=True)
class ScopeTarget:
    """An object in exactly one scope (what explanations are asked about by scope)."""

    scope_type: str
    scope_id: UUID | None

    def rbac_scopes(self):
        return [(self.scope_type, self.scope_id)]

    def __str__(self) -> str:
        return _scope_label(self.scope_type, self.scope_id)


@dataclass(frozen=True)
class EffectivePermissions:
    """Permission names a user holds, per scope (GLOBAL_SCOPE for global grants)."""

    by_scope: dict[Scope, frozenset[str]] = field(default_factory=dict)

    def allows(self, name: str, scopes: Iterable[Scope] = (GLOBAL_SCOPE,)) -> bool:
        return any(name in self.by_scope.get(scope, ()) for scope in scopes)

    def scopes_with(self, name: str) -> set[Scope]:
        return {scope for scope, names in self.by_scope.items() if name in names}


def user_effective_permissions(user, *, at: datetime | None = None) -> EffectivePermissions:
    """What `user`'s live grants give, per scope, in one query; cached on the user for `at=None`.

    Ineligible users get nothing (superusers are handled by the callers, not here).
    """
    if not user_is_eligible(user):
        return EffectivePermissions()
    if at is None and _EFFECTIVE_ATTR in user.__dict__:
        return user.__dict__[_EFFECTIVE_ATTR]
    by_scope: dict[Scope, set[str]] = defaultdict(set)
    with connection.cursor() as cursor:
        cursor.execute(_EFFECTIVE_SQL, {"user_id": user.pk, "at": at or timezone.now()})
        for scope_type, scope_id, name in cursor.fetchall():
            by_scope[(scope_type, scope_id)].add(name)
    effective = EffectivePermissions({scope: frozenset(names) for scope, names in by_scope.items()})
    if at is None:
        user.__dict__[_EFFECTIVE_ATTR] = effective
    return effective


def _guardian_perms(user, obj) -> set[str]:
    """Codenames of the guardian object permissions `user` (or their groups) hold on `obj`."""
    if not isinstance(obj, models.Model) or obj.pk is None:
        return set()
    checker = user.__dict__.get(_GUARDIAN_ATTR)
    if checker is None:
        checker = user.__dict__[_GUARDIAN_ATTR] = ObjectPermissionChecker(user)
    return set(checker.get_perms(obj))


def user_has_permission(user, name: str, obj=None) -> bool:
    """`user_can` with the permission given by name ("course.edit")."""
    if not user_is_eligible(user):
        return False
    if user.is_superuser:
        return True
    if user_effective_permissions(user).allows(name, object_scopes(obj)):
        return True
    return name in _guardian_perms(user, obj)


def user_can(user, action: str, resource: str, obj=None) -> bool:
    """Whether `user` may do `action` on `resource` (on `obj`, if given): the one check."""
    return user_has_permission(user, permission_name(action, resource), obj)


def user_permission_scopes(user, name: str) -> set[Scope]:
    """The scopes in which `user` holds `name` through grants (to filter lists by scope)."""
    if not user_is_eligible(user):
        return set()
    if user.is_superuser:
        return {GLOBAL_SCOPE}
    return user_effective_permissions(user).scopes_with(name)


# -- explanation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    """One line of an explanation: why something allows, or why it does not."""

    code: str
    message: str
    grant_id: UUID | None = None
    role: str | None = None
    via_role: str | None = None
    scope_type: str | None = None
    scope_id: UUID | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PermissionExplanation:
    user_id: UUID | None
    permission: str
    scopes: tuple[Scope, ...]
    allowed: bool
    reasons: tuple[Reason, ...]
    denials: tuple[Reason, ...]

    def as_dict(self) -> dict:
        return {
            "user_id": self.user_id,
            "permission": self.permission,
            "scopes": [{"scope_type": t, "scope_id": i} for t, i in self.scopes],
            "allowed": self.allowed,
            "reasons": [r.as_dict() for r in self.reasons],
            "denials": [r.as_dict() for r in self.denials],
        }


def _scope_label(scope_type: str, scope_id) -> str:
    return "global" if scope_type == ScopeType.GLOBAL else f"{scope_type} {scope_id}"


def _explain_grant(grant: RoleGrant, name: str, chain: list[Role], holders: dict, scopes, at):
    """(allowing Reason or None, denying Reason or None) for one grant."""
    role = grant.role
    common = {
        "grant_id": grant.pk,
        "role": role.name,
        "scope_type": grant.scope_type,
        "scope_id": grant.scope_id,
    }
    label = _scope_label(grant.scope_type, grant.scope_id)
    via = next((r for r in chain if name in holders.get(r.pk, ())), None)
    if via is None:
        names = ", ".join(r.name for r in chain)
        return None, Reason(
            "role_lacks_permission",
            f"Role {role.name} ({label}) does not include {name}; roles checked: {names}.",
            **common,
        )
    common["via_role"] = via.name
    status = grant.status(at)
    if status == "revoked":
        return None, Reason(
            "grant_revoked",
            f"Grant of {role.name} ({label}) was revoked on {grant.revoked_at}.",
            **common,
        )
    if status == "future":
        return None, Reason(
            "grant_not_yet_valid",
            f"Grant of {role.name} ({label}) starts on {grant.valid_from}.",
            **common,
        )
    if status == "expired":
        return None, Reason(
            "grant_expired",
            f"Grant of {role.name} ({label}) expired on {grant.expires_at}.",
            **common,
        )
    if (grant.scope_type, grant.scope_id) not in scopes:
        where = (
            "no object was given, so only global grants count"
            if scopes == {GLOBAL_SCOPE}
            else "the object is not in that scope"
        )
        return None, Reason(
            "scope_mismatch", f"Grant of {role.name} is scoped to {label}; {where}.", **common
        )
    inherited = "" if via.pk == role.pk else f", inherited from {via.name}"
    return Reason(
        "role_grant", f"Role {role.name} ({label}) includes {name}{inherited}.", **common
    ), None


def permission_explain(
    user, action: str, resource: str, obj=None, *, at: datetime | None = None
) -> PermissionExplanation:
    """Why `user_can(user, action, resource, obj)` answers as it does, grant by grant.

    Not for hot paths: it reads all of the user's grants, revoked and expired ones included.
    """
    name = permission_name(action, resource)
    at = at or timezone.now()
    scopes = object_scopes(obj)
    reasons: list[Reason] = []
    denials: list[Reason] = []

    def result() -> PermissionExplanation:
        ordered = tuple(sorted(scopes, key=lambda s: (s[0] != ScopeType.GLOBAL, s[0], str(s[1]))))
        return PermissionExplanation(
            getattr(user, "pk", None), name, ordered, bool(reasons), tuple(reasons), tuple(denials)
        )

    if not Permission.objects.filter(name=name).exists():
        denials.append(Reason("unknown_permission", f"No permission is named {name}."))
    if user is None or not getattr(user, "is_authenticated", False):
        denials.append(Reason("anonymous", "Anonymous users have no permissions."))
        return result()
    if getattr(user, "deleted_at", None) is not None:
        denials.append(Reason("user_deleted", f"{user} was deleted on {user.deleted_at}."))
        return result()
    if not user.is_active:
        denials.append(Reason("user_inactive", f"{user} is inactive."))
        return result()
    if user.is_superuser:
        reasons.append(Reason("superuser", f"{user} is a superuser: every permission."))

    grants = list(RoleGrant.objects.filter(user=user).select_related("role"))
    if grants:
        roles = {role.pk: role for role in Role.objects.all()}
        holders: dict[UUID, set[str]] = defaultdict(set)
        for role_id, permission in Role.permissions.through.objects.values_list(
            "role_id", "permission__name"
        ):
            holders[role_id].add(permission)
        for grant in grants:
            chain, role = [], roles.get(grant.role_id)
            while role is not None and role not in chain:
                chain.append(role)
                role = roles.get(role.parent_id)
            allow, deny = _explain_grant(grant, name, chain, holders, scopes, at)
            if allow:
                reasons.append(allow)
            if deny:
                denials.append(deny)
    else:
        denials.append(Reason("no_grants", f"{user} holds no roles."))

    if name in _guardian_perms(user, obj):
        reasons.append(
            Reason("object_permission", f"{user} holds the object permission {name} on {obj}.")
        )
    return result()


# -- reads for admin and API ---------------------------------------------------------------


def grant_list(*, user=None) -> models.QuerySet[RoleGrant]:
    """Grants, newest first, with user, role and actors joined."""
    queryset = RoleGrant.objects.select_related("user", "role", "granted_by", "revoked_by")
    if user is not None:
        queryset = queryset.filter(user=user)
    return queryset
