"""Billing pages: course checkout (coupon, tax, total), the order's payment result, my orders
and invoices (printable), my subscription (subscribe, change plan, cancel)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.billing import selectors, services
from apps.billing.models import Plan
from apps.content.selectors import course_visible_queryset
from apps.core.exceptions import DomainError


@login_required
@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest, slug: str) -> HttpResponse:
    course = get_object_or_404(course_visible_queryset(user=request.user), slug=slug)
    source = request.POST if request.method == "POST" else request.GET
    coupon = source.get("coupon", "").strip()
    country = source.get("country", "").strip() or None
    access = selectors.course_access(user=request.user, course=course)
    priced, error = None, None
    try:
        priced = services.quote(
            user=request.user, course=course, coupon_code=coupon, country=country
        )
    except DomainError as exc:
        error = exc.message
    if request.method == "POST" and priced is not None:
        try:
            order = services.order_create(
                user=request.user, course=course, coupon_code=coupon, country=country
            )
        except DomainError as exc:
            error = exc.message
        else:
            return redirect("billing:order", order_id=order.pk)
    return render(
        request,
        "billing/checkout.html",
        {
            "course": course,
            "quote": priced,
            "error": error,
            "coupon": coupon,
            "country": country or "",
            "access": access,
        },
    )


@login_required
@require_GET
def order_detail(request: HttpRequest, order_id) -> HttpResponse:
    order = get_object_or_404(selectors.my_orders(user=request.user), pk=order_id)
    return render(request, "billing/order.html", {"order": order})


@login_required
@require_GET
def my_orders(request: HttpRequest) -> HttpResponse:
    return render(
        request, "billing/orders.html", {"orders": selectors.my_orders(user=request.user)}
    )


@login_required
@require_GET
def invoice(request: HttpRequest, order_id) -> HttpResponse:
    invoice = get_object_or_404(selectors.my_invoices(user=request.user), order_id=order_id)
    return render(request, "billing/invoice.html", {"invoice": invoice})


@login_required
@require_GET
def subscription(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "billing/subscription.html",
        {
            "subscription": selectors.subscription_live(user=request.user),
            "plans": selectors.plans_active(),
        },
    )


@login_required
@require_POST
def subscription_choose(request: HttpRequest) -> HttpResponse:
    plan = get_object_or_404(Plan, slug=request.POST.get("plan", ""), is_active=True)
    current = selectors.subscription_live(user=request.user)
    try:
        if current is None:
            services.subscription_create(user=request.user, plan=plan)
            messages.success(request, f"You are subscribed to {plan.name}.")
        else:
            services.subscription_change_plan(subscription=current, plan=plan)
            messages.success(request, f"Your plan is now {plan.name}.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("billing:subscription")


@login_required
@require_POST
def subscription_cancel(request: HttpRequest) -> HttpResponse:
    current = selectors.subscription_live(user=request.user)
    if current is not None:
        try:
            services.subscription_cancel(subscription=current)
            messages.success(request, "Your subscription ends with the current period.")
        except DomainError as error:
            messages.error(request, error.message)
    return redirect("billing:subscription")
