"""Roles, permissions and scoped, time-limited grants (docs/adr/0006-rbac.md).

Tables live in the `rbac` PostgreSQL schema; their history in `audit`. The database guards the
rules (CHECKs, an exclusion constraint against overlapping grants, triggers against role cycles
and against deleting system roles); services validate first to give clear errors.
"""

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators
from django.db import models
from django.db.models.functions import Coalesce, Concat
from django.utils import timezone

from apps.core.models import TimeStampedModel, UUIDModel

SLUG_PATTERN = r"^[a-z][a-z0-9_]*$"
ROLE_LEVEL_MAX = 100
# Stands in for the NULL scope_id of global grants where NULL would never compare equal.
NIL_UUID = "00000000-0000-0000-0000-000000000000"


class TsTzRange(models.Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


@pghistory.track(meta={"db_table": 'audit"."rbac_permission_event'})
class Permission(UUIDModel, TimeStampedModel):
    """What can be done: an action on a resource, named "<resource>.<action>"."""

    name = models.CharField(max_length=101, unique=True, editable=False)
    resource = models.CharField(max_length=50, help_text="Lower-case, e.g. course.")
    action = models.CharField(max_length=50, help_text="Lower-case, e.g. edit.")
    description = models.TextField(blank=True)

    class Meta(TimeStampedModel.Meta):
        db_table = 'rbac"."permission'
        ordering = ("resource", "action")
        constraints = [
            models.UniqueConstraint(
                fields=("resource", "action"), name="permission_resource_action_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(resource__regex=SLUG_PATTERN), name="permission_resource_format"
            ),
            models.CheckConstraint(
                condition=models.Q(action__regex=SLUG_PATTERN), name="permission_action_format"
            ),
            models.CheckConstraint(
                condition=models.Q(name=Concat("resource", models.Value("."), "action")),
                name="permission_name_is_resource_dot_action",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        self.name = f"{self.resource}.{self.action}"

    def save(self, *args, **kwargs) -> None:
        self.name = f"{self.resource}.{self.action}"
        super().save(*args, **kwargs)


# The parent chain of NEW, walked upwards; reaching NEW again is a cycle. UNION (not UNION ALL)
# stops on an existing cycle too. The advisory lock serialises hierarchy changes so that two
# concurrent transactions cannot each close half of a cycle.
ROLE_CYCLE_SQL = """
IF NEW.parent_id IS NOT NULL
   AND (TG_OP = 'INSERT' OR NEW.parent_id IS DISTINCT FROM OLD.parent_id) THEN
    PERFORM pg_advisory_xact_lock(hashtext('rbac.role.hierarchy'));
    IF EXISTS (
        WITH RECURSIVE ancestors(id, parent_id) AS (
            SELECT r.id, r.parent_id FROM "rbac"."role" r WHERE r.id = NEW.parent_id
            UNION
            SELECT r.id, r.parent_id FROM "rbac"."role" r JOIN ancestors a ON r.id = a.parent_id
        )
        SELECT 1 FROM ancestors WHERE id = NEW.id
    ) THEN
        RAISE EXCEPTION 'role hierarchy cycle: % cannot have parent %', NEW.name, NEW.parent_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'role_no_cycle';
    END IF;
END IF;
RETURN NEW;
"""

SYSTEM_ROLE_DELETE_SQL = """
RAISE EXCEPTION 'role % is a system role and cannot be deleted', OLD.name
    USING ERRCODE = 'restrict_violation', CONSTRAINT = 'role_system_undeletable';
"""

SYSTEM_ROLE_UPDATE_SQL = """
RAISE EXCEPTION 'role % is a system role: its name and system flag cannot change', OLD.name
    USING ERRCODE = 'restrict_violation', CONSTRAINT = 'role_system_immutable';
"""


@pghistory.track(meta={"db_table": 'audit"."rbac_role_event'})
class Role(UUIDModel, TimeStampedModel):
    """A named set of permissions; a role also holds every permission of its ancestors."""

    name = models.CharField(max_length=50, unique=True, help_text="Lower-case identifier.")
    display_name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="The role inherits all permissions of its parent and the parent's ancestors.",
    )
    level = models.PositiveSmallIntegerField(
        default=0, help_text=f"Seniority, 0 to {ROLE_LEVEL_MAX}; for display and ordering."
    )
    is_system = models.BooleanField(
        default=False, help_text="Built-in role: cannot be deleted or renamed."
    )
    permissions = models.ManyToManyField(
        Permission, through="RolePermission", related_name="roles", blank=True
    )

    class Meta(TimeStampedModel.Meta):
        db_table = 'rbac"."role'
        ordering = ("-level", "name")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(name__regex=SLUG_PATTERN), name="role_name_format"
            ),
            models.CheckConstraint(
                condition=models.Q(level__gte=0, level__lte=ROLE_LEVEL_MAX), name="role_level_range"
            ),
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("id")), name="role_not_own_parent"
            ),
        ]
        triggers = [
            *TimeStampedModel.Meta.triggers,
            pgtrigger.Trigger(
                name="role_no_cycle",
                operation=pgtrigger.Insert | pgtrigger.Update,
                when=pgtrigger.Before,
                func=ROLE_CYCLE_SQL,
            ),
            pgtrigger.Trigger(
                name="role_system_undeletable",
                operation=pgtrigger.Delete,
                when=pgtrigger.Before,
                condition=pgtrigger.Q(old__is_system=True),
                func=SYSTEM_ROLE_DELETE_SQL,
            ),
            pgtrigger.Trigger(
                name="role_system_immutable",
                operation=pgtrigger.Update,
                when=pgtrigger.Before,
                condition=pgtrigger.Q(old__is_system=True)
                & (
                    pgtrigger.Q(new__is_system=False)
                    | pgtrigger.Q(old__name__df=pgtrigger.F("new__name"))
                ),
                func=SYSTEM_ROLE_UPDATE_SQL,
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.name


@pghistory.track(meta={"db_table": 'audit"."rbac_role_permission_event'})
class RolePermission(UUIDModel, TimeStampedModel):
    """A permission a role holds directly."""

    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="role_permissions")
    permission = models.ForeignKey(
        Permission, on_delete=models.CASCADE, related_name="role_permissions"
    )

    class Meta(TimeStampedModel.Meta):
        db_table = 'rbac"."role_permission'
        constraints = [
            models.UniqueConstraint(fields=("role", "permission"), name="role_permission_unique")
        ]

    def __str__(self) -> str:
        return f"{self.role_id}: {self.permission_id}"


class ScopeType(models.TextChoices):
    GLOBAL = "global", "Global"
    CATEGORY = "category", "Subject category (and its sub-categories)"
    COURSE = "course", "Course"


class RoleGrantQuerySet(models.QuerySet):
    def active(self, at=None):
        """Grants in force at `at` (now): not revoked, started, not expired."""
        at = at or timezone.now()
        return self.filter(revoked_at__isnull=True, valid_from__lte=at).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=at)
        )


