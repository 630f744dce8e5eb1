"""Markdown (CommonMark + GFM tables) → Doc, on markdown-it-py's block parser; never regular expressions over
the Markdown itself.

Headings become sections (GitHub-style anchors), paragraphs, lists at any depth, tables and line breaks are
kept; emphasis, strong and links become the format's inline Markdown. Block quotes and code blocks are kept
as paragraphs, raw HTML blocks go through the HTML reader, images and footnotes are reported. A YAML front
matter block (`---` … `---`, as Jekyll and Hugo write it) is read for title, dates, permalink and
redirect_from, and is not text.

kramdown / Python-Markdown attribute lists (`{: #id .class key="v" }`) are the one thing found on the text's
lines (attrlists.py, outside code and raw HTML): they are taken out before markdown-it-py reads the text, then
given to the blocks they stood on — a heading's `#id` is its anchor, a paragraph's, list item's or table's `#id`
that block's anchor (as is an `<a id>` in a paragraph or a cell), one on nothing else an anchor of its
section's heading (reported), `datetime` on a paragraph is read by dates.py,
classes and other attributes are reported, one line per kind; a list marked `{:toc}` (kramdown's generated
table of contents) is left out.
"""

from __future__ import annotations

import re

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from . import attrlists
from .attrlists import AttrList
from .doc import BREAK, DBlock, DCell, DCellValue, DList, Doc, DTable, Outline, Para, Run, plain
from .slugs import Slugger

_MD = MarkdownIt("commonmark").enable("table")
_FOOTNOTE = re.compile(r"\[\^[^\]\s]+\]")
_BR = re.compile(r"^<br\s*/?>$", re.IGNORECASE)
_FRONT_END = ("---", "...")
_CLOSERS = {"bullet_list_open": "bullet_list_close", "ordered_list_open": "ordered_list_close",
            "blockquote_open": "blockquote_close", "table_open": "table_close"}


