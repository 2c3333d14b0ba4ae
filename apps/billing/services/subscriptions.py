"""Writes owned by billing for subscriptions: subscribing (with a plan coupon), renewals
billed as orders with their payment and invoice, plan changes with proration, cancelling,
expiry, enrolling through a subscription; and the provider's webhook events (claimed once).

A subscription period is billed once: the renewal locks the subscription and looks for the
period's order line, and a partial unique index on (subscription, period_start) backs it.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.audit.services import domain_event_record
from apps.billing.models import (
    ACCESS_SUBSCRIPTION_STATUSES,
    Coupon,
    CouponKind,
    Order,
    OrderLine,
    OrderLineKind,
    OrderStatus,
    Payment,
    Plan,
    PlanInterval,
    ProviderEvent,
    Subscription,
    SubscriptionStatus,
)
from apps.billing.providers import provider_for
from apps.billing.selectors import (
    course_access,
    course_paid_by,
    plan_unlocks,
    subscription_live,
)
from apps.billing.services.orders import (
    _coupon_check,
    _discount,
    _half_up,
    _redeem,
    coupon_get,
    order_pay,
    tax_rate_bp,
)
from apps.content.models import Course
from apps.core.exceptions import ConflictError, DomainError, PermissionDeniedError
from apps.progress.models import Enrollment, EnrollmentStatus, EnrollmentType
from apps.progress.services import enrollment_create, enrollment_drop, enrollment_suspend

# -- subscriptions --------------------------------------------------------------------------


def _period_end(start: dt.datetime, interval: str) -> dt.datetime:
    if interval == PlanInterval.YEAR:
        try:
            return start.replace(year=start.year + 1)
        except ValueError:  # 29 February
            return start.replace(year=start.year + 1, day=28)
    month = start.month % 12 + 1
    year = start.year + (start.month == 12)
    for day in (start.day, 30, 29, 28):
        try:
            return start.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _subscription_event(subscription: Subscription, event_type: str, actor=None, **data) -> None:
    domain_event_record(
        aggregate_type="subscription",
        aggregate_id=subscription.pk,
        event_type=event_type,
        actor=actor,
        data={"plan": subscription.plan.slug, "status": subscription.status, **data},
    )


def _subscription_enrollments_sync(subscription: Subscription) -> None:
    """Access follows the subscription: its subscriber's subscription enrollments are suspended
    when it no longer opens their course (lapsed, cancelled, another plan) and reinstated when
    it opens them again (progress has no reinstate: drop + enroll keeps the progress)."""
    now = timezone.now()
    gives = subscription.status in ACCESS_SUBSCRIPTION_STATUSES and (
        subscription.current_period_end > now
    )
    enrollments = Enrollment.objects.filter(
        user_id=subscription.user_id, enrollment_type=EnrollmentType.SUBSCRIPTION
    ).select_related("course", "user")
    for enrollment in enrollments.exclude(status=EnrollmentStatus.DROPPED):
        opens = gives and plan_unlocks(plan=subscription.plan, course=enrollment.course)
        if course_paid_by(user=enrollment.user, course=enrollment.course):
            continue  # bought as well: the purchase keeps it open
        if not opens and enrollment.status in (
            EnrollmentStatus.ACTIVE,
            EnrollmentStatus.COMPLETED,
        ):
            enrollment_suspend(
                enrollment=enrollment,
                reason=f"subscription {subscription.pk} {subscription.status}",
            )
        elif opens and enrollment.status == EnrollmentStatus.SUSPENDED:
            enrollment_drop(enrollment=enrollment)
            enrollment_create(
                user=enrollment.user,
                course=enrollment.course,
                enrollment_type=EnrollmentType.SUBSCRIPTION,
            )


def _plan_coupon(*, user, plan: Plan, coupon_code: str, provider: str) -> Coupon | None:
    """The coupon a new subscription starts with, checked: applicable to the plan, in its
    currency, leaving something to pay. Raises DomainError, NotFoundError."""
    if not (coupon_code and coupon_code.strip()):
        return None
    if provider_for(provider).hosted_checkout:
        raise DomainError(
            "Coupons cannot be used with this payment provider's subscriptions.",
            code="coupon_unsupported",
            fields={"coupon": ["Not with this payment provider."]},
        )
    coupon = coupon_get(code=coupon_code)
    _coupon_check(coupon=coupon, user=user, plan=plan)
    if plan.price_minor - _discount(coupon, plan.price_minor, plan.currency) <= 0:
        raise DomainError(
            "The price after the coupon would be zero; use an enrollment grant instead.",
            code="zero_total",
            fields={"coupon": ["Leaves nothing to pay."]},
        )
    return coupon


def _coupon_for_next_period(subscription: Subscription) -> Coupon | None:
    coupon = subscription.coupon
    if coupon is None:
        return None
    if coupon.plan_periods is not None and subscription.coupon_periods_used >= coupon.plan_periods:
        return None
    if coupon.kind == CouponKind.FIXED and coupon.currency != subscription.plan.currency:
        return None  # the plan changed currency since: the coupon no longer fits
    return coupon


def _order_from_lines(
    *,
    subscription: Subscription,
    lines: list[OrderLine],
    discount_minor: int = 0,
    coupon: Coupon | None = None,
    tax: tuple[str, int, int] | None = None,
) -> Order:
    """A pending order of the subscriber for `lines` (subscription period, proration, credit),
    taxed at the default country's rate unless `tax` (country, rate, amount) is given."""
    subtotal = sum(line.amount_minor for line in lines)
    net = subtotal - discount_minor
    if tax is None:
        country, rate = tax_rate_bp(None)
        tax = (country, rate, _half_up(net * rate, 10_000))
    order = Order.objects.create(
        user_id=subscription.user_id,
        currency=subscription.plan.currency,
        subtotal_minor=subtotal,
        discount_minor=discount_minor,
        tax_country=tax[0],
        tax_rate_bp=tax[1],
        tax_minor=tax[2],
        total_minor=net + tax[2],
        coupon=coupon,
        provider=subscription.provider,
    )
    for line in lines:
        line.order = order
    OrderLine.objects.bulk_create(lines)
    domain_event_record(
        aggregate_type="order",
        aggregate_id=order.pk,
        event_type="order.created",
        data={
            "user": str(subscription.user_id),
            "courses": [],  # the shape of a course order's event, for webhook consumers
            "subscription": str(subscription.pk),
            "lines": [line.kind for line in lines],
            "total_minor": order.total_minor,
            "currency": order.currency,
            "coupon": coupon.code if coupon else None,
        },
    )
    return order


