"""Writes owned by rbac: roles and grants. Every write is atomic and recorded by pghistory."""

from datetime import datetime
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.audit.services import domain_event_record
from apps.core.exceptions import ConflictError, DomainError
from apps.rbac.builtin import builtin_sync
from apps.rbac.models import Permission, Role, RoleGrant, RolePermission, ScopeType
from apps.rbac.selectors import role_ancestor_ids, user_cache_clear, user_is_eligible


def _raise_cycle(role: Role, parent: Role) -> None:
    raise DomainError(
        f"Role {parent.name!r} cannot be the parent of {role.name!r}: "
        f"{role.name!r} would become its own ancestor.",
        code="role_cycle",
        fields={"parent": ["This parent would create a cycle in the role hierarchy."]},
    )


def role_validate_parent(*, role: Role, parent: Role | None) -> None:
    """Raise DomainError(code="role_cycle") when `parent` would make `role` its own ancestor."""
    if parent is None or role.pk is None:
        return
    if parent.pk == role.pk or role.pk in role_ancestor_ids(role=parent):
        _raise_cycle(role, parent)


@transaction.atomic
def role_create(
    *,
    name: str,
    display_name: str,
    description: str = "",
    parent: Role | None = None,
    level: int = 0,
    permissions: list[Permission] | tuple[Permission, ...] = (),
) -> Role:
    """Create a (non-system) role with its own permissions. Raises ValidationError."""
    role = Role(
        name=name, display_name=display_name, description=description, parent=parent, level=level
    )
    role.full_clean()
    role.save()
    for permission in permissions:
        RolePermission.objects.create(role=role, permission=permission)
    return role


@transaction.atomic
def role_set_parent(*, role: Role, parent: Role | None) -> Role:
    """Move `role` under `parent`. Raises DomainError(code="role_cycle")."""
    role_validate_parent(role=role, parent=parent)
    role.parent = parent
    role.save(update_fields=["parent", "updated_at"])
    return role


@transaction.atomic
def role_delete(*, role: Role) -> None:
    """Delete a role. Raises DomainError for system roles, ConflictError if it was ever granted."""
    if role.is_system:
        raise DomainError(
            f"Role {role.name!r} is a system role and cannot be deleted.", code="system_role"
        )
    if role.grants.exists() or role.children.exists():
        raise ConflictError(
            f"Role {role.name!r} has grants or child roles; revoke or move them first.",
            code="role_in_use",
        )
    role.delete()


def _grant_scope(scope_type: str, scope_id: UUID | None) -> tuple[str, UUID | None]:
    if scope_type not in ScopeType.values:
        raise DomainError(
            f"Unknown scope type {scope_type!r}.",
            fields={"scope_type": [f"Choose one of {', '.join(ScopeType.values)}."]},
        )
    if (scope_type == ScopeType.GLOBAL) != (scope_id is None):
        raise DomainError(
            "A global grant has no scope id; category and course grants need one.",
            fields={"scope_id": ["Give a scope id exactly when the scope is not global."]},
        )
    return scope_type, scope_id


@transaction.atomic
def grant_create(
    *,
    user,
    role: Role,
    granted_by=None,
    scope_type: str = ScopeType.GLOBAL,
    scope_id: UUID | None = None,
    valid_from: datetime | None = None,
    expires_at: datetime | None = None,
) -> RoleGrant:
    """Give `user` the `role` in a scope for a period.

    Raises DomainError (inactive or deleted user, bad scope, expires_at not after valid_from)
    and ConflictError (a live grant of the same role and scope overlaps the period).
    """
    scope_type, scope_id = _grant_scope(scope_type, scope_id)
    if not user_is_eligible(user):
        raise DomainError(
            f"{user} is inactive or deleted and cannot receive roles.",
            code="user_inactive",
            fields={"user": ["This user is inactive or deleted."]},
        )
    valid_from = valid_from or timezone.now()
    if expires_at is not None and expires_at <= valid_from:
        raise DomainError(
            "The grant must expire after it starts.",
            fields={"expires_at": ["Must be later than valid_from."]},
        )
    grant = RoleGrant(
        user=user,
        role=role,
        scope_type=scope_type,
        scope_id=scope_id,
        valid_from=valid_from,
        expires_at=expires_at,
        granted_by=granted_by,
    )
    try:
        grant.validate_constraints()
    except ValidationError as exc:
        raise ConflictError(
            f"{user} already holds {role.name} ({grant.scope_label}) for an overlapping period.",
            code="duplicate_grant",
        ) from exc
    try:
        # A savepoint, so a concurrent duplicate caught by the database leaves the caller's
        # transaction usable.
        with transaction.atomic():
            grant.save(force_insert=True)
    except IntegrityError as exc:
        raise ConflictError(
            f"{user} already holds {role.name} ({grant.scope_label}) for an overlapping period.",
            code="duplicate_grant",
        ) from exc
    domain_event_record(
        aggregate_type="user",
        aggregate_id=user.pk,
        event_type="role.granted",
        actor=granted_by,
        data={
            "grant": str(grant.pk),
            "role": role.name,
            "scope_type": grant.scope_type,
            "scope_id": str(grant.scope_id) if grant.scope_id else None,
            "valid_from": grant.valid_from.isoformat(),
            "expires_at": grant.expires_at.isoformat() if grant.expires_at else None,
        },
    )
    user_cache_clear(user)
    return grant


@transaction.atomic
def grant_ensure(
    *,
    user,
    role: Role,
    granted_by=None,
    scope_type: str = ScopeType.GLOBAL,
    scope_id: UUID | None = None,
) -> tuple[RoleGrant, bool]:
    """An active open-ended grant of `role` in the scope, created when missing; idempotent.

    Returns (grant, created). Raises what grant_create raises.
    """
    existing = (
        RoleGrant.objects.active()
        .filter(user=user, role=role, scope_type=scope_type, scope_id=scope_id)
        .first()
    )
    if existing is not None:
        return existing, False
    grant = grant_create(
        user=user, role=role, granted_by=granted_by, scope_type=scope_type, scope_id=scope_id
    )
    return grant, True


@transaction.atomic
def grant_revoke(*, grant: RoleGrant, revoked_by=None) -> RoleGrant:
    """Revoke a grant (recorded, not deleted). Raises ConflictError if it is already revoked."""
    given = grant
    grant = RoleGrant.objects.select_for_update().get(pk=given.pk)
    if grant.revoked_at is not None:
        raise ConflictError(f"The grant was already revoked on {grant.revoked_at:%Y-%m-%d %H:%M}.")
    grant.revoked_at = timezone.now()
    grant.revoked_by = revoked_by
    grant.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
    domain_event_record(
        aggregate_type="user",
        aggregate_id=grant.user_id,
        event_type="role.revoked",
        actor=revoked_by,
        data={"grant": str(grant.pk), "role": grant.role.name},
    )
    if RoleGrant.user.is_cached(given):
        user_cache_clear(given.user)
    return grant


@transaction.atomic
def rbac_builtin_sync() -> None:
    """Create or refresh the built-in permissions and roles (also run by migration 0002)."""
    builtin_sync(permission_model=Permission, role_model=Role, role_permission_model=RolePermission)
