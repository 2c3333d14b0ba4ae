"""Subject categories, courses, modules, lessons, interactive content and teacher lesson plans.

Tables live in the `content` PostgreSQL schema (db_table = 'content"."<table>'), their history in
`audit`. The database guards every rule the services check (docs/adr/0009-content.md): CHECKs,
deferrable unique orders, and triggers for the category tree, the course status workflow, the
search vector and the shapes of the typed JSON columns.
"""

from __future__ import annotations

import uuid

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models

from apps.accounts.validators import GRADE_LEVELS
from apps.content.schemas import QUESTION_TYPES, UUID_PATTERN
from apps.core.models import TimeStampedModel, UUIDModel

CATEGORY_MAX_LEVEL = 5
SLUG_REGEX = r"^[a-z0-9]+(-[a-z0-9]+)*$"


def _check_error(message: str, constraint: str, *args: str) -> str:
    """A plpgsql RAISE that clients see as a check violation naming `constraint`."""
    params = "".join(f", {arg}" for arg in args)
    return (
        f"RAISE EXCEPTION '{message}'{params} "
        f"USING ERRCODE = 'check_violation', CONSTRAINT = '{constraint}';"
    )


# -- categories ---------------------------------------------------------------------------

# Path and level come from the parent, so "all descendants" is `path LIKE '<path>%'` on a
# text_pattern_ops index. Moving a node under one of its descendants is a cycle; the advisory
# lock serialises moves so two concurrent ones cannot close a cycle together.
CATEGORY_TREE_SQL = f"""
DECLARE
    parent_path text;
    parent_level integer;
BEGIN
    IF NEW.parent_id IS NULL THEN
        NEW.path := '/' || replace(NEW.id::text, '-', '') || '/';
        NEW.level := 1;
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.parent_id IS DISTINCT FROM OLD.parent_id THEN
        PERFORM pg_advisory_xact_lock(hashtext('content.category.tree'));
    END IF;
    SELECT c.path, c.level INTO parent_path, parent_level
    FROM "content"."category" c WHERE c.id = NEW.parent_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'category parent % does not exist', NEW.parent_id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'category_parent_exists';
    END IF;
    IF NEW.parent_id = NEW.id OR (TG_OP = 'UPDATE' AND parent_path LIKE OLD.path || '%') THEN
        {
    _check_error(
        "category cycle: % cannot be placed under %",
        "category_no_cycle",
        "NEW.name",
        "NEW.parent_id",
    )
}
    END IF;
    NEW.path := parent_path || replace(NEW.id::text, '-', '') || '/';
    NEW.level := parent_level + 1;
    RETURN NEW;
END;
"""

# Children recompute their path from the (now moved) parent, level by level.
CATEGORY_CASCADE_SQL = """
UPDATE "content"."category" SET path = path WHERE parent_id = NEW.id;
RETURN NULL;
"""


# Bumps content.catalog_version after every statement that writes courses (any column: course
# writes are edits, rare next to searches) or updates categories (a moved category changes
# which courses its subtree filter finds). Catalog searches cache their ranked ids and count
# under this version (apps.content.selectors.RankedCourses) in the shared cache (Redis). The
# version is random, not a counter: it is never handed out twice, so a search cached inside a
# transaction that rolled back is never served, nor one cached before the database was
# recreated or restored from a backup (a sequence would count again from an older number).
CATALOG_BUMP_SQL = """
    INSERT INTO "content"."catalog_version" AS v (id, version)
    VALUES (1, gen_random_uuid())
    ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version;
    RETURN NULL;
"""


def _catalog_trigger(operation) -> pgtrigger.Trigger:
    return pgtrigger.Trigger(
        name="catalog_version",
        level=pgtrigger.Statement,
        operation=operation,
        when=pgtrigger.After,
        func=CATALOG_BUMP_SQL,
    )