def _period_line(subscription: Subscription, start: dt.datetime, end: dt.datetime, amount: int):
    plan = subscription.plan
    return OrderLine(
        kind=OrderLineKind.PLAN_PERIOD,
        plan=plan,
        subscription=subscription,
        period_start=start,
        period_end=end,
        description=f"{plan.name}, {start:%Y-%m-%d} to {end:%Y-%m-%d}",
        amount_minor=amount,
    )


def _period_order(subscription: Subscription, start: dt.datetime, end: dt.datetime) -> Order | None:
    """The pending order for one period at our prices: the plan's price, the subscription's
    coupon while it has periods left, then any credit balance (never below one minor unit of
    net; what is left of the credit carries on). None when nothing is left to pay (the period
    is covered by the coupon and credit). Updates the subscription's coupon and credit use."""
    price = subscription.plan.price_minor
    coupon = _coupon_for_next_period(subscription)
    discount = _discount(coupon, price, subscription.plan.currency) if coupon else 0
    credit = min(subscription.credit_minor, price - discount)
    if coupon is not None:
        subscription.coupon_periods_used += 1
    subscription.credit_minor -= credit
    subscription.save(update_fields=["coupon_periods_used", "credit_minor", "updated_at"])
    if price - discount - credit <= 0:
        return None
    lines = [_period_line(subscription, start, end, price)]
    if credit:
        lines.append(
            OrderLine(
                kind=OrderLineKind.CREDIT,
                subscription=subscription,
                description="Credit from an earlier plan change",
                amount_minor=-credit,
            )
        )
    return _order_from_lines(
        subscription=subscription, lines=lines, discount_minor=discount, coupon=coupon
    )


