"""The billing API and pages: quotes and orders through HTTP, staff marking an order paid in
the admin, and a paid course closed without payment (API and pages)."""

import pytest
from django.test import Client
from django.urls import reverse

from apps.billing import services
from apps.billing.models import Order
from apps.progress.models import Enrollment
from tests.billing.factories import CouponFactory, PlanFactory

pytestmark = pytest.mark.django_db


def test_quote_and_order_through_the_api(api_client, buyer, course):
    CouponFactory(code="Half50", percent_off=50)
    api_client.force_authenticate(buyer)
    quote = api_client.post(
        "/api/v1/billing/quote/", {"course": str(course.pk), "coupon": "half50", "country": "DE"}
    )
    assert quote.status_code == 200, quote.content
    assert quote.json()["total_minor"] == 5_950  # 50.00 + 19 % tax
    created = api_client.post(
        "/api/v1/billing/orders/", {"course": str(course.pk), "coupon": "HALF50", "country": "DE"}
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "pending" and body["total_minor"] == 5_950
    assert body["lines"][0]["course"] == str(course.pk)
    listed = api_client.get("/api/v1/billing/orders/").json()
    assert [o["id"] for o in listed["results"]] == [body["id"]]
    detail = api_client.get(f"/api/v1/billing/orders/{body['id']}/")
    assert detail.status_code == 200


def test_api_errors_are_clear_and_change_nothing(api_client, buyer, course):
    api_client.force_authenticate(buyer)
    response = api_client.post(
        "/api/v1/billing/orders/", {"course": str(course.pk), "coupon": "NOPE"}
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "coupon_not_found"
    assert not Order.objects.exists()


def test_paid_course_is_closed_without_payment_through_api_and_pages(
    api_client, client, buyer, course
):
    api_client.force_authenticate(buyer)
    enroll = api_client.post("/api/v1/progress/enrollments/", {"course": str(course.pk)})
    assert enroll.status_code == 403
    assert enroll.json()["error"]["code"] == "payment_required"
    client.force_login(buyer)
    page = client.post(reverse("progress:enroll", args=[course.slug]), follow=True)
    assert not Enrollment.objects.filter(user=buyer).exists()
    assert b"buy it to enroll" in page.content
    course_page = client.get(f"/courses/{course.slug}/")
    assert reverse("billing:checkout", args=[course.slug]).encode() in course_page.content


def test_someone_elses_order_is_not_found(api_client, buyer, course, user):
    order = services.order_create(user=user, course=course)
    api_client.force_authenticate(buyer)
    assert api_client.get(f"/api/v1/billing/orders/{order.pk}/").status_code == 404


def test_subscription_api(api_client, buyer):
    plan = PlanFactory(slug="monthly")
    yearly = PlanFactory(slug="yearly", interval="year")
    api_client.force_authenticate(buyer)
    assert api_client.get("/api/v1/billing/plans/").status_code == 200
    assert api_client.get("/api/v1/billing/subscription/").status_code == 404
    created = api_client.post("/api/v1/billing/subscription/", {"plan": plan.slug})
    assert created.status_code == 201 and created.json()["status"] == "active"
    changed = api_client.post("/api/v1/billing/subscription/", {"plan": yearly.slug})
    assert changed.json()["plan"]["slug"] == "yearly"
    cancelled = api_client.delete("/api/v1/billing/subscription/")
    assert cancelled.json()["cancel_at_period_end"] is True


def test_checkout_page_shows_tax_and_total_then_places_the_order(client, buyer, course):
    client.force_login(buyer)
    url = reverse("billing:checkout", args=[course.slug])
    page = client.get(url, {"country": "GB"})
    assert b"100.00 USD" in page.content and b"120.00 USD" in page.content
    response = client.post(url, {"country": "GB"})
    order = Order.objects.get(user=buyer)
    assert response.status_code == 302 and str(order.pk) in response["Location"]
    assert client.get(response["Location"]).status_code == 200
    assert client.get(reverse("billing:orders")).status_code == 200


def test_staff_marks_paid_in_admin_then_invoice_and_access(verified_staff_client, buyer, course):
    order = services.order_create(user=buyer, course=course)
    response = verified_staff_client.post(
        "/admin/billing/order/",
        {"action": "mark_paid", "_selected_action": [str(order.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == "paid"
    assert Enrollment.objects.get(user=buyer, course=course).status == "active"
    client = Client()  # verified_staff_client is the `client` fixture
    client.force_login(buyer)
    invoice = client.get(reverse("billing:invoice", args=[order.pk]))
    assert order.invoice.display_number.encode() in invoice.content
    report = verified_staff_client.get("/admin/billing/order/revenue/")
    assert report.status_code == 200 and b"100.00" in report.content
    verified_staff_client.post(
        "/admin/billing/order/",
        {"action": "refund_in_full", "_selected_action": [str(order.pk)]},
    )
    assert Enrollment.objects.get(user=buyer, course=course).status == "suspended"
