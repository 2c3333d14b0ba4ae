"""Handling a provider's verified webhook events (Stripe), once each and all or nothing.

`stripe_event_handle` runs in one transaction: the event is claimed (billing.provider_event,
unique per provider and event id) and handled; any failure rolls both back, so the provider's
redelivery can succeed later, and a replay of a handled event changes nothing. Event types we
do not handle are recorded and acknowledged (Stripe's advice: answer 2xx, or it retries for
days); an event about an order or subscription we do not know is refused (NotFoundError).
"""

import datetime as dt
import uuid
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db import transaction

from apps.billing import services
from apps.billing.models import Order, OrderStatus, Payment, Plan, Subscription
from apps.billing.selectors import subscription_live
from apps.core.exceptions import NotFoundError
from apps.core.rls import system_context

PROVIDER = "stripe"


def _order(obj: dict) -> Order:
    order_id = (obj.get("metadata") or {}).get("order_id") or obj.get("client_reference_id")
    try:
        order_uuid = uuid.UUID(str(order_id))
    except ValueError:
        order_uuid = None
    order = Order.objects.filter(pk=order_uuid, provider=PROVIDER).first() if order_uuid else None
    if order is None:
        raise NotFoundError("The event refers to no order of ours.", code="unknown_order")
    return order


def _subscription(reference: str | None) -> Subscription:
    subscription = (
        Subscription.objects.filter(provider=PROVIDER, provider_reference=reference).first()
        if reference
        else None
    )
    if subscription is None:
        raise NotFoundError(
            "The event refers to no subscription of ours.", code="unknown_subscription"
        )
    return subscription


def _timestamp(value) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(int(value), tz=dt.UTC) if value else None


def _checkout_completed(obj: dict) -> str | None:
    if obj.get("mode") == "subscription":
        return _subscription_checkout_completed(obj)
    if obj.get("payment_status") not in ("paid", "no_payment_required"):
        return None  # a delayed method: checkout.session.async_payment_succeeded follows
    _session_paid(obj)
    return None


def _session_paid(obj: dict) -> None:
    order = _order(obj)
    services.order_pay(
        order=order,
        provider=PROVIDER,
        idempotency_key=f"stripe:{obj['id']}",
        amount_minor=obj.get("amount_total"),
        currency=(obj.get("currency") or order.currency).upper(),
        provider_reference=obj.get("payment_intent") or obj["id"],
        payload=obj,
    )


def _session_failed(obj: dict) -> None:
    order = _order(obj)
    if order.status == OrderStatus.PENDING:
        services.order_fail(order=order, reason="stripe: payment failed")


def _payment_intent_failed(obj: dict) -> None:
    order = _order(obj)
    if order.status == OrderStatus.PENDING:
        error = (obj.get("last_payment_error") or {}).get("message", "")
        services.order_fail(order=order, reason=f"stripe: {error}".strip())


def _charge_refunded(obj: dict) -> None:
    """Stripe reports the charge's cumulative refunded amount: record what we do not have yet
    (a refund made in Stripe's dashboard, or ours whose commit failed)."""
    payment = (
        Payment.objects.filter(provider=PROVIDER, provider_reference=obj.get("payment_intent"))
        .select_related("order")
        .first()
        if obj.get("payment_intent")
        else None
    )
    if payment is None:
        raise NotFoundError("The event refers to no payment of ours.", code="unknown_payment")
    missing = int(obj.get("amount_refunded") or 0) - payment.order.refunded_minor
    if missing > 0:
        refunds = (obj.get("refunds") or {}).get("data") or [{}]
        services.refund_create(
            order=payment.order,
            amount_minor=missing,
            reason="refunded in Stripe",
            provider_reference=refunds[0].get("id") or obj.get("id") or "stripe",
        )


def _subscription_checkout_completed(obj: dict) -> str | None:
    metadata = obj.get("metadata") or {}
    user = get_user_model().objects.filter(pk=metadata.get("user_id")).first()
    plan = Plan.objects.filter(slug=metadata.get("plan") or "").first()
    if user is None or plan is None:
        raise NotFoundError("The event refers to no user or plan of ours.", code="unknown_plan")
    reference = obj.get("subscription") or ""
    if Subscription.objects.filter(provider=PROVIDER, provider_reference=reference).exists():
        return None
    if subscription_live(user=user) is not None:
        # A second checkout completed (two tabs, say) while one subscription is live: refusing
        # would make Stripe retry for days and leave the buyer paying twice. Cancel the new
        # Stripe subscription and refund its first invoice; staff see the outcome.
        services.subscription_duplicate_discard(
            user=user,
            plan=plan,
            provider=PROVIDER,
            reference=reference,
            invoice_reference=obj.get("invoice") or "",
        )
        return "duplicate_subscription"
    services.subscription_create(
        user=user, plan=plan, provider=PROVIDER, provider_reference=reference
    )
    return None