class CatalogVersion(models.Model):
    """The catalog's version (one row): written only by the course and category triggers
    above, read before a search so that cached results are used only while they are current."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.UUIDField()

    class Meta:
        db_table = 'content"."catalog_version'
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="catalog_version_one_row")
        ]

    def __str__(self) -> str:
        return f"catalog v{self.version}"


@pghistory.track(meta={"db_table": 'audit"."content_category_event'})
class Category(UUIDModel, TimeStampedModel):
    """A subject in a tree of at most five levels (Mathematics > Algebra > Linear equations)."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    level = models.PositiveSmallIntegerField(default=1, editable=False)
    path = models.TextField(default="", editable=False)
    is_active = models.BooleanField(default=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta(TimeStampedModel.Meta):
        db_table = 'content"."category'
        verbose_name_plural = "categories"
        ordering = ("path",)
        indexes = [
            models.Index(
                fields=["path"], name="category_path_prefix", opclasses=["text_pattern_ops"]
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=("parent", "name"), nulls_distinct=False, name="category_sibling_name_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(level__gte=1, level__lte=CATEGORY_MAX_LEVEL),
                name="category_level_range",
            ),
            models.CheckConstraint(
                condition=models.Q(slug__regex=SLUG_REGEX), name="category_slug_format"
            ),
            models.CheckConstraint(
                condition=models.lookups.Exact(
                    models.Func(
                        "metadata", function="jsonb_typeof", output_field=models.TextField()
                    ),
                    "object",
                ),
                name="category_metadata_object",
            ),
        ]
        triggers = [
            *TimeStampedModel.Meta.triggers,
            pgtrigger.Trigger(
                name="category_tree",
                operation=pgtrigger.Insert | pgtrigger.Update,
                when=pgtrigger.Before,
                declare=None,
                func=CATEGORY_TREE_SQL,
            ),
            pgtrigger.Trigger(
                name="category_tree_cascade",
                operation=pgtrigger.Update,
                when=pgtrigger.After,
                condition=pgtrigger.Condition("OLD.path IS DISTINCT FROM NEW.path"),
                func=CATEGORY_CASCADE_SQL,
            ),
            _catalog_trigger(pgtrigger.Update),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def ancestor_ids(self) -> list[uuid.UUID]:
        """Ids from the root down to this category, read from the path (no query)."""
        return [uuid.UUID(part) for part in self.path.strip("/").split("/") if part]

    def rbac_scopes(self):
        return [("category", ancestor) for ancestor in self.ancestor_ids or [self.id]]


# -- courses ------------------------------------------------------------------------------


class CourseStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    REVIEW = "review", "In review"
    PUBLISHED = "published", "Published"
    ARCHIVED = "archived", "Archived"


# from -> allowed targets. review -> draft sends a course back; archived -> draft reopens it.
COURSE_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("review",),
    "review": ("draft", "published"),
    "published": ("archived",),
    "archived": ("draft",),
}


class CourseLevel(models.TextChoices):
    BEGINNER = "beginner", "Beginner"
    INTERMEDIATE = "intermediate", "Intermediate"
    ADVANCED = "advanced", "Advanced"


class AccessType(models.TextChoices):
    FREE = "free", "Free"
    PAID = "paid", "Paid"
    SUBSCRIPTION = "subscription", "Subscription"


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public"
    UNLISTED = "unlisted", "Unlisted (by link only)"
    PRIVATE = "private", "Private"


def _transition_sql() -> str:
    pairs = ", ".join(
        f"('{source}', '{target}')"
        for source, targets in COURSE_TRANSITIONS.items()
        for target in targets
    )
    return f"""
IF TG_OP = 'INSERT' THEN
    IF NEW.status <> 'draft' THEN
        {
        _check_error("a course starts as a draft, not %", "course_status_transition", "NEW.status")
    }
    END IF;
ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
    IF (OLD.status, NEW.status) NOT IN ({pairs}) THEN
        {
        _check_error(
            "illegal course status transition: % -> %",
            "course_status_transition",
            "OLD.status",
            "NEW.status",
        )
    }
    END IF;
    IF NEW.status = 'published' AND NEW.published_at IS NULL THEN
        NEW.published_at := now();
    END IF;
END IF;
RETURN NEW;
"""


COURSE_SEARCH_SQL = """
NEW.search_vector :=
    setweight(to_tsvector('english'::regconfig, coalesce(NEW.title, '')), 'A')
    || setweight(to_tsvector('english'::regconfig,
                 coalesce(NEW.short_description, '') || ' ' || coalesce(NEW.description, '')), 'B')
    || setweight(to_tsvector('english'::regconfig,
                 array_to_string(coalesce(NEW.tags, '{}'::text[]), ' ')), 'C');
RETURN NEW;
"""


class LiveCourseManager(models.Manager):
    """Courses that are not soft-deleted."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


@pghistory.track(
    exclude=["search_vector"],
    meta={"db_table": 'audit"."content_course_event'},
)
class Course(UUIDModel, TimeStampedModel):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    short_description = models.CharField(max_length=500, blank=True)
    description = models.TextField(blank=True)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="courses"
    )
    level = models.CharField(
        max_length=12, choices=CourseLevel.choices, default=CourseLevel.BEGINNER
    )
    language = models.CharField(max_length=5, default="en", help_text="e.g. en, es, pt-BR.")
    price_minor = models.PositiveIntegerField(
        default=0, help_text="Price in minor units (cents); 0 exactly when access is free."
    )
    currency = models.CharField(max_length=3, default="USD")
    access_type = models.CharField(
        max_length=12, choices=AccessType.choices, default=AccessType.FREE
    )
    estimated_duration_minutes = models.PositiveIntegerField(null=True, blank=True)
    prerequisites = models.ManyToManyField(
        "self",
        through="CoursePrerequisite",
        symmetrical=False,
        related_name="required_by",
        blank=True,
    )
    learning_objectives = ArrayField(models.CharField(max_length=300), default=list, blank=True)
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    thumbnail_url = models.URLField(blank=True)
    preview_video_url = models.URLField(blank=True)
    status = models.CharField(
        max_length=10, choices=CourseStatus.choices, default=CourseStatus.DRAFT, editable=False
    )
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    is_featured = models.BooleanField(default=False)
    seo_title = models.CharField(max_length=200, blank=True)
    seo_description = models.CharField(max_length=500, blank=True)
    meta_keywords = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    instructor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="taught_courses"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    max_enrollments = models.PositiveIntegerField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    deleted_at = models.DateTimeField(null=True, blank=True, db_index=True, editable=False)
    search_vector = SearchVectorField(null=True, editable=False)

    all_objects = models.Manager()
    objects = LiveCourseManager()

    class Meta(TimeStampedModel.Meta):
        db_table = 'content"."course'
        ordering = ("title",)
        # Unique checks and the admin see soft-deleted courses too (a slug stays reserved).
        default_manager_name = "all_objects"
        base_manager_name = "all_objects"
        # Guardian object permissions named like the rbac permissions (docs/adr/0006-rbac.md).
        permissions = [
            ("course.view", "View this course (object permission)"),
            ("course.edit", "Edit this course (object permission)"),
            ("course.publish", "Publish this course (object permission)"),
        ]
        indexes = [
            GinIndex(fields=["search_vector"], name="course_search_vector"),
            GinIndex(fields=["title"], opclasses=["gin_trgm_ops"], name="course_title_trgm"),
            models.Index(
                fields=["status", "visibility"],
                condition=models.Q(deleted_at__isnull=True),
                name="course_catalog",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=CourseStatus.values), name="course_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(level__in=CourseLevel.values), name="course_level_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(visibility__in=Visibility.values),
                name="course_visibility_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(access_type__in=AccessType.values),
                name="course_access_type_valid",
            ),
            models.CheckConstraint(
                condition=(models.Q(access_type="free") & models.Q(price_minor=0))
                | (~models.Q(access_type="free") & models.Q(price_minor__gt=0)),
                name="course_free_iff_price_zero",
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=r"^[A-Z]{3}$"), name="course_currency_iso"
            ),
            models.CheckConstraint(
                condition=models.Q(language__regex=r"^[a-z]{2}(-[A-Z]{2})?$"),
                name="course_language_format",
            ),
            models.CheckConstraint(
                condition=models.Q(slug__regex=SLUG_REGEX), name="course_slug_format"
            ),
            models.CheckConstraint(
                condition=models.Q(max_enrollments__isnull=True) | models.Q(max_enrollments__gt=0),
                name="course_max_enrollments_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(estimated_duration_minutes__isnull=True)
                | models.Q(estimated_duration_minutes__gt=0),
                name="course_duration_positive",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="published") | models.Q(published_at__isnull=False),
                name="course_published_has_timestamp",
            ),
        ]
        triggers = [
            *TimeStampedModel.Meta.triggers,
            pgtrigger.Trigger(
                name="course_status_transition",
                operation=pgtrigger.Insert | pgtrigger.Update,
                when=pgtrigger.Before,
                func=_transition_sql(),
            ),
            pgtrigger.Trigger(
                name="course_search_vector",
                operation=pgtrigger.Insert | pgtrigger.Update,
                when=pgtrigger.Before,
                func=COURSE_SEARCH_SQL,
            ),
            _catalog_trigger(pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_free(self) -> bool:
        return self.access_type == AccessType.FREE

    @property
    def price_display(self) -> str:
        if self.is_free:
            return "Free"
        return f"{self.price_minor / 100:.2f} {self.currency}"

    def rbac_scopes(self):
        scopes = [("course", self.id)]
        if self.category_id is not None:
            scopes += self.category.rbac_scopes()
        return scopes


@pghistory.track(meta={"db_table": 'audit"."content_course_prerequisite_event'})
class CoursePrerequisite(UUIDModel):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+")
    prerequisite = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+")

    class Meta:
        db_table = 'content"."course_prerequisite'
        constraints = [
            models.UniqueConstraint(
                fields=("course", "prerequisite"), name="course_prerequisite_unique"
            ),
            models.CheckConstraint(
                condition=~models.Q(course=models.F("prerequisite")),
                name="course_prerequisite_not_self",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prerequisite_id} before {self.course_id}"


# -- modules and lessons ------------------------------------------------------------------


# Bumps content.course_structure.version of the course(s) whose modules or lessons a row change
# touches (old and new course or module: a move changes two). Outlines cache a course's
# structure under this version (apps.progress.selectors), so any write, through the ORM,
# admin, a bulk update or SQL, invalidates it. Versions come from a sequence, which never hands
# out a number twice: a structure cached inside a transaction that then rolled back is never
# served, because no committed version can take its number.
STRUCTURE_BUMP_SQL = """
    FOR changed IN {courses} LOOP
        INSERT INTO "content"."course_structure" AS s (course_id, version)
        VALUES (changed, nextval('"content"."course_structure_version"'))
        ON CONFLICT (course_id) DO UPDATE SET version = EXCLUDED.version;
    END LOOP;
    RETURN NULL;
"""
MODULE_STRUCTURE_SQL = STRUCTURE_BUMP_SQL.format(
    courses="SELECT DISTINCT c FROM unnest(ARRAY[OLD.course_id, NEW.course_id]) c "
    "WHERE c IS NOT NULL"
)
LESSON_STRUCTURE_SQL = STRUCTURE_BUMP_SQL.format(
    courses='SELECT DISTINCT m.course_id FROM "content"."module" m '
    "WHERE m.id IN (OLD.module_id, NEW.module_id)"
)


class CourseStructure(models.Model):
    """A course's structure version: written only by the module and lesson triggers above, read
    with the course so that a cached outline is used only while it is current."""

    course = models.OneToOneField(
        "Course", on_delete=models.CASCADE, primary_key=True, related_name="structure"
    )
    version = models.BigIntegerField()

    class Meta:
        db_table = 'content"."course_structure'

    def __str__(self) -> str:
        return f"{self.course_id} v{self.version}"


def _structure_trigger(sql: str) -> pgtrigger.Trigger:
    return pgtrigger.Trigger(
        name="structure_version",
        operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
        when=pgtrigger.After,
        declare=[("changed", "uuid")],
        func=sql,
    )


@pghistory.track(meta={"db_table": 'audit"."content_module_event'})
class Module(UUIDModel, TimeStampedModel):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="modules")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField()
    estimated_duration_minutes = models.PositiveIntegerField(null=True, blank=True)

    class Meta(TimeStampedModel.Meta):
        db_table = 'content"."module'
        ordering = ("course", "position")
        constraints = [
            # Deferred: a reorder renumbers every module in one transaction.
            models.UniqueConstraint(
                fields=("course", "position"),
                deferrable=models.Deferrable.DEFERRED,
                name="module_position_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(position__gte=1), name="module_position_positive"
            ),
        ]
        triggers = [*TimeStampedModel.Meta.triggers, _structure_trigger(MODULE_STRUCTURE_SQL)]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"


class LessonType(models.TextChoices):
    VIDEO = "video", "Video"
    TEXT = "text", "Text"
    QUIZ = "quiz", "Quiz"
    ASSIGNMENT = "assignment", "Assignment"
    INTERACTIVE = "interactive", "Interactive"


UUID_SQL_RE = UUID_PATTERN.replace("\\", "\\\\")

# The unlock condition language (apps/content/unlock.py): an array of conditions that must all
# hold. Lessons and quizzes named must belong to the same course as the lesson.
LESSON_UNLOCK_SQL = f"""
DECLARE
    cond jsonb;
    own_course uuid;
    ref_course uuid;
BEGIN
    IF jsonb_typeof(NEW.unlock_conditions) IS DISTINCT FROM 'array' THEN
        {_check_error("unlock_conditions must be an array", "lesson_unlock_conditions")}
    END IF;
    SELECT m.course_id INTO own_course FROM "content"."module" m WHERE m.id = NEW.module_id;
    FOR cond IN SELECT value FROM jsonb_array_elements(NEW.unlock_conditions) LOOP
        IF jsonb_typeof(cond) IS DISTINCT FROM 'object' THEN
            {_check_error("each unlock condition must be an object", "lesson_unlock_conditions")}
        END IF;
        CASE cond->>'type'
        WHEN 'after_lesson' THEN
            IF coalesce(cond->>'lesson', '') !~ '{UUID_SQL_RE}' THEN
                {_check_error("after_lesson needs a lesson id", "lesson_unlock_conditions")}
            END IF;
            IF (cond->>'lesson')::uuid = NEW.id THEN
                {_check_error("a lesson cannot wait for itself", "lesson_unlock_conditions")}
            END IF;
            SELECT m.course_id INTO ref_course
            FROM "content"."lesson" l JOIN "content"."module" m ON m.id = l.module_id
            WHERE l.id = (cond->>'lesson')::uuid;
            IF ref_course IS DISTINCT FROM own_course THEN
                {
    _check_error(
        "unlock condition names lesson % which is not in the same course",
        "lesson_unlock_conditions",
        "cond->>'lesson'",
    )
}
            END IF;
        WHEN 'after_date' THEN
            IF coalesce(cond->>'date', '') !~ '^\\d{{4}}-\\d{{2}}-\\d{{2}}$' THEN
                {_check_error("after_date needs a date YYYY-MM-DD", "lesson_unlock_conditions")}
            END IF;
        WHEN 'min_score' THEN
            IF coalesce(cond->>'quiz', '') !~ '{UUID_SQL_RE}'
               OR jsonb_typeof(cond->'score') IS DISTINCT FROM 'number'
               OR (cond->>'score')::numeric NOT BETWEEN 0 AND 100 THEN
                {
    _check_error("min_score needs a quiz id and a score 0-100", "lesson_unlock_conditions")
}
            END IF;
            SELECT m.course_id INTO ref_course
            FROM "content"."interactive_content" ic
            JOIN "content"."lesson" l ON l.id = ic.lesson_id
            JOIN "content"."module" m ON m.id = l.module_id
            WHERE ic.id = (cond->>'quiz')::uuid AND ic.content_type = 'quiz';
            IF ref_course IS DISTINCT FROM own_course THEN
                {
    _check_error(
        "unlock condition names quiz % which is not in the same course",
        "lesson_unlock_conditions",
        "cond->>'quiz'",
    )
}
            END IF;
        ELSE
            {
    _check_error("unknown unlock condition type %", "lesson_unlock_conditions", "cond->>'type'")
}
        END CASE;
    END LOOP;
    RETURN NEW;
END;
"""


@pghistory.track(meta={"db_table": 'audit"."content_lesson_event'})
class Lesson(UUIDModel, TimeStampedModel):
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="lessons")
    title = models.CharField(max_length=200)
    content = models.TextField(blank=True, help_text="Lesson text (plain text or Markdown).")
    lesson_type = models.CharField(
        max_length=12, choices=LessonType.choices, default=LessonType.TEXT
    )
    position = models.PositiveIntegerField()
    duration_minutes = models.PositiveIntegerField(null=True, blank=True)
    video_url = models.URLField(blank=True)
    is_preview = models.BooleanField(
        default=False, help_text="Anyone who can see the course may open this lesson."
    )
    unlock_conditions = models.JSONField(
        default=list,
        blank=True,
        help_text=(
            'All must hold: {"type": "after_lesson", "lesson": "<id>"}, '
            '{"type": "after_date", "date": "YYYY-MM-DD"}, '
            '{"type": "min_score", "quiz": "<quiz id>", "score": 80}.'
        ),
    )

    class Meta(TimeStampedModel.Meta):
        db_table = 'content"."lesson'
        ordering = ("module", "position")
        constraints = [
            models.UniqueConstraint(
                fields=("module", "position"),
                deferrable=models.Deferrable.DEFERRED,
                name="lesson_position_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(position__gte=1), name="lesson_position_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(lesson_type__in=LessonType.values), name="lesson_type_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(duration_minutes__isnull=True)
                | models.Q(duration_minutes__gt=0),
                name="lesson_duration_positive",
            ),
        ]
        triggers = [
            *TimeStampedModel.Meta.triggers,
            pgtrigger.Trigger(
                name="lesson_unlock_conditions",
                operation=pgtrigger.Insert | pgtrigger.Update,
                when=pgtrigger.Before,
                declare=None,
                func=LESSON_UNLOCK_SQL,
            ),
            _structure_trigger(LESSON_STRUCTURE_SQL),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def course(self) -> Course:
        return self.module.course

    def rbac_scopes(self):
        return self.module.course.rbac_scopes()


# -- interactive content ------------------------------------------------------------------

_QUESTION_TYPES_SQL = "(" + ", ".join(f"'{t}'" for t in QUESTION_TYPES) + ")"

INTERACTIVE_CONTENT_SQL = f"""
DECLARE
    q jsonb;
    ids text[] := '{{}}';
BEGIN
    IF jsonb_typeof(NEW.configuration) IS DISTINCT FROM 'object' THEN
        {_check_error("configuration must be an object", "interactive_content_configuration")}
    END IF;
    CASE NEW.content_type
    WHEN 'quiz' THEN
        IF jsonb_typeof(NEW.configuration->'questions') IS DISTINCT FROM 'array'
           OR jsonb_array_length(NEW.configuration->'questions') = 0 THEN
            {
    _check_error(
        "quiz content must have a non-empty questions array", "interactive_content_configuration"
    )
}
        END IF;
        FOR q IN SELECT value FROM jsonb_array_elements(NEW.configuration->'questions') LOOP
            IF jsonb_typeof(q->'id') IS DISTINCT FROM 'string'
               OR coalesce(q->>'type', '') NOT IN {_QUESTION_TYPES_SQL}
               OR jsonb_typeof(q->'prompt') IS DISTINCT FROM 'string'
               OR jsonb_typeof(q->'points') IS DISTINCT FROM 'number'
               OR (q->>'points')::numeric <= 0 THEN
                {
    _check_error(
        "each quiz question needs an id, a known type, a prompt and points > 0",
        "interactive_content_configuration",
    )
}
            END IF;
            IF q->>'id' = ANY(ids) THEN
                {
    _check_error(
        "quiz question id % is used twice", "interactive_content_configuration", "q->>'id'"
    )
}
            END IF;
            ids := ids || (q->>'id');
            IF q->>'type' IN ('single_choice', 'multiple_choice') AND (
                jsonb_typeof(q->'choices') IS DISTINCT FROM 'array'
                OR jsonb_array_length(q->'choices') < 2
                OR NOT jsonb_path_exists(q, '$.choices[*] ? (@.correct == true)')
                OR (q->>'type' = 'single_choice'
                    AND jsonb_array_length(jsonb_path_query_array(
                        q, '$.choices[*] ? (@.correct == true)')) <> 1)
            ) THEN
                {
    _check_error(
        "choice question % needs at least two choices and the right number of correct ones",
        "interactive_content_configuration",
        "q->>'id'",
    )
}
            END IF;
            IF q->>'type' = 'true_false' AND jsonb_typeof(q->'answer') IS DISTINCT FROM 'boolean'
            THEN
                {
    _check_error(
        "true/false question % needs a boolean answer",
        "interactive_content_configuration",
        "q->>'id'",
    )
}
            END IF;
            IF q->>'type' = 'short_answer' AND (
                jsonb_typeof(q->'accepted_answers') IS DISTINCT FROM 'array'
                OR jsonb_array_length(q->'accepted_answers') = 0
            ) THEN
                {
    _check_error(
        "short-answer question % needs accepted answers",
        "interactive_content_configuration",
        "q->>'id'",
    )
}
            END IF;
        END LOOP;
    WHEN 'video_interactive' THEN
        IF jsonb_typeof(NEW.configuration->'video_url') IS DISTINCT FROM 'string'
           OR jsonb_typeof(NEW.configuration->'interactions') IS DISTINCT FROM 'array' THEN
            {
    _check_error(
        "interactive video must have video_url and interactions",
        "interactive_content_configuration",
    )
}
        END IF;
    WHEN 'simulation' THEN
        IF jsonb_typeof(NEW.configuration->'simulation_config') IS DISTINCT FROM 'object'
           OR jsonb_typeof(NEW.configuration->'parameters') IS DISTINCT FROM 'array' THEN
            {
    _check_error(
        "simulation must have simulation_config and parameters",
        "interactive_content_configuration",
    )
}
        END IF;
    ELSE
        {
    _check_error(
        "unknown interactive content type %",
        "interactive_content_configuration",
        "NEW.content_type",
    )
}
    END CASE;
    RETURN NEW;
END;
"""


class ContentType(models.TextChoices):
    QUIZ = "quiz", "Quiz"
    VIDEO_INTERACTIVE = "video_interactive", "Interactive video"
    SIMULATION = "simulation", "Simulation"


@pghistory.track(meta={"db_table": 'audit"."content_interactive_content_event'})
class InteractiveContent(UUIDModel, TimeStampedModel):
    """A quiz, interactive video or simulation inside a lesson, configured by typed JSON."""

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="interactive")
    title = models.CharField(max_length=200)
    content_type = models.CharField(max_length=20, choices=ContentType.choices)
    configuration = models.JSONField(default=dict)
    schema_version = models.CharField(max_length=20, default="1.0")

    class Meta(TimeStampedModel.Meta):
        db_table = 'content"."interactive_content'
        verbose_name_plural = "interactive content"
        ordering = ("lesson", "created_at")
        indexes = [GinIndex(fields=["configuration"], name="interactive_configuration")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(content_type__in=ContentType.values),
                name="interactive_content_type_valid",
            ),
        ]
        triggers = [
            *TimeStampedModel.Meta.triggers,
            pgtrigger.Trigger(
                name="interactive_content_configuration",
                operation=pgtrigger.Insert | pgtrigger.Update,
                when=pgtrigger.Before,
                declare=None,
                func=INTERACTIVE_CONTENT_SQL,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_content_type_display()})"

    @property
    def questions(self) -> list[dict]:
        return list(self.configuration.get("questions", [])) if self.content_type == "quiz" else []


# -- teacher lesson plans -----------------------------------------------------------------


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    ARCHIVED = "archived", "Archived"


LESSON_PLAN_JSON_SQL = f"""
IF jsonb_typeof(NEW.lesson_data) IS DISTINCT FROM 'object'
   OR (NEW.lesson_data
       - '{{duration_minutes,difficulty,standards,differentiation,homework}}'::text[])
      <> '{{}}'::jsonb
   OR (NEW.lesson_data ? 'duration_minutes'
       AND jsonb_typeof(NEW.lesson_data->'duration_minutes') IS DISTINCT FROM 'number')
   OR (NEW.lesson_data ? 'difficulty'
       AND coalesce(NEW.lesson_data->>'difficulty', '') NOT IN ('easy', 'medium', 'hard'))
   OR (NEW.lesson_data ? 'standards'
       AND jsonb_typeof(NEW.lesson_data->'standards') IS DISTINCT FROM 'array') THEN
    {_check_error("invalid lesson_data structure", "lesson_plan_lesson_data")}
END IF;
IF jsonb_typeof(NEW.materials) IS DISTINCT FROM 'array'
   OR jsonb_path_exists(NEW.materials, '$[*] ? (@.type() != "string")')
   OR jsonb_typeof(NEW.assessment_criteria) IS DISTINCT FROM 'array'
   OR jsonb_path_exists(NEW.assessment_criteria, '$[*] ? (@.type() != "string")') THEN
    {_check_error("materials and assessment criteria must be arrays of text", "lesson_plan_lists")}
END IF;
IF jsonb_typeof(NEW.activities) IS DISTINCT FROM 'array'
   OR jsonb_path_exists(NEW.activities, '$[*] ? (@.type() != "object" || !exists(@.title))') THEN
    {_check_error("activities must be an array of objects with a title", "lesson_plan_activities")}
END IF;
RETURN NEW;
"""


@pghistory.track(meta={"db_table": 'audit"."content_lesson_plan_event'})
class LessonPlan(UUIDModel, TimeStampedModel):
    """A teacher's plan for one lesson in a given week (the Faraday `lessons` table)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lesson_plans"
    )
    title = models.CharField(max_length=200)
    subject_category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="lesson_plans"
    )
    grade_level = models.CharField(max_length=2, blank=True, choices=[(g, g) for g in GRADE_LEVELS])
    week_of = models.DateField(help_text="The Monday of the week the lesson is taught.")
    content_area = models.CharField(max_length=100, blank=True)
    lesson_data = models.JSONField(
        default=dict,
        blank=True,
        help_text="Keys: duration_minutes, difficulty (easy/medium/hard), standards, "
        "differentiation, homework.",
    )
    materials = models.JSONField(default=list, blank=True, help_text="A list of texts.")
    activities = models.JSONField(
        default=list, blank=True, help_text='A list of {"title", "minutes", "description"}.'
    )
    assessment_criteria = models.JSONField(default=list, blank=True, help_text="A list of texts.")
    feedback = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    related_plans = models.ManyToManyField(
        "self", blank=True, symmetrical=False, db_table='content"."lesson_plan_related'
    )

    class Meta(TimeStampedModel.Meta):
        db_table = 'content"."lesson_plan'
        ordering = ("week_of", "title")
        indexes = [
            models.Index(fields=["owner", "week_of"], name="lesson_plan_owner_week"),
            GinIndex(fields=["tags"], name="lesson_plan_tags"),
            GinIndex(fields=["lesson_data"], name="lesson_plan_data"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=PlanStatus.values), name="lesson_plan_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(grade_level="") | models.Q(grade_level__in=GRADE_LEVELS),
                name="lesson_plan_grade_level_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(week_of__iso_week_day=1), name="lesson_plan_week_of_monday"
            ),
        ]
        triggers = [
            *TimeStampedModel.Meta.triggers,
            pgtrigger.Trigger(
                name="lesson_plan_json",
                operation=pgtrigger.Insert | pgtrigger.Update,
                when=pgtrigger.Before,
                func=LESSON_PLAN_JSON_SQL,
            ),
        ]

    def __str__(self) -> str:
        return self.title


