"""Assistant profiles and their capabilities (staff configure them in the admin; demo data and
set-up scripts use these)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import transaction

from apps.assistants.models import AssistantCapability, AssistantProfile
from apps.content.models import Category


@transaction.atomic
def profile_ensure(
    *,
    name: str,
    model_version: str,
    capabilities: Sequence[tuple[str, str]] = (),
    categories: Iterable[Category] = (),
    **fields,
) -> tuple[AssistantProfile, bool]:
    """The profile called `name`, created with `fields` when missing (an existing one keeps its
    settings); capabilities given as (name, description) are added when missing, categories
    are added. Returns (profile, created). Raises ValidationError for out-of-range values."""
    profile = AssistantProfile.objects.filter(name=name).first()
    created = profile is None
    if created:
        profile = AssistantProfile(name=name, model_version=model_version, **fields)
        profile.full_clean(exclude=["categories"])
        profile.save()
    for priority, (capability, description) in enumerate(reversed(capabilities)):
        AssistantCapability.objects.get_or_create(
            profile=profile,
            name=capability,
            defaults={"description": description, "priority": priority},
        )
    profile.categories.add(*categories)
    return profile, created
