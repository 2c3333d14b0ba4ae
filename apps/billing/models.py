"""Plans, coupons, orders with lines, payments, subscriptions, invoices and refunds.

Tables live in the `billing` PostgreSQL schema. Money is integer minor units (cents) with an ISO
currency, never floats. Rules the database keeps besides the application (docs/adr/0013):
- coupon codes are unique case-insensitively (unique index on lower(code)); a coupon's
  redemption counter never passes its maximum (CHECK, so concurrency cannot exceed it);
- an order's totals are consistent (CHECK) and add up to its lines (deferred constraint
  trigger); its status moves along legal transitions only (trigger);
- an invoice takes the next number of its year from a counter row in its own INSERT (trigger),
  so numbers are 1..N without gaps per year; invoices are never deleted or renumbered;
- refunds never add up to more than the order's paid total (trigger, with the order row locked).
"""

import pghistory
import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from apps.content.models import Category, Course
from apps.core.models import TimeStampedModel, UUIDModel


def _raise(message: str, constraint: str, *args: str) -> str:
    params = "".join(f", {a}" for a in args)
    return (
        f"RAISE EXCEPTION '{message}'{params} "
        f"USING ERRCODE = 'check_violation', CONSTRAINT = '{constraint}';"
    )


CURRENCY_REGEX = r"^[A-Z]{3}$"


# -- plans ----------------------------------------------------------------------------------


class PlanInterval(models.TextChoices):
    MONTH = "month", "Monthly"
    YEAR = "year", "Yearly"


@pghistory.track(meta={"db_table": 'audit"."billing_plan_event'})
class Plan(UUIDModel, TimeStampedModel):
    """A subscription plan: unlocks its courses and every course in its categories (and their
    subcategories) while the subscription is trialing or active."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    interval = models.CharField(max_length=5, choices=PlanInterval.choices)
    price_minor = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="USD")
    trial_days = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    courses = models.ManyToManyField(Course, blank=True, related_name="+")
    categories = models.ManyToManyField(Category, blank=True, related_name="+")

    class Meta(TimeStampedModel.Meta):
        db_table = 'billing"."plan'
        ordering = ("price_minor", "name")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(interval__in=PlanInterval.values), name="plan_interval_valid"
            ),
            models.CheckConstraint(condition=models.Q(price_minor__gt=0), name="plan_price_gt_0"),
            models.CheckConstraint(
                condition=models.Q(currency__regex=CURRENCY_REGEX), name="plan_currency_iso"
            ),
            models.CheckConstraint(
                condition=models.Q(trial_days__lte=365), name="plan_trial_days_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def price_display(self) -> str:
        return f"{self.price_minor / 100:.2f} {self.currency} / {self.interval}"


# -- coupons --------------------------------------------------------------------------------


class CouponKind(models.TextChoices):
    PERCENT = "percent", "Percent off"
    FIXED = "fixed", "Fixed amount off"


@pghistory.track(meta={"db_table": 'audit"."billing_coupon_event'})
class Coupon(UUIDModel, TimeStampedModel):
    code = models.CharField(max_length=40, help_text="Unique, case-insensitively.")
    kind = models.CharField(max_length=7, choices=CouponKind.choices)
    percent_off = models.PositiveSmallIntegerField(null=True, blank=True)
    amount_off_minor = models.PositiveIntegerField(null=True, blank=True)
    currency = models.CharField(
        max_length=3, blank=True, help_text="Required for a fixed amount; blank for a percent."
    )
    valid_from = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(null=True, blank=True)
    max_redemptions = models.PositiveIntegerField(null=True, blank=True)
    times_redeemed = models.PositiveIntegerField(default=0, editable=False)
    per_user_limit = models.PositiveIntegerField(null=True, blank=True, default=1)
    is_active = models.BooleanField(default=True)
    courses = models.ManyToManyField(
        Course, blank=True, related_name="+", help_text="Empty with no plans: applies to all."
    )
    plans = models.ManyToManyField(Plan, blank=True, related_name="+")
    plan_periods = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        default=1,
        help_text="On a subscription: how many paid periods it discounts (1: the first one "
        "only); blank: every period.",
    )

    class Meta(TimeStampedModel.Meta):
        db_table = 'billing"."coupon'
        ordering = ("code",)
        constraints = [
            models.UniqueConstraint(Lower("code"), name="coupon_code_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(kind__in=CouponKind.values), name="coupon_kind_valid"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(
                        kind="percent",
                        percent_off__gte=1,
                        percent_off__lte=100,
                        amount_off_minor__isnull=True,
                    )
                    | models.Q(
                        kind="fixed",
                        amount_off_minor__gt=0,
                        percent_off__isnull=True,
                        currency__regex=CURRENCY_REGEX,
                    )
                ),
                name="coupon_amount_consistent",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True)
                | models.Q(valid_until__gt=models.F("valid_from")),
                name="coupon_window_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(max_redemptions__isnull=True)
                | models.Q(times_redeemed__lte=models.F("max_redemptions")),
                name="coupon_redemptions_lte_max",
            ),
            models.CheckConstraint(
                condition=models.Q(per_user_limit__isnull=True) | models.Q(per_user_limit__gt=0),
                name="coupon_per_user_limit_gt_0",
            ),
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[A-Za-z0-9_-]{3,40}$"),
                name="coupon_code_format",
            ),
            models.CheckConstraint(
                condition=models.Q(plan_periods__isnull=True) | models.Q(plan_periods__gt=0),
                name="coupon_plan_periods_gt_0",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def label(self) -> str:
        if self.kind == CouponKind.PERCENT:
            return f"{self.percent_off}% off"
        return f"{self.amount_off_minor / 100:.2f} {self.currency} off"


# -- orders ---------------------------------------------------------------------------------


class OrderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PAID = "paid", "Paid"
    FAILED = "failed", "Failed"
    REFUNDED = "refunded", "Refunded"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    CANCELLED = "cancelled", "Cancelled"


# from -> allowed targets; refunded and cancelled are final.
ORDER_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "pending": ("paid", "failed", "cancelled"),
    "failed": ("pending", "cancelled"),
    "paid": ("partially_refunded", "refunded"),
    "partially_refunded": ("partially_refunded", "refunded"),
    "refunded": (),
    "cancelled": (),
}


def _order_transition_sql() -> str:
    pairs = ", ".join(
        f"('{source}', '{target}')"
        for source, targets in ORDER_TRANSITIONS.items()
        for target in targets
    )
    return f"""
