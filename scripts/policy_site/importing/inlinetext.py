"""Inline runs → the inline Markdown of the YAML format: `*emphasis*`, `**strong**`, `[links](url)`, `<url>`,
a line ending in a backslash for a line break, backslash escapes for literal markup characters.

Every result is parsed back with the format's own parser (source.inline.words) and must give exactly the
words and formatting of the runs. When it does not (emphasis next to punctuation that CommonMark will not
open, say), the text is written again with more escapes, then without emphasis, then without links: each
step that loses formatting returns a note. Words are never lost.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import groupby

from markdown_it import MarkdownIt

from ..source import inline
from .doc import Run

_SPACE = re.compile(r"[ \t\n\r\f\v]+")  # a no-break space stays one
_ESCAPE_FEW = re.compile(r"([\\*\[\]<])")
_ESCAPE_ALL = re.compile(r"([\\*_\[\]<>!`])")
_NORMALISE = MarkdownIt("zero")
Resolver = Callable[[str], "tuple[str | None, str | None]"]  # href → (target or None to drop the link, note)


def normalise(runs: list[Run]) -> list[Run]:
    """Whitespace collapsed, runs of one format merged, no space around line breaks or at either end."""
    out: list[Run] = []
    for run in runs:
        if run.line_break:
            if out and not out[-1].line_break:
                out[-1] = _with(out[-1], out[-1].text.rstrip(" "))
            out.append(run)
            continue
        text = _SPACE.sub(" ", run.text)
        if not text:
            continue
        if out and out[-1].line_break or not out:
            text = text.lstrip(" ")
        if out and not out[-1].line_break and text.startswith(" ") and out[-1].text.endswith(" "):
            text = text.lstrip(" ")
        if not text:
            continue
        if out and not out[-1].line_break and _same_format(out[-1], run):
            out[-1] = _with(out[-1], out[-1].text + text)
        else:
            out.append(Run(text, run.em, run.strong, run.href))
    while out and (out[-1].line_break or not out[-1].text.strip(" ")):
        out.pop()
    if out:
        out[-1] = _with(out[-1], out[-1].text.rstrip(" "))
    out = [r for r in out if r.line_break or r.text]
    while out and out[0].line_break:
        out.pop(0)
    return out


def _with(run: Run, text: str) -> Run:
    return Run(text, run.em, run.strong, run.href, run.line_break)


def _same_format(a: Run, b: Run) -> bool:
    return (a.em, a.strong, a.href) == (b.em, b.strong, b.href)


def _destination(href: str) -> str:
    """A link target written so CommonMark reads it back whole: spaces, angle brackets and unbalanced
    parentheses percent-encoded."""
    href = href.replace(" ", "%20").replace("<", "%3C").replace(">", "%3E")
    if href.count("(") != href.count(")") or re.search(r"\)[^(]*\(", href):
        href = href.replace("(", "%28").replace(")", "%29")
    return href


def _expected(runs: list[Run]) -> tuple[inline.Word, ...]:
    """The words source.inline.words must find in the written text (mirrors its rules)."""
    out: list[inline.Word] = []
    space_before = True
    for run in runs:
        if run.line_break:
            out.append((inline.BREAK, (), True))
            space_before = False
            continue
        href = _NORMALISE.normalizeLink(_destination(run.href)) if run.href is not None else None
        marks = tuple((["a:" + href] if href is not None else []) + (["em"] if run.em else [])
                      + (["strong"] if run.strong else []))
        space_before = inline.add_words(out, run.text, marks, space_before)
    return tuple(out)


def _wrap(content: str, delimiter: str) -> str:
    """content between delimiters, its edge spaces outside them."""
    core = content.strip(" ")
    if not core:
        return content
    lead = content[: len(content) - len(content.lstrip(" "))]
    trail = content[len(content.rstrip(" ")):]
    return f"{lead}{delimiter}{core}{delimiter}{trail}"


def _write(runs: list[Run], escape: re.Pattern[str]) -> str:
    def text(run: Run) -> str:
        return "\\\n" if run.line_break else escape.sub(r"\\\1", run.text)

    def strong_groups(group: list[Run]) -> str:
        return "".join(_wrap("".join(text(r) for r in g), "**") if key else "".join(text(r) for r in g)
                       for key, g in ((k, list(v)) for k, v in groupby(group, key=lambda r: r.strong)))

    def em_groups(group: list[Run]) -> str:
        return "".join(_wrap(strong_groups(g), "*") if key else strong_groups(g)
                       for key, g in ((k, list(v)) for k, v in groupby(group, key=lambda r: r.em)))

    out: list[str] = []
    for href, group in ((k, list(v)) for k, v in groupby(runs, key=lambda r: None if r.line_break else r.href)):
        inner = em_groups(group)
        if href is None:
            out.append(inner)
        else:
            core = inner.strip(" ")
            lead, trail = inner[: len(inner) - len(inner.lstrip(" "))], inner[len(inner.rstrip(" ")):]
            plain_url = len(group) == 1 and group[0].text.strip(" ") == href and not group[0].em \
                and not group[0].strong and re.fullmatch(r"https?://[^\s<>]+", href)
            out.append(f"{lead}<{href}>{trail}" if plain_url else f"{lead}[{core}]({_destination(href)}){trail}")
    return "".join(out)


def to_markdown(runs: list[Run], resolve: Resolver) -> tuple[str, list[str]]:
    """The inline Markdown of runs, and notes on what formatting could not be kept ('' for empty runs)."""
    notes: list[str] = []
    resolved: list[Run] = []
    for run in runs:
        if run.href is not None and not run.line_break:
            target, note = resolve(run.href)
            if note:
                notes.append(note)
            run = Run(run.text, run.em, run.strong, target)
        resolved.append(run)
    runs = normalise(resolved)
    if not runs:
        return "", notes
    attempts: list[tuple[list[Run], re.Pattern[str], str | None]] = [
        (runs, _ESCAPE_FEW, None), (runs, _ESCAPE_ALL, None),
        (normalise([Run(r.text, False, False, r.href, r.line_break) for r in runs]), _ESCAPE_ALL,
         "emphasis could not be written so that it reads back the same; kept as plain text"),
        (normalise([Run(r.text, line_break=r.line_break) for r in runs]), _ESCAPE_ALL,
         "a link could not be written so that it reads back the same; its text is kept"),
    ]
    for candidate, escape, note in attempts:
        text = _write(candidate, escape)
        if inline.words(text) == _expected(candidate) and not inline.problems(text):
            return text, notes + ([note] if note else [])
    defused = [_defuse(r) for r in runs]  # text the format's checks read as a tag or a broken link
    if defused != runs:
        text, more = to_markdown(defused, lambda href: (href, None))
        return text, notes + more + ["text that would read as an HTML <br> tag or a broken link was changed a "
                                     "little: '<' became '‹' and ']( ' became '] ('"]
    raise ValueError(f"cannot write this text in the format: {text[:80]!r}")  # a bug of the importer


def _defuse(run: Run) -> Run:
    text = re.sub(r"<(?=\s*br\b)", "‹", run.text, flags=re.IGNORECASE).replace("](", "] (")
    return Run(text, run.em, run.strong, run.href, run.line_break)
