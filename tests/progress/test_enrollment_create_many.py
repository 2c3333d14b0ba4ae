"""enrollment_create_many against enrollment_create: the same worlds enrolled one by one and in
one call give the same outcomes, rows, domain events and activity (capacity reached in the
middle of the list included), in a number of statements that does not grow with the users."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.audit.models import DomainEvent
from apps.core.exceptions import DomainError
from apps.progress import services
from apps.progress.models import Activity, Enrollment
from tests.accounts.factories import UserFactory
from tests.content.factories import CourseFactory, LessonFactory, ModuleFactory, published

pytestmark = pytest.mark.django_db


def _capacity_world():
    """Four seats; one taken (u2), one dropped (u3): u0, u3, u4 get the 3 left, u5, u6 are
    refused as full, u1 is inactive."""
    course = published(CourseFactory(), max_enrollments=4)
    module = ModuleFactory(course=course, position=1)
    for position in (1, 2, 3):
        LessonFactory(module=module, position=position)
    users = UserFactory.create_batch(7)
    users[1].is_active = False
    users[1].save()
    services.enrollment_create(user=users[2], course=course)
    services.enrollment_drop(enrollment=services.enrollment_create(user=users[3], course=course))
    return course, users, "free"


def _prerequisite_world():
    """u0 completed the prerequisite, u1 is enrolled in it but not done, u2 never started."""
    basics = published(CourseFactory(title="Basics"))
    course = published(CourseFactory())
    course.prerequisites.add(basics)
    users = UserFactory.create_batch(3)
    Enrollment.objects.create(
        user=users[0],
        course=basics,
        status="completed",
        progress_percent=100,
        completed_at=timezone.now(),
    )
    Enrollment.objects.create(user=users[1], course=basics)
    return course, users, "free"


def _private_world():
    course = published(CourseFactory(), visibility="private")
    return course, [UserFactory(), UserFactory(is_staff=True)], "free"


def _paid_world(enrollment_type):
    def world():
        course = published(CourseFactory(), access_type="paid", price_minor=4900)
        return course, UserFactory.create_batch(2), enrollment_type

    return world


def _draft_world():
    return CourseFactory(), UserFactory.create_batch(2), "free"


def _one_by_one(course, users, enrollment_type):
    outcomes = []
    for user in users:
        try:
            services.enrollment_create(user=user, course=course, enrollment_type=enrollment_type)
        except DomainError as error:
            if error.code == "already_enrolled":
                outcomes.append(("already_enrolled", "", ""))
            else:
                outcomes.append(("error", error.code, error.message.replace(course.title, "C")))
        else:
            outcomes.append(("enrolled", "", ""))
    return outcomes


def _at_once(course, users, enrollment_type):
    results = services.enrollment_create_many(
        course=course, users=users, enrollment_type=enrollment_type
    )
    assert list(results) == [user.pk for user in users]
    return [(r.outcome, r.code, r.message.replace(course.title, "C")) for r in results.values()]


def _state(course, users):
    """What the database holds for these users in this course, with users as their index."""
    index = {user.pk: number for number, user in enumerate(users)}
    enrollments = {
        e.pk: e for e in Enrollment.objects.filter(course=course, user_id__in=list(index))
    }
    rows = sorted(
        (
            index[e.user_id],
            e.status,
            e.enrollment_type,
            e.total_lessons,
            e.dropped_at is None,
            e.started_at is not None,
            e.last_accessed_at is not None,
        )
        for e in enrollments.values()
    )
    events = sorted(
        (
            index[enrollments[event.aggregate_id].user_id],
            event.version,
            event.event_type,
            event.data.get("type"),
            event.data.get("user") == str(enrollments[event.aggregate_id].user_id),
            event.data.get("course") in (None, str(course.pk)),
        )
        for event in DomainEvent.objects.filter(
            aggregate_type="enrollment", aggregate_id__in=list(enrollments)
        )
    )
    activity = sorted(
        (index[a.user_id], a.activity_type, a.resource_type, a.resource_id == course.pk)
        for a in Activity.objects.filter(course_id=course.pk, user_id__in=list(index))
    )
    return rows, events, activity


@pytest.mark.parametrize(
    "world",
    [
        _capacity_world,
        _prerequisite_world,
        _private_world,
        _paid_world("free"),
        _paid_world("gift"),
        _draft_world,
    ],
)
def test_one_call_does_what_enrolling_one_by_one_does(world):
    single_course, single_users, enrollment_type = world()
    single = _one_by_one(single_course, single_users, enrollment_type)
    many_course, many_users, _type = world()
    many = _at_once(many_course, many_users, enrollment_type)
    assert many == single
    assert _state(many_course, many_users) == _state(single_course, single_users)


def test_capacity_reached_in_the_middle_fills_exactly_the_seats_left():
    course, users, _type = _capacity_world()
    results = services.enrollment_create_many(course=course, users=users)
    assert [r.outcome if not r.code else r.code for r in results.values()] == [
        "enrolled",
        "inactive_user",
        "already_enrolled",
        "enrolled",  # re-activated
        "enrolled",
        "course_full",
        "course_full",
    ]
    assert Enrollment.objects.filter(course=course, status="active").count() == 4
    reactivated = DomainEvent.objects.get(
        aggregate_id=results[users[3].pk].enrollment_id, event_type="enrollment.reactivated"
    )
    assert reactivated.version == 3  # created, dropped, re-activated: no gap
    # Nothing left: everyone else is refused without a write.
    late = services.enrollment_create_many(course=course, users=[UserFactory()])
    assert [r.code for r in late.values()] == ["course_full"]


def test_a_prerequisite_someone_else_completed_does_not_count():
    course, users, _type = _prerequisite_world()
    with pytest.raises(DomainError) as error:
        services.enrollment_create(user=users[1], course=course)
    assert error.value.code == "prerequisites_missing"
    results = services.enrollment_create_many(course=course, users=users)
    assert [r.code for r in results.values()] == [
        "",
        "prerequisites_missing",
        "prerequisites_missing",
    ]


def test_a_user_given_twice_counts_once(course):
    learner = UserFactory()
    results = services.enrollment_create_many(course=course, users=[learner, learner])
    assert [r.outcome for r in results.values()] == ["enrolled"]
    assert Enrollment.objects.filter(course=course).count() == 1


def _statements(course, count: int) -> int:
    users = UserFactory.create_batch(count)
    with CaptureQueriesContext(connection) as queries:
        results = services.enrollment_create_many(course=course, users=users)
    assert [r.outcome for r in results.values()] == ["enrolled"] * count
    return len(queries)


def test_the_statements_do_not_grow_with_the_users():
    small = published(CourseFactory(), max_enrollments=1000)
    large = published(CourseFactory(), max_enrollments=1000)
    # Lock the existing enrollments, lock the course, its prerequisites, seats taken, lessons,
    # insert (returning the ids), version counters, events, activity (a course with
    # prerequisites adds one: who completed them).
    assert _statements(small, 3) == _statements(large, 120) == 9
