"""The activity stream: monthly partitions created ahead, rows routed to their month."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.utils import timezone

from apps.core.partitions import partitions_ensure
from apps.progress.models import Activity
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def partitions() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'progress.activity'::regclass
            """
        )
        return dict(cursor.fetchall())


def test_partitions_are_created_ahead_and_the_task_is_idempotent():
    partitions_ensure(months_ahead=4)
    first = partitions()
    assert partitions_ensure(months_ahead=4)["progress.activity"] == 0
    assert partitions() == first
    month = timezone.now().astimezone(UTC)
    assert f"activity_p{month:%Y%m}" in first
    assert "activity_default" in first
    assert len(first) == 5 + 1


def test_rows_land_in_their_months_partition():
    partitions_ensure(months_ahead=2)
    user = UserFactory()
    now = timezone.now().astimezone(UTC)
    far = datetime(2099, 1, 15, tzinfo=UTC)
    for when in (now, far):
        Activity.objects.create(
            user=user, activity_type="viewed", resource_type="lesson", created_at=when
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text, created_at FROM progress.activity ORDER BY created_at"
        )
        placed = cursor.fetchall()
    assert placed[0][0] == f"progress.activity_p{now:%Y%m}"
    assert placed[1][0] == "progress.activity_default"