@dataclass(frozen=True)
class ProviderCharge:
    """What the provider charged for a period (its invoice): amounts in minor units, and the
    references that make recording it idempotent."""

    reference: str
    idempotency_key: str
    currency: str
    subtotal_minor: int
    discount_minor: int
    tax_minor: int
    total_minor: int
    payload: dict = field(default_factory=dict)


def _provider_order(
    subscription: Subscription, charge: ProviderCharge, line: OrderLine
) -> Order | None:
    """A pending order mirroring what the provider charged (None when it charged nothing: a
    trial's zero invoice, say). Amounts that do not add up are recorded as one line of the
    total, untaxed, so the order is exactly what was paid."""
    if charge.total_minor <= 0:
        return None
    subtotal, discount, tax = charge.subtotal_minor, charge.discount_minor, charge.tax_minor
    if not (
        0 <= discount <= subtotal and tax >= 0 and subtotal - discount + tax == charge.total_minor
    ):
        subtotal, discount, tax = charge.total_minor, 0, 0
    if subtotal <= 0 or subtotal - discount <= 0:
        subtotal, discount, tax = charge.total_minor, 0, 0
    line.amount_minor = subtotal
    net = subtotal - discount
    rate = min(10_000, _half_up(tax * 10_000, net))
    return _order_from_lines(
        subscription=subscription, lines=[line], discount_minor=discount, tax=("", rate, tax)
    )


@transaction.atomic
def subscription_create(
    *,
    user,
    plan: Plan,
    provider: str | None = None,
    provider_reference: str = "",
    coupon_code: str = "",
) -> Subscription:
    """Subscribe `user` to `plan`: trialing for the plan's trial days, else active for one
    period. A coupon is redeemed now and discounts the first paid period (or as many as the
    coupon's `plan_periods` says). With the manual provider a period with no trial is billed
    at once: a pending order (bank transfer) that staff mark paid.

    Raises ConflictError (already subscribed), DomainError (inactive plan, coupon refused),
    NotFoundError (unknown coupon)."""
    if not plan.is_active:
        raise DomainError("This plan is no longer offered.", code="plan_inactive")
    if subscription_live(user=user) is not None:
        raise ConflictError("You already have a subscription.", code="already_subscribed")
    provider = provider or settings.BILLING_PROVIDER
    coupon = _plan_coupon(user=user, plan=plan, coupon_code=coupon_code, provider=provider)
    now = timezone.now()
    trial = plan.trial_days > 0
    end = now + dt.timedelta(days=plan.trial_days) if trial else _period_end(now, plan.interval)
    try:
        with transaction.atomic():
            subscription = Subscription.objects.create(
                user=user,
                plan=plan,
                status=SubscriptionStatus.TRIALING if trial else SubscriptionStatus.ACTIVE,
                current_period_start=now,
                current_period_end=end,
                trial_end=end if trial else None,
                provider=provider,
                provider_reference=provider_reference,
                coupon=coupon,
            )
    except IntegrityError as exc:
        if "subscription_one_live_per_user" in str(exc):
            raise ConflictError(
                "You already have a subscription.", code="already_subscribed"
            ) from exc
        raise
    if coupon is not None:
        _redeem(coupon=coupon, user=user, subscription=subscription)
    if not trial and not provider_for(provider).hosted_checkout:
        _period_order(subscription, now, end)
    _subscription_enrollments_sync(subscription)
    _subscription_event(
        subscription, "subscription.created", coupon=coupon.code if coupon else None
    )
    return subscription


def _locked_subscription(subscription: Subscription) -> Subscription:
    # No select_related: FOR UPDATE OF cannot name a schema-qualified table, and the plan row
    # need not be locked.
    return Subscription.objects.select_for_update().get(pk=subscription.pk)


