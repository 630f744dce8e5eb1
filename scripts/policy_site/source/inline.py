"""The small inline Markdown allowed in policy text (emphasis, strong, links): checks, safe HTML, plain text."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

_TOKEN = re.compile(
    r"\[(?P<label>[^\]\n]+)\]\((?P<url>[^)\n]*)\)"
    r"|\*\*(?P<strong>[^*\n]+?)\*\*"
    r"|(?<![\w*])\*(?P<em>[^*\n]+?)\*(?![\w*])"
    r"|(?<![\w_])_(?P<em2>[^_\n]+?)_(?![\w_])"
)
_SAFE_SCHEMES = ("http", "https", "mailto")
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!])")


def links(text: str) -> list[str]:
    """Every link target written in the text."""
    return [m.group("url") for m in _TOKEN.finditer(text) if m.group("url") is not None]


def link_problem(url: str) -> str | None:
    """Why a link target is refused, or None when it is safe."""
    squashed = re.sub(r"[\x00-\x20]+", "", url).lower()
    scheme = re.match(r"^([a-z][a-z0-9+.\-]*):", squashed)
    if not url:
        return "empty link target"
    if scheme and scheme.group(1) not in _SAFE_SCHEMES:
        return f"link scheme '{scheme.group(1)}:' is not allowed; use https:, http:, mailto: or #section-id"
    return None


def _render(text: str, link: Callable[[str, str], str], wrap: Callable[[str, str], str],
            plain: Callable[[str], str]) -> str:
    out: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(text):
        out.append(plain(text[pos:m.start()]))
        if m.group("label") is not None:
            out.append(link(m.group("label"), m.group("url")))
        elif m.group("strong") is not None:
            out.append(wrap("strong", m.group("strong")))
        else:
            out.append(wrap("em", m.group("em") or m.group("em2")))
        pos = m.end()
    out.append(plain(text[pos:]))
    return "".join(out)


_LAYOUT = re.compile(r"\s\s|[\t\n\r\f\v]")


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip() if _LAYOUT.search(text) else text.strip()


def to_html(text: str) -> str:
    """Safe HTML for a paragraph or list item: everything escaped except the allowed markup."""
    def link(label: str, url: str) -> str:
        if link_problem(url):
            return html.escape(label)
        return f'<a href="{html.escape(url, quote=True)}">{html.escape(label)}</a>'

    def wrap(tag: str, inner: str) -> str:
        return f"<{tag}>{html.escape(inner)}</{tag}>"

    return _render(_one_line(text), link, wrap, html.escape)


def to_text(text: str) -> str:
    """Plain text with the markup removed; links as 'label (url)'."""
    def link(label: str, url: str) -> str:
        return label if url.startswith("#") else f"{label} ({url})"

    if "[" not in text and "*" not in text and "_" not in text:
        return _one_line(text)
    return _render(_one_line(text), link, lambda _tag, inner: inner, lambda s: s)


def markdown_escape(text: str) -> str:
    """Text that Markdown shows literally: HTML escaped, Markdown punctuation backslash-escaped."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", html.escape(_one_line(text), quote=False))
