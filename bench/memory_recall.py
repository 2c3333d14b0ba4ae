"""Memory recall latency over many memories: generates users and memories with COPY, then runs
the recall service (one ranked statement that also touches and logs) K times.

    .venv/bin/python bench/memory_recall.py [--memories 1000000] [--users 1000] [--recalls 200]

Everything happens in one transaction that is rolled back: the database is left as it was.
While loading, the memory audit trigger is disabled and the two GIN indexes are dropped and
rebuilt after the load (all inside the transaction, so the rollback restores them); the
search-vector trigger runs, as in production. Prints load time and recall p50/p95/p99 latency.
"""

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django

django.setup()

from django.db import connection, transaction

from apps.accounts.models import User
from apps.assistants.models import AssistantProfile
from apps.assistants.services.memories import memory_recall

_VOCABULARY = (
    "fractions decimals algebra geometry equations graphs probability statistics calculus "
    "vectors photosynthesis cells genetics evolution ecology chemistry atoms molecules "
    "reactions energy forces motion electricity magnetism waves light sound planets stars "
    "history revolution empire treaty democracy geography rivers mountains climate weather "
    "spanish french verbs grammar vocabulary pronunciation reading writing essays poetry "
    "novels drama python loops functions variables recursion arrays databases networks "
    "music piano guitar rhythm drawing painting sculpture football tennis swimming chess "
    "exam homework quiz project deadline tutor teacher classmate library notes flashcards "
    "videos podcasts diagrams summaries examples practice revision mornings evenings weekends "
    "mondays tuesdays wednesdays thursdays fridays prefers struggles enjoys wants finds "
    "remembers forgets likes dislikes needs hard easy slow fast visual short long"
)
WORDS = _VOCABULARY.split()
CATEGORIES = ("goal", "preference", "difficulty", "schedule", "interest", "")


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 12))).capitalize()


def copy_rows(cursor, table: str, columns: str, rows) -> None:
    with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def load(cursor, *, users: int, memories: int, rng: random.Random):
    user_ids = [uuid.uuid4() for _ in range(users)]
    copy_rows(
        cursor,
        '"accounts"."user"',
        "id, password, is_superuser, email, username, first_name, last_name, is_staff, "
        "is_active, date_joined, created_at, updated_at, phone, is_email_verified",
        (
            (
                uid,
                "!",
                False,
                f"bench-{uid}@example.org",
                f"bench-{uid}",
                "B",
                "U",
                False,
                True,
                "now",
                "now",
                "now",
                "",
                False,
            )
            for uid in user_ids
        ),
    )
    profile = AssistantProfile.objects.create(name=f"bench-{uuid.uuid4()}", model_version="m")
    cursor.execute(
        'SELECT tgname FROM pg_trigger WHERE tgrelid = \'"assistants"."memory"\'::regclass '
        "AND tgname LIKE 'pgtrigger_insert_insert%%'"
    )
    audit_trigger = cursor.fetchone()[0]
    cursor.execute(f'ALTER TABLE "assistants"."memory" DISABLE TRIGGER {audit_trigger}')
    cursor.execute('DROP INDEX "assistants"."memory_search_vector"')
    cursor.execute('DROP INDEX "assistants"."memory_content_trgm"')
    started = time.perf_counter()
    copy_rows(
        cursor,
        '"assistants"."memory"',
        "id, created_at, updated_at, user_id, profile_id, content, context, importance, "
        "confidence, category, tags, source, version",
        (
            (
                uuid.uuid4(),
                "now",
                "now",
                user_ids[i % users],
                profile.pk,
                sentence(rng),
                "{}",
                round(rng.random(), 3),
                round(rng.uniform(0.5, 1), 3),
                rng.choice(CATEGORIES),
                "{}",
                "user",
                1,
            )
            for i in range(memories)
        ),
    )
    copied = time.perf_counter() - started
    # Django's foreign keys are deferred: run their checks now, before building indexes.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
    cursor.execute(
        'CREATE INDEX "memory_search_vector" ON "assistants"."memory" USING gin (search_vector)'
    )
    cursor.execute(
        'CREATE INDEX "memory_content_trgm" ON "assistants"."memory" '
        "USING gin (content gin_trgm_ops)"
    )
    # Spread ages over a year so recency matters (updated_at only moves with real changes).
    cursor.execute(
        'UPDATE "assistants"."memory" SET updated_at = now() - random() * interval \'365 days\', '
        "created_at = now() - interval '366 days' WHERE profile_id = %s",
        [profile.pk],
    )
    cursor.execute('ANALYZE "assistants"."memory"')
    cursor.execute('ANALYZE "accounts"."user"')
    return user_ids, profile, copied, time.perf_counter() - started


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memories", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--recalls", type=int, default=200)
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with transaction.atomic(), connection.cursor() as cursor:
        user_ids, profile, copied, loaded = load(
            cursor, users=args.users, memories=args.memories, rng=rng
        )
        users = {u.pk: u for u in User.all_objects.filter(pk__in=user_ids)}
        timings, results = [], []
        for _ in range(args.recalls):
            user = users[rng.choice(user_ids)]
            query = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3)))
            started = time.perf_counter()
            recalled = memory_recall(user=user, profile=profile, query=query, limit=5)
            timings.append((time.perf_counter() - started) * 1000)
            results.append(len(recalled))
        transaction.set_rollback(True)
    print(f"memories: {args.memories:,} for {args.users:,} users (one assistant)")
    print(f"load: COPY {copied:.1f} s, with index builds and ANALYZE {loaded:.1f} s")
    print(f"recalls: {args.recalls} (limit 5), mean results {statistics.mean(results):.1f}")
    print(
        f"latency ms: p50 {percentile(timings, 50):.2f}  p95 {percentile(timings, 95):.2f}  "
        f"p99 {percentile(timings, 99):.2f}  max {max(timings):.2f}"
    )


if __name__ == "__main__":
    main()
