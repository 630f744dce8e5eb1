"""The inline Markdown allowed in policy text, on markdown-it-py (CommonMark): checks, safe HTML, plain text, words.

Allowed: `*emphasis*`, `**strong**`, `[links](url)` and autolinks `<https://…>`, backslash escapes. Raw HTML and
entities are not Markdown here: they show as the literal characters. Link targets may be `https:`, `http:`,
`mailto:`, a `#section-id`, a site path (`/privacy`) or a relative path; URLs may hold balanced parentheses.
Anything that cannot be rendered faithfully (an image, a refused scheme, text that looks like a link but is
not one) is a problem for `policy check`.

`words(text)` is what diffs compare: every word with its formatting (`em`, `strong`, `a:<href>`) and whether
it is glued to the word before (no space between), so a changed link target or emphasis is a changed word.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token

# A word of text: (text, marks, glue). marks is a sorted tuple such as ("a:https://x.org/", "strong");
# glue is True when no space separates the word from the one before it.
Word = tuple[str, tuple[str, ...], bool]
# A run of words with the same marks, as policy.json carries them: [text, marks, glue] (words joined by spaces).
Run = tuple[str, tuple[str, ...], bool]

_SAFE_SCHEMES = ("http", "https", "mailto", "doc")  # doc:terms#liability — another document of the library
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!])")
_LAYOUT = re.compile(r"\s\s|[\t\n\r\f\v]")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")
_LOOKS_LIKE_LINK = re.compile(r"\[[^\]\n]*\]\(([^)\n]*)\)?")
_RULES = ["emphasis", "link", "autolink", "escape", "image", "newline"]
_SPACES = re.compile(r"[ \t\n\r\f\v]+")  # ASCII whitespace only: a no-break space stays one
_HARD_BREAK = re.compile(r"(\\| {2,})\n")
BREAK = "\n"  # the word that stands for a line break (an address, a signature)


def link_problem(url: str) -> str | None:
    """Why a link target is refused, or None when it is allowed."""
    squashed = re.sub(r"[\x00-\x20]+", "", url).lower()
    scheme = _SCHEME.match(squashed)
    if not url:
        return "empty link target"
    if scheme and scheme.group(1) not in _SAFE_SCHEMES:
        return (f"link scheme '{scheme.group(1)}:' is not allowed; use https:, http:, mailto:, #section-id, /path "
                "or doc:document")
    return None


def _parser(validate: Callable[[str], bool]) -> MarkdownIt:
    md = MarkdownIt("zero").enable(_RULES)
    md.validateLink = validate  # type: ignore[method-assign,assignment]
    return md


_MD = _parser(lambda url: link_problem(url) is None)
_ANY = _parser(lambda url: True)  # for checks: sees every link, refused ones included


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip() if _LAYOUT.search(text) else text.strip()


_MARKUP = re.compile(r"[\\*_\[\]<!]")


def _text(content: str) -> Token:
    return Token("text", "", 0, content=content)


@lru_cache(maxsize=65536)
def _tokens(text: str) -> tuple[Token, ...]:
    """The inline tokens of a text: runs of whitespace as one space, soft line breaks as spaces, hard line
    breaks (a line ending in a backslash or two spaces) as 'hardbreak' tokens."""
    raw = text.strip()
    if not raw:
        return ()
    if not _MARKUP.search(raw) and not _HARD_BREAK.search(raw):  # plain text (most of a policy): no parsing
        return (_text(_SPACES.sub(" ", raw)),)
    out: list[Token] = []
    for token in _MD.parseInline(raw)[0].children or ():
        if token.type in ("text", "softbreak"):
            content = " " if token.type == "softbreak" else _SPACES.sub(" ", token.content)
            if out and out[-1].type == "text":
                out[-1] = _text(_SPACES.sub(" ", out[-1].content + content))
            else:
                out.append(_text(content))
        else:
            out.append(token)
    return tuple(out)


@lru_cache(maxsize=65536)
def problems(text: str) -> tuple[str, ...]:
    """What in the text cannot be rendered faithfully (refused link schemes, images, broken link syntax)."""
    if "[" not in text and "<" not in text:  # no link, autolink or image can start without one of these
        return ()
    if re.search(r"<br\s*/?>", text, re.IGNORECASE):
        return ("HTML is shown as text here, so '<br>' would appear as written; to break the line, end it with "
                "a backslash (\\) inside a YAML block (|)",)
    line = text.strip()
    found: list[str] = []
    children = _ANY.parseInline(line)[0].children or [] if line else []
    for token in children:
        if token.type == "link_open":
            why = link_problem(str(token.attrs.get("href", "")))
            if why:
                found.append(why)
        elif token.type == "image":
            found.append(f"images are not allowed in policy text (![{token.content}]…); "
                         "link to the file instead: [description](https://…)")
    if not found:
        plain = "".join(t.content for t in _tokens(text) if t.type == "text")
        broken = _LOOKS_LIKE_LINK.search(plain)
        if broken:
            found.append(link_problem(broken.group(1)) or
                         f"'{broken.group(0)}' looks like a link but is not one: a URL cannot hold spaces or "
                         "unbalanced brackets; write %20 for a space, or put the URL in <…>")
    return tuple(found)


def links(text: str) -> list[str]:
    """Every link target in the text, as written after CommonMark's normalisation."""
    return [str(t.attrs["href"]) for t in _tokens(text) if t.type == "link_open"]


