"""Payment providers, chosen by name: an order's or subscription's `provider`, else
settings.BILLING_PROVIDER ("manual" by default, so everything works with no network)."""

from django.conf import settings

from apps.billing.providers.base import (
    CheckoutRedirect,
    PaymentProvider,
    ProviderError,
    WebhookRejected,
)
from apps.billing.providers.manual import ManualProvider
from apps.billing.providers.stripe import StripeProvider

PROVIDERS: dict[str, type] = {"manual": ManualProvider, "stripe": StripeProvider}


def provider_for(name: str = "") -> PaymentProvider:
    """The provider called `name` (blank: the site default). Raises ProviderError if unknown."""
    name = name or settings.BILLING_PROVIDER
    factory = PROVIDERS.get(name)
    if factory is None:
        raise ProviderError(f"No payment provider called {name!r}.", code="provider_unknown")
    return factory()


__all__ = [
    "PROVIDERS",
    "CheckoutRedirect",
    "PaymentProvider",
    "ProviderError",
    "WebhookRejected",
    "provider_for",
]
