import pytest
from django.db import connection

from apps.demo.services import demo_seed
from apps.progress.models import Activity, Certificate, Enrollment

pytestmark = pytest.mark.django_db


def test_demo_student_has_learning_at_every_stage_and_months_of_activity():
    demo_seed()
    # The free courses of the learning demo (billing's demo adds paid ones).
    enrollments = Enrollment.objects.filter(
        user__email="student@lyceum.test", enrollment_type="free"
    )
    assert sorted(enrollments.values_list("status", flat=True)) == ["active", "active", "completed"]
    assert Certificate.objects.filter(enrollment__in=enrollments).count() == 1
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(DISTINCT tableoid) FROM progress.activity WHERE tableoid <> "
            "'progress.activity_default'::regclass"
        )
        assert cursor.fetchone()[0] >= 6
    before = Activity.objects.count()
    demo_seed()
    assert Activity.objects.count() == before
    assert enrollments.count() == 3