@dataclass(frozen=True)
class PlanChangeQuote:
    """What moving to `plan` now costs: credit for the unused time of the current plan and the
    charge for the new plan (the rest of this period, or a new period from now when the
    interval changes), in integer minor units before tax."""

    plan: Plan
    credit_minor: int
    charge_minor: int
    period_start: dt.datetime
    period_end: dt.datetime
    new_period: bool

    @property
    def net_minor(self) -> int:
        return self.charge_minor - self.credit_minor


def _plan_change_check(subscription: Subscription, plan: Plan) -> None:
    if subscription.status == SubscriptionStatus.CANCELLED:
        raise ConflictError("This subscription is cancelled.", code="subscription_cancelled")
    if subscription.status == SubscriptionStatus.PAST_DUE:
        raise ConflictError(
            "Pay the current period before changing plan.", code="subscription_past_due"
        )
    if plan.pk == subscription.plan_id:
        raise ConflictError("You are already on this plan.", code="same_plan")
    if not plan.is_active:
        raise DomainError(
            "This plan is no longer offered.", code="plan_inactive", fields={"plan": ["Inactive."]}
        )
    if plan.currency != subscription.plan.currency:
        raise DomainError(
            f"This plan is in {plan.currency}; your subscription is in "
            f"{subscription.plan.currency}. Cancel and subscribe again.",
            code="currency_mismatch",
            fields={"plan": ["Currency mismatch."]},
        )


def _period_value(subscription: Subscription) -> int:
    """What the current period of the current plan is worth before tax: the plan's price less
    the coupon discount its period order had."""
    price = subscription.plan.price_minor
    billed = (
        OrderLine.objects.filter(
            subscription=subscription,
            kind=OrderLineKind.PLAN_PERIOD,
            plan=subscription.plan,
            period_start=subscription.current_period_start,
        )
        .exclude(order__status__in=(OrderStatus.CANCELLED, OrderStatus.FAILED))
        .select_related("order")
        .first()
    )
    if billed is None:
        return price
    return max(0, billed.amount_minor - billed.order.discount_minor)


def subscription_change_quote(
    *, subscription: Subscription, plan: Plan, now: dt.datetime | None = None
) -> PlanChangeQuote:
    """Price moving `subscription` to `plan` now (nothing is saved). A trial changes for free;
    otherwise the unused share of the current period is credited (by the second) and the new
    plan charged for the rest of the period, or for a whole new period from now when the
    interval differs. Raises ConflictError (cancelled, past due, same plan) or DomainError
    (inactive plan, currency mismatch)."""
    _plan_change_check(subscription, plan)
    now = now or timezone.now()
    start, end = subscription.current_period_start, subscription.current_period_end
    new_period = plan.interval != subscription.plan.interval
    if subscription.status == SubscriptionStatus.TRIALING:
        return PlanChangeQuote(plan, 0, 0, now, end, False)
    length = max(1, int((end - start).total_seconds()))
    remaining = min(length, max(0, int((end - now).total_seconds())))
    credit = _half_up(_period_value(subscription) * remaining, length)
    if new_period:
        return PlanChangeQuote(
            plan, credit, plan.price_minor, now, _period_end(now, plan.interval), True
        )
    return PlanChangeQuote(
        plan, credit, _half_up(plan.price_minor * remaining, length), now, end, False
    )


@dataclass(frozen=True)
class PlanChange:
    subscription: Subscription
    quote: PlanChangeQuote
    order: Order | None  # the manual provider's pending order for a positive difference


