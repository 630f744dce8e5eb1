"""Markdown (CommonMark + GFM tables) → Doc, on markdown-it-py's block parser; never regular expressions over
the Markdown itself.

Headings become sections (GitHub-style anchors), paragraphs, lists at any depth, tables and line breaks are
kept; emphasis, strong and links become the format's inline Markdown. Block quotes and code blocks are kept
as paragraphs, raw HTML blocks go through the HTML reader, images and footnotes are reported. A YAML front
matter block (`---` … `---`, as Jekyll and Hugo write it) is read for title, dates, permalink and
redirect_from, and is not text.
"""

from __future__ import annotations

import re

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from .doc import BREAK, DBlock, DList, Doc, DTable, Outline, Para, Run, plain
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
    def __init__(self, tokens: list[Token], offset: int, outline: Outline) -> None:
        self.tokens = tokens
        self.offset = offset
        self.outline = outline
        self.slugger = Slugger()

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
                if title:
                    self.outline.heading(int(token.tag[1]), title, anchor, line)
                i += 3
                continue
            blocks, i = self.block(i, nested=False)
            for block in blocks:
                self.outline.block(block)

    def block(self, i: int, nested: bool) -> tuple[list[DBlock], int]:
        """The block(s) starting at token i, and the index after them."""
        token = self.tokens[i]
        kind, line = token.type, self.line(token)
        if kind == "paragraph_open":
            runs = self.inline(self.tokens[i + 1], line)
            if _FOOTNOTE.match(plain(runs)) and plain(runs).split(":", 1)[0].endswith("]"):
                self.note(line, "footnote kept as a paragraph where it stands (the format has no footnotes)")
            return ([Para(runs, line)] if plain(runs).strip() else []), i + 3
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
        header: list[list[Run]] | None = None
        rows: list[list[list[Run]]] = []
        row: list[list[Run]] = []
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
                row.append(self.inline(token, self.line(token) if token.map else line))
            i += 1
        row_headers = bool(rows) and all(r and r[0] and all(run.strong or run.line_break for run in r[0]) for r in rows)
        if row_headers:  # every first cell wholly strong: the cells head their rows
            rows = [[[Run(x.text, x.em, False, x.href, x.line_break) for x in r[0]]] + r[1:] for r in rows]
        if not rows and header:
            rows, header = [header], None
        return ([DTable(rows, line, header, None, row_headers)] if rows else []), i + 1

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
            if name:
                self.outline.anchor(name)
        return []


def read_markdown(text: str) -> Doc:
    """The document in a Markdown text."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    front, body, offset, problem = split_front_matter(text)
    outline = Outline()
    if problem:
        outline.note(1, f"{problem}; it was ignored")
    _Reader(_MD.parse(body), offset, outline).run()
    if outline.title is None and isinstance(front.get("title"), str):
        outline.title = " ".join(front["title"].split())
    return outline.doc(front)
