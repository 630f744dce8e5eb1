"""The Jinja2 environment shared by pages, feeds and emails, with filters that keep YAML text inert."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Iterable

import jinja2
from markupsafe import Markup, escape

from . import inline
from .diff import RedlineBlock
from .model import ItemList, Paragraph, Section

_LABEL = {"insert": "inserted", "delete": "deleted"}
_TAG = {"insert": "ins", "delete": "del"}


def redline_html(blocks: Iterable[RedlineBlock]) -> Markup:
    """Redline blocks as HTML: <ins>/<del> with visually hidden labels for screen readers."""
    out: list[str] = []
    open_list: str | None = None
    for block in blocks:
        if block.kind != open_list:
            if open_list:
                out.append(f"</{open_list}>")
            open_list = block.kind if block.kind in ("ul", "ol") else None
            if open_list:
                out.append(f'<{open_list} class="redline">')
        words = []
        for piece in block.pieces:
            if piece.op == "equal":
                words.append(str(escape(piece.text)))
            else:
                tag = _TAG[piece.op]
                words.append(f'<{tag}><span class="visually-hidden">[{_LABEL[piece.op]}: </span>'
                             f'{escape(piece.text)}<span class="visually-hidden">]</span></{tag}>')
        cls = f' class="redline-{block.status}"' if block.status != "equal" else ""
        tag = "li" if open_list else "p"
        out.append(f"<{tag}{cls}>{' '.join(words)}</{tag}>")
    if open_list:
        out.append(f"</{open_list}>")
    return Markup("\n".join(out))


def redline_text(blocks: Iterable[RedlineBlock], changed_only: bool = False) -> str:
    """Redline as plain text in git's word-diff style: [-deleted-] {+inserted+}."""
    lines = []
    for block in blocks:
        if changed_only and block.status == "equal":
            continue
        words = [p.text if p.op == "equal" else (f"[-{p.text}-]" if p.op == "delete" else f"{{+{p.text}+}}")
                 for p in block.pieces]
        lines.append(("- " if block.kind == "ul" else "1. " if block.kind == "ol" else "") + " ".join(words))
    return "\n".join(lines)


def iso(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


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
        day=lambda value: value.strftime("%Y-%m-%d") if value else "",
    )
    env.tests.update(
        paragraph=lambda b: isinstance(b, Paragraph),
        itemlist=lambda b: isinstance(b, ItemList),
        section=lambda b: isinstance(b, Section),
    )
    return env
