"""The manual provider (the default): bank transfer against an invoice, staff mark orders paid
in the admin. It needs no network: nothing is sent anywhere."""

from apps.billing.providers.base import CheckoutRedirect, ProviderError, WebhookRejected


class ManualProvider:
    name = "manual"
    hosted_checkout = False

    def order_checkout(self, *, order, success_url: str, cancel_url: str) -> CheckoutRedirect:
        raise ProviderError("Manual orders are paid by bank transfer.", code="no_hosted_checkout")

    def subscription_checkout(
        self, *, user, plan, success_url: str, cancel_url: str
    ) -> CheckoutRedirect:
        raise ProviderError("Manual orders are paid by bank transfer.", code="no_hosted_checkout")

    def refund(self, *, payment, amount_minor: int) -> str:
        return ""  # staff send the money back by transfer

    def subscription_cancel(self, *, subscription, at_period_end: bool) -> None:
        return None

    def subscription_change_plan(self, *, subscription, plan) -> None:
        return None  # billing prorates manual subscriptions itself

    def subscription_discard(self, *, reference: str, invoice_reference: str = "") -> None:
        return None

    def event_verify(self, *, payload: bytes, signature: str) -> dict:
        raise WebhookRejected("The manual provider sends no webhooks.", code="no_webhooks")