@transaction.atomic
def subscription_change_plan(*, subscription: Subscription, plan: Plan, actor=None) -> PlanChange:
    """Move a live subscription to another plan now, with proration (see
    `subscription_change_quote`). Manual provider: a positive difference becomes a pending
    order (a prorated charge line and a credit line, taxed), a negative one a credit balance
    taken off the next periods. Stripe: the subscription's price is changed there with
    prorations invoiced at once (its `invoice.paid` webhook records the charge). Enrollments
    the new plan does not cover are suspended.

    Raises ConflictError (cancelled, past due, same plan), DomainError (inactive plan,
    currency mismatch), ProviderError (the provider refused: nothing changed)."""
    subscription = _locked_subscription(subscription)
    priced = subscription_change_quote(subscription=subscription, plan=plan)
    previous = subscription.plan
    provider = provider_for(subscription.provider)
    order = None
    if provider.hosted_checkout:
        # Network call with the subscription row locked, like refunds: if our commit failed,
        # Stripe's subscription and invoice webhooks report the change.
        provider.subscription_change_plan(subscription=subscription, plan=plan)
    elif priced.net_minor > 0:
        kind = OrderLineKind.PLAN_PERIOD if priced.new_period else OrderLineKind.PRORATION
        lines = [
            OrderLine(
                kind=kind,
                plan=plan,
                subscription=subscription,
                period_start=priced.period_start,
                period_end=priced.period_end,
                description=(
                    f"{plan.name}, {priced.period_start:%Y-%m-%d} to {priced.period_end:%Y-%m-%d}"
                    + ("" if priced.new_period else " (prorated)")
                ),
                amount_minor=priced.charge_minor,
            )
        ]
        if priced.credit_minor:
            lines.append(
                OrderLine(
                    kind=OrderLineKind.CREDIT,
                    subscription=subscription,
                    description=f"Unused time on {previous.name}",
                    amount_minor=-priced.credit_minor,
                )
            )
        subscription.plan = plan  # the order is in the new plan's currency (the same)
        order = _order_from_lines(subscription=subscription, lines=lines)
    elif priced.net_minor < 0:
        subscription.credit_minor += -priced.net_minor
    subscription.plan = plan
    if priced.new_period and subscription.status != SubscriptionStatus.TRIALING:
        subscription.current_period_start = priced.period_start
        subscription.current_period_end = priced.period_end
    subscription.save()
    _subscription_enrollments_sync(subscription)
    _subscription_event(
        subscription,
        "subscription.plan_changed",
        actor=actor,
        **{
            "from": previous.slug,
            "credit_minor": priced.credit_minor,
            "charge_minor": priced.charge_minor,
            "order": str(order.pk) if order else None,
            "credit_balance_minor": subscription.credit_minor,
        },
    )
    return PlanChange(subscription=subscription, quote=priced, order=order)


@transaction.atomic
def subscription_cancel(
    *, subscription: Subscription, at_period_end: bool = True, notify_provider: bool = True
) -> Subscription:
    """Cancel at the end of the paid period (default) or now; cancelling now suspends the
    subscription enrollments. The provider is told unless it told us (`notify_provider`).
    Raises ConflictError if already cancelled, ProviderError."""
    subscription = _locked_subscription(subscription)
    if subscription.status == SubscriptionStatus.CANCELLED:
        raise ConflictError("This subscription is already cancelled.", code="already_cancelled")
    if notify_provider:
        provider_for(subscription.provider).subscription_cancel(
            subscription=subscription, at_period_end=at_period_end
        )
    if at_period_end:
        subscription.cancel_at_period_end = True
    else:
        subscription.status = SubscriptionStatus.CANCELLED
        subscription.cancelled_at = timezone.now()
    subscription.save()
    _subscription_enrollments_sync(subscription)
    _subscription_event(subscription, "subscription.cancelled", at_period_end=at_period_end)
    return subscription