IF TG_OP = 'INSERT' THEN
    IF NEW.status <> 'pending' THEN
        {_raise("an order starts pending, not %", "order_status_transition", "NEW.status")}
    END IF;
ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
    IF (OLD.status, NEW.status) NOT IN ({pairs}) THEN
        {
        _raise(
            "illegal order status transition: % -> %",
            "order_status_transition",
            "OLD.status",
            "NEW.status",
        )
    }
    END IF;
END IF;
RETURN NEW;
"""


# At commit: the order's subtotal is the sum of its lines (lines and order are written in one
# transaction, so the check is deferred to its end).
ORDER_LINES_SUM_SQL = f"""
SELECT o.subtotal_minor, coalesce(sum(l.amount_minor), 0) INTO expected, actual
FROM "billing"."order" o LEFT JOIN "billing"."order_line" l ON l.order_id = o.id
WHERE o.id = {{order_id}} GROUP BY o.id;
IF FOUND AND expected <> actual THEN
    {
    _raise(
        "order % subtotal % is not the sum of its lines %",
        "order_lines_sum",
        "{order_id}",
        "expected",
        "actual",
    )
}
END IF;
RETURN NULL;
"""


@pghistory.track(meta={"db_table": 'audit"."billing_order_event'})
class Order(UUIDModel, TimeStampedModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=18, choices=OrderStatus.choices, default=OrderStatus.PENDING, editable=False
    )
    currency = models.CharField(max_length=3)
    subtotal_minor = models.PositiveIntegerField()
    discount_minor = models.PositiveIntegerField(default=0)
    tax_country = models.CharField(max_length=2, blank=True)
    tax_rate_bp = models.PositiveIntegerField(default=0, help_text="Basis points: 2000 = 20%.")
    tax_minor = models.PositiveIntegerField(default=0)
    total_minor = models.PositiveIntegerField()
    refunded_minor = models.PositiveIntegerField(default=0, editable=False)
    coupon = models.ForeignKey(
        Coupon, null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    provider = models.CharField(max_length=20, default="manual")
    provider_reference = models.CharField(max_length=255, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta(TimeStampedModel.Meta):
        db_table = 'billing"."order'
        ordering = ("-created_at",)
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=OrderStatus.values), name="order_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=CURRENCY_REGEX), name="order_currency_iso"
            ),
            models.CheckConstraint(
                condition=models.Q(subtotal_minor__gt=0), name="order_subtotal_gt_0"
            ),
            models.CheckConstraint(
                condition=models.Q(discount_minor__lte=models.F("subtotal_minor")),
                name="order_discount_lte_subtotal",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    total_minor=models.F("subtotal_minor")
                    - models.F("discount_minor")
                    + models.F("tax_minor")
                ),
                name="order_total_consistent",
            ),
            models.CheckConstraint(condition=models.Q(total_minor__gt=0), name="order_total_gt_0"),
            models.CheckConstraint(
                condition=models.Q(tax_rate_bp__lte=10000), name="order_tax_rate_range"
            ),
            models.CheckConstraint(
                condition=models.Q(refunded_minor__lte=models.F("total_minor")),
                name="order_refunded_lte_total",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=("paid", "partially_refunded", "refunded"))
                | models.Q(paid_at__isnull=False),
                name="order_paid_has_timestamp",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(status="refunded", refunded_minor=models.F("total_minor"))
                    | models.Q(
                        status="partially_refunded",
                        refunded_minor__gt=0,
                        refunded_minor__lt=models.F("total_minor"),
                    )
                    | (
                        ~models.Q(status__in=("refunded", "partially_refunded"))
                        & models.Q(refunded_minor=0)
                    )
                ),
                name="order_refund_status_consistent",
            ),
        ]
        triggers = [
            *TimeStampedModel.Meta.triggers,
            pgtrigger.Trigger(
                name="order_status_transition",
                operation=pgtrigger.Insert | pgtrigger.Update,
                when=pgtrigger.Before,
                func=_order_transition_sql(),
            ),
            pgtrigger.Trigger(
                name="order_lines_sum",
                operation=pgtrigger.Insert | pgtrigger.Update,
                when=pgtrigger.After,
                timing=pgtrigger.Deferred,
                declare=[("expected", "bigint"), ("actual", "bigint")],
                func=ORDER_LINES_SUM_SQL.format(order_id="NEW.id"),
            ),
        ]

    def __str__(self) -> str:
        return f"Order {str(self.pk)[:8]} ({self.get_status_display()})"

    @property
    def total_display(self) -> str:
        return f"{self.total_minor / 100:.2f} {self.currency}"

    @property
    def refundable_minor(self) -> int:
        return self.total_minor - self.refunded_minor


class OrderLineKind(models.TextChoices):
    COURSE = "course", "Course"
    PLAN_PERIOD = "plan_period", "Subscription period"
    PRORATION = "proration", "Plan change (prorated charge)"
    CREDIT = "credit", "Credit"


@pghistory.track(meta={"db_table": 'audit"."billing_order_line_event'})
class OrderLine(UUIDModel):
    """One thing an order charges for: a course bought, a subscription period, the prorated
    rest of a period on a new plan, or a credit (negative: unused time of the previous plan, or
    a balance carried from a downgrade). The order's subtotal is the sum of its lines."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(
        max_length=11, choices=OrderLineKind.choices, default=OrderLineKind.COURSE
    )
    course = models.ForeignKey(
        Course, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    plan = models.ForeignKey(
        Plan, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    subscription = models.ForeignKey(
        "Subscription", null=True, blank=True, on_delete=models.PROTECT, related_name="lines"
    )
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    description = models.CharField(max_length=250)
    amount_minor = models.IntegerField(help_text="Negative for a credit.")

    class Meta:
        db_table = 'billing"."order_line'
        constraints = [
            models.UniqueConstraint(fields=("order", "course"), name="order_line_course_once"),
            models.CheckConstraint(
                condition=models.Q(kind__in=OrderLineKind.values), name="order_line_kind_valid"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="course", course__isnull=False, subscription__isnull=True)
                    | models.Q(
                        kind__in=("plan_period", "proration"),
                        course__isnull=True,
                        plan__isnull=False,
                        subscription__isnull=False,
                        period_start__isnull=False,
                        period_end__isnull=False,
                    )
                    | models.Q(kind="credit", course__isnull=True, subscription__isnull=False)
                ),
                name="order_line_kind_consistent",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="credit", amount_minor__lt=0)
                | (~models.Q(kind="credit") & models.Q(amount_minor__gt=0)),
                name="order_line_amount_sign",
            ),
            models.CheckConstraint(
                condition=models.Q(period_end__isnull=True)
                | models.Q(period_end__gt=models.F("period_start")),
                name="order_line_period_valid",
            ),
            # A subscription period is billed once (a renewal run twice finds this line).
            models.UniqueConstraint(
                fields=("subscription", "period_start"),
                condition=models.Q(kind="plan_period"),
                name="order_line_period_once",
            ),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="order_line_sum",
                operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
                when=pgtrigger.After,
                timing=pgtrigger.Deferred,
                declare=[("expected", "bigint"), ("actual", "bigint")],
                func=ORDER_LINES_SUM_SQL.format(
                    order_id="(CASE WHEN TG_OP = 'DELETE' THEN OLD.order_id ELSE NEW.order_id END)"
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.description


@pghistory.track(meta={"db_table": 'audit"."billing_coupon_redemption_event'})
class CouponRedemption(UUIDModel):
    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="redemptions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    order = models.OneToOneField(
        Order, null=True, blank=True, on_delete=models.CASCADE, related_name="redemption"
    )
    subscription = models.OneToOneField(
        "Subscription",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="redemption",
    )
    redeemed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = 'billing"."coupon_redemption'
        constraints = [
            # Redeemed by an order (a course) or by a subscription (at its start).
            models.CheckConstraint(
                condition=models.Q(order__isnull=False, subscription__isnull=True)
                | models.Q(order__isnull=True, subscription__isnull=False),
                name="coupon_redemption_one_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.coupon} by {self.user}"


# -- payments -------------------------------------------------------------------------------


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


@pghistory.track(exclude=["raw_payload"], meta={"db_table": 'audit"."billing_payment_event'})
class Payment(UUIDModel, TimeStampedModel):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=20)
    provider_reference = models.CharField(max_length=255, blank=True)
    amount_minor = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=9, choices=PaymentStatus.choices)
    raw_payload = models.JSONField(default=dict, blank=True)
    idempotency_key = models.CharField(max_length=255, unique=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(TimeStampedModel.Meta):
        db_table = 'billing"."payment'
        ordering = ("-created_at",)
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=PaymentStatus.values), name="payment_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(amount_minor__gt=0), name="payment_amount_gt_0"
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=CURRENCY_REGEX), name="payment_currency_iso"
            ),
            models.UniqueConstraint(
                fields=("provider", "provider_reference"),
                condition=~models.Q(provider_reference=""),
                name="payment_provider_reference_unique",
            ),
            # One succeeded payment per order: paying a paid order twice is impossible.
            models.UniqueConstraint(
                fields=("order",),
                condition=models.Q(status="succeeded"),
                name="payment_one_success_per_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.amount_minor / 100:.2f} {self.currency} ({self.status})"


# -- refunds --------------------------------------------------------------------------------

REFUND_LIMIT_SQL = f"""
SELECT o.total_minor INTO paid FROM "billing"."order" o WHERE o.id = NEW.order_id FOR UPDATE;
SELECT coalesce(sum(r.amount_minor), 0) INTO refunded FROM "billing"."refund" r
WHERE r.order_id = NEW.order_id AND r.id <> NEW.id;
IF refunded + NEW.amount_minor > paid THEN
    {
    _raise(
        "refunds of order % would reach % of % paid",
        "refund_not_above_paid",
        "NEW.order_id",
        "refunded + NEW.amount_minor",
        "paid",
    )
}
END IF;
RETURN NEW;
"""


@pghistory.track(meta={"db_table": 'audit"."billing_refund_event'})
class Refund(UUIDModel, TimeStampedModel):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_minor = models.PositiveIntegerField()
    reason = models.CharField(max_length=500, blank=True)
    provider_reference = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(TimeStampedModel.Meta):
        db_table = 'billing"."refund'
        ordering = ("-created_at",)
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_minor__gt=0), name="refund_amount_gt_0"
            ),
        ]
        triggers = [
            *TimeStampedModel.Meta.triggers,
            pgtrigger.Trigger(
                name="refund_not_above_paid",
                operation=pgtrigger.Insert | pgtrigger.UpdateOf("amount_minor", "order_id"),
                when=pgtrigger.Before,
                declare=[("paid", "bigint"), ("refunded", "bigint")],
                func=REFUND_LIMIT_SQL,
            ),
        ]

    def __str__(self) -> str:
        return f"Refund {self.amount_minor / 100:.2f} of {self.order}"


