"""Money in templates: integer minor units shown as "12.34 USD"; basis points as "19%"."""

from django import template

register = template.Library()


@register.filter
def money(minor: int, currency: str = "") -> str:
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(int(minor)), 100)
    return f"{sign}{whole}.{cents:02d} {currency}".strip()


@register.filter
def percent_bp(basis_points: int) -> str:
    whole, rest = divmod(int(basis_points), 100)
    return f"{whole}%" if not rest else f"{whole}.{rest:02d}%"
