"""Stripe through the official `stripe` library: hosted Checkout Sessions for orders and plans,
refunds, subscription cancellation, and webhook signature verification.

Settings: STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET and STRIPE_API_BASE (tests point it at a
local fake server). An order is sent as one line of its total (discount and tax computed here,
ADR 0013), so the amount Stripe charges is exactly the order's.
"""

import json

import stripe
from django.conf import settings

from apps.billing.providers.base import CheckoutRedirect, ProviderError, WebhookRejected

TIMEOUT_SECONDS = 20


def _client() -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        raise ProviderError("Stripe is not configured.", code="provider_not_configured")
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE},
        http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
        max_network_retries=2,
    )


def _call(operation, *args, **kwargs):
    try:
        return operation(*args, **kwargs)
    except stripe.StripeError as exc:
        message = getattr(exc, "user_message", None) or "The payment provider refused."
        raise ProviderError(message, code="provider_error") from exc


class StripeProvider:
    name = "stripe"
    hosted_checkout = True

    def order_checkout(self, *, order, success_url: str, cancel_url: str) -> CheckoutRedirect:
        lines = list(order.lines.all())
        name = ", ".join(line.description for line in lines)[:250] or f"Order {order.pk}"
        metadata = {"order_id": str(order.pk)}
        session = _call(
            _client().v1.checkout.sessions.create,
            params={
                "mode": "payment",
                "client_reference_id": str(order.pk),
                "customer_email": order.user.email,
                "success_url": success_url,
                "cancel_url": cancel_url,
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": order.currency.lower(),
                            "unit_amount": order.total_minor,
                            "product_data": {"name": name},
                        },
                    }
                ],
                "metadata": metadata,
                "payment_intent_data": {"metadata": metadata},
            },
        )
        return CheckoutRedirect(url=session.url, reference=session.id)

    def subscription_checkout(
        self, *, user, plan, success_url: str, cancel_url: str
    ) -> CheckoutRedirect:
        metadata = {"user_id": str(user.pk), "plan": plan.slug}
        subscription_data: dict = {"metadata": metadata}
        if plan.trial_days:
            subscription_data["trial_period_days"] = plan.trial_days
        session = _call(
            _client().v1.checkout.sessions.create,
            params={
                "mode": "subscription",
                "client_reference_id": str(user.pk),
                "customer_email": user.email,
                "success_url": success_url,
                "cancel_url": cancel_url,
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": plan.currency.lower(),
                            "unit_amount": plan.price_minor,
                            "recurring": {"interval": plan.interval},
                            "product_data": {"name": plan.name},
                        },
                    }
                ],
                "metadata": metadata,
                "subscription_data": subscription_data,
            },
        )
        return CheckoutRedirect(url=session.url, reference=session.id)

    def refund(self, *, payment, amount_minor: int) -> str:
        refund = _call(
            _client().v1.refunds.create,
            params={"payment_intent": payment.provider_reference, "amount": amount_minor},
        )
        return refund.id

    def subscription_cancel(self, *, subscription, at_period_end: bool) -> None:
        if not subscription.provider_reference:
            return
        client = _client()
        if at_period_end:
            _call(
                client.v1.subscriptions.update,
                subscription.provider_reference,
                params={"cancel_at_period_end": True},
            )
        else:
            _call(client.v1.subscriptions.cancel, subscription.provider_reference)

    def subscription_change_plan(self, *, subscription, plan) -> None:
        """Swap the subscription's one item to the new plan's price; Stripe prorates by the
        second and invoices the difference at once (`always_invoice`), so its `invoice.paid`
        (billing reason `subscription_update`) records the charge here."""
        if not subscription.provider_reference:
            raise ProviderError("This subscription is not known to Stripe.", code="provider_error")
        client = _client()
        current = _call(client.v1.subscriptions.retrieve, subscription.provider_reference).to_dict()
        items = (current.get("items") or {}).get("data") or []
        if not items:
            raise ProviderError("The Stripe subscription has no item.", code="provider_error")
        product = _call(
            client.v1.products.create,
            params={"name": plan.name, "metadata": {"plan": plan.slug}},
        )
        _call(
            client.v1.subscriptions.update,
            subscription.provider_reference,
            params={
                "items": [
                    {
                        "id": items[0]["id"],
                        "price_data": {
                            "currency": plan.currency.lower(),
                            "product": product.id,
                            "unit_amount": plan.price_minor,
                            "recurring": {"interval": plan.interval},
                        },
                    }
                ],
                "proration_behavior": "always_invoice",
                "metadata": {"user_id": str(subscription.user_id), "plan": plan.slug},
            },
        )

    def subscription_discard(self, *, reference: str, invoice_reference: str = "") -> None:
        """Safe to repeat (the webhook is redelivered if our commit fails): a subscription
        already cancelled is left alone and the refund carries an idempotency key."""
        if not reference:
            return
        client = _client()
        current = _call(client.v1.subscriptions.retrieve, reference).to_dict()
        if current.get("status") != "canceled":
            _call(client.v1.subscriptions.cancel, reference)
        if not invoice_reference:
            return
        invoice = _call(
            client.v1.invoices.retrieve, invoice_reference, params={"expand": ["payments"]}
        ).to_dict()
        if not invoice.get("amount_paid"):
            return  # a trial: nothing was charged
        # API versions from 2025-03-31 list the invoice's payments; older ones name the intent.
        intents = [
            (entry.get("payment") or {}).get("payment_intent")
            for entry in ((invoice.get("payments") or {}).get("data") or [])
        ] or [invoice.get("payment_intent")]
        for intent in filter(None, intents):
            if not isinstance(intent, str):
                intent = intent.get("id")
            _call(
                client.v1.refunds.create,
                params={"payment_intent": intent},
                options={"idempotency_key": f"lyceum-discard-{reference}-{intent}"},
            )

    def event_verify(self, *, payload: bytes, signature: str) -> dict:
        if not settings.STRIPE_WEBHOOK_SECRET:
            raise WebhookRejected("Stripe webhooks are not configured.", code="not_configured")
        try:
            stripe.Webhook.construct_event(payload, signature, settings.STRIPE_WEBHOOK_SECRET)
        except stripe.SignatureVerificationError as exc:
            raise WebhookRejected("The webhook signature does not verify.") from exc
        except ValueError as exc:
            raise WebhookRejected("The webhook body is not JSON.", code="invalid_payload") from exc
        event = json.loads(payload)
        if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
            raise WebhookRejected("The webhook body is not an event.", code="invalid_payload")
        return event