def split_front_matter(text: str) -> tuple[dict, str, int, str | None]:
    """(front matter, the Markdown after it, how many lines it took, a problem reading it)."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, text, 0, None
    for end in range(1, len(lines)):
        if lines[end].strip() in _FRONT_END:
            raw = "\n".join(lines[1:end])
            try:
                data = yaml.safe_load(raw) if raw.strip() else {}
            except yaml.YAMLError as exc:
                return {}, "\n".join(lines[end + 1:]), end + 1, f"front matter is not YAML ({exc.__class__.__name__})"
            return (data if isinstance(data, dict) else {}), "\n".join(lines[end + 1:]), end + 1, None
    return {}, text, 0, None


class _Reader:
    def __init__(self, tokens: list[Token], offset: int, outline: Outline, attrs: list[AttrList] | None = None) -> None:
        self.tokens = tokens
        self.offset = offset
        self.outline = outline
        self.slugger = Slugger()
        self.attrs = list(attrs or [])  # attribute lists not given to a block yet
        self.dropped: dict[str, list[tuple[int, str]]] = {}  # kind of attribute → (line, as written)
        self.in_cell = False
        self.inline_anchors: list[str] = []  # <a id> anchors of the inline text being read

    def line(self, token: Token) -> int:
        return (token.map[0] if token.map else 0) + 1 + self.offset

    def note(self, line: int, message: str) -> None:
        self.outline.note(line, message)

    def run(self) -> None:
        i = 0
        while i < len(self.tokens):
            token = self.tokens[i]
            if token.type == "heading_open":
                line = self.line(token)
                runs = self.inline(self.tokens[i + 1], line, heading=True)
                title = " ".join(plain(runs).split())
                anchor = self.slugger.slug(title)
                found = self.take(token.map)
                ids = [n for a in found if a.place != "span" for n in a.ids]
                extra = [n for a in found if a.place == "span" for n in a.ids]
                if title and int(token.tag[1]) == 1 and self.outline.title is None and not self.outline.sections:
                    for name in ids + extra:
                        self.note(line, f"anchor #{attrlists.shown(name)} on the title is not kept (the title is not "
                                        "a section)")
                elif ids:
                    anchor, extra = ids[0], ids[1:] + extra
                self.report(found, anchors=False)
                if title:
                    self.outline.heading(int(token.tag[1]), title, anchor, line, extra)
                i += 3
                continue
            start = i
            blocks, i = self.block(i, nested=False)
            found = self.take(self.tokens[start].map)
            if any("toc" in a.references for a in found) and all(isinstance(b, DList) for b in blocks):
                self.note(self.line(self.tokens[start]), "kramdown's table of contents ({:toc}) left out: the site "
                                                         "shows its own")
                for attrs in found:
                    attrs.references = [r for r in attrs.references if r != "toc"]
                blocks = []
            for attrs in found:
                for name in attrs.ids:
                    self.anchor_note(attrs.line, name, self.kind_at(start, i, attrs.attached))
            self.report(found, anchors=False)
            for block in blocks:
                self.outline.block(block)
        self.report(self.attrs)  # attribute lists that stood on no block (at the end of the text)
        for kind, places in self.dropped.items():
            listed = ", ".join(f"{text} (line {line})" for line, text in places[:6])
            more = f" and {len(places) - 6} more" if len(places) > 6 else ""
            self.note(places[0][0], f"{kind} of attribute lists dropped (the format has none): {listed}{more}")

    def take(self, span: list[int] | None) -> list[AttrList]:
        """The attribute lists of the block on these 0-based lines [start, end), no longer waiting."""
        if not span:
            return []
        found = [a for a in self.attrs if span[0] <= a.attached < span[1]]
        self.attrs = [a for a in self.attrs if a not in found]
        return found

    def kind_at(self, start: int, end: int, line: int) -> str:
        """What kind of block of tokens[start:end] holds a 0-based line, in words."""
        inside = [t.type for t in self.tokens[start:end] if t.map and t.map[0] <= line < t.map[1]]
        for kind, words in (("list_item_open", "a list item"), ("table_open", "a table"),
                            ("blockquote_open", "a block quote"), ("fence", "a code block"),
                            ("code_block", "a code block"), ("html_block", "an HTML block")):
            if kind in inside:
                return words
        return "a paragraph"

    def anchor_note(self, line: int, name: str, kind: str) -> None:
        """An attribute list's id that no block keeps: an anchor of its section's heading, reported."""
        if self.outline.in_section:
            self.note(self.offset + line + 1, f"anchor #{attrlists.shown(name)} on {kind} lands on its section's "
                                              "heading")
        else:
            self.note(self.offset + line + 1, f"anchor #{attrlists.shown(name)} on {kind} is not kept: it is in the "
                                              "introduction, which holds no anchors; links to it keep their text")
        self.outline.anchor(name)

    def report(self, found: list[AttrList], anchors: bool = True) -> None:
        """Classes, attributes, references and definitions of attribute lists: gathered, one line per kind; with
        anchors, also the ids of lists that stood on no block (each an anchor of the section where it stood)."""
        for attrs in found:
            line = self.offset + attrs.line + 1
            if attrs.definition:
                self.dropped.setdefault("definitions", []).append((line, f"{{:{attrs.definition}: …}}"))
                continue
            if anchors:
                for name in attrs.ids:
                    self.anchor_note(attrs.line, name, "a piece of text")
            for name in attrs.classes:
                self.dropped.setdefault("classes", []).append((line, "." + attrlists.shown(name)))
            for key, value in attrs.pairs:
                self.dropped.setdefault(f"'{attrlists.shown(key)}' attributes", []).append(
                    (line, f'{attrlists.shown(key)}="{attrlists.shown(value)}"'))
            for name in attrs.references:
                self.dropped.setdefault("references", []).append((line, attrlists.shown(name)))

    def block(self, i: int, nested: bool) -> tuple[list[DBlock], int]:
        """The block(s) starting at token i, and the index after them."""
        token = self.tokens[i]
        kind, line = token.type, self.line(token)
        if kind == "paragraph_open":
            self.inline_anchors = []
            runs = self.inline(self.tokens[i + 1], line)
            if _FOOTNOTE.match(plain(runs)) and plain(runs).split(":", 1)[0].endswith("]"):
                self.note(line, "footnote kept as a paragraph where it stands (the format has no footnotes)")
            names = self.take_ids(token.map) + self.inline_anchors
            if not plain(runs).strip():
                for name in names:  # an anchor with no text of its own waits for what follows (Outline)
                    self.outline.anchor(name)
                return [], i + 3
            for name in names[1:]:
                self.anchor_note(line - self.offset - 1, name, "a paragraph that has one already")
            return [Para(runs, line, datetime=self.datetime(token.map), anchor=names[0] if names else None)], i + 3
        if kind == "heading_open":  # inside a list item or a block quote: no section can start there
            runs = self.inline(self.tokens[i + 1], line, heading=True)
            self.note(line, "heading inside a list or quote kept as a bold paragraph (a section cannot start there)")
            return [Para([Run(r.text, r.em, True, r.href, r.line_break) for r in runs], line)], i + 3
        if kind in ("bullet_list_open", "ordered_list_open"):
            return self.items(i)
        if kind == "table_open":
            return self.table(i)
        if kind == "blockquote_open":
            inner, end = self.until(i + 1, "blockquote_close")
            self.note(line, "block quote kept as ordinary paragraphs (the format has no quotes)")
            return inner, end + 1
        if kind in ("code_block", "fence"):
            self.note(line, "code block kept as plain text, line by line")
            lines = token.content.rstrip("\n").split("\n")
            runs = [r for n, text in enumerate(lines) for r in ([BREAK] if n else []) + [Run(text)]]
            return ([Para(runs, line)] if token.content.strip() else []), i + 1
        if kind == "html_block":
            return self.html(token.content, line), i + 1
        if kind in _CLOSERS:  # unreachable for CommonMark, kept for safety
            _, end = self.until(i + 1, _CLOSERS[kind])
            return [], end + 1
        return [], i + 1  # hr and anything without text

    def take_ids(self, span: list[int] | None) -> list[str]:
        """The ids of the attribute lists on this block's lines [start, end), taken from them (the block keeps
        them as its anchor)."""
        names: list[str] = []
        for attrs in self.attrs:
            if span and span[0] <= attrs.attached < span[1] and not attrs.definition:
                names += attrs.ids
                attrs.ids = []
        return names

    def datetime(self, span: list[int] | None) -> str | None:
        """The datetime="…" of an attribute list on this paragraph (taken from the list: dates.py reads it)."""
        for attrs in self.attrs:
            if span and span[0] <= attrs.attached < span[1] and attrs.place != "span" and not attrs.definition:
                for key, value in attrs.pairs:
                    if key.lower() == "datetime":
                        attrs.pairs.remove((key, value))
                        return value
        return None

    def until(self, i: int, closer: str) -> tuple[list[DBlock], int]:
        """Blocks from token i up to the closing token (its index returned)."""
        blocks: list[DBlock] = []
        while self.tokens[i].type != closer:
            found, i = self.block(i, nested=True)
            blocks += found
        return blocks, i

    def items(self, i: int) -> tuple[list[DBlock], int]:
        opener = self.tokens[i]
        closer = opener.type.replace("_open", "_close")
        items: list[list[DBlock]] = []
        i += 1
        while self.tokens[i].type != closer:  # list_item_open
            body, i = self.until(i + 1, "list_item_close")
            if body:
                items.append(body)
            i += 1
        if opener.type == "ordered_list_open" and opener.attrs.get("start") not in (None, 1, "1"):
            self.note(self.line(opener), f"numbered list starts at {opener.attrs['start']}; it will start at 1")
        return ([DList(opener.type == "ordered_list_open", items, self.line(opener))] if items else []), i + 1

    def table(self, i: int) -> tuple[list[DBlock], int]:
        line = self.line(self.tokens[i])
        own = self.take_ids(self.tokens[i].map)
        header: list[DCellValue] | None = None
        rows: list[list[DCellValue]] = []
        row: list[DCellValue] = []
        in_head = False
        while self.tokens[i].type != "table_close":
            token = self.tokens[i]
            if token.type == "thead_open":
                in_head = True
            elif token.type == "thead_close":
                in_head = False
            elif token.type == "tr_open":
                row = []
            elif token.type == "tr_close":
                if in_head:
                    header = row
                else:
                    rows.append(row)
            elif token.type == "inline":
                self.in_cell, self.inline_anchors = True, []
                runs = self.inline(token, self.line(token) if token.map else line)
                self.in_cell = False
                for extra in self.inline_anchors[1:]:
                    self.anchor_note(self.line(token) - self.offset - 1, extra, "a table cell that has one already")
                row.append(DCell([Para(runs, line)], self.inline_anchors[0]) if self.inline_anchors else runs)
            i += 1
        row_headers = bool(rows) and all(r and r[0] and all(run.strong or run.line_break for run in _runs(r[0]))
                                         for r in rows)
        if row_headers:  # every first cell wholly strong: the cells head their rows
            rows = [[_unbold(r[0])] + r[1:] for r in rows]
        if not rows and header:
            rows, header = [header], None
        for extra in own[1:]:
            self.anchor_note(line - self.offset - 1, extra, "a table that has one already")
        return ([DTable(rows, line, header, None, row_headers, own[0] if own else None)] if rows else []), i + 1

    def html(self, content: str, line: int) -> list[DBlock]:
        from .html import fragment
        blocks, notes, anchors = fragment(content, line)
        for anchor in anchors:
            self.outline.anchor(anchor)
        for note in notes:
            self.note(note.line, note.message)
        if blocks:
            self.note(line, "raw HTML block converted as HTML: check how it reads")
        return blocks

    def inline(self, token: Token, line: int, heading: bool = False) -> list[Run]:
        runs: list[Run] = []
        em = strong = 0
        href: str | None = None
        for child in token.children or []:
            kind = child.type
            if kind in ("text", "code_inline", "text_special"):
                if _FOOTNOTE.search(child.content):
                    marker = _FOOTNOTE.findall(child.content)[0]
                    self.note(line, f"footnote marker '{marker}' kept as text (the format has no footnotes)")
                runs.append(Run(child.content, em > 0, strong > 0, href))
            elif kind == "softbreak":
                runs.append(Run(" ", em > 0, strong > 0, href))
            elif kind == "hardbreak":
                runs.append(Run(" ") if heading else BREAK)
            elif kind in ("em_open", "em_close"):
                em += 1 if kind == "em_open" else -1
            elif kind in ("strong_open", "strong_close"):
                strong += 1 if kind == "strong_open" else -1
            elif kind == "link_open":
                href = str(child.attrs.get("href", ""))
                if heading:
                    self.note(line, f"link in a heading ({href}): titles hold no links; its text is kept")
                    href = None
            elif kind == "link_close":
                href = None
            elif kind == "image":
                self.note(line, f"image '{child.content}' dropped ({child.attrs.get('src', '')}); link to it instead")
            elif kind == "html_inline":
                runs += self.inline_html(child.content, line, heading)
        return runs

    def inline_html(self, tag: str, line: int, heading: bool) -> list[Run]:
        if _BR.match(tag.strip()):
            return [Run(" ") if heading else BREAK]
        lowered = tag.lower()
        if lowered.startswith("<img"):
            self.note(line, f"image ({tag[:60]}) dropped; link to it instead")
        elif lowered.startswith("<a ") and "href" in lowered:
            self.note(line, "a link written in HTML is kept as its text")
        elif lowered.startswith("<a ") and ("name=" in lowered or "id=" in lowered):
            from .html import anchor_of
            name = anchor_of(tag)
            if name and not heading:
                self.inline_anchors.append(name)
            elif name:
                self.outline.anchor(name)
        return []


def _runs(cell: DCellValue) -> list[Run]:
    return cell.blocks[0].runs if isinstance(cell, DCell) and isinstance(cell.blocks[0], Para) else \
        cell if isinstance(cell, list) else []


def _unbold(cell: DCellValue) -> DCellValue:
    runs = [Run(x.text, x.em, False, x.href, x.line_break) for x in _runs(cell)]
    return DCell([Para(runs, 0)], cell.anchor) if isinstance(cell, DCell) else runs


def read_markdown(text: str) -> Doc:
    """The document in a Markdown text."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    front, body, offset, problem = split_front_matter(text)
    outline = Outline()
    if problem:
        outline.note(1, f"{problem}; it was ignored")
    tokens = _MD.parse(body)
    body, attrs = attrlists.take_out(body, tokens)
    _Reader(_MD.parse(body) if attrs else tokens, offset, outline, attrs).run()
    if outline.title is None and isinstance(front.get("title"), str):
        outline.title = " ".join(front["title"].split())
    return outline.doc(front)