@pghistory.track(meta={"db_table": 'audit"."rbac_role_grant_event'})
class RoleGrant(UUIDModel, TimeStampedModel):
    """A role given to a user, globally or within a scope, for a period. Revoked, never deleted."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_grants"
    )
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="grants")
    scope_type = models.CharField(
        max_length=20, choices=ScopeType.choices, default=ScopeType.GLOBAL
    )
    scope_id = models.UUIDField(
        null=True, blank=True, help_text="The category or course id; empty for global grants."
    )
    valid_from = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: does not expire.")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = RoleGrantQuerySet.as_manager()

    class Meta(TimeStampedModel.Meta):
        db_table = 'rbac"."role_grant'
        ordering = ("-valid_from",)
        indexes = [models.Index(fields=("user", "revoked_at"), name="role_grant_user_live_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope_type__in=ScopeType.values), name="role_grant_scope_type"
            ),
            models.CheckConstraint(
                condition=models.Q(scope_type=ScopeType.GLOBAL, scope_id__isnull=True)
                | (~models.Q(scope_type=ScopeType.GLOBAL) & models.Q(scope_id__isnull=False)),
                name="role_grant_global_iff_no_scope_id",
                violation_error_message="A global grant has no scope id; other scopes need one.",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_at__isnull=True)
                | models.Q(expires_at__gt=models.F("valid_from")),
                name="role_grant_expires_after_start",
                violation_error_message="The grant must expire after it starts.",
            ),
            models.CheckConstraint(
                condition=models.Q(revoked_by__isnull=True) | models.Q(revoked_at__isnull=False),
                name="role_grant_revoked_by_needs_revoked_at",
            ),
            # One live (not revoked) grant per user, role and scope at any time: periods of
            # live grants for the same triple may not overlap.
            ExclusionConstraint(
                name="role_grant_no_overlap",
                expressions=[
                    ("user", RangeOperators.EQUAL),
                    ("role", RangeOperators.EQUAL),
                    ("scope_type", RangeOperators.EQUAL),
                    (
                        Coalesce("scope_id", models.Value(NIL_UUID, models.UUIDField())),
                        RangeOperators.EQUAL,
                    ),
                    (
                        TsTzRange("valid_from", "expires_at", RangeBoundary()),
                        RangeOperators.OVERLAPS,
                    ),
                ],
                condition=models.Q(revoked_at__isnull=True),
                violation_error_message=(
                    "This user already holds this role in this scope for an overlapping period."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} as {self.role_id} ({self.scope_label})"

    def validate_constraints(self, exclude=None) -> None:
        # The no-overlap condition reads revoked_at: a form that does not show the field must
        # still check it (Django would otherwise fail resolving the condition).
        super().validate_constraints(exclude=set(exclude or ()) - {"revoked_at"})

    @property
    def scope_label(self) -> str:
        if self.scope_type == ScopeType.GLOBAL:
            return "global"
        return f"{self.scope_type} {self.scope_id}"

    def status(self, at=None) -> str:
        """revoked, future, expired or active, at `at` (now)."""
        at = at or timezone.now()
        if self.revoked_at is not None:
            return "revoked"
        if self.valid_from > at:
            return "future"
        if self.expires_at is not None and self.expires_at <= at:
            return "expired"
        return "active"
