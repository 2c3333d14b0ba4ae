"""Billing pages: course checkout (coupon, tax, total; a hosted provider's page for Stripe),
the order's payment result, my orders and invoices (printable), my subscription (subscribe,
change plan, cancel) and enrolling through it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.billing import selectors, services
from apps.billing.models import Order, Plan
from apps.billing.providers import provider_for
from apps.billing.templatetags.billing import money
from apps.content.selectors import course_visible_queryset
from apps.core.exceptions import DomainError
from apps.progress.models import EnrollmentStatus
from apps.progress.selectors import enrollment_for


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
            return _pay_or_show(request, order)
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
            "enrolled": getattr(enrollment_for(user=request.user, course=course), "status", "")
            in (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED),
            "hosted": provider_for().hosted_checkout,
        },
    )


def _pay_or_show(request: HttpRequest, order: Order) -> HttpResponse:
    """Send the buyer to the provider's hosted page (Stripe), or to the order page that says
    how to pay by bank transfer (manual)."""
    if not provider_for(order.provider).hosted_checkout:
        return redirect("billing:order", order_id=order.pk)
    try:
        url = services.order_checkout(
            order=order,
            success_url=request.build_absolute_uri(
                reverse("billing:order_result", args=[order.pk, "success"])
            ),
            cancel_url=request.build_absolute_uri(
                reverse("billing:order_result", args=[order.pk, "cancelled"])
            ),
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("billing:order", order_id=order.pk)
    return redirect(url)


@login_required
@require_GET
def order_detail(request: HttpRequest, order_id, result: str = "") -> HttpResponse:
    order = get_object_or_404(selectors.my_orders(user=request.user), pk=order_id)
    return render(
        request,
        "billing/order.html",
        {
            "order": order,
            "result": result,
            "hosted": provider_for(order.provider).hosted_checkout,
        },
    )


@login_required
@require_GET
def order_result(request: HttpRequest, order_id, result: str) -> HttpResponse:
    """Where the provider's page sends the buyer back: paid (the webhook may still be on its
    way, so the page says so while the order is pending) or cancelled (nothing was charged)."""
    if result not in ("success", "cancelled"):
        raise Http404
    return order_detail(request, order_id, result=result)


@login_required
@require_POST
def order_pay(request: HttpRequest, order_id) -> HttpResponse:
    """Pay a pending or failed order again on the provider's page."""
    order = get_object_or_404(selectors.my_orders(user=request.user), pk=order_id)
    return _pay_or_show(request, order)


@login_required
@require_POST
def order_cancel(request: HttpRequest, order_id) -> HttpResponse:
    order = get_object_or_404(selectors.my_orders(user=request.user), pk=order_id)
    try:
        services.order_cancel(order=order)
        messages.success(request, "The order is cancelled.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("billing:order", order_id=order.pk)


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
    """My subscription, and the plans: to subscribe to (with a coupon) or, with the price of
    changing now (credit for the unused time, charge for the new plan), to switch to."""
    current = selectors.subscription_live(user=request.user)
    offers = []
    for plan in selectors.plans_active():
        change, refusal = None, None
        if current is not None and plan.pk != current.plan_id:
            try:
                change = services.subscription_change_quote(subscription=current, plan=plan)
            except DomainError as error:
                refusal = error.message
        offers.append({"plan": plan, "change": change, "refusal": refusal})
    return render(
        request,
        "billing/subscription.html",
        {
            "subscription": current,
            "offers": offers,
            "hosted": provider_for().hosted_checkout,
            "unpaid": selectors.subscription_unpaid_orders(subscription=current) if current else [],
        },
    )


@login_required
@require_POST
def subscription_choose(request: HttpRequest) -> HttpResponse:
    plan = get_object_or_404(Plan, slug=request.POST.get("plan", ""))
    current = selectors.subscription_live(user=request.user)
    provider = provider_for()
    try:
        if current is None and provider.hosted_checkout:
            if not plan.is_active:
                raise DomainError("This plan is no longer offered.", code="plan_inactive")
            back = request.build_absolute_uri(reverse("billing:subscription"))
            checkout = provider.subscription_checkout(
                user=request.user, plan=plan, success_url=back, cancel_url=back
            )
            return redirect(checkout.url)
        if current is None:
            services.subscription_create(
                user=request.user, plan=plan, coupon_code=request.POST.get("coupon", "")
            )
            messages.success(request, f"You are subscribed to {plan.name}.")
        else:
            change = services.subscription_change_plan(
                subscription=current, plan=plan, actor=request.user
            )
            messages.success(request, _plan_change_message(change))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("billing:subscription")


def _plan_change_message(change: services.PlanChange) -> str:
    plan, quote = change.subscription.plan, change.quote
    text = f"Your plan is now {plan.name}."
    if change.order is not None:
        text += (
            f" The difference, {money(change.order.total_minor, change.order.currency)}, is on "
            "a new order to pay by bank transfer."
        )
    elif quote.net_minor < 0:
        text += (
            f" {money(-quote.net_minor, plan.currency)} of unused time is credited to your "
            "next periods."
        )
    return text


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


@login_required
@require_POST
def subscription_enroll(request: HttpRequest, slug: str) -> HttpResponse:
    course = get_object_or_404(course_visible_queryset(user=request.user), slug=slug)
    try:
        services.subscription_enroll(user=request.user, course=course)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("billing:checkout", slug=slug)
    messages.success(request, f"You are enrolled in “{course.title}” with your subscription.")
    return redirect("progress:outline", slug=slug)
