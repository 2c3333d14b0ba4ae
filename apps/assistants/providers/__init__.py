"""Model providers, chosen by name: the profile's `provider`, else settings.ASSISTANT_PROVIDER."""

from django.conf import settings

from apps.assistants.providers.base import Provider, ProviderError
from apps.assistants.providers.offline import OfflineProvider
from apps.assistants.providers.openai import OpenAICompatibleProvider

PROVIDERS = {"offline": OfflineProvider, "openai": OpenAICompatibleProvider}


def provider_for(name: str = "") -> Provider:
    """The provider called `name` (blank: the site default). Raises ProviderError when unknown."""
    name = name or settings.ASSISTANT_PROVIDER
    factory = PROVIDERS.get(name)
    if factory is None:
        raise ProviderError("not_configured", f"No assistant provider called {name!r}.")
    return factory()


__all__ = ["PROVIDERS", "Provider", "ProviderError", "provider_for"]
