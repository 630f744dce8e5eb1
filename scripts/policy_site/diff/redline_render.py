"""Redlines as HTML and as plain text, with their formatting, and a note wherever only formatting changed.

HTML (`redline_html`): deleted words in <del>, inserted words in <ins>, emphasis and links as in the text. On
the site each <del>/<ins> also carries a visually hidden "[deleted: …]" label for screen readers; where CSS
is ignored (feeds, pull-request comments, email) `labels=False` leaves it out, since <del> and <ins> read as
struck and underlined text everywhere. A deletion followed by an insertion of the same words with other
formatting (a new link target, emphasis added) gets a note naming the change: "(link: #old → #new)".

Text (`redline_text`): git's word-diff style, [-deleted-] {+inserted+}, emphasis as *…* and **…**, and a
changed link target named in the same note.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from markupsafe import Markup, escape

from ..source.inline import BREAK
from .redline import RedlineBlock, Span, join_spans

_LABEL = {"insert": "inserted", "delete": "deleted"}
_TAG = {"insert": "ins", "delete": "del"}
_MARK_NAMES = {"em": "emphasis", "strong": "bold"}
Resolve = Callable[[str], str]


def _href(marks: Sequence[str]) -> str | None:
    return next((m[2:] for m in marks if m.startswith("a:")), None)


def mark_note(old: Sequence[Span], new: Sequence[Span]) -> str | None:
    """What changed when the same words only changed formatting ('link: #a → #b; emphasis added'), else None."""
    if join_spans(old) != join_spans(new):
        return None
    notes: list[str] = []
    old_links = [h for h in (_href(s.marks) for s in old) if h]
    new_links = [h for h in (_href(s.marks) for s in new) if h]
    if old_links != new_links:
        before, after = ", ".join(dict.fromkeys(old_links)), ", ".join(dict.fromkeys(new_links))
        notes.append(f"link: {before} → {after}" if before and after else
                     f"link added: {after}" if after else f"link removed: {before}")
    for mark, name in _MARK_NAMES.items():
        had, has = any(mark in s.marks for s in old), any(mark in s.marks for s in new)
        if had != has:
            notes.append(f"{name} {'added' if has else 'removed'}")
    return "; ".join(notes) or "formatting changed"


def _groups(spans: Sequence[Span]) -> list[tuple[str, list[Span]]]:
    out: list[tuple[str, list[Span]]] = []
    for span in spans:
        if out and out[-1][0] == span.op:
            out[-1][1].append(span)
        else:
            out.append((span.op, [span]))
    return out


def _formatted(spans: Sequence[Span], resolve: Resolve | None) -> str:
    parts: list[str] = []
    for i, span in enumerate(spans):
        text = str(escape(span.text)).replace(BREAK, "<br>")
        if "strong" in span.marks:
            text = f"<strong>{text}</strong>"
        if "em" in span.marks:
            text = f"<em>{text}</em>"
        href = _href(span.marks)
        if href is not None:
            text = f'<a href="{escape(resolve(href) if resolve else href)}">{text}</a>'
        parts.append(("" if i == 0 or span.glue else " ") + text)
    return "".join(parts)


def block_html(block: RedlineBlock, labels: bool = True, resolve: Resolve | None = None) -> str:
    """The inside of one redline block (<p> or <li>) as HTML."""
    out: list[str] = []
    groups = _groups(block.spans)
    for n, (op, spans) in enumerate(groups):
        inner = _formatted(spans, resolve)
        if op != "equal":
            tag = _TAG[op]
            if labels:
                inner = (f'<span class="visually-hidden">[{_LABEL[op]}: </span>{inner}'
                         f'<span class="visually-hidden">]</span>')
            inner = f"<{tag}>{inner}</{tag}>"
        out.append(("" if n == 0 or spans[0].glue else " ") + inner)
        if op == "insert" and n and groups[n - 1][0] == "delete":
            note = mark_note(groups[n - 1][1], spans)
            if note:
                out.append(f' <span class="redline-note">({escape(note)})</span>')
    return "".join(out)


def redline_html(blocks: Iterable[RedlineBlock], labels: bool = True, resolve: Resolve | None = None) -> Markup:
    """Redline blocks as HTML: paragraphs, and list items inside <ul>/<ol class="redline">."""
    out: list[str] = []
    open_list: str | None = None
    for block in blocks:
        if block.kind != open_list:
            if open_list:
                out.append(f"</{open_list}>")
            open_list = block.kind if block.kind in ("ul", "ol") else None
            if open_list:
                out.append(f'<{open_list} class="redline">')
        cls = f' class="redline-{block.status}"' if block.status != "equal" else ""
        tag = "li" if open_list else "p"
        out.append(f"<{tag}{cls}>{block_html(block, labels, resolve)}</{tag}>")
    if open_list:
        out.append(f"</{open_list}>")
    return Markup("\n".join(out))


def _plain(spans: Sequence[Span]) -> str:
    """Spans as text: emphasis as *…*, bold as **…**, a web link as 'label (url)' (section links by label)."""
    parts: list[str] = []
    for i, span in enumerate(spans):
        text = span.text.replace(BREAK, " / ")
        if "strong" in span.marks:
            text = f"**{text}**"
        if "em" in span.marks:
            text = f"*{text}*"
        href = _href(span.marks)
        next_href = _href(spans[i + 1].marks) if i + 1 < len(spans) else None
        if href and not href.startswith("#") and href != next_href and href not in (span.text, "mailto:" + span.text):
            text += f" ({href})"
        parts.append(("" if i == 0 or span.glue else " ") + text)
    return "".join(parts)


def block_text(block: RedlineBlock) -> str:
    """One block in git's word-diff style."""
    out: list[str] = []
    groups = _groups(block.spans)
    for n, (op, spans) in enumerate(groups):
        text = _plain(spans)
        if op == "delete":
            text = f"[-{text}-]"
        elif op == "insert":
            text = f"{{+{text}+}}"
        out.append(("" if n == 0 or spans[0].glue else " ") + text)
        if op == "insert" and n and groups[n - 1][0] == "delete":
            note = mark_note(groups[n - 1][1], spans)
            if note:
                out.append(f" ({note})")
    return "".join(out)


def redline_text(blocks: Iterable[RedlineBlock], changed_only: bool = False) -> str:
    """Redline as plain text, one line per block ('- ' list items, '1. ' numbered ones)."""
    lines = []
    for block in blocks:
        if changed_only and block.status == "equal":
            continue
        lines.append(("- " if block.kind == "ul" else "1. " if block.kind == "ol" else "") + block_text(block))
    return "\n".join(lines)
