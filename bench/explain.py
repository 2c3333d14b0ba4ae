"""Where a scenario's SQL time goes: EXPLAIN ANALYZE of every statement one request runs.

    .venv/bin/python bench/explain.py --full --only outline,gradebook_page [--plans]

Uses the data `bench/run.py` generated (it neither migrates nor generates). Each scenario's
request runs once in-process (as in the runner's "SQL only" reference); its statements are
then replayed on an app-role connection, the row-level security settings included: once to
warm the session (as a persistent connection is warm), then once more, each SELECT under
EXPLAIN (ANALYZE, BUFFERS) and writes run as they are, timed, and rolled back. Prints the
statements by time, and with --plans the plan of each statement above 1 ms. For hand
profiling; nothing asserts on it.
"""

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # bench/run.py: the runner's database, fixtures and scenarios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--plans", action="store_true", help="print plans of statements > 1 ms")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9")
    args = parser.parse_args()
    scale = 1.0 if args.full else args.scale
    name = "lyceum_bench" if scale >= 1 else f"lyceum_bench_{str(scale).replace('.', '_')}"
    owner, app = run.db_urls(name)
    import psycopg

    with psycopg.connect(owner) as conn:
        stages = {
            stage: {"rows": rows, "seconds": seconds, "info": info}
            for stage, rows, seconds, info in conn.execute(
                "SELECT stage, rows, seconds, info FROM public.bench_generate_stage"
            )
        }
    run.django_setup(app, args.redis)
    from django.conf import settings

    fx = run.fixtures(stages)
    chosen = run.scenarios(fx)
    names = args.only.split(",") if args.only else list(chosen)
    options = settings.DATABASES["default"].get("OPTIONS", {}).get("options", "")
    for scenario in names:
        statements, status, size = run.capture_sql(chosen[scenario](random.Random(1)))
        print(f"\n== {scenario}: status {status}, {size} bytes, {len(statements)} statements")
        timings = []
        with psycopg.connect(app, cursor_factory=psycopg.ClientCursor, options=options) as conn:
            # A first pass warms the session as a persistent connection is warm (PL/pgSQL
            # functions keep their plans per session); the second is measured.
            with conn.cursor() as cursor:
                for sql, params, many in statements:
                    (cursor.executemany if many else cursor.execute)(sql, params)
            conn.rollback()
            with conn.cursor() as cursor:
                for sql, params, many in statements:
                    head = sql.lstrip().split(None, 1)[0].upper()
                    t0 = time.perf_counter()
                    plan = None
                    if many:
                        cursor.executemany(sql, params)
                    elif head in ("SELECT", "WITH"):
                        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                        plan = "\n".join(row[0] for row in cursor.fetchall())
                    else:
                        cursor.execute(sql, params)
                    timings.append(((time.perf_counter() - t0) * 1000, sql, plan))
            conn.rollback()
        total = sum(t for t, _, _ in timings)
        print(f"   total {total:.1f} ms (EXPLAIN ANALYZE adds its own overhead)")
        for ms, sql, plan in sorted(timings, key=lambda t: -t[0]):
            print(f"   {ms:8.2f} ms  {' '.join(sql.split())[:160]}")
            if args.plans and plan and ms > 1:
                print("      " + plan.replace("\n", "\n      "))


if __name__ == "__main__":
    main()
