"""Form widgets rendered in Python where Django's template rendering is the cost.

Django renders a <select> through a template per option (select.html, then select_option.html
for each one, with attrs.html inside): ~4 ms for the catalog's four filter selects, a fifth of
that page's time (docs/performance.md). `PlainSelect` writes the same markup from the same
context (`get_context`: options, selection, attributes), escaped as the templates escape it.
"""

from django import forms
from django.utils.html import conditional_escape, escape
from django.utils.safestring import mark_safe


def _attrs(attrs: dict) -> str:
    """What django/forms/widgets/attrs.html writes: in order, `name` for True, nothing for
    False, else `name="value"`."""
    return "".join(
        f" {escape(name)}" if value is True else f' {escape(name)}="{escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


class PlainSelect(forms.Select):
    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [f'<select name="{escape(widget["name"])}"{_attrs(widget["attrs"])}>']
        for group, options, _ in widget["optgroups"]:
            if group:
                parts.append(f'<optgroup label="{escape(group)}">')
            parts.extend(
                f'<option value="{escape(option["value"])}"{_attrs(option["attrs"])}>'
                f"{conditional_escape(option['label'])}</option>"
                for option in options
            )
            if group:
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("".join(parts))  # noqa: S308 (names, values, labels escaped above)
