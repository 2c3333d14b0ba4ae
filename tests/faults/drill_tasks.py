"""The task the worker-killed drill runs (loaded by its workers with `celery worker -I`).

`drill.credit` credits an account once per idempotency key (apps.core.services.idempotent_apply).
While the Redis key HOLD exists it stops at a chosen point, so the drill can kill the worker
there: inside the transaction (nothing committed yet) or after the commit (before the ack)."""

import time

import redis
from celery import shared_task
from django.conf import settings
from django.db import connection

from apps.core.services import idempotent_apply

HOLD = "drill:hold"
EVENTS = "drill:events"


def _wait_while_held(client: redis.Redis, key: str, where: str) -> None:
    client.rpush(EVENTS, f"{key}:{where}")
    deadline = time.monotonic() + 120
    while client.exists(HOLD) and time.monotonic() < deadline:
        time.sleep(0.2)


@shared_task(name="drill.credit")
def credit(key: str, amount: int, stop: str) -> dict:
    client = redis.Redis.from_url(settings.REDIS_URL)

    def apply() -> dict:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO public.drill_ledger (key, amount) VALUES (%s, %s)", [key, amount]
            )
            if stop == "inside":  # before the account's row lock, which the other task needs
                _wait_while_held(client, key, "inside")
            cursor.execute("UPDATE public.drill_account SET balance = balance + %s", [amount])
        return {"credited": amount}

    applied, result = idempotent_apply(key=key, scope="drill.credit", apply=apply)
    if stop == "after":
        _wait_while_held(client, key, "after")
    client.rpush(EVENTS, f"{key}:{'applied' if applied else 'skipped'}")
    return {"applied": applied, **result}