# -- invoices -------------------------------------------------------------------------------

# The number comes from the year's counter row in the same statement: the upsert holds that
# row's lock until commit, so concurrent invoices of one year queue, and a rollback gives the
# number back. Whatever the caller passes, the database numbers the invoice.
INVOICE_NUMBER_SQL = """
NEW.year := extract(year FROM NEW.issued_at AT TIME ZONE 'UTC')::integer;
INSERT INTO "billing"."invoice_counter" (year, last_number) VALUES (NEW.year, 1)
ON CONFLICT (year) DO UPDATE SET last_number = "billing"."invoice_counter".last_number + 1
RETURNING last_number INTO NEW.number;
RETURN NEW;
"""


@pghistory.track(meta={"db_table": 'audit"."billing_invoice_counter_event'})
class InvoiceCounter(models.Model):
    year = models.PositiveIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField()

    class Meta:
        db_table = 'billing"."invoice_counter'

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


@pghistory.track(meta={"db_table": 'audit"."billing_invoice_event'})
class Invoice(UUIDModel, TimeStampedModel):
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="invoice")
    year = models.PositiveIntegerField(default=0, editable=False)
    number = models.PositiveIntegerField(default=0, editable=False)
    issued_at = models.DateTimeField(default=timezone.now)
    # What the invoice says, fixed at issue.
    billed_to_name = models.CharField(max_length=300)
    billed_to_email = models.EmailField()
    lines = models.JSONField(default=list)
    currency = models.CharField(max_length=3)
    subtotal_minor = models.PositiveIntegerField()
    discount_minor = models.PositiveIntegerField()
    tax_country = models.CharField(max_length=2, blank=True)
    tax_rate_bp = models.PositiveIntegerField()
    tax_minor = models.PositiveIntegerField()
    total_minor = models.PositiveIntegerField()

    class Meta(TimeStampedModel.Meta):
        db_table = 'billing"."invoice'
        ordering = ("-year", "-number")
        constraints = [
            models.UniqueConstraint(fields=("year", "number"), name="invoice_year_number"),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="invoice_number_gte_1"),
        ]
        triggers = [
            *TimeStampedModel.Meta.triggers,
            pgtrigger.Trigger(
                name="invoice_number",
                operation=pgtrigger.Insert,
                when=pgtrigger.Before,
                func=INVOICE_NUMBER_SQL,
            ),
            pgtrigger.Protect(name="invoice_no_delete", operation=pgtrigger.Delete),
            pgtrigger.ReadOnly(name="invoice_number_fixed", fields=["year", "number", "order"]),
        ]

    def __str__(self) -> str:
        return self.display_number

    @property
    def display_number(self) -> str:
        return f"{self.year}-{self.number:06d}"


