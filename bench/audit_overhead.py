"""Write overhead of audit tracking: inserts and updates into a tracked table (pghistory
triggers, with a request-like context) against the same table without triggers, in one run.

    .venv/bin/python bench/audit_overhead.py [--rows 5000] [--repeat 3]

Everything happens in one transaction that is rolled back: the database is left as it was.
Prints a markdown table; the ratio tracked/untracked is the figure to read.
"""

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django

django.setup()

import pghistory
from django.db import connection, transaction

COLUMNS = (
    "id, password, is_superuser, email, username, first_name, last_name, is_staff, is_active,"
    " date_joined, created_at, updated_at, phone, is_email_verified"
)


def rows(n: int, tag: str):
    for i in range(n):
        yield (
            uuid.uuid4(),
            "!",
            False,
            f"bench-{tag}-{i}@example.org",
            f"bench-{tag}-{i}",
            "Bench",
            "User",
            False,
            True,
            "",
            False,
        )


def timed(cursor, sql: str, params: list) -> float:
    # One statement per row, as requests write (pghistory's context injection, like a request's,
    # does not support executemany).
    started = time.perf_counter()
    for row in params:
        cursor.execute(sql, row)
    return time.perf_counter() - started


def run(table: str, n: int, tag: str) -> tuple[float, float]:
    insert = (
        f"INSERT INTO {table} ({COLUMNS}) VALUES "
        "(%s, %s, %s, %s, %s, %s, %s, %s, %s, now(), now(), now(), %s, %s)"
    )
    data = list(rows(n, tag))
    with connection.cursor() as cursor:
        insert_time = timed(cursor, insert, data)
        update_time = timed(
            cursor,
            f"UPDATE {table} SET first_name = %s WHERE id = %s",
            [(f"Renamed {i}", row[0]) for i, row in enumerate(data)],
        )
    return insert_time, update_time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    results = {"tracked": ([], []), "untracked": ([], [])}
    with transaction.atomic():
        with connection.cursor() as cursor:
            # A regular (logged) table like the tracked one minus its triggers; rolled back below.
            cursor.execute(
                'CREATE TABLE public.bench_user_untracked (LIKE "accounts"."user" INCLUDING ALL)'
            )
        with pghistory.context(user=None, url="/bench", request_id="bench"):
            for attempt in range(args.repeat):
                for name, table in (
                    ("untracked", "public.bench_user_untracked"),
                    ("tracked", '"accounts"."user"'),
                ):
                    insert_time, update_time = run(table, args.rows, f"{name}{attempt}")
                    results[name][0].append(insert_time)
                    results[name][1].append(update_time)
        transaction.set_rollback(True)

    def per_op(seconds: list[float]) -> float:
        return statistics.median(seconds) / args.rows * 1e6  # microseconds

    print(
        f"audit write overhead: {args.rows} rows x {args.repeat} runs, median per row, "
        f"PostgreSQL {connection.pg_version // 10000}, {os.cpu_count()} cores"
    )
    print()
    print("| operation | untracked (us/row) | tracked (us/row) | tracked / untracked |")
    print("| --- | --- | --- | --- |")
    for index, operation in enumerate(("insert", "update")):
        untracked = per_op(results["untracked"][index])
        tracked = per_op(results["tracked"][index])
        print(f"| {operation} | {untracked:.1f} | {tracked:.1f} | {tracked / untracked:.2f} |")


if __name__ == "__main__":
    main()
