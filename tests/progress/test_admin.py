import pytest

from apps.progress import services

pytestmark = pytest.mark.django_db


def test_enrollment_admin_lists_filters_and_shows_partitions(
    verified_staff_client, learner, course
):
    services.enrollment_create(user=learner, course=course)
    response = verified_staff_client.get("/admin/progress/enrollment/", {"status": "active"})
    assert response.status_code == 200
    assert learner.email in response.content.decode()
    assert "activity_default" in response.content.decode()


def test_bulk_drop_action_goes_through_the_service(verified_staff_client, learner, course):
    enrollment = services.enrollment_create(user=learner, course=course)
    verified_staff_client.post(
        "/admin/progress/enrollment/",
        {"action": "drop_selected", "_selected_action": [str(enrollment.pk)]},
    )
    enrollment.refresh_from_db()
    assert enrollment.status == "dropped" and enrollment.dropped_at is not None


def test_admin_course_delete_explains_the_enrollments(verified_staff_client, learner, course):
    services.enrollment_create(user=learner, course=course)
    response = verified_staff_client.get(f"/admin/content/course/{course.pk}/delete/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Cannot delete course" in page
    assert "enrollment" in page  # the enrollments that hold it are named as the reason
