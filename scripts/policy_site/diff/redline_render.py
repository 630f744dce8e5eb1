"""Redlines as HTML and as plain text, with their formatting, and a note wherever only formatting changed.

HTML (`redline_html`): deleted words in <del>, inserted words in <ins>, emphasis and links as in the text. On
the site each <del>/<ins> also carries a visually hidden "[deleted: …]" label for screen readers; where CSS
is ignored (feeds, pull-request comments, email) `labels=False` leaves it out, since <del> and <ins> read as
struck and underlined text everywhere. A deletion followed by an insertion of the same words with other
formatting (a new link target, emphasis added) gets a note naming the change: "(link: #old → #new)". A
deletion and the insertion that replaces it are always apart (`_apart`): "<del>42</del> <ins>Unit 7, 42</ins>",
even where the inserted words were glued to the word before them (after a line break, or a link).

A table row's cell of paragraphs and lists (a Cell) comes as one run of words with a marker word starting each
list item and each further paragraph (redline.CELL_MARKERS); `cell_html` rebuilds its <p>, <ul> and <ol> from
them, and never shows a marker. An item whose marker was inserted or deleted is wholly new or gone (class
redline-insert / -delete); where a marker came or went around kept words (a text made a list) a note says so:
"(now a list item)". A cell without markers is written exactly as a plain cell always was.

Text (`redline_text`): git's word-diff style, [-deleted-] {+inserted+}, emphasis as *…* and **…**, and a
changed link target named in the same note. A row stays on one line; in a cell of several blocks each item
starts with its marker "•" and each further paragraph with "¶", so an added item reads "{+• New item+}" (the
`pieces` of `policy diff --format json` keep the markers as text too).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from markupsafe import Markup, escape

from ..source.inline import BREAK
from .redline import RedlineBlock, Span, join_spans, marker_kind

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


def _apart(groups: Sequence[tuple[str, list[Span]]], n: int) -> str:
    """What goes before the n-th group: a space, unless its first word was glued to the one before (as
    compare.js's fillSpans); a deletion and the insertion after it always get one, or their words would run
    together (after a line break, '42' replaced by 'Unit 7, 42' read '42Unit 7, 42')."""
    if n == 0:
        return ""
    replaced = groups[n][0] == "insert" and groups[n - 1][0] == "delete"
    return " " if replaced or not groups[n][1][0].glue else ""


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
    return spans_html(block.spans, labels, resolve)


def spans_html(spans: Sequence[Span], labels: bool = True, resolve: Resolve | None = None) -> str:
    """A run of spans as inline HTML: <del>/<ins> (labelled for screen readers when labels), notes."""
    out: list[str] = []
    groups = _groups(spans)
    for n, (op, run) in enumerate(groups):
        inner = _formatted(run, resolve)
        if op != "equal":
            tag = _TAG[op]
            if labels:
                inner = (f'<span class="visually-hidden">[{_LABEL[op]}: </span>{inner}'
                         f'<span class="visually-hidden">]</span>')
            inner = f"<{tag}>{inner}</{tag}>"
        out.append(_apart(groups, n) + inner)
        if op == "insert" and n and groups[n - 1][0] == "delete":
            note = mark_note(groups[n - 1][1], run)
            if note:
                out.append(f' <span class="redline-note">({escape(note)})</span>')
    return "".join(out)


CellBlock = tuple[str | None, str, list[Span]]


def cell_blocks(spans: Sequence[Span]) -> list[CellBlock]:
    """A row cell's spans as its blocks, rebuilt from the marker words (redline.CELL_MARKERS): (marker kind —
    'li:ul', 'li:ol', 'p', or None for the text before any marker —, the marker's operation, the spans of the
    block's words). A cell without markers is one block (None, 'equal', its spans)."""
    out: list[CellBlock] = [(None, "equal", [])]
    for span in spans:
        kind = marker_kind(span.marks)
        if kind is None:
            out[-1][2].append(span)
            continue
        out += [(kind, span.op, []) for _ in span.text.split(" ")]  # an empty item leaves markers side by side
    return out[1:] if len(out) > 1 and not out[0][2] else out


_STRUCTURE_NOTES = {("li", "insert"): "now a list item", ("li", "delete"): "no longer a list item",
                    ("p", "insert"): "now a paragraph of its own", ("p", "delete"): "no longer a paragraph of its own"}


def _structure_note(kind: str, op: str, spans: Sequence[Span]) -> str | None:
    """What a marker inserted or deleted around kept words says ('now a list item'): the words alone would not
    show that a text became a list, or a list item a paragraph."""
    if op == "equal" or all(s.op == op for s in spans):
        return None
    return _STRUCTURE_NOTES[(kind.partition(":")[0], op)]


def cell_html(spans: Sequence[Span], labels: bool = True, resolve: Resolve | None = None) -> str:
    """The inside of a row cell: its text, or its paragraphs and lists rebuilt from the marker words. An item or
    paragraph whose marker was inserted or deleted is wholly new or gone (class redline-insert / -delete; its
    words are in <ins> or <del>); one whose words changed is redline-modified. Markers are never shown."""
    blocks = cell_blocks(spans)
    if len(blocks) == 1 and blocks[0][0] is None:
        return spans_html(spans, labels, resolve)
    out: list[str] = []
    open_list: str | None = None
    for kind, op, inner in blocks:
        tag = {"li:ul": "ul", "li:ol": "ol"}.get(kind or "p")
        if tag != open_list:
            if open_list:
                out.append(f"</{open_list}>")
            if tag:
                out.append(f"<{tag}>")
            open_list = tag
        if kind is None and len({s.op for s in inner}) == 1:
            op = inner[0].op  # the text before any marker: wholly inserted or deleted, or not
        status = op if op != "equal" else "modified" if any(s.op != "equal" for s in inner) else None
        cls = f' class="redline-{status}"' if status else ""
        body = spans_html(inner, labels, resolve)
        note = _structure_note(kind, op, inner) if kind else None
        if note:
            body += f' <span class="redline-note">({note})</span>'
        out.append(f"<li{cls}>{body}</li>" if tag else f"<p{cls}>{body}</p>")
    if open_list:
        out.append(f"</{open_list}>")
    return "".join(out)


def kind_parts(kind: str) -> tuple[list[str], str | None]:
    """A unit kind as (list path, leaf): 'ul/ol' → (['ul', 'ol'], None), an item's start; 'ul+p' → (['ul'], 'p'),
    a paragraph inside the current item; 'tr' → ([], 'tr')."""
    path, plus, leaf = kind.partition("+")
    if plus:
        return path.split("/"), leaf
    if kind.split("/")[0] in ("ul", "ol"):
        return kind.split("/"), None
    return [], kind


class _Html:
    """Writes redline blocks as nested lists, paragraphs and tables (the same structure compare.js builds)."""

    def __init__(self, labels: bool, resolve: Resolve | None) -> None:
        self.labels, self.resolve = labels, resolve
        self.out: list[str] = []
        self.lists: list[str] = []  # the open lists, outermost first; each has an open <li>
        self.table: str | None = None  # the open table's kind ('table' or 'table*')

    def close_table(self) -> None:
        if self.table:
            self.out.append("</tbody></table></div>")
            self.table = None

    def close_lists(self, depth: int) -> None:
        while len(self.lists) > depth:
            self.out.append(f"</li></{self.lists.pop()}>")

    def enter(self, path: list[str], new_item: bool, cls: str) -> None:
        """Be inside the item at path: a new item when new_item (its <li> gets cls), else the current one."""
        self.close_table()
        same = 0
        while same < min(len(self.lists), len(path)) and self.lists[same] == path[same]:
            same += 1
        if new_item and same == len(path) and path:
            self.close_lists(len(path))
            self.out.append(f"</li><li{cls}>")
            return
        self.close_lists(same)
        for n, tag in enumerate(path[same:], start=same + 1):
            self.out.append(f'<{tag} class="redline"><li{cls if n == len(path) and new_item else ""}>')
            self.lists.append(tag)

    def cells(self, block: RedlineBlock) -> str:
        header = block.kind.endswith("th")
        out = []
        for n, cell in enumerate(block.cells or ((Span("equal", "…"),),)):
            inner = cell_html(cell, self.labels, self.resolve)
            if header:
                out.append(f'<th scope="col">{inner}</th>')
            elif n == 0 and self.table == "table*":
                out.append(f'<th scope="row">{inner}</th>')
            else:
                out.append(f"<td>{inner}</td>")
        return "".join(out)

    def block(self, block: RedlineBlock) -> None:
        path, leaf = kind_parts(block.kind)
        cls = f' class="redline-{block.status}"' if block.status != "equal" else ""
        if leaf in ("th", "tr"):
            if self.table is None:
                self.enter(path, False, "")
                self.out.append('<div class="policy-table" role="region" tabindex="0" aria-label="Table">'
                                '<table class="redline-table"><tbody>')
                self.table = "table"
            self.out.append(f"<tr{cls}>{self.cells(block)}</tr>")
            return
        if leaf is None:
            self.enter(path, True, cls)
            self.out.append(block_html(block, self.labels, self.resolve))
            return
        self.enter(path, False, "")
        if leaf in ("table", "table*"):
            caption = block_html(block, self.labels, self.resolve)
            self.out.append('<div class="policy-table" role="region" tabindex="0" aria-label="Table">'
                            '<table class="redline-table">' + (f"<caption{cls}>{caption}</caption>" if caption else "")
                            + "<tbody>")
            self.table = leaf
            return
        box = ' class="policy-summary"' if leaf == "summary" else ""
        label = '<strong class="policy-summary__title">In short: </strong>' if leaf == "summary" else ""
        self.out.append(f"<p{cls or box}>{label}{block_html(block, self.labels, self.resolve)}</p>")

    def finish(self) -> str:
        self.close_table()
        self.close_lists(0)
        return "\n".join(self.out)


CONTEXT = 3  # this many unchanged paragraphs in a row, or more, fold into a <details>


def redline_html(blocks: Iterable[RedlineBlock], labels: bool = True, resolve: Resolve | None = None,
                 collapse: bool = False) -> Markup:
    """Redline blocks as HTML: paragraphs, nested lists inside <ul>/<ol class="redline">, tables. With collapse,
    runs of unchanged top-level paragraphs fold into "N unchanged paragraphs" (a long rewrite stays readable)."""
    writer = _Html(labels, resolve)
    run: list[RedlineBlock] = []

    def flush() -> None:
        if collapse and len(run) >= CONTEXT:
            writer.close_table()
            writer.close_lists(0)
            writer.out.append(f'<details class="redline-context"><summary>{len(run)} unchanged paragraphs'
                              "</summary>")
        for kept in run:
            writer.block(kept)
        if collapse and len(run) >= CONTEXT:
            writer.out.append("</details>")
        run.clear()

    for block in blocks:
        if block.status == "equal" and block.kind == "p":
            run.append(block)
            continue
        flush()
        writer.block(block)
    flush()
    return Markup(writer.finish())


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
        out.append(_apart(groups, n) + text)
        if op == "insert" and n and groups[n - 1][0] == "delete":
            note = mark_note(groups[n - 1][1], spans)
            if note:
                out.append(f" ({note})")
    return "".join(out)


def _text_line(block: RedlineBlock) -> str:
    path, leaf = kind_parts(block.kind)
    indent = "  " * max(len(path) - (1 if leaf is None else 0), 0)
    if leaf is None:
        return indent + ("- " if path[-1] == "ul" else "1. ") + block_text(block)
    if leaf in ("th", "tr"):
        cells = [block_text(RedlineBlock(block.kind, block.status, cell)) for cell in block.cells]
        return indent + "| " + " | ".join(cells) + " |"
    if leaf in ("table", "table*"):
        return indent + "Table" + (f": {block_text(block)}" if block.spans else "")
    return indent + ("In short: " if leaf == "summary" else "") + block_text(block)


def redline_text(blocks: Iterable[RedlineBlock], changed_only: bool = False) -> str:
    """Redline as plain text, one line per block ('- ' list items, '1. ' numbered ones, '| … |' table rows)."""
    return "\n".join(_text_line(b) for b in blocks if not (changed_only and b.status == "equal"))
