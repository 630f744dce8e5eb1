"""The Jinja2 environment shared by pages, feeds and emails, with filters that keep YAML text inert."""

from __future__ import annotations

import html
import json
from datetime import date, datetime
from pathlib import Path

import jinja2
from markupsafe import Markup

from ..diff.formats import redline_html, redline_text
from ..source import inline
from ..source.model import ItemList, Paragraph, Section


def iso(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


def front_matter_text(text: object) -> Markup:
    """A value for a page's YAML front matter (its title) that every reader sees as the literal text.

    MkDocs and Material insert page titles into <title>, the header and the search index as HTML, without
    escaping them; so the text is HTML-escaped here, exactly once, and written as a JSON (= YAML) string.
    """
    return Markup(json.dumps(html.escape(str(text), quote=False), ensure_ascii=False))


def environment(templates_dir: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        md=lambda text: Markup(inline.markdown_escape(str(text))),
        inline=lambda text: Markup(inline.to_html(str(text))),
        plain=lambda text: inline.to_text(str(text)),
        redline=redline_html,
        redline_text=redline_text,
        iso=iso,
        front_matter=front_matter_text,
        day=lambda value: value.strftime("%Y-%m-%d") if value else "",
    )
    env.tests.update(
        paragraph=lambda b: isinstance(b, Paragraph),
        itemlist=lambda b: isinstance(b, ItemList),
        section=lambda b: isinstance(b, Section),
    )
    return env