# -- subscriptions --------------------------------------------------------------------------


class SubscriptionStatus(models.TextChoices):
    TRIALING = "trialing", "Trialing"
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Past due"
    CANCELLED = "cancelled", "Cancelled"


LIVE_SUBSCRIPTION_STATUSES = ("trialing", "active", "past_due")
ACCESS_SUBSCRIPTION_STATUSES = ("trialing", "active")


@pghistory.track(meta={"db_table": 'audit"."billing_subscription_event'})
class Subscription(UUIDModel, TimeStampedModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(max_length=9, choices=SubscriptionStatus.choices)
    current_period_start = models.DateTimeField()
    current_period_end = models.DateTimeField()
    trial_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    provider = models.CharField(max_length=20, default="manual")
    provider_reference = models.CharField(max_length=255, blank=True)
    coupon = models.ForeignKey(
        Coupon, null=True, blank=True, on_delete=models.PROTECT, related_name="subscriptions"
    )
    coupon_periods_used = models.PositiveSmallIntegerField(default=0, editable=False)
    credit_minor = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Owed to the subscriber (a downgrade's unused time); taken off the next periods.",
    )

    class Meta(TimeStampedModel.Meta):
        db_table = 'billing"."subscription'
        ordering = ("-created_at",)
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=SubscriptionStatus.values),
                name="subscription_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(current_period_end__gt=models.F("current_period_start")),
                name="subscription_period_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="cancelled") | models.Q(cancelled_at__isnull=False),
                name="subscription_cancelled_has_timestamp",
            ),
            models.UniqueConstraint(
                fields=("user",),
                condition=models.Q(status__in=LIVE_SUBSCRIPTION_STATUSES),
                name="subscription_one_live_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.plan} ({self.status})"

    @property
    def gives_access(self) -> bool:
        return self.status in ACCESS_SUBSCRIPTION_STATUSES and (
            self.current_period_end > timezone.now()
        )


# -- provider events (webhook idempotency) --------------------------------------------------


@pghistory.track(exclude=["payload"], meta={"db_table": 'audit"."billing_provider_event_event'})
class ProviderEvent(UUIDModel):
    """A webhook event handled once: the (provider, event id) pair is unique, so a replay of the
    same event finds its row and changes nothing."""

    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=100)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(
        max_length=40,
        blank=True,
        help_text="handled, ignored, or what was done instead (e.g. duplicate_subscription: "
        "the new provider subscription was cancelled and refunded).",
    )

    class Meta:
        db_table = 'billing"."provider_event'
        constraints = [
            models.UniqueConstraint(fields=("provider", "event_id"), name="provider_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} {self.event_id}"
