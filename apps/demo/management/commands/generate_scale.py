"""Generate a large, skewed data set for the benchmarks (docs/adr/0020-benchmark-harness.md).

    manage.py generate_scale --scale 0.01      # about a minute
    manage.py generate_scale --scale 1         # full: 100k users, 20k courses, 10M + 10M rows

Run it as the owner role on a database of its own (the benchmarks use `lyceum_bench`). Rows go in
with COPY, never the ORM. Each stage (users, courses, enrollments, ...) is one transaction that
also records itself in `public.bench_generate_stage`, so a stage is either wholly there or not at
all: run the command again after an interruption and it resumes at the first missing stage.
Every id is derived from the stage and the row number and every random choice from one seeded
generator, so a resumed run produces exactly the rows a straight run would.

Triggers: `session_replication_role = replica` needs a superuser, which the owner role is not.
Instead, inside each stage's transaction, every table loaded gets `ALTER TABLE .. DISABLE TRIGGER
USER` (the audit trail, updated_at, enrollment capacity, search vectors), its foreign keys and
secondary indexes are dropped, and after the COPY the indexes are rebuilt, the foreign keys
added back (validated in one pass each, much faster than a check per row) and the triggers
enabled again. DDL is transactional: an interrupted stage leaves the tables as they were.
The generator writes rows that satisfy the triggers' rules itself and computes what they would
derive: the search vectors (same expressions as the trigger functions) and the enrollment
aggregates (completed and total lessons, percent, study time: as progress.services._refresh
computes them; no generated enrollment is complete, so none needs a certificate). The loaded
rows have no audit events: they were never changed by a user. CHECK, NOT NULL, unique and
foreign-key constraints all hold.
"""

import io
import json
import math
import random
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

# Seeded, reproducible data, not secrets; SQL names are module constants.
# ruff: noqa: S311, S608

STAGE_TABLE = "public.bench_generate_stage"
SEED = 20261122
FULL = {
    "users": 100_000,
    "courses": 20_000,
    "lessons": 200_000,
    "enrollments": 1_000_000,
    "lesson_progress": 10_000_000,
    "activity": 10_000_000,
    "memories": 1_000_000,
}
OUTLINE_LESSONS = 1000  # the learner outline scenario's course, whatever the scale
GRADEBOOK_LESSONS = 50  # the gradebook scenario: 20k learners x 50 lessons at full scale
GRADEBOOK_LEARNERS = 20_000
WORDS = [
    "algebra",
    "geometry",
    "fractions",
    "decimals",
    "equations",
    "graphs",
    "probability",
    "statistics",
    "calculus",
    "vectors",
    "photosynthesis",
    "cells",
    "genetics",
    "evolution",
    "ecology",
    "chemistry",
    "atoms",
    "molecules",
    "reactions",
    "energy",
    "forces",
    "motion",
    "electricity",
    "magnetism",
    "waves",
    "light",
    "sound",
    "planets",
    "stars",
    "history",
    "revolution",
    "empire",
    "treaty",
    "democracy",
    "geography",
    "rivers",
    "mountains",
    "climate",
    "weather",
    "spanish",
    "french",
    "verbs",
    "grammar",
    "vocabulary",
    "reading",
    "writing",
    "essays",
    "poetry",
    "novels",
    "drama",
    "python",
    "loops",
    "functions",
    "variables",
    "recursion",
    "arrays",
    "databases",
    "networks",
    "music",
    "piano",
    "guitar",
    "rhythm",
    "drawing",
    "painting",
    "sculpture",
    "chess",
    "economics",
    "markets",
    "finance",
    "accounting",
    "marketing",
    "design",
    "photography",
    "nutrition",
    "anatomy",
    "physiology",
    "astronomy",
    "robotics",
    "electronics",
]
ACTIVITY_TYPES = ("lesson_progress",) * 6 + ("lesson_view",) * 3 + ("quiz_attempt",)
MEMORY_CATEGORIES = ("goal", "preference", "difficulty", "schedule", "interest", "")


