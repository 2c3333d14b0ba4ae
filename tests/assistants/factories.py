import factory

from apps.assistants.models import AssistantCapability, AssistantProfile, UserMemory
from tests.accounts.factories import UserFactory


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AssistantProfile

    name = factory.Sequence(lambda n: f"Assistant {n}")
    model_version = "lyceum-offline-1"
    provider = "offline"


class CapabilityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AssistantCapability

    profile = factory.SubFactory(ProfileFactory)
    name = "memory"


class MemoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UserMemory

    user = factory.SubFactory(UserFactory)
    profile = factory.SubFactory(ProfileFactory)
    content = factory.Sequence(lambda n: f"Memory number {n}")