@transaction.atomic
def subscription_renew(
    *,
    subscription: Subscription,
    period_start: dt.datetime | None = None,
    period_end: dt.datetime | None = None,
    actor=None,
    charge: ProviderCharge | None = None,
) -> Subscription:
    """A period was paid (staff recorded the transfer, or the provider's invoice was paid):
    active until the end of that period, suspended subscription enrollments reopen, and the
    period is billed in the same transaction: an order with the period's line (coupon and
    credit applied, or exactly what the provider `charge`d), its payment and its invoice.
    Without dates the period follows the current one (or starts now if that lapsed). A period
    already billed is not billed again, so a renewal for the same period twice records one
    payment and one invoice.

    Raises ConflictError if cancelled, DomainError if the period is over."""
    subscription = _locked_subscription(subscription)
    if subscription.status == SubscriptionStatus.CANCELLED:
        raise ConflictError("This subscription is cancelled.", code="subscription_cancelled")
    now = timezone.now()
    start = period_start or max(subscription.current_period_end, now)
    end = period_end or _period_end(start, subscription.plan.interval)
    if end <= now:
        raise DomainError("The paid period is already over.", code="period_over")
    billed = (
        OrderLine.objects.filter(
            subscription=subscription, kind=OrderLineKind.PLAN_PERIOD, period_start=start
        )
        .select_related("order")
        .first()
    )
    if billed is None:
        if charge is None:
            order = _period_order(subscription, start, end)
            key = f"subscription:{subscription.pk}:{start.isoformat()}"
        else:
            order = _provider_order(subscription, charge, _period_line(subscription, start, end, 1))
            key = charge.idempotency_key
        if order is not None:
            _subscription_order_pay(subscription, order, key, charge, actor)
    elif billed.order.status in (OrderStatus.PENDING, OrderStatus.FAILED):
        # The period was billed at our prices but not yet paid (a manual first period): this
        # is its payment.
        key = (
            charge.idempotency_key
            if charge
            else f"subscription:{subscription.pk}:{start.isoformat()}"
        )
        _subscription_order_pay(subscription, billed.order, key, None, actor)
    elif (
        subscription.status == SubscriptionStatus.ACTIVE
        and subscription.current_period_start == start
        and subscription.current_period_end == end
    ):
        return subscription  # this period is renewed and paid already
    subscription.status = SubscriptionStatus.ACTIVE
    subscription.current_period_start = start
    subscription.current_period_end = end
    subscription.save()
    _subscription_enrollments_sync(subscription)
    _subscription_event(
        subscription, "subscription.renewed", actor=actor, period_end=end.isoformat()
    )
    return subscription


def _subscription_order_pay(
    subscription: Subscription, order: Order, key: str, charge: ProviderCharge | None, actor
) -> None:
    order_pay(
        order=order,
        provider=subscription.provider,
        idempotency_key=key,
        amount_minor=charge.total_minor if charge else None,
        currency=charge.currency if charge else None,
        provider_reference=charge.reference if charge else "",
        payload=charge.payload if charge else None,
        actor=actor,
    )


@transaction.atomic
def subscription_proration_paid(
    *,
    subscription: Subscription,
    charge: ProviderCharge,
    period_start: dt.datetime,
    period_end: dt.datetime,
) -> Order | None:
    """The provider charged a plan change's proration (Stripe's `subscription_update`
    invoice): recorded as a paid order with one prorated line, its payment and invoice; once
    per charge. None when nothing was charged (a downgrade's credit stays with Stripe)."""
    subscription = _locked_subscription(subscription)
    existing = Payment.objects.filter(idempotency_key=charge.idempotency_key).first()
    if existing is not None:
        return existing.order
    line = OrderLine(
        kind=OrderLineKind.PRORATION,
        plan=subscription.plan,
        subscription=subscription,
        period_start=period_start,
        period_end=period_end,
        description=f"Change to {subscription.plan.name} (prorated)",
        amount_minor=1,
    )
    order = _provider_order(subscription, charge, line)
    if order is not None:
        _subscription_order_pay(subscription, order, charge.idempotency_key, charge, None)
    return order


@transaction.atomic
def subscription_mark_past_due(*, subscription: Subscription, reason: str = "") -> Subscription:
    """A period is unpaid (trial over, renewal due, or the provider's charge failed): access
    stops until it is paid. Raises ConflictError unless trialing or active."""
    subscription = _locked_subscription(subscription)
    if subscription.status not in ACCESS_SUBSCRIPTION_STATUSES:
        raise ConflictError(
            f"This subscription is {subscription.get_status_display().lower()}.",
            code="not_active",
        )
    subscription.status = SubscriptionStatus.PAST_DUE
    subscription.save()
    _subscription_enrollments_sync(subscription)
    _subscription_event(subscription, "subscription.past_due", reason=reason)
    return subscription


