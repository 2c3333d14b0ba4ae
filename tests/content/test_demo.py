"""The demo catalog loads through the services, is idempotent, and is searchable."""

import pytest

from apps.content import selectors
from apps.content.models import Category, Course, InteractiveContent, LessonPlan
from apps.demo.services import demo_seed

pytestmark = pytest.mark.django_db


def test_demo_catalog_is_complete_and_idempotent():
    demo_seed()
    assert Course.objects.count() == 20
    assert Course.objects.filter(status="published").count() == 18
    assert Category.objects.filter(level=3).exists()
    assert InteractiveContent.objects.filter(content_type="quiz").count() == 40
    teacher_plans = LessonPlan.objects.filter(owner__email="teacher@lyceum.test")
    assert teacher_plans.count() == 5
    assert Course.objects.get(slug="genetics").prerequisites.get().slug == "cell-biology"
    counts = demo_seed()
    assert counts["created"] == 0
    assert Course.objects.count() == 20
    assert selectors.course_catalog(query="python")[0].slug == "python"
    maths = Category.objects.get(slug="mathematics")
    assert selectors.course_catalog(category=maths).count() == 5
