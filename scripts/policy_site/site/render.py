"""The Jinja2 environment shared by pages, feeds and emails, with filters that keep YAML text inert.

Links in policy text are resolved for where the HTML lands by a `resolve(href)` function: the template
context's `resolve` when it has one, else the environment's default, which turns a site path (`/privacy`)
into a path under site_url's own path (so a site served from https://example.org/policies/ keeps working)
and leaves everything else as written.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup

from ..diff.redline_render import redline_html, redline_text
from ..errors import UserError
from ..source import inline
from ..source.model import ItemList, Paragraph, Section, Table
from .compiled import compiled_templates
from .dates import iso, readable, time_html

Resolve = Callable[[str], str]


def front_matter_text(text: object) -> Markup:
    """A value for a page's YAML front matter (its title) that every reader sees as the literal text.

    MkDocs and Material insert page titles into <title>, the header and the search index as HTML, without
    escaping them; so the text is HTML-escaped here, exactly once, and written as a JSON (= YAML) string.
    """
    return Markup(json.dumps(html.escape(str(text), quote=False), ensure_ascii=False))


def is_site_path(href: str) -> bool:
    return href.startswith("/") and not href.startswith("//")


def resolver(site_base: str, anchors: str | None = None) -> Resolve:
    """Site paths under site_base ('/' or 'https://example.org/policies/'); '#id' under anchors when given."""
    base = site_base.rstrip("/") + "/"

    def resolve(href: str) -> str:
        if is_site_path(href):
            return base + href.lstrip("/")
        if href.startswith("doc:"):  # another document of the library: doc:terms#liability
            document, _, anchor = href[4:].partition("#")
            return base + (f"{document}/" if document else "") + (f"#{anchor}" if anchor else "")
        if href.startswith("#") and anchors is not None:
            return anchors + href
        return href

    return resolve


def _resolve(context: Any) -> Resolve | None:
    value = context.get("resolve")
    return value if callable(value) else None


@jinja2.pass_context
def _inline(context: Any, text: object) -> Markup:
    return Markup(inline.to_html(str(text), _resolve(context)))


@jinja2.pass_context
def _redline(context: Any, blocks: Any, labels: bool = True) -> Markup:
    """A redline on a page (labels, unchanged runs folded) or, labels=False, where CSS is ignored (feeds)."""
    return redline_html(blocks, labels, _resolve(context), collapse=labels)


@jinja2.pass_context
def _date(context: Any, value: Any) -> Markup:
    """A date a reader sees, in HTML: <time datetime="2026-05-04">4 May 2026</time> (site/dates.py), with lang="…"
    where the template's language is not the environment's (a translated page)."""
    language = context.get("date_language")
    return time_html(value, language, language != context.environment.globals.get("date_language"))


@jinja2.pass_context
def _date_text(context: Any, value: Any) -> str:
    """A date a reader sees, as text: 4 May 2026 (site/dates.py)."""
    return readable(value, context.get("date_language"))


def _where(exc: BaseException, name: str) -> str:
    """The template file and line an error was raised in (the innermost template frame), else the name."""
    found, tb = name, exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if not filename.endswith(".py") and not filename.startswith("<"):  # a template's own frame
            found = f"{filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found


def render_template(env: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    """A template rendered with exactly this context. A name it does not receive (StrictUndefined) is a
    UserError naming the template file, the line and the name: a template shows only its input."""
    try:
        return env.get_template(name).render(context)
    except jinja2.UndefinedError as exc:
        message = re.sub(r"'(?:\w+\.)+(\w+ object)'", r"'\1'", exc.message or "undefined")
        raise UserError(f"{_where(exc, name)}: {message} (this template receives only: "
                        f"{', '.join(sorted(context))}; see \"Adding a page type\" in docs/maintainers.md)") from None


def environment(template_dirs: list[Path], site_url: str | None = None,
                cache_dir: Path | None = None, language: str | None = None) -> jinja2.Environment:
    """Templates from the first of template_dirs that holds each file (a project's own, then the built-in);
    compiled templates kept in cache_dir/templates when given. language: the one dates are shown in (the global
    `date_language`, which a template's context may override: a translated page's own)."""
    env = jinja2.Environment(
        bytecode_cache=compiled_templates(cache_dir) if cache_dir else None,
        loader=jinja2.FileSystemLoader([str(d) for d in template_dirs]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["resolve"] = resolver(urlsplit(site_url or "/").path or "/")
    env.globals["date_language"] = language or "en"
    env.filters.update(
        md=lambda text: Markup(inline.markdown_escape(str(text))),
        inline=_inline,
        plain=lambda text: inline.to_text(str(text)),
        redline=_redline,
        redline_text=redline_text,
        iso=iso,
        date=_date,
        date_text=_date_text,
        front_matter=front_matter_text,
        day=lambda value: value.strftime("%Y-%m-%d") if value else "",  # the ISO day (project templates)
    )
    env.tests.update(
        paragraph=lambda b: isinstance(b, Paragraph),
        itemlist=lambda b: isinstance(b, ItemList),
        section=lambda b: isinstance(b, Section),
        table=lambda b: isinstance(b, Table),
    )
    return env
