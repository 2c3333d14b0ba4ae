"""Subscriptions over time (the beat task's rules), enrolling through a subscription, and access
following the subscription's status through the API and the pages; refunds closing the lesson
player."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from apps.billing import services, tasks
from apps.billing.models import Subscription
from apps.progress.models import Enrollment
from tests.accounts.factories import UserFactory
from tests.billing.conftest import paid_course
from tests.billing.factories import PlanFactory
from tests.content.factories import CourseFactory, LessonFactory, ModuleFactory, published

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def subscription_course(**kwargs):
    course = published(CourseFactory(access_type="subscription", price_minor=1_000, **kwargs))
    course.test_lesson = LessonFactory(module=ModuleFactory(course=course))
    return course


def ended(subscription: Subscription, ago: dt.timedelta) -> Subscription:
    """Move the subscription's period into the past (as if time had passed)."""
    end = timezone.now() - ago
    Subscription.objects.filter(pk=subscription.pk).update(
        current_period_start=end - 30 * DAY, current_period_end=end
    )
    subscription.refresh_from_db()
    return subscription


@pytest.fixture
def plan():
    return PlanFactory(slug="all-access")


@pytest.fixture
def covered(plan):
    course = subscription_course()
    plan.courses.add(course)
    return course


def test_the_expiry_rules(plan, settings):
    settings.BILLING_PAST_DUE_GRACE_DAYS = 14
    users = [services.subscription_create(user=u, plan=plan) for u in _users(6)]
    active_due, ending, in_grace, grace_over, current, trial = users
    ended(active_due, DAY)
    services.subscription_cancel(subscription=ending)
    ended(ending, DAY)
    Subscription.objects.filter(pk__in=[in_grace.pk, grace_over.pk]).update(status="past_due")
    ended(in_grace, 3 * DAY)
    ended(grace_over, 15 * DAY)
    Subscription.objects.filter(pk=trial.pk).update(status="trialing", trial_end=timezone.now())
    ended(trial, dt.timedelta(minutes=1))

    assert tasks.expire_subscriptions() == {"past_due": 2, "cancelled": 2}
    status = dict(Subscription.objects.values_list("pk", "status"))
    assert status[active_due.pk] == "past_due"  # unpaid: access stops until it is paid
    assert status[ending.pk] == "cancelled"  # cancel at period end
    assert status[in_grace.pk] == "past_due"
    assert status[grace_over.pk] == "cancelled"
    assert status[current.pk] == "active"
    assert status[trial.pk] == "past_due"  # the trial is over and nothing was paid yet
    assert tasks.expire_subscriptions() == {"past_due": 0, "cancelled": 0}  # idempotent


def _users(n):
    return [UserFactory() for _ in range(n)]


def test_the_expiry_task_is_scheduled():
    task = PeriodicTask.objects.get(task="billing.tasks.expire_subscriptions")
    assert task.enabled and task.interval.every == 15


def test_enrolling_through_a_subscription_and_losing_access_when_it_lapses(
    api_client, client, buyer, plan, covered
):
    api_client.force_authenticate(buyer)
    client.force_login(buyer)
    lesson_url = reverse("progress:lesson", args=[covered.slug, covered.test_lesson.pk])
    enroll_url = "/api/v1/billing/subscription/enroll/"

    # Without a subscription: no way in, through the API or the pages.
    refused = api_client.post(enroll_url, {"course": str(covered.pk)})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "subscription_required"
    free = api_client.post("/api/v1/progress/enrollments/", {"course": str(covered.pk)})
    assert free.json()["error"]["code"] == "payment_required"
    checkout = client.get(reverse("billing:checkout", args=[covered.slug]))
    assert b"see-plans" in checkout.content
    assert b'id="lesson"' not in client.get(lesson_url, follow=True).content

    subscription = services.subscription_create(user=buyer, plan=plan)
    checkout = client.get(reverse("billing:checkout", args=[covered.slug]))
    assert b"subscription-enroll" in checkout.content
    page = client.post(reverse("billing:subscription_enroll", args=[covered.slug]))
    assert page.status_code == 302
    enrollment = Enrollment.objects.get(user=buyer, course=covered)
    assert (enrollment.enrollment_type, enrollment.status) == ("subscription", "active")
    assert b'id="lesson"' in client.get(lesson_url).content
    progress = f"/api/v1/progress/enrollments/{enrollment.pk}/progress/"
    beat = {"lesson": str(covered.test_lesson.pk), "percent": "10"}
    assert api_client.post(progress, beat).status_code == 200

    # The period ends unpaid: past due, the enrollment is suspended, the player closed.
    ended(subscription, DAY)
    tasks.expire_subscriptions()
    enrollment.refresh_from_db()
    assert enrollment.status == "suspended"
    closed = client.get(lesson_url, follow=True)
    assert b'id="lesson"' not in closed.content and b"suspended" in closed.content
    assert api_client.post(progress, beat).status_code == 409
    assert b"past-due" in client.get(reverse("billing:subscription")).content

    # Staff record the transfer: renewed, the enrollment reopens with its progress.
    services.subscription_renew(subscription=subscription)
    enrollment = Enrollment.objects.get(user=buyer, course=covered)
    assert enrollment.status == "active" and enrollment.enrollment_type == "subscription"
    assert b'id="lesson"' in client.get(lesson_url).content


