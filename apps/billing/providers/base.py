"""The payment provider interface: what billing asks of a provider, and what it gets back.

A provider either collects the money on its own hosted page (`hosted_checkout`: the buyer is
redirected there and a signed webhook tells us the outcome) or not at all (the manual provider:
the buyer pays by bank transfer and staff mark the order paid).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from apps.core.exceptions import DomainError

if TYPE_CHECKING:
    from apps.billing.models import Order, Payment, Plan, Subscription


class ProviderError(DomainError):
    """The provider refused or could not be reached; nothing was changed on our side."""

    status_code = 502
    code = "provider_error"


class WebhookRejected(DomainError):
    """A webhook whose signature or body does not verify: answered 400, nothing changed."""

    code = "invalid_signature"


@dataclass(frozen=True)
class CheckoutRedirect:
    """Where to send the buyer (the provider's hosted page) and the provider's reference."""

    url: str
    reference: str


class PaymentProvider(Protocol):
    name: str
    hosted_checkout: bool

    def order_checkout(
        self, *, order: Order, success_url: str, cancel_url: str
    ) -> CheckoutRedirect: ...

    def subscription_checkout(
        self, *, user, plan: Plan, success_url: str, cancel_url: str
    ) -> CheckoutRedirect: ...

    def refund(self, *, payment: Payment, amount_minor: int) -> str:
        """Give `amount_minor` of `payment` back; returns the provider's refund reference."""
        ...

    def subscription_cancel(self, *, subscription: Subscription, at_period_end: bool) -> None: ...

    def subscription_change_plan(self, *, subscription: Subscription, plan: Plan) -> None:
        """Move the provider's subscription to `plan` now, the provider prorating and
        invoicing the difference at once (a provider without its own subscriptions: nothing,
        billing prorates itself)."""
        ...

    def subscription_discard(self, *, reference: str, invoice_reference: str = "") -> None:
        """Cancel the provider's subscription `reference` now and refund what its first
        invoice charged (a duplicate subscription nobody should pay for)."""
        ...

    def event_verify(self, *, payload: bytes, signature: str) -> dict:
        """The webhook event in `payload` once its signature checks out.
        Raises WebhookRejected."""
        ...
