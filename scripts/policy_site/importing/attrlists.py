"""kramdown / Python-Markdown attribute lists (`{: #id .class key="value" }`) in a Markdown text: found and taken
out before markdown-it-py reads the text, so that they never reach the imported text.

An attribute list stands on a line of its own (it belongs to the block that ends on the line above, or — after
a blank line — to the block that starts below), at the end of a heading (`### Sync {: #sync }`) or of a
paragraph's last line, or inside a line after a span (`*word*{: .x}`). A line of its own becomes a blank line
(line numbers stay those of the file); one at the end or inside a line is cut out of it. The colon may be left
out at the end of a heading (`## Sync {#sync}`, as Python-Markdown and Pandoc allow). Lines of code blocks,
fenced code and raw HTML blocks (found by a first parse) and code spans are left as they are. An attribute list
definition (`{:name: .cls}`) and a reference to one (`{: name}`) are taken out too.

The attributes are then given to the blocks that hold their lines (markdown.py): a heading's `#id` becomes its
section's anchor, a paragraph's or table's its own anchor, other ids anchors of the section's heading,
`datetime` the effective date's, the rest is reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it.token import Token

_VALUE = r'(?:"[^"\n]*"|\'[^\'\n]*\'|[^\s"\'{}]+)'
_ITEM = re.compile(r'\s*(?:(?P<id>#[^\s#.{}"\'=]+)|(?P<cls>\.[^\s#.{}"\'=]+)|'
                   r'(?P<key>[A-Za-z_][\w\-:.]*)\s*=\s*(?P<value>' + _VALUE + r')|(?P<ref>[A-Za-z_][\w\-]*))')
_CANDIDATE = re.compile(r"\{(?P<colon>:?)(?P<inside>[^{}\n]*)\}")
_DEFINITION = re.compile(r"^\s*[A-Za-z_][\w\-]*:")
_HEADING = re.compile(r"^ {0,3}#{1,6}(?:\s|$)")
_CODE_TOKENS = ("fence", "code_block", "html_block")
_UNSHOWN = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def shown(text: str, limit: int = 60) -> str:
    """Source text for the report: control, invisible and bidi characters as '?', at most limit characters."""
    text = _UNSHOWN.sub("?", text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


@dataclass
class AttrList:
    """One attribute list: where it stood and what it says."""

    line: int  # 0-based line of the Markdown body where it stood
    attached: int  # 0-based line of the block it belongs to (-1: none)
    place: str  # "line" (a line of its own), "end" (end of a line), "span" (inside a line)
    ids: list[str] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    pairs: list[tuple[str, str]] = field(default_factory=list)  # key, value (quotes taken off)
    references: list[str] = field(default_factory=list)  # names of attribute list definitions used
    definition: str | None = None  # the name, for a definition `{:name: …}` (it defines, applies to nothing)
    text: str = ""  # as written


def parse(inside: str) -> AttrList | None:
    """The attributes between `{:` and `}`; None when that is not an attribute list (text in braces)."""
    found = AttrList(0, -1, "line")
    definition = _DEFINITION.match(inside)
    if definition:
        found.definition = definition.group(0).strip().rstrip(":")
        inside = inside[definition.end():]
    position = 0
    while position < len(inside):
        if not inside[position:].strip():
            break
        match = _ITEM.match(inside, position)
        if match is None or match.end() == position:
            return None
        if match.group("id"):
            found.ids.append(match.group("id")[1:])
        elif match.group("cls"):
            found.classes.append(match.group("cls")[1:])
        elif match.group("key"):
            value = match.group("value")
            if value[:1] in "\"'":
                value = value[1:-1]
            found.pairs.append((match.group("key"), value))
        else:
            found.references.append(match.group("ref"))
        position = match.end()
        if position < len(inside) and not inside[position].isspace():
            return None
    return found


def _code_spans(line: str) -> list[tuple[int, int]]:
    """Where the line's code spans are (backtick strings of equal length), as (start, end) positions."""
    spans: list[tuple[int, int]] = []
    position = 0
    while True:
        opening = re.compile(r"`+").search(line, position)
        if opening is None:
            return spans
        closing = re.compile(r"(?<!`)" + opening.group(0) + r"(?!`)").search(line, opening.end())
        if closing is None:
            return spans
        spans.append((opening.start(), closing.end()))
        position = closing.end()


def _protected(tokens: list[Token]) -> set[int]:
    """0-based lines of code blocks, fenced code and raw HTML blocks."""
    lines: set[int] = set()
    for token in tokens:
        if token.type in _CODE_TOKENS and token.map:
            lines.update(range(*token.map))
    return lines


def take_out(body: str, tokens: list[Token]) -> tuple[str, list[AttrList]]:
    """The Markdown body without its attribute lists (tokens: markdown-it's first parse of it), and the lists."""
    protected = _protected(tokens)
    lines = body.split("\n")
    found: list[AttrList] = []
    own_line: dict[int, AttrList] = {}
    for number, text in enumerate(lines):
        if number in protected or "{" not in text:
            continue
        whole = _CANDIDATE.fullmatch(text.strip())
        if whole and whole.group("colon"):
            attrs = parse(whole.group("inside"))
            if attrs is not None:
                attrs.line, attrs.place, attrs.text = number, "line", text.strip()
                own_line[number] = attrs
                found.append(attrs)
                lines[number] = ""
                continue
        lines[number] = _cut_inline(number, text, found)
    for attrs in own_line.values():  # a line of its own: the block above it, or after a blank line the one below
        above = attrs.line - 1
        while above in own_line:
            above -= 1
        if above >= 0 and lines[above].strip():
            attrs.attached = above
        else:
            below = attrs.line + 1
            while below < len(lines) and (not lines[below].strip() or below in own_line):
                below += 1
            attrs.attached = below if below < len(lines) else -1
    return "\n".join(lines), found


def _cut_inline(number: int, text: str, found: list[AttrList]) -> str:
    """The line without the attribute lists at its end or inside it (outside code spans)."""
    code = _code_spans(text)
    heading = bool(_HEADING.match(text))
    out: list[str] = []
    position = 0
    for match in _CANDIDATE.finditer(text):
        at_end = not text[match.end():].strip()
        if any(start <= match.start() < end for start, end in code):
            continue
        if not match.group("colon") and not (heading and at_end and match.group("inside").lstrip()[:1] in "#."):
            continue
        attrs = parse(match.group("inside"))
        if attrs is None or attrs.definition:
            continue
        attrs.line, attrs.attached, attrs.text = number, number, match.group(0)
        attrs.place = "end" if at_end else "span"
        found.append(attrs)
        out.append(text[position:match.start()].rstrip(" \t") if at_end else text[position:match.start()])
        position = match.end()
    out.append(text[position:])
    return "".join(out)