def det_id(kind: int, n: int) -> str:
    """A deterministic, well-formed version-4 UUID for row `n` of kind `kind`."""
    return f"{kind:08x}-0000-4000-8000-{n:012x}"


# Kinds of generated ids.
USER, COURSE, MODULE, LESSON, ENROLLMENT, MEMORY, CATEGORY, PROFILE = range(1, 9)


@dataclass
class Plan:
    """Everything random about the data set, drawn up front from one seed (cheap)."""

    scale: float
    users: int
    teachers: int
    courses: int
    lessons_per_course: list[int] = field(default_factory=list)
    lesson_start: list[int] = field(default_factory=list)
    enrollments_per_course: list[int] = field(default_factory=list)
    progress_fraction: float = 0.0
    activity: int = 0
    memories: int = 0
    lesson_progress_target: int = 0

    @property
    def first_learner(self) -> int:
        return 1 + self.teachers  # user 0 is the staff user

    def instructor(self, course: int) -> int:
        return 1 + course % self.teachers

    def course_lessons(self, course: int) -> range:
        start = self.lesson_start[course]
        return range(start, start + self.lessons_per_course[course])


def make_plan(scale: float) -> Plan:
    rng = random.Random(SEED)
    n = {k: max(1, round(v * scale)) for k, v in FULL.items()}
    users = max(n["users"], 200)
    teachers = max(5, users // 50)
    courses = max(n["courses"], 10)
    plan = Plan(scale=scale, users=users, teachers=teachers, courses=courses)
    learners = users - plan.first_learner
    gradebook_learners = min(max(round(GRADEBOOK_LEARNERS * scale), 50), learners)
    # Lessons: course 0 has 1,000, course 1 has 50, the others share the rest, skewed
    # (log-normal: most courses have a handful, a few have a hundred or more).
    rest = max(n["lessons"] - OUTLINE_LESSONS - GRADEBOOK_LESSONS, courses - 2)
    raw = [rng.lognormvariate(0, 0.9) for _ in range(courses - 2)]
    factor = rest / sum(raw)
    others = sorted((max(1, min(300, round(r * factor))) for r in raw), reverse=True)
    # Enrollments: Zipf over the other courses (a few with tens of thousands, many with one);
    # popular courses tend to be the longer ones (lesson counts follow popularity, with noise).
    weights = [1 / (rank + 10) ** 1.1 for rank in range(courses - 2)]
    rng.shuffle(weights)
    order = sorted(range(courses - 2), key=lambda i: -weights[i] * rng.lognormvariate(0, 1))
    lessons = [0] * (courses - 2)
    for count, i in zip(others, order, strict=True):
        lessons[i] = count
    plan.lessons_per_course = [OUTLINE_LESSONS, GRADEBOOK_LESSONS, *lessons]
    start = 0
    for count in plan.lessons_per_course:
        plan.lesson_start.append(start)
        start += count
    outline_learners = min(max(round(2000 * scale), 20), learners)
    rest_enrollments = max(n["enrollments"] - gradebook_learners - outline_learners, 0)
    total = sum(weights)
    plan.enrollments_per_course = [outline_learners, gradebook_learners] + [
        min(learners, round(w / total * rest_enrollments)) for w in weights
    ]
    # Lesson progress: each enrollment has touched a prefix of its course's lessons, a
    # fraction drawn around the mean that makes the total come out at the target.
    plan.lesson_progress_target = n["lesson_progress"]
    touched = sum(
        e * plan.lessons_per_course[c] for c, e in enumerate(plan.enrollments_per_course) if c >= 2
    )
    fixed = gradebook_learners * GRADEBOOK_LESSONS // 2 + outline_learners * OUTLINE_LESSONS // 10
    plan.progress_fraction = min(1.0, max(0.0, (n["lesson_progress"] - fixed) / max(touched, 1)))
    plan.activity = n["activity"]
    plan.memories = n["memories"]
    return plan


def percent(part: int, whole: int) -> Decimal:
    if not whole:
        return Decimal(0)
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_UP)