def anchors(text: str) -> list[str]:
    """The section ids the text links to (`#id` targets)."""
    return [url[1:] for url in links(text) if url.startswith("#")]


def _marks(em: int, strong: int, href: str | None) -> tuple[str, ...]:
    marks = (["a:" + href] if href is not None else []) + (["em"] if em else []) + (["strong"] if strong else [])
    return tuple(marks)


def add_words(out: list[Word], content: str, marks: tuple[str, ...], space_before: bool) -> bool:
    """The words of one run of text with the same formatting appended to out (each knows whether a space stood
    before it); returns whether the run ended with a space."""
    pieces = content.split(" ")
    found = [piece for piece in pieces if piece]
    if found:  # only the run's first word can be glued to what came before: a space stands before every other
        out.append((found[0], marks, bool(out) and not space_before and bool(pieces[0])))
        out.extend([(piece, marks, False) for piece in found[1:]])
    if pieces[-1]:
        return False
    return True if len(pieces) > 1 else space_before


@lru_cache(maxsize=65536)
def words(text: str) -> tuple[Word, ...]:
    """The words of the text with their formatting; what diffs compare."""
    out: list[Word] = []
    em = strong = 0
    href: str | None = None
    space_before = True  # at the start nothing is glued
    for token in _tokens(text):
        kind = token.type
        if kind == "hardbreak":
            out.append((BREAK, (), True))
            space_before = False
            continue
        if kind in ("text", "image"):
            space_before = add_words(out, token.content, _marks(em, strong, href), space_before)
        elif kind == "em_open":
            em += 1
        elif kind == "em_close":
            em -= 1
        elif kind == "strong_open":
            strong += 1
        elif kind == "strong_close":
            strong -= 1
        elif kind == "link_open":
            href = str(token.attrs.get("href", ""))
        elif kind == "link_close":
            href = None
    return tuple(out)


def runs(text: str) -> list[Run]:
    """The words grouped into runs of one formatting (policy.json's form, read by compare.js)."""
    out: list[list] = []
    for word, marks, glue in words(text):
        if out and out[-1][1] == marks and not glue:
            out[-1][0] += " " + word
        else:
            out.append([word, marks, glue])
    return [(t, m, g) for t, m, g in out]


def words_from_runs(data: list[Run]) -> tuple[Word, ...]:
    """The words of runs (the inverse of runs())."""
    out: list[Word] = []
    for text, marks, glue in data:
        for i, word in enumerate(text.split(" ")):
            out.append((word, tuple(marks), glue if i == 0 else False))
    return tuple(out)


def to_html(text: str, resolve: Callable[[str], str] | None = None) -> str:
    """Safe HTML of a paragraph or list item; resolve(href) rewrites link targets for where the HTML lands."""
    out: list[str] = []
    for token in _tokens(text):
        kind = token.type
        if kind == "hardbreak":
            out.append("<br>")
        elif kind in ("text", "image"):
            out.append(html.escape(token.content, quote=False))
        elif kind in ("em_open", "em_close", "strong_open", "strong_close"):
            tag = "em" if kind.startswith("em") else "strong"
            out.append(f"<{'/' if kind.endswith('close') else ''}{tag}>")
        elif kind == "link_open":
            href = str(token.attrs.get("href", ""))
            out.append(f'<a href="{html.escape(resolve(href) if resolve else href, quote=True)}">')
        elif kind == "link_close":
            out.append("</a>")
    return "".join(out)


def to_text(text: str) -> str:
    """Plain text with the markup removed; links as 'label (url)', section links as their label."""
    out: list[str] = []
    href: str | None = None
    start = 0
    for token in _tokens(text):
        if token.type in ("text", "image"):
            out.append(token.content)
        elif token.type == "hardbreak":
            out.append("\n")
        elif token.type == "link_open":
            href, start = str(token.attrs.get("href", "")), len(out)
        elif token.type == "link_close":
            label = "".join(out[start:])
            if href and not href.startswith("#") and href not in (label, "mailto:" + label):
                out.append(f" ({href})")
            href = None
    return "".join(out)


def markdown_escape(text: str) -> str:
    """Text that Markdown shows literally: HTML escaped, Markdown punctuation backslash-escaped."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", html.escape(_one_line(text), quote=False))
