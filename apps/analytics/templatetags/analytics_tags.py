"""Template tags other apps' pages use to show analytics without importing analytics."""

import datetime as dt

from django import template
from django.utils import timezone

from apps.analytics import selectors

register = template.Library()


@register.inclusion_tag("analytics/_engagement.html")
def learner_engagement(enrollment, days: int = 30):
    """The learner's engagement in the enrollment's course over the last `days` days, against
    the `days` before."""
    end = timezone.now()
    data = selectors.engagement(
        user_id=enrollment.user_id,
        course_id=enrollment.course_id,
        start=end - dt.timedelta(days=days),
        end=end,
    )
    return {"engagement": data, "days": days}
