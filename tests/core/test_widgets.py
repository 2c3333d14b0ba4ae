"""PlainSelect writes the markup Django's Select templates write (whitespace aside)."""

import pytest
from django import forms

from apps.core.widgets import PlainSelect

CHOICES = [
    ("", "Any <level>"),
    ("a&b", "A & B"),
    ('x"y', 'X"Y'),
    ("Group <1>", [("g1", "In a group"), ("g2", "Also")]),
    (3, "Three"),
]


def squeeze(html: str) -> str:
    return "".join(line.strip() for line in html.splitlines())


@pytest.mark.parametrize("value", ["", "a&b", 'x"y', "g2", 3, None, "not a choice"])
@pytest.mark.parametrize(
    "attrs", [None, {"id": "id_level", "required": True, "class": "c", "disabled": False}]
)
def test_plain_select_matches_the_template_rendering(value, attrs):
    django_html = forms.Select(choices=CHOICES).render("level", value, attrs)
    ours = PlainSelect(choices=CHOICES).render("level", value, attrs)
    assert squeeze(ours) == squeeze(django_html)
    assert "&lt;level&gt;" in ours and "<level>" not in ours


def test_the_catalog_filters_render_with_the_selection_kept(client, db):
    html = client.get("/courses/", {"level": "advanced", "q": "x"}).content.decode()
    assert '<option value="advanced" selected>' in html
    assert '<select name="level" id="id_level">' in html