def _invoice_subscription(obj: dict) -> str | None:
    # API versions from 2025-03-31 name it under parent.subscription_details.
    parent = (obj.get("parent") or {}).get("subscription_details") or {}
    return parent.get("subscription") or obj.get("subscription")


def _invoice_charge(obj: dict, subscription: Subscription) -> services.ProviderCharge:
    """What the invoice charged, in minor units: subtotal, discounts, tax (API versions from
    2025-03-31 list `total_taxes`, older ones give `tax`) and the amount paid."""
    discounts = sum(int(d.get("amount") or 0) for d in obj.get("total_discount_amounts") or [])
    taxes = obj.get("total_taxes")
    tax = sum(int(t.get("amount") or 0) for t in taxes) if taxes else int(obj.get("tax") or 0)
    paid = int(obj.get("amount_paid") or 0)
    return services.ProviderCharge(
        reference=obj.get("id") or "",
        idempotency_key=f"stripe:{obj.get('id')}",
        currency=(obj.get("currency") or subscription.plan.currency).upper(),
        subtotal_minor=int(obj.get("subtotal") or paid),
        discount_minor=discounts,
        tax_minor=tax,
        total_minor=paid,
        payload=obj,
    )


def _invoice_paid(obj: dict) -> str | None:
    """A subscription invoice was paid: a period (renewal, or the first one) is recorded with
    its payment and invoice here and the subscription renewed; a plan change's proration
    invoice is recorded without touching the period."""
    subscription = _subscription(_invoice_subscription(obj))
    lines = (obj.get("lines") or {}).get("data") or []
    # The period line ends last (prorations, if any, end with the previous period or with it).
    periods = [line.get("period") or {} for line in lines]
    period = max(periods, key=lambda p: int(p.get("end") or 0), default={})
    charge = _invoice_charge(obj, subscription)
    if obj.get("billing_reason") == "subscription_update":
        start = _timestamp(period.get("start")) or subscription.current_period_start
        end = _timestamp(period.get("end")) or subscription.current_period_end
        services.subscription_proration_paid(
            subscription=subscription, charge=charge, period_start=start, period_end=end
        )
        return None
    services.subscription_renew(
        subscription=subscription,
        period_start=_timestamp(period.get("start")),
        period_end=_timestamp(period.get("end")),
        charge=charge,
    )
    return None


def _invoice_failed(obj: dict) -> None:
    subscription = _subscription(_invoice_subscription(obj))
    if subscription.status in ("trialing", "active"):
        services.subscription_mark_past_due(
            subscription=subscription, reason="stripe: invoice payment failed"
        )


def _subscription_updated(obj: dict) -> None:
    subscription = _subscription(obj.get("id"))
    wanted = bool(obj.get("cancel_at_period_end"))
    if wanted and not subscription.cancel_at_period_end and subscription.status != "cancelled":
        services.subscription_cancel(
            subscription=subscription, at_period_end=True, notify_provider=False
        )


def _subscription_deleted(obj: dict) -> None:
    subscription = _subscription(obj.get("id"))
    if subscription.status != "cancelled":
        services.subscription_cancel(
            subscription=subscription, at_period_end=False, notify_provider=False
        )


# A handler returns None (handled) or what it did instead, noted on the event for staff.
HANDLERS: dict[str, Callable[[dict], str | None]] = {
    "checkout.session.completed": _checkout_completed,
    "checkout.session.async_payment_succeeded": _session_paid,
    "checkout.session.async_payment_failed": _session_failed,
    "payment_intent.payment_failed": _payment_intent_failed,
    "charge.refunded": _charge_refunded,
    "invoice.paid": _invoice_paid,
    "invoice.payment_failed": _invoice_failed,
    "customer.subscription.updated": _subscription_updated,
    "customer.subscription.deleted": _subscription_deleted,
}


@transaction.atomic
def stripe_event_handle(*, event: dict) -> str:
    """Handle a verified Stripe event once: "handled", "ignored" (a type we do not handle,
    recorded) or "duplicate" (handled before: nothing changes); a handler that did something
    else answers its outcome (e.g. "duplicate_subscription"), acknowledged like "handled".
    All or nothing.

    Raises NotFoundError (an order, payment or subscription we do not know), ConflictError or
    DomainError (the services' refusals: e.g. the course is full, the amount differs)."""
    obj = (event.get("data") or {}).get("object") or {}
    claimed = services.provider_event_claim(
        provider=PROVIDER, event_id=event["id"], event_type=event["type"], payload=event
    )
    if claimed is None:
        return "duplicate"
    handler = HANDLERS.get(event["type"])
    if handler is None:
        outcome = "ignored"
    else:
        # The caller is the provider, verified by signature, not a signed-in user: the orders,
        # subscriptions and enrollments it changes are someone's, so act as the system (ADR
        # 0017).
        with system_context():
            outcome = handler(obj) or "handled"
    services.provider_event_outcome(event=claimed, outcome=outcome)
    return outcome