def _subscription_expire(subscription: Subscription, now: dt.datetime) -> str | None:
    with transaction.atomic():
        subscription = (
            Subscription.objects.select_for_update(skip_locked=True)
            .filter(pk=subscription.pk, current_period_end__lte=now)
            .exclude(status=SubscriptionStatus.CANCELLED)
            .first()
        )
        if subscription is None:
            return None  # someone else has it, or it changed meanwhile
        grace = dt.timedelta(days=settings.BILLING_PAST_DUE_GRACE_DAYS)
        if subscription.cancel_at_period_end or (
            subscription.status == SubscriptionStatus.PAST_DUE
            and subscription.current_period_end + grace <= now
        ):
            subscription.status = SubscriptionStatus.CANCELLED
            subscription.cancelled_at = now
            outcome = "cancelled"
        elif subscription.status in ACCESS_SUBSCRIPTION_STATUSES:
            subscription.status = SubscriptionStatus.PAST_DUE
            outcome = "past_due"
        else:
            return None  # past due, still within its grace days
        subscription.save()
        _subscription_enrollments_sync(subscription)
        _subscription_event(subscription, f"subscription.{outcome}", reason="period ended")
        return outcome


def subscriptions_expire(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The periodic rule for subscriptions whose period has ended without a renewal:
    cancel_at_period_end -> cancelled; trialing/active -> past_due (unpaid: access stops);
    past_due for BILLING_PAST_DUE_GRACE_DAYS -> cancelled. Each subscription in its own
    transaction; returns how many changed, by outcome."""
    now = now or timezone.now()
    counts = {"past_due": 0, "cancelled": 0}
    due = Subscription.objects.filter(current_period_end__lte=now).exclude(
        status=SubscriptionStatus.CANCELLED
    )
    for subscription in due.order_by("current_period_end").iterator():
        outcome = _subscription_expire(subscription, now)
        if outcome:
            counts[outcome] += 1
    return counts


@transaction.atomic
def subscription_enroll(*, user, course: Course) -> Enrollment:
    """Enroll a subscriber in a course their trialing/active plan covers (enrollment type
    `subscription`, suspended again if the subscription lapses).

    Raises PermissionDeniedError (no subscription covers it), ConflictError (already enrolled,
    full) and whatever enrolling refuses."""
    if course_access(user=user, course=course) != "subscription":
        raise PermissionDeniedError(
            "Subscribe to a plan that includes this course.", code="subscription_required"
        )
    existing = Enrollment.objects.filter(user=user, course=course).first()
    if existing is not None and existing.status == EnrollmentStatus.SUSPENDED:
        enrollment_drop(enrollment=existing)
    return enrollment_create(user=user, course=course, enrollment_type=EnrollmentType.SUBSCRIPTION)


# -- provider events ------------------------------------------------------------------------


def provider_event_claim(
    *, provider: str, event_id: str, event_type: str, payload: dict
) -> ProviderEvent | None:
    """Record a webhook event as handled, in the caller's transaction. None when it was
    handled before (a replay), so the caller changes nothing."""
    try:
        with transaction.atomic():
            return ProviderEvent.objects.create(
                provider=provider, event_id=event_id, event_type=event_type, payload=payload
            )
    except IntegrityError:
        return None


def provider_event_outcome(*, event: ProviderEvent, outcome: str) -> None:
    """Note what handling the event did (shown to staff in the admin)."""
    event.outcome = outcome
    event.save(update_fields=["outcome"])


@transaction.atomic
def subscription_duplicate_discard(
    *, user, plan: Plan | None, provider: str, reference: str, invoice_reference: str = ""
) -> None:
    """A provider subscription was started by a user who already has a live one (a second
    checkout completed): cancel it at the provider and refund what it charged, and record
    the business event. Raises ProviderError (the provider refused: retried later)."""
    provider_for(provider).subscription_discard(
        reference=reference, invoice_reference=invoice_reference
    )
    domain_event_record(
        aggregate_type="subscription",
        aggregate_id=subscription_live(user=user).pk,
        event_type="subscription.duplicate_discarded",
        data={
            "provider": provider,
            "reference": reference,
            "invoice": invoice_reference,
            "plan": plan.slug if plan else None,
        },
    )
