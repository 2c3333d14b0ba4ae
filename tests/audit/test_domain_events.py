"""The domain event store: versions, context, append-only, partitions and archive."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pghistory
import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone
from psycopg import errors

from apps.audit.models import DomainEvent
from apps.audit.selectors import domain_events
from apps.audit.services import domain_event_record, partitions_archive
from apps.core.partitions import partitions_ensure
from tests.accounts.factories import UserFactory
from tests.conftest import database_connect


@pytest.mark.django_db
def test_versions_count_per_aggregate():
    first, second = uuid.uuid4(), uuid.uuid4()
    for _ in range(3):
        domain_event_record(aggregate_type="course", aggregate_id=first, event_type="x")
    domain_event_record(aggregate_type="course", aggregate_id=second, event_type="x")
    assert list(domain_events(aggregate_id=first).values_list("version", flat=True)) == [1, 2, 3]
    assert list(domain_events(aggregate_id=second).values_list("version", flat=True)) == [1]


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_get_versions_without_gaps_or_duplicates():
    aggregate = uuid.uuid4()

    def write(n: int) -> None:
        try:
            with transaction.atomic():
                domain_event_record(
                    aggregate_type="course", aggregate_id=aggregate, event_type="e", data={"n": n}
                )
                if n % 5 == 0:  # some writers roll back after taking a version
                    raise RuntimeError("rollback")
        except RuntimeError:
            pass
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, range(40)))
    versions = list(domain_events(aggregate_id=aggregate).values_list("version", flat=True))
    assert versions == list(range(1, 33))  # 40 writers, 8 rolled back


@pytest.mark.django_db
def test_a_rolled_back_transaction_leaves_no_event():
    aggregate = uuid.uuid4()
    with pytest.raises(RuntimeError), transaction.atomic():
        domain_event_record(aggregate_type="course", aggregate_id=aggregate, event_type="e")
        raise RuntimeError("abort")
    assert not DomainEvent.objects.filter(aggregate_id=aggregate).exists()
    domain_event_record(aggregate_type="course", aggregate_id=aggregate, event_type="e")
    assert domain_events(aggregate_id=aggregate).get().version == 1


@pytest.mark.django_db
def test_context_supplies_actor_correlation_and_metadata():
    user = UserFactory()
    with pghistory.context(user=str(user.pk), request_id="abc123", url="/x") as context:
        one = domain_event_record(aggregate_type="a", aggregate_id=uuid.uuid4(), event_type="e")
        two = domain_event_record(aggregate_type="b", aggregate_id=uuid.uuid4(), event_type="e")
    assert one.actor_id == user.pk
    assert one.correlation_id == two.correlation_id == context.id
    assert one.metadata == {"request_id": "abc123", "url": "/x"}
    assert domain_events(correlation_id=context.id).count() == 2


@pytest.mark.django_db
def test_events_are_append_only_even_for_the_owner():
    event = domain_event_record(aggregate_type="a", aggregate_id=uuid.uuid4(), event_type="e")
    for sql in (
        'UPDATE "audit"."events" SET event_type = %s WHERE event_id = %s',
        'DELETE FROM "audit"."events" WHERE event_id = %s AND %s IS NOT NULL',
    ):
        params = ["changed", event.event_id] if sql.startswith("UPDATE") else [event.event_id, 1]
        with (
            pytest.raises(Exception, match="Cannot update or delete"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, params)


@pytest.mark.django_db
def test_a_version_is_unique_per_aggregate_in_sql():
    event = domain_event_record(aggregate_type="a", aggregate_id=uuid.uuid4(), event_type="e")
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO "audit"."events" (occurred_at, event_id, aggregate_type, aggregate_id,
                event_type, version, data, metadata, correlation_id)
            VALUES (%s, gen_random_uuid(), 'a', %s, 'e', 1, '{}', '{}', gen_random_uuid())
            """,
            [event.occurred_at, event.aggregate_id],
        )


@pytest.fixture
def app_role(db):
    conn = database_connect(autocommit=True)
    yield conn
    conn.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "statement",
    [
        'UPDATE "audit"."events" SET event_type = \'x\'',
        'DELETE FROM "audit"."events"',
        'UPDATE "audit"."accounts_user_event" SET first_name = \'x\'',
        'DELETE FROM "audit"."accounts_user_event"',
        'TRUNCATE "audit"."accounts_user_event"',
    ],
)
def test_the_app_role_cannot_rewrite_the_trail(app_role, statement):
    UserFactory()
    domain_event_record(aggregate_type="a", aggregate_id=uuid.uuid4(), event_type="e")
    with pytest.raises(errors.InsufficientPrivilege):
        app_role.execute(statement)


@pytest.mark.django_db(transaction=True)
def test_the_app_role_can_append_events_and_maintain_partitions(app_role):
    app_role.execute(
        """
        INSERT INTO "audit"."events" (occurred_at, event_id, aggregate_type, aggregate_id,
            event_type, version, data, metadata, correlation_id)
        VALUES (now(), gen_random_uuid(), 'a', gen_random_uuid(), 'e', 1, '{}', '{}',
            gen_random_uuid())
        """
    )
    created = app_role.execute(
        "SELECT public.lyceum_ensure_monthly_partitions('audit.events'::regclass, 5, 0)"
    ).fetchone()[0]
    assert created == 2  # migration made this month + 3; months 4 and 5 are new
    with pytest.raises(errors.InsufficientPrivilege):
        app_role.execute('CREATE TABLE "audit"."nope" (id int)')


@pytest.mark.django_db
def test_partitions_are_created_ahead_idempotently():
    first = partitions_ensure(months_ahead=6)
    again = partitions_ensure(months_ahead=6)
    assert first["audit.events"] == 3  # the migration made this month and 3 ahead
    assert set(again.values()) == {0}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'audit.events'::regclass"
        )
        assert cursor.fetchone()[0] == 7 + 1  # this month + 6 ahead, and the default


@pytest.mark.django_db
def test_old_partitions_are_archived_not_deleted():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT public.lyceum_ensure_monthly_partitions('audit.events'::regclass, 0, 30)"
        )
    old = timezone.now() - timedelta(days=30 * 28)
    DomainEvent.objects.create(
        aggregate_type="a",
        aggregate_id=uuid.uuid4(),
        event_type="old",
        version=1,
        correlation_id=uuid.uuid4(),
        occurred_at=old,
    )
    recent = domain_event_record(aggregate_type="a", aggregate_id=uuid.uuid4(), event_type="new")
    archived = partitions_archive(table="audit.events", keep_months=24)
    assert len(archived) >= 6
    assert sum(item.row_count for item in archived) == 1
    assert list(DomainEvent.objects.values_list("event_type", flat=True)) == ["new"]
    assert recent.pk
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_tables "
            "WHERE schemaname = 'archive' AND tablename LIKE 'events_p%'"
        )
        assert cursor.fetchone()[0] == len(archived)
    assert partitions_archive(table="audit.events", keep_months=24) == []


@pytest.mark.django_db
def test_archive_refuses_a_zero_retention():
    with pytest.raises(Exception, match="keep_months"):
        partitions_archive(table="audit.events", keep_months=0)