@pghistory.track(meta={"db_table": 'audit"."content_objective_event'})
class Objective(UUIDModel, TimeStampedModel):
    """A learning objective of a lesson plan; quiz questions can be linked to it for mastery."""

    lesson_plan = models.ForeignKey(LessonPlan, on_delete=models.CASCADE, related_name="objectives")
    text = models.CharField(max_length=500)
    position = models.PositiveIntegerField()

    class Meta(TimeStampedModel.Meta):
        db_table = 'content"."objective'
        ordering = ("lesson_plan", "position")
        constraints = [
            models.UniqueConstraint(
                fields=("lesson_plan", "position"),
                deferrable=models.Deferrable.DEFERRED,
                name="objective_position_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(position__gte=1), name="objective_position_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.text


OBJECTIVE_QUESTION_SQL = f"""
IF NOT EXISTS (
    SELECT 1 FROM "content"."interactive_content" ic
    WHERE ic.id = NEW.quiz_id AND ic.content_type = 'quiz'
      AND jsonb_path_exists(ic.configuration, '$.questions[*] ? (@.id == $qid)',
                            jsonb_build_object('qid', NEW.question_id))
) THEN
    {
    _check_error(
        "question % is not a question of quiz %",
        "objective_question_exists",
        "NEW.question_id",
        "NEW.quiz_id",
    )
}
END IF;
RETURN NEW;
"""


@pghistory.track(meta={"db_table": 'audit"."content_objective_question_event'})
class ObjectiveQuestion(UUIDModel):
    """A quiz question that assesses an objective."""

    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="questions")
    quiz = models.ForeignKey(
        InteractiveContent, on_delete=models.CASCADE, related_name="objective_links"
    )
    question_id = models.CharField(max_length=40)

    class Meta:
        db_table = 'content"."objective_question'
        constraints = [
            models.UniqueConstraint(
                fields=("objective", "quiz", "question_id"), name="objective_question_unique"
            )
        ]
        triggers = [
            pgtrigger.Trigger(
                name="objective_question_exists",
                operation=pgtrigger.Insert | pgtrigger.Update,
                when=pgtrigger.Before,
                func=OBJECTIVE_QUESTION_SQL,
            )
        ]

    def __str__(self) -> str:
        return f"{self.quiz_id}#{self.question_id} -> {self.objective_id}"
