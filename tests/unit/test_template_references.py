"""site/gencache.references reads a template's references without parsing it: on every built-in template, and on
the tricky spellings, it finds what jinja2.meta finds after a full parse (or more, never less)."""

from __future__ import annotations

import jinja2
import pytest
from jinja2 import meta

from policy_site.settings import builtin_templates
from policy_site.site.gencache import references, template_closure

TEMPLATES = sorted(p for p in builtin_templates().rglob("*") if p.is_file() and p.suffix in (".j2", ".html"))


def _meta(text: str) -> list[str | None]:
    return list(meta.find_referenced_templates(jinja2.Environment().parse(text)))


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.relative_to(builtin_templates()).as_posix())
def test_the_same_references_as_jinja2_meta(path) -> None:
    text = path.read_text(encoding="utf-8")
    assert sorted(references(text), key=str) == sorted(_meta(text), key=str)


@pytest.mark.parametrize("text", [
    '{% import "a.j2" as m with context %}', "{%- from 'b.j2' import x -%}", '{%+ include "c.j2" %}',
    '{% extends "d.html" %}', '{% include ["e.j2", "f.j2"] %}', "{% include name %}", '{% import "g.j2" ~ x as m %}',
    '{% include "h.j2" ignore missing %}',
])
def test_spellings(text: str) -> None:
    found, parsed = references(text), _meta(text)
    if None in parsed:
        assert None in found  # anything but a plain name brings in every template
    assert None in found or set(parsed) <= set(found), (found, parsed)  # None: every template


def test_the_follow_pages_bring_in_the_subscription_macros() -> None:
    assert "subscriptions/_choices.html.j2" in template_closure([builtin_templates()])