class Loader:
    """Writes rows to COPY in large text chunks (tab-separated, \\N for NULL)."""

    CHUNK = 1 << 20

    def __init__(self, cursor, table: str, columns: str):
        self.cursor = cursor
        self.sql = f"COPY {table} ({columns}) FROM STDIN"
        self.buffer = io.StringIO()
        self.rows = 0

    def __enter__(self):
        self.copy_cm = self.cursor.copy(self.sql)
        self.copy = self.copy_cm.__enter__()
        return self

    def write(self, line: str) -> None:
        self.buffer.write(line)
        self.rows += 1
        if self.buffer.tell() > self.CHUNK:
            self.copy.write(self.buffer.getvalue())
            self.buffer = io.StringIO()

    def __exit__(self, *exc):
        if exc[0] is None:
            self.copy.write(self.buffer.getvalue())
        return self.copy_cm.__exit__(*exc)


def has_column(cursor, schema: str, table: str, column: str) -> bool:
    """Columns added by later migrations (e.g. encrypted fields' blind index) that are NOT NULL
    without a default: the generator fills them with their empty value when they exist."""
    cursor.execute(
        "SELECT 1 FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = %s AND column_name = %s",
        [schema, table, column],
    )
    return cursor.fetchone() is not None


def secondary_indexes(cursor, table: str) -> list[tuple[str, str]]:
    """(name, definition) of the table's indexes that back no constraint."""
    cursor.execute(
        """
        SELECT i.relname, pg_get_indexdef(x.indexrelid)
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
        WHERE x.indrelid = %s::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
        """,
        [table],
    )
    return cursor.fetchall()


@contextmanager
def bulk(cursor, table: str):
    """Load into `table` with its user triggers off and its secondary indexes and foreign keys
    dropped; put them back afterwards (inside the caller's transaction)."""
    schema = table.split(".")[0].strip('"')
    indexes = secondary_indexes(cursor, table)
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'f' AND conparentid = 0",
        [table],
    )
    foreign_keys = cursor.fetchall()
    cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    for name, _ in foreign_keys:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{schema}"."{name}"')
    yield
    for _, definition in indexes:
        cursor.execute(definition)
    for name, definition in foreign_keys:
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


