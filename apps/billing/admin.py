"""Billing admin: orders (lines inline; mark paid for the manual provider; refund in full),
payments, refunds, invoices, coupons, plans, subscriptions, and a revenue report."""

import uuid
from decimal import Decimal, InvalidOperation

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import path

from apps.billing import selectors, services
from apps.billing.models import (
    Coupon,
    Invoice,
    Order,
    OrderLine,
    Payment,
    Plan,
    ProviderEvent,
    Refund,
    Subscription,
)
from apps.core.exceptions import DomainError


def _minor_units(amount: str) -> int:
    """ "12.50" -> 1250; at most two decimals. Raises ValueError."""
    try:
        value = Decimal(amount.strip())
    except InvalidOperation as exc:
        raise ValueError(amount) from exc
    minor = value * 100
    if not minor.is_finite() or minor != minor.to_integral_value():
        raise ValueError(amount)
    return int(minor)


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    fields = ("kind", "course", "plan", "period_start", "period_end", "description", "amount_minor")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    can_delete = False
    fields = ("provider", "provider_reference", "amount_minor", "currency", "status", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "user",
        "status",
        "total_minor",
        "currency",
        "refunded_minor",
        "created_at",
    )
    list_filter = ("status", "currency", "provider")
    search_fields = ("id", "user__email", "provider_reference")
    readonly_fields = [f.name for f in Order._meta.fields]
    inlines = [OrderLineInline, PaymentInline]
    actions = ["mark_paid", "refund_in_full", "refund_part"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Mark paid (manual provider: payment received)")
    def mark_paid(self, request, queryset):
        for order in queryset:
            try:
                services.order_pay(
                    order=order,
                    provider="manual",
                    idempotency_key=f"manual:{order.pk}:{uuid.uuid4()}",
                    actor=request.user,
                )
            except DomainError as error:
                self.message_user(request, f"{order}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"{order}: paid, enrolled and invoiced.")

    @admin.action(description="Refund in full (suspends the paid enrollment)")
    def refund_in_full(self, request, queryset):
        for order in queryset:
            try:
                services.refund_create(order=order, reason="admin refund", actor=request.user)
            except DomainError as error:
                self.message_user(request, f"{order}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"{order}: refunded.")

    @admin.action(description="Refund part of one order…")
    def refund_part(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one order.", messages.ERROR)
            return None
        order = queryset.get()
        amount, reason, error = request.POST.get("amount", ""), request.POST.get("reason", ""), ""
        if "apply" in request.POST:
            try:
                minor = _minor_units(amount)
                services.refund_create(
                    order=order, amount_minor=minor, reason=reason, actor=request.user
                )
            except ValueError:
                error = "Give an amount such as 12.50."
            except DomainError as exc:
                error = exc.message
            else:
                self.message_user(request, f"{order}: {amount} {order.currency} refunded.")
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Refund part of an order",
            "order": order,
            "amount": amount,
            "reason": reason,
            "error": error,
        }
        return TemplateResponse(request, "billing/admin_refund.html", context)

    def get_urls(self):
        report = path(
            "revenue/", self.admin_site.admin_view(self.revenue_view), name="billing_revenue"
        )
        return [report, *super().get_urls()]

    def revenue_view(self, request):
        context = {
            **self.admin_site.each_context(request),
            "title": "Revenue by month",
            "rows": selectors.revenue_by_month(),
        }
        return TemplateResponse(request, "billing/admin_revenue.html", context)


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ("order", "provider", "provider_reference", "amount_minor", "currency", "status")
    list_filter = ("provider", "status")
    search_fields = ("provider_reference", "idempotency_key", "order__id")
    readonly_fields = [f.name for f in Payment._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Refund)
class RefundAdmin(admin.ModelAdmin):
    list_display = ("order", "amount_minor", "reason", "created_by", "created_at")
    readonly_fields = [f.name for f in Refund._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ("__str__", "billed_to_email", "total_minor", "currency", "issued_at")
    search_fields = ("billed_to_email", "number")
    list_filter = ("year",)
    readonly_fields = [f.name for f in Invoice._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    list_display = ("code", "kind", "label", "times_redeemed", "max_redemptions", "valid_until")
    list_filter = ("kind", "is_active")
    search_fields = ("code",)
    filter_horizontal = ("courses", "plans")
    readonly_fields = ("times_redeemed",)


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("name", "interval", "price_minor", "currency", "trial_days", "is_active")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("courses", "categories")


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "plan",
        "status",
        "provider",
        "current_period_end",
        "cancel_at_period_end",
    )
    list_filter = ("status", "plan", "provider")
    search_fields = ("user__email", "provider_reference")
    raw_id_fields = ("user",)
    readonly_fields = ("coupon_periods_used", "credit_minor")
    actions = ["renew", "cancel_now"]

    def _each(self, request, queryset, service, done: str) -> None:
        for subscription in queryset:
            try:
                service(subscription)
            except DomainError as error:
                self.message_user(request, f"{subscription}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"{subscription}: {done}")

    @admin.action(
        description="Payment received: renew for one period, with its order, payment and "
        "invoice (manual provider)"
    )
    def renew(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda s: services.subscription_renew(subscription=s, actor=request.user),
            "renewed.",
        )

    @admin.action(description="Cancel now (suspends its subscription enrollments)")
    def cancel_now(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda s: services.subscription_cancel(subscription=s, at_period_end=False),
            "cancelled.",
        )


@admin.register(ProviderEvent)
class ProviderEventAdmin(admin.ModelAdmin):
    list_display = ("provider", "event_type", "event_id", "outcome", "received_at")
    # The outcome shows what handling did, e.g. duplicate_subscription: a subscriber's second
    # checkout, cancelled and refunded at the provider.
    list_filter = ("provider", "outcome", "event_type")
    search_fields = ("event_id",)
    readonly_fields = [f.name for f in ProviderEvent._meta.fields]

    def has_add_permission(self, request):
        return False