def test_changing_to_a_plan_without_the_course_or_cancelling_now_suspends(buyer, plan, covered):
    other = PlanFactory(slug="other")
    subscription = services.subscription_create(user=buyer, plan=plan)
    enrollment = services.subscription_enroll(user=buyer, course=covered)
    services.subscription_change_plan(subscription=subscription, plan=other)
    enrollment.refresh_from_db()
    assert enrollment.status == "suspended"
    services.subscription_change_plan(subscription=subscription, plan=plan)
    assert Enrollment.objects.get(pk=enrollment.pk).status == "active"
    services.subscription_cancel(subscription=subscription, at_period_end=False)
    assert Enrollment.objects.get(pk=enrollment.pk).status == "suspended"


def test_a_course_bought_as_well_stays_open_when_the_subscription_ends(buyer, plan):
    course = paid_course()
    plan.courses.add(course)
    subscription = services.subscription_create(user=buyer, plan=plan)
    services.subscription_enroll(user=buyer, course=course)
    order = services.order_create(user=buyer, course=course)
    services.order_pay(order=order, provider="manual", idempotency_key="bought")
    services.subscription_cancel(subscription=subscription, at_period_end=False)
    assert Enrollment.objects.get(user=buyer, course=course).status == "active"


def test_a_full_refund_closes_the_lesson_player(client, buyer, course):
    order = services.order_create(user=buyer, course=course)
    services.order_pay(order=order, provider="manual", idempotency_key="refund-me")
    lesson = course.modules.first().lessons.first()
    url = reverse("progress:lesson", args=[course.slug, lesson.pk])
    client.force_login(buyer)
    assert b'id="lesson"' in client.get(url).content
    services.refund_create(order=order, reason="asked")
    closed = client.get(url, follow=True)
    assert b'id="lesson"' not in closed.content and b"suspended" in closed.content


def test_subscription_pages_subscribe_change_and_cancel(client, buyer, plan):
    yearly = PlanFactory(slug="yearly", interval="year")
    client.force_login(buyer)
    client.post(reverse("billing:subscription_choose"), {"plan": plan.slug})
    assert Subscription.objects.get(user=buyer).plan == plan
    client.post(reverse("billing:subscription_choose"), {"plan": yearly.slug})
    assert Subscription.objects.get(user=buyer).plan == yearly
    client.post(reverse("billing:subscription_cancel"))
    page = client.get(reverse("billing:subscription"))
    assert Subscription.objects.get(user=buyer).cancel_at_period_end
    assert b"(ends then)" in page.content


def test_staff_renew_and_cancel_subscriptions_in_admin(verified_staff_client, buyer, plan):
    subscription = ended(services.subscription_create(user=buyer, plan=plan), DAY)
    services.subscriptions_expire()
    admin = "/admin/billing/subscription/"
    verified_staff_client.post(admin, {"action": "renew", "_selected_action": [subscription.pk]})
    subscription.refresh_from_db()
    assert subscription.status == "active" and subscription.current_period_end > timezone.now()
    verified_staff_client.post(
        admin, {"action": "cancel_now", "_selected_action": [subscription.pk]}
    )
    subscription.refresh_from_db()
    assert subscription.status == "cancelled"
    assert verified_staff_client.get("/admin/billing/providerevent/").status_code == 200
