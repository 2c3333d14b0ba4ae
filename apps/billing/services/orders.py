"""Writes owned by billing for courses bought: quotes, orders, payments, invoices, refunds.

Money is integer minor units throughout; rounding is half-up on whole minor units. Paying an
order is one transaction: payment recorded, order paid, enrollment created, invoice issued,
domain events stored; any refusal (a full course, say) leaves none of it.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.audit.services import domain_event_record
from apps.billing.models import (
    Coupon,
    CouponKind,
    CouponRedemption,
    Invoice,
    Order,
    OrderLine,
    OrderLineKind,
    OrderStatus,
    Payment,
    PaymentStatus,
    Refund,
    Subscription,
)
from apps.billing.providers import provider_for
from apps.billing.selectors import (
    course_paid_by,
)
from apps.content.models import AccessType, Course, CourseStatus
from apps.core.exceptions import ConflictError, DomainError, NotFoundError
from apps.progress.models import Enrollment, EnrollmentStatus, EnrollmentType
from apps.progress.services import enrollment_create, enrollment_drop, enrollment_suspend

# -- quotes ---------------------------------------------------------------------------------


def tax_rate_bp(country: str | None) -> tuple[str, int]:
    """The (country, rate in basis points) for a buyer; unknown countries pay no tax.
    Raises DomainError for a malformed country code."""
    country = (country or settings.BILLING_DEFAULT_COUNTRY).strip().upper()
    if len(country) != 2 or not country.isalpha():
        raise DomainError(
            "Give a two-letter country code.",
            code="invalid_country",
            fields={"country": ["Two letters, e.g. DE."]},
        )
    return country, int(settings.BILLING_TAX_RATES_BP.get(country, 0))


def _half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


@dataclass(frozen=True)
class QuoteLine:
    course: Course
    description: str
    amount_minor: int


@dataclass(frozen=True)
class Quote:
    currency: str
    lines: list[QuoteLine]
    subtotal_minor: int
    discount_minor: int
    tax_country: str
    tax_rate_bp: int
    tax_minor: int
    total_minor: int
    coupon: Coupon | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def total_display(self) -> str:
        return f"{self.total_minor / 100:.2f} {self.currency}"


def coupon_get(*, code: str) -> Coupon:
    """The coupon with this code, case-insensitively. Raises NotFoundError."""
    coupon = Coupon.objects.filter(code__iexact=(code or "").strip()).first()
    if coupon is None:
        raise NotFoundError("No such coupon.", code="coupon_not_found", fields={"coupon": ["?"]})
    return coupon


def _coupon_check(*, coupon: Coupon, user, course: Course | None = None, plan=None) -> None:
    now = timezone.now()

    def refuse(message: str, code: str) -> DomainError:
        return DomainError(message, code=code, fields={"coupon": [message]})

    if not coupon.is_active or coupon.valid_from > now:
        raise refuse("This coupon is not valid yet.", "coupon_not_active")
    if coupon.valid_until is not None and coupon.valid_until <= now:
        raise refuse("This coupon has expired.", "coupon_expired")
    if coupon.max_redemptions is not None and coupon.times_redeemed >= coupon.max_redemptions:
        raise refuse("This coupon has been used up.", "coupon_exhausted")
    if coupon.per_user_limit is not None and user is not None and user.is_authenticated:
        used = CouponRedemption.objects.filter(coupon=coupon, user=user).count()
        if used >= coupon.per_user_limit:
            raise refuse("You have already used this coupon.", "coupon_user_limit")
    course_ids = set(coupon.courses.values_list("pk", flat=True))
    plan_ids = set(coupon.plans.values_list("pk", flat=True))
    if course_ids or plan_ids:
        applies = (course is not None and course.pk in course_ids) or (
            plan is not None and plan.pk in plan_ids
        )
        if not applies:
            raise refuse("This coupon does not apply here.", "coupon_not_applicable")


def _discount(coupon: Coupon | None, subtotal: int, currency: str) -> int:
    if coupon is None:
        return 0
    if coupon.kind == CouponKind.PERCENT:
        return min(subtotal, _half_up(subtotal * coupon.percent_off, 100))
    if coupon.currency != currency:
        raise DomainError(
            f"This coupon is in {coupon.currency}; the price is in {currency}.",
            code="currency_mismatch",
            fields={"coupon": ["Currency mismatch."]},
        )
    return min(subtotal, coupon.amount_off_minor)


def quote(*, user, course: Course, coupon_code: str = "", country: str | None = None) -> Quote:
    """What buying `course` costs this user: price, coupon discount, tax and total.

    Raises DomainError (not for sale, coupon refused, currency mismatch, zero total) or
    NotFoundError (unknown coupon).
    """
    if course.access_type == AccessType.SUBSCRIPTION:
        raise DomainError("This course comes with a subscription plan.", code="subscription_only")
    if course.access_type != AccessType.PAID or course.status != CourseStatus.PUBLISHED:
        raise DomainError("This course is not for sale.", code="not_for_sale")
    coupon = None
    if coupon_code and coupon_code.strip():
        coupon = coupon_get(code=coupon_code)
        _coupon_check(coupon=coupon, user=user, course=course)
    subtotal = course.price_minor
    lines = [QuoteLine(course=course, description=course.title, amount_minor=subtotal)]
    discount = _discount(coupon, subtotal, course.currency)
    net = subtotal - discount
    if net <= 0:
        raise DomainError(
            "The total after the coupon would be zero; use an enrollment grant instead.",
            code="zero_total",
            fields={"coupon": ["Leaves nothing to pay."]},
        )
    tax_country, rate = tax_rate_bp(country)
    tax = _half_up(net * rate, 10_000)
    return Quote(
        currency=course.currency,
        lines=lines,
        subtotal_minor=subtotal,
        discount_minor=discount,
        tax_country=tax_country,
        tax_rate_bp=rate,
        tax_minor=tax,
        total_minor=net + tax,
        coupon=coupon,
    )


# -- orders ---------------------------------------------------------------------------------


def _redeem(
    *,
    coupon: Coupon,
    user,
    order: Order | None = None,
    course: Course | None = None,
    subscription: Subscription | None = None,
) -> None:
    # The coupon row's lock queues concurrent redemptions; the guarded increment and the
    # CHECK times_redeemed <= max_redemptions make exceeding the limit impossible anyway.
    coupon = Coupon.objects.select_for_update().get(pk=coupon.pk)
    _coupon_check(
        coupon=coupon, user=user, course=course, plan=subscription.plan if subscription else None
    )
    updated = (
        Coupon.objects.filter(pk=coupon.pk)
        .filter(Q(max_redemptions__isnull=True) | Q(times_redeemed__lt=F("max_redemptions")))
        .update(times_redeemed=F("times_redeemed") + 1)
    )
    if not updated:
        raise DomainError("This coupon has been used up.", code="coupon_exhausted")
    CouponRedemption.objects.create(
        coupon=coupon, user=user, order=order, subscription=subscription
    )


def _release_coupon(order: Order) -> None:
    redemption = CouponRedemption.objects.filter(order=order).first()
    if redemption is not None:
        Coupon.objects.filter(pk=redemption.coupon_id).update(
            times_redeemed=F("times_redeemed") - 1
        )
        redemption.delete()


@transaction.atomic
def order_create(
    *,
    user,
    course: Course,
    coupon_code: str = "",
    country: str | None = None,
    provider: str | None = None,
) -> Order:
    """A pending order for one paid course, priced by `quote`; a coupon is redeemed now (and
    given back if the order fails or is cancelled).

    Raises ConflictError (already bought), DomainError (see `quote`), NotFoundError.
    """
    if course_paid_by(user=user, course=course):
        raise ConflictError("You have already bought this course.", code="already_purchased")
    priced = quote(user=user, course=course, coupon_code=coupon_code, country=country)
    order = Order.objects.create(
        user=user,
        currency=priced.currency,
        subtotal_minor=priced.subtotal_minor,
        discount_minor=priced.discount_minor,
        tax_country=priced.tax_country,
        tax_rate_bp=priced.tax_rate_bp,
        tax_minor=priced.tax_minor,
        total_minor=priced.total_minor,
        coupon=priced.coupon,
        provider=provider or settings.BILLING_PROVIDER,
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            course=line.course,
            description=line.description,
            amount_minor=line.amount_minor,
        )
        for line in priced.lines
    )
    if priced.coupon is not None:
        _redeem(coupon=priced.coupon, user=user, order=order, course=course)
    domain_event_record(
        aggregate_type="order",
        aggregate_id=order.pk,
        event_type="order.created",
        data={
            "user": str(user.pk),
            "courses": [str(line.course.pk) for line in priced.lines],
            "total_minor": order.total_minor,
            "currency": order.currency,
            "coupon": priced.coupon.code if priced.coupon else None,
        },
    )
    return order


def _locked_order(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


def _enroll_paid(user, course: Course) -> Enrollment:
    existing = Enrollment.objects.filter(user=user, course=course).first()
    if existing is not None and existing.status in (
        EnrollmentStatus.ACTIVE,
        EnrollmentStatus.COMPLETED,
    ):
        return existing  # e.g. a trial or gift: the purchase keeps it going
    if existing is not None and existing.status == EnrollmentStatus.SUSPENDED:
        # Bought again after a refund: progress has no "reinstate", so leave and re-enroll
        # (progress keeps lesson progress across a drop).
        enrollment_drop(enrollment=existing)
    return enrollment_create(user=user, course=course, enrollment_type=EnrollmentType.PAID)


@transaction.atomic
def order_pay(
    *,
    order: Order,
    provider: str,
    idempotency_key: str,
    amount_minor: int | None = None,
    currency: str | None = None,
    provider_reference: str = "",
    payload: dict | None = None,
    actor=None,
) -> Order:
    """Record a successful payment of `order` and fulfil it, all in one transaction: payment,
    order paid, paid enrollments, invoice, domain events. The same idempotency key again
    returns the order unchanged.

    Raises ConflictError (not payable: paid, refunded, cancelled; a course full),
    DomainError (amount or currency mismatch) and whatever enrolling refuses.
    """
    order = _locked_order(order)
    if Payment.objects.filter(idempotency_key=idempotency_key).exists():
        return order
    if order.status not in (OrderStatus.PENDING, OrderStatus.FAILED):
        raise ConflictError(
            f"This order is {order.get_status_display().lower()}; it cannot be paid.",
            code="order_not_payable",
        )
    amount = order.total_minor if amount_minor is None else amount_minor
    if (currency or order.currency).upper() != order.currency:
        raise DomainError(
            f"The payment is in {currency}; the order is in {order.currency}.",
            code="currency_mismatch",
        )
    if amount != order.total_minor:
        raise DomainError(
            f"The payment of {amount} does not match the order total {order.total_minor}.",
            code="amount_mismatch",
        )
    now = timezone.now()
    payment = Payment.objects.create(
        order=order,
        provider=provider,
        provider_reference=provider_reference,
        amount_minor=amount,
        currency=order.currency,
        status=PaymentStatus.SUCCEEDED,
        raw_payload=payload or {},
        idempotency_key=idempotency_key,
        recorded_by=actor if getattr(actor, "pk", None) else None,
    )
    if order.status == OrderStatus.FAILED:
        order.status = OrderStatus.PENDING
        order.save(update_fields=["status", "updated_at"])
    order.status = OrderStatus.PAID
    order.paid_at = now
    order.provider = provider
    order.provider_reference = provider_reference or order.provider_reference
    order.save()
    for line in order.lines.filter(kind=OrderLineKind.COURSE).select_related("course"):
        _enroll_paid(order.user, line.course)
    invoice = invoice_issue(order=order)
    domain_event_record(
        aggregate_type="order",
        aggregate_id=order.pk,
        event_type="order.paid",
        actor=actor,
        data={
            "payment": str(payment.pk),
            "provider": provider,
            "amount_minor": amount,
            "currency": order.currency,
            "invoice": invoice.display_number,
        },
    )
    return order


@transaction.atomic
def order_fail(*, order: Order, reason: str = "") -> Order:
    """Mark a pending order failed (the provider declined); its coupon is given back.
    Raises ConflictError unless pending."""
    order = _locked_order(order)
    if order.status != OrderStatus.PENDING:
        raise ConflictError("Only a pending order can fail.", code="order_not_pending")
    order.status = OrderStatus.FAILED
    order.save()
    _release_coupon(order)
    domain_event_record(
        aggregate_type="order",
        aggregate_id=order.pk,
        event_type="order.failed",
        data={"reason": reason},
    )
    return order


@transaction.atomic
def order_cancel(*, order: Order) -> Order:
    """Cancel an unpaid order; its coupon is given back. Raises ConflictError once paid."""
    order = _locked_order(order)
    if order.status not in (OrderStatus.PENDING, OrderStatus.FAILED):
        raise ConflictError("Only an unpaid order can be cancelled.", code="order_not_cancellable")
    order.status = OrderStatus.CANCELLED
    order.save()
    _release_coupon(order)
    domain_event_record(aggregate_type="order", aggregate_id=order.pk, event_type="order.cancelled")
    return order


def order_checkout(*, order: Order, success_url: str, cancel_url: str) -> str:
    """Start paying a pending order on its provider's hosted page; returns the URL to send the
    buyer to (the session is kept as the order's provider reference). The order is paid when
    the provider's signed webhook says so. Raises ConflictError (not payable), ProviderError."""
    if order.status not in (OrderStatus.PENDING, OrderStatus.FAILED):
        raise ConflictError("This order cannot be paid.", code="order_not_payable")
    provider = provider_for(order.provider)
    if not provider.hosted_checkout:
        raise ConflictError("This order is paid by bank transfer.", code="no_hosted_checkout")
    redirect_to = provider.order_checkout(
        order=order, success_url=success_url, cancel_url=cancel_url
    )
    Order.objects.filter(pk=order.pk).update(
        provider_reference=redirect_to.reference, updated_at=timezone.now()
    )
    return redirect_to.url


# -- invoices -------------------------------------------------------------------------------


def invoice_issue(*, order: Order) -> Invoice:
    """Issue the invoice of a paid order; the database gives it the next number of its year.
    Raises ConflictError if the order is unpaid or already invoiced."""
    if order.status != OrderStatus.PAID:
        raise ConflictError("Only a paid order is invoiced.", code="order_not_paid")
    if Invoice.objects.filter(order=order).exists():
        raise ConflictError("This order already has an invoice.", code="already_invoiced")
    user = order.user
    invoice = Invoice.objects.create(
        order=order,
        billed_to_name=user.get_full_name() or user.email,
        billed_to_email=user.email,
        lines=[
            {"description": line.description, "amount_minor": line.amount_minor}
            for line in order.lines.all()
        ],
        currency=order.currency,
        subtotal_minor=order.subtotal_minor,
        discount_minor=order.discount_minor,
        tax_country=order.tax_country,
        tax_rate_bp=order.tax_rate_bp,
        tax_minor=order.tax_minor,
        total_minor=order.total_minor,
    )
    invoice.refresh_from_db(fields=["year", "number"])  # set by the numbering trigger
    return invoice


# -- refunds --------------------------------------------------------------------------------


@transaction.atomic
def refund_create(
    *,
    order: Order,
    amount_minor: int | None = None,
    reason: str = "",
    actor=None,
    provider_reference: str = "",
) -> Refund:
    """Refund all (default) or part of a paid order. A full refund suspends the enrollments it
    paid for. Without `provider_reference` (a refund the provider already made, reported by its
    webhook) the payment's provider is asked to give the money back first.

    Raises ConflictError (not paid), DomainError (zero, negative or above what is left to
    refund), ProviderError (the provider refused: nothing is recorded)."""
    order = _locked_order(order)
    if order.status not in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED):
        raise ConflictError("Only a paid order can be refunded.", code="order_not_refundable")
    left = order.refundable_minor
    amount = left if amount_minor is None else int(amount_minor)
    if amount <= 0:
        raise DomainError(
            "A refund must be more than zero.",
            code="invalid_amount",
            fields={"amount_minor": ["More than zero."]},
        )
    if amount > left:
        raise DomainError(
            f"At most {left / 100:.2f} {order.currency} is left to refund.",
            code="refund_above_paid",
            fields={"amount_minor": [f"At most {left}."]},
        )
    payment = order.payments.get(status=PaymentStatus.SUCCEEDED)
    if not provider_reference:
        # Network call with the order row locked: if our commit then failed, the provider's
        # refund webhook (charge.refunded) records the refund anyway.
        provider_reference = provider_for(payment.provider).refund(
            payment=payment, amount_minor=amount
        )
    refund = Refund.objects.create(
        order=order,
        payment=payment,
        amount_minor=amount,
        reason=reason,
        provider_reference=provider_reference,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    order.refunded_minor += amount
    full = order.refunded_minor == order.total_minor
    order.status = OrderStatus.REFUNDED if full else OrderStatus.PARTIALLY_REFUNDED
    order.save()
    if full:
        course_ids = order.lines.filter(kind=OrderLineKind.COURSE).values_list(
            "course_id", flat=True
        )
        for enrollment in Enrollment.objects.filter(
            user_id=order.user_id,
            course_id__in=course_ids,
            enrollment_type=EnrollmentType.PAID,
            status__in=(EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED),
        ):
            enrollment_suspend(enrollment=enrollment, reason=f"order {order.pk} refunded")
    domain_event_record(
        aggregate_type="order",
        aggregate_id=order.pk,
        event_type="refund.issued",
        actor=actor,
        data={
            "refund": str(refund.pk),
            "amount_minor": amount,
            "currency": order.currency,
            "full": full,
            "reason": reason,
        },
    )
    return refund