class Command(BaseCommand):
    help = "Generate the benchmark data set with COPY (restartable; --scale 1 is full size)."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=0.01)
        parser.add_argument(
            "--drop-indexes",
            action="store_true",
            default=True,
            help="Drop secondary indexes of the big tables during their COPY (default).",
        )

    def handle(self, *args, scale: float, **options):
        if not 0 < scale <= 1:
            raise CommandError("--scale must be in (0, 1]")
        self.started = datetime.now(UTC)
        plan = make_plan(scale)
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {STAGE_TABLE} (stage text PRIMARY KEY, "
                "scale double precision NOT NULL, rows bigint NOT NULL, seconds double precision "
                "NOT NULL, info jsonb NOT NULL DEFAULT '{}', done_at timestamptz NOT NULL "
                "DEFAULT now())"
            )
            cursor.execute(f"SELECT stage, scale FROM {STAGE_TABLE}")
            done = dict(cursor.fetchall())
        if any(abs(s - scale) > 1e-9 for s in done.values()):
            raise CommandError(
                f"this database holds a data set of scale {set(done.values())}: generate "
                "another scale into a fresh database (dropdb/createdb, then migrate)"
            )
        stages = [
            ("setup", self.stage_setup),
            ("users", self.stage_users),
            ("courses", self.stage_courses),
            ("enrollments", self.stage_enrollments),
            ("lesson_progress", self.stage_lesson_progress),
            ("activity", self.stage_activity),
            ("memories", self.stage_memories),
            ("finish", self.stage_finish),
        ]
        total = 0.0
        self.stdout.write(f"scale {scale}: {plan.users:,} users, {plan.courses:,} courses")
        for name, function in stages:
            if name in done:
                self.stdout.write(f"  {name:16} already there")
                continue
            t0 = time.perf_counter()
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
                rows, info = function(cursor, plan)
                seconds = time.perf_counter() - t0
                cursor.execute(
                    f"INSERT INTO {STAGE_TABLE} (stage, scale, rows, seconds, info) "
                    "VALUES (%s, %s, %s, %s, %s)",
                    [name, scale, rows, seconds, json.dumps(info)],
                )
            total += seconds
            self.stdout.write(f"  {name:16} {rows:>12,} rows  {seconds:8.1f} s")
        self.stdout.write(f"done in {total:.1f} s (this run)")

    # -- stages: each returns (rows, info) and runs in its own transaction -------------------

    def stage_setup(self, cursor, plan: Plan):
        now = self.started.isoformat()
        with Loader(
            cursor,
            "content.category",
            "id, created_at, updated_at, name, slug, description, level, path, is_active, "
            "metadata, parent_id",
        ) as out:
            for i in range(12):
                cid = det_id(CATEGORY, i)
                path = "/" + cid.replace("-", "") + "/"  # as the category tree trigger sets it
                out.write(
                    f"{cid}\t{now}\t{now}\tSubject {i}\tbench-subject-{i}\t\t1\t{path}\tt\t"
                    "{}\t\\N\n"
                )
        key = has_column(cursor, "assistants", "profile", "api_key")  # encrypted, empty
        extra, empty = (", api_key", ", ''") if key else ("", "")
        cursor.execute(
            "INSERT INTO assistants.profile (id, created_at, updated_at, name, description, "
            "model_version, provider, configuration, is_active, max_context_length, temperature, "
            f"top_p, frequency_penalty, presence_penalty, stop_sequences, metadata{extra}) VALUES "
            "(%s, now(), now(), 'Bench tutor', '', 'offline', 'offline', '{}', true, 4096, 0.7, "
            f"1, 0, 0, '{{}}', '{{}}'{empty})",
            [det_id(PROFILE, 0)],
        )
        return 13, {"profile": det_id(PROFILE, 0)}

    def stage_users(self, cursor, plan: Plan):
        now = self.started.isoformat()
        # An empty phone has an empty blind index (accounts' encrypted fields), where it exists.
        index_column = has_column(cursor, "accounts", "user", "phone_index")
        extra = ", phone_index" if index_column else ""
        tail = "\t" if index_column else ""
        with (
            bulk(cursor, '"accounts"."user"'),
            Loader(
                cursor,
                '"accounts"."user"',
                "id, password, is_superuser, email, username, first_name, last_name, is_staff, "
                f"is_active, date_joined, created_at, updated_at, phone, is_email_verified{extra}",
            ) as out,
        ):
            for i in range(plan.users):
                role = "staff" if i == 0 else "teacher" if i < plan.first_learner else "learner"
                staff = "t" if i == 0 else "f"
                out.write(
                    f"{det_id(USER, i)}\t!\tf\t{role}{i}@bench.example.org\t{role}{i}\t"
                    f"{role.title()}\t{i}\t{staff}\tt\t{now}\t{now}\t{now}\t\tf{tail}\n"
                )
        return plan.users, {
            "staff": det_id(USER, 0),
            "teacher": det_id(USER, plan.instructor(0)),
            "learner": det_id(USER, plan.first_learner),
        }

    def stage_courses(self, cursor, plan: Plan):
        rng = random.Random(SEED + 1)
        now = self.started
        cursor.execute(
            "CREATE TEMP TABLE bench_course (LIKE content.course INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        with Loader(
            cursor,
            "bench_course",
            "id, created_at, updated_at, title, slug, short_description, description, level, "
            "language, price_minor, currency, access_type, learning_objectives, tags, "
            "thumbnail_url, preview_video_url, status, visibility, is_featured, seo_title, "
            "seo_description, meta_keywords, published_at, category_id, created_by_id, "
            "instructor_id",
        ) as out:
            for c in range(plan.courses):
                words = rng.sample(WORDS, 4)
                title = {0: "Outline benchmark course", 1: "Gradebook benchmark course"}.get(
                    c, f"{words[0].title()} and {words[1]} {c}"
                )
                created = (now - timedelta(days=400 + rng.randrange(600))).isoformat()
                level = rng.choice(("beginner", "intermediate", "advanced"))
                tags = "{" + ",".join(words[2:]) + "}"
                teacher = det_id(USER, plan.instructor(c))
                out.write(
                    f"{det_id(COURSE, c)}\t{created}\t{created}\t{title}\tbench-course-{c}\t"
                    f"Learn {words[0]} through {words[1]}.\t"
                    f"A course on {' '.join(words)} with worked examples and exercises.\t"
                    f"{level}\ten\t0\tUSD\tfree\t{{}}\t{tags}\t\t\tpublished\tpublic\tf\t\t\t{{}}\t"
                    f"{created}\t{det_id(CATEGORY, c % 12)}\t{teacher}\t{teacher}\n"
                )
        cursor.execute(
            """
            UPDATE bench_course SET search_vector =
                setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
                || setweight(to_tsvector('english'::regconfig,
                   coalesce(short_description, '') || ' ' || coalesce(description, '')), 'B')
                || setweight(to_tsvector('english'::regconfig,
                   array_to_string(coalesce(tags, '{}'::text[]), ' ')), 'C')
            """
        )
        with bulk(cursor, "content.course"):
            cursor.execute("INSERT INTO content.course SELECT * FROM bench_course")
        modules = lessons = 0
        stamp = now.isoformat()
        with (
            bulk(cursor, "content.module"),
            Loader(
                cursor,
                "content.module",
                "id, created_at, updated_at, title, description, position, course_id",
            ) as out,
        ):
            for c in range(plan.courses):
                per = 50 if c == 0 else 10
                for m in range(math.ceil(plan.lessons_per_course[c] / per)):
                    out.write(
                        f"{det_id(MODULE, c * 1000 + m)}\t{stamp}\t{stamp}\tModule {m + 1}\t\t"
                        f"{m + 1}\t{det_id(COURSE, c)}\n"
                    )
                    modules += 1
        with (
            bulk(cursor, "content.lesson"),
            Loader(
                cursor,
                "content.lesson",
                "id, created_at, updated_at, title, content, lesson_type, position, video_url, "
                "is_preview, unlock_conditions, module_id",
            ) as out,
        ):
            for c in range(plan.courses):
                per = 50 if c == 0 else 10
                for k, lesson in enumerate(plan.course_lessons(c)):
                    word = WORDS[lesson % len(WORDS)]
                    out.write(
                        f"{det_id(LESSON, lesson)}\t{stamp}\t{stamp}\tLesson {k + 1}: {word}\t"
                        f"Read about {word} and try the exercises.\ttext\t{k % per + 1}\t\t"
                        f"{'t' if k == 0 else 'f'}\t[]\t{det_id(MODULE, c * 1000 + k // per)}\n"
                    )
                    lessons += 1
        # What the disabled triggers would have done: a new catalog version (searches cached
        # before the load are never served again) and a structure version per course.
        cursor.execute(
            "INSERT INTO content.catalog_version (id, version) VALUES (1, gen_random_uuid()) "
            "ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version"
        )
        cursor.execute(
            "INSERT INTO content.course_structure (course_id, version) "
            "SELECT id, nextval('content.course_structure_version') FROM bench_course "
            "ON CONFLICT (course_id) DO UPDATE SET version = EXCLUDED.version"
        )
        return plan.courses + modules + lessons, {
            "outline_course": "bench-course-0",
            "gradebook_course": "bench-course-1",
            "courses": plan.courses,
            "modules": modules,
            "lessons": lessons,
        }

    def _enrollments(self, plan: Plan):
        """(enrollment number, course, user, touched lessons) for every enrollment, in order.
        The benchmark learner (first learner) is in the outline course with 400 lessons done."""
        rng = random.Random(SEED + 2)
        number = 0
        learners = range(plan.first_learner, plan.users)
        f = plan.progress_fraction
        for c, count in enumerate(plan.enrollments_per_course):
            if not count:
                continue
            n = plan.lessons_per_course[c]
            if c == 0:
                users = [plan.first_learner, *rng.sample(learners[1:], count - 1)]
            else:
                users = rng.sample(learners, count)
            for i, user in enumerate(users):
                if c == 0:
                    touched = 401 if i == 0 else rng.randrange(0, n // 5 + 1)
                elif c == 1:
                    touched = rng.randrange(0, n + 1)
                else:
                    u = rng.uniform(0, 2 * f) if f <= 0.5 else rng.uniform(2 * f - 1, 1)
                    touched = min(n, round(n * u))
                yield number, c, user, touched
                number += 1

    def stage_enrollments(self, cursor, plan: Plan):
        rng = random.Random(SEED + 3)
        now = self.started
        with (
            bulk(cursor, "progress.enrollment"),
            Loader(
                cursor,
                "progress.enrollment",
                "id, created_at, updated_at, enrollment_type, status, progress_percent, "
                "completed_lessons, total_lessons, study_time_seconds, last_accessed_at, "
                "started_at, certificate_issued, assignments_completed, achievements, run, "
                "course_id, user_id",
            ) as out,
        ):
            for number, c, user, touched in self._enrollments(plan):
                n = plan.lessons_per_course[c]
                done = max(0, touched - 1)  # the last touched lesson is still in progress
                created = (now - timedelta(days=1 + rng.randrange(360))).isoformat()
                last = (now - timedelta(minutes=rng.randrange(60 * 24 * 30))).isoformat()
                started = created if touched else "\\N"
                out.write(
                    f"{det_id(ENROLLMENT, number)}\t{created}\t{created}\tfree\tactive\t"
                    f"{percent(done, n)}\t{done}\t{n}\t{touched * 300}\t"
                    f"{last if touched else chr(92) + 'N'}\t{started}\tf\t0\t[]\t1\t"
                    f"{det_id(COURSE, c)}\t{det_id(USER, user)}\n"
                )
            rows = out.rows
        return rows, {"enrollments": rows}

    def _bulk(self, cursor, table: str, load):
        with bulk(cursor, table):
            return load()

    def stage_lesson_progress(self, cursor, plan: Plan):
        stamp = self.started.isoformat()
        completed = (self.started - timedelta(days=3)).isoformat()

        def load():
            with Loader(
                cursor,
                "progress.lesson_progress",
                "created_at, updated_at, progress_percent, time_spent_seconds, attempts, "
                "started_at, completed_at, last_position, notes, enrollment_id, lesson_id",
            ) as out:
                for number, c, _user, touched in self._enrollments(plan):
                    eid = det_id(ENROLLMENT, number)
                    start = plan.lesson_start[c]
                    for k in range(touched):
                        lesson = det_id(LESSON, start + k)
                        if k < touched - 1:
                            out.write(
                                f"{completed}\t{completed}\t100\t300\t1\t{completed}\t{completed}"
                                f"\t{{}}\t\t{eid}\t{lesson}\n"
                            )
                        else:
                            out.write(
                                f"{stamp}\t{stamp}\t{10 + number % 80}\t300\t1\t{stamp}\t\\N\t"
                                f'{{"scroll": 0.4}}\t\t{eid}\t{lesson}\n'
                            )
                return out.rows

        rows = self._bulk(cursor, "progress.lesson_progress", load)
        return rows, {}

    def stage_activity(self, cursor, plan: Plan):
        rng = random.Random(SEED + 4)
        now = self.started
        span = 365 * 24 * 3600
        cursor.execute(
            "SELECT public.lyceum_ensure_monthly_partitions('progress.activity'::regclass, 3, 13)"
        )
        sessions = [(c, u) for _n, c, u, t in self._enrollments(plan) if t]

        def load():
            with Loader(
                cursor,
                "progress.activity",
                "created_at, user_id, activity_type, resource_type, resource_id, course_id, data, "
                "duration_seconds, session_id, user_agent",
            ) as out:
                while out.rows < plan.activity:
                    # A study session: one learner, one course, 5-40 events a minute apart.
                    c, user = sessions[rng.randrange(len(sessions))]
                    uid, cid = det_id(USER, user), det_id(COURSE, c)
                    start, n = plan.lesson_start[c], plan.lessons_per_course[c]
                    at = now - timedelta(seconds=60 * 40 + rng.randrange(span))
                    for _ in range(min(rng.randint(5, 40), plan.activity - out.rows)):
                        kind = ACTIVITY_TYPES[rng.randrange(10)]
                        resource = "quiz" if kind == "quiz_attempt" else "lesson"
                        out.write(
                            f"{at.isoformat()}\t{uid}\t{kind}\t{resource}\t"
                            f"{det_id(LESSON, start + rng.randrange(n))}\t{cid}\t{{}}\t"
                            f"{rng.randrange(60)}\t\t\n"
                        )
                        at += timedelta(seconds=60)
                return out.rows

        rows = self._bulk(cursor, "progress.activity", load)
        return rows, {}

    def stage_memories(self, cursor, plan: Plan):
        rng = random.Random(SEED + 5)
        now = self.started
        profile = det_id(PROFILE, 0)
        cursor.execute(
            "CREATE TEMP TABLE bench_memory (LIKE assistants.memory INCLUDING DEFAULTS) "
            "ON COMMIT DROP"
        )

        def load():
            with Loader(
                cursor,
                "bench_memory",
                "id, created_at, updated_at, user_id, profile_id, content, context, importance, "
                "confidence, category, tags, source, version",
            ) as out:
                for i in range(plan.memories):
                    # The benchmark learner has 200 memories; the rest spread over learners.
                    user = (
                        plan.first_learner
                        if i < 200
                        else rng.randrange(plan.first_learner, plan.users)
                    )
                    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 12)))
                    at = (now - timedelta(seconds=rng.randrange(365 * 24 * 3600))).isoformat()
                    out.write(
                        f"{det_id(MEMORY, i)}\t{at}\t{at}\t{det_id(USER, user)}\t{profile}\t"
                        f"{text.capitalize()}\t{{}}\t{rng.random():.3f}\t"
                        f"{rng.uniform(0.5, 1):.3f}\t{rng.choice(MEMORY_CATEGORIES)}"
                        "\t{}\tuser\t1\n"
                    )
                rows = out.rows
            cursor.execute(
                """
                UPDATE bench_memory SET search_vector =
                    setweight(to_tsvector('english'::regconfig, coalesce(content, '')), 'A')
                    || setweight(to_tsvector('english'::regconfig,
                       array_to_string(coalesce(tags, '{}'::text[]), ' ')), 'B')
                    || setweight(to_tsvector('english'::regconfig, coalesce(category, '')), 'C')
                """
            )
            cursor.execute("INSERT INTO assistants.memory SELECT * FROM bench_memory")
            return rows

        rows = self._bulk(cursor, "assistants.memory", load)
        return rows, {"profile": profile}

    def stage_finish(self, cursor, plan: Plan):
        timings = {}
        cursor.execute("ANALYZE")
        cursor.execute(
            "SELECT schemaname || '.' || matviewname FROM pg_matviews "
            "WHERE schemaname = 'analytics' ORDER BY 1"
        )
        for (view,) in cursor.fetchall():
            started_at, t0 = datetime.now(UTC), time.perf_counter()
            cursor.execute(f"REFRESH MATERIALIZED VIEW {view}")
            timings[view] = round(time.perf_counter() - t0, 2)
            # Recorded as beat's refreshes are (analytics.RefreshRun; SQL: nothing imports
            # analytics): dashboards say how fresh their figures are and cache them per refresh.
            cursor.execute(
                "INSERT INTO analytics.refresh_run "
                "(view, started_at, duration_ms, rows, outcome, error) "
                "VALUES (%s, %s, %s, NULL, 'refreshed', '')",
                [view.split(".", 1)[1], started_at, round(timings[view] * 1000)],
            )
        cursor.execute("ANALYZE")
        return 0, {"refresh_seconds": timings}
