import pytest

from apps.content.models import InteractiveContent
from tests.accounts.factories import UserFactory
from tests.content.factories import (
    QUIZ_CONFIG,
    CourseFactory,
    LessonFactory,
    ModuleFactory,
    published,
)


@pytest.fixture
def learner(db):
    return UserFactory()


@pytest.fixture
def course(db):
    """A published free course: 2 modules, 3 text lessons and a quiz lesson."""
    course = published(CourseFactory())
    first = ModuleFactory(course=course, position=1)
    second = ModuleFactory(course=course, position=2)
    lessons = [
        LessonFactory(module=first, position=1, title="Intro"),
        LessonFactory(module=first, position=2, title="Basics"),
        LessonFactory(module=second, position=1, title="More"),
        LessonFactory(module=second, position=2, title="Quiz time", lesson_type="quiz"),
    ]
    quiz = InteractiveContent.objects.create(
        lesson=lessons[3], title="Check", content_type="quiz", configuration=QUIZ_CONFIG
    )
    course.test_lessons = lessons
    course.test_quiz = quiz
    return course


RIGHT_ANSWERS = {"q1": "b", "q2": False, "q3": " paris ", "q4": ["a", "c"]}
