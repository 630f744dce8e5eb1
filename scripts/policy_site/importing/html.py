"""HTML → Doc: the main content of a saved web page (htmlpage.py), or a raw HTML block of a Markdown file.

Headings become sections (their `id` is the old anchor; without one, a parent section's id or a GitHub-style
slug), `<p>`, lists at any depth, tables (caption, header row, `<th>` row headers, spans split into empty
cells; a cell's lists kept as lists), `<br>` line breaks, `<em>/<i>`, `<strong>/<b>` and links are kept. Block
quotes, preformatted text and definition lists are kept as paragraphs and reported; images are reported.

Ids of the old page survive: a heading's is its section's anchor; one on a paragraph (or an `<a id>` inside it),
a list, a list item, a table, a cell or a row is that block's anchor; an anchor standing alone before a heading,
or on a wrapper of several blocks, lands on the section's heading (Outline).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import Comment, Doctype, ProcessingInstruction

from . import htmlpage
from .attrlists import shown
from .doc import BREAK, DBlock, DCell, DCellValue, DList, Doc, DTable, Note, Outline, Para, Run, block_anchors, plain
from .html_tables import flatten, flatten_all, own_id, read_table
from .slugs import Slugger

HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
LISTS = ("ul", "ol", "menu")
CONTAINERS = {"div", "section", "article", "main", "header", "footer", "p", "address", "figure", "figcaption",
              "details", "summary", "center", "hgroup", "fieldset", "legend", "body", "html", "li", "dd", "dt",
              "caption", "td", "th", "blockquote", "pre", "dl", "table", "tr", "tbody", "thead", "tfoot", "hr",
              "search"} | set(HEADINGS) | set(LISTS)
EMPHASIS = ("em", "i", "cite", "dfn", "var")
STRONG = ("strong", "b")
PERMALINK = re.compile(r"headerlink|anchor|permalink|heading-link", re.IGNORECASE)
_ANCHOR = re.compile(r"""\b(?:id|name)\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)


def anchor_of(tag: str) -> str | None:
    """The id or name of an HTML tag written as text (`<a name="x">`)."""
    match = _ANCHOR.search(tag)
    return match.group(1) if match else None


class _Walker:
    def __init__(self, outline: Outline, where: Callable[[Tag], int]) -> None:
        self.outline = outline
        self.where = where
        self.slugger = Slugger()
        self.alias: dict[int, list[str]] = {}  # heading element → ids of the elements it opens
        self.in_cell = 0  # inside a table cell
        self.slot: str | None = None  # an id waiting for the paragraph being read (<p id>, or an <a id> in it)

    # --- blocks ---------------------------------------------------------------------------------
    def flow(self, element: Tag, sink: list[DBlock] | None) -> None:
        """The children of element as blocks: into sink, or into the outline (headings allowed) when None."""
        pending: list[Run] = []
        line = self.where(element)

        def flush() -> None:
            nonlocal pending
            if plain(pending).strip():
                self.emit(Para(pending, line), sink)
            elif self.slot and not self.in_cell:  # an anchor with no text of its own: it waits for what follows
                self.outline.anchor(self.slot)
                self.slot = None
            pending = []

        for child in element.children:
            if isinstance(child, Tag) and child.name in CONTAINERS:
                flush()
                line = self.where(child)
                self.container(child, sink)
                continue
            if isinstance(child, Tag) and child.name == "br":
                pending.append(BREAK)
                continue
            if not pending:
                line = self.where(child) if isinstance(child, Tag) else line
            pending += self.inline(child, False, False, None)
        flush()

    def emit(self, block: DBlock, sink: list[DBlock] | None) -> None:
        if isinstance(block, Para) and self.slot and not block.anchor:
            block.anchor, self.slot = self.slot, None
        if sink is None:
            self.outline.block(block)
        else:
            sink.append(block)

    def container(self, tag: Tag, sink: list[DBlock] | None) -> None:
        line = self.where(tag)
        own = self.register_anchor(tag)
        name = tag.name
        if name in HEADINGS:
            runs = self.inline(tag, False, False, None, heading=True)
            title = " ".join(plain(runs).split())
            if not title:
                return
            if sink is None:
                ids = [own_id(tag.get("id"))] + [own_id(a.get("id") or a.get("name"))
                                                   for a in tag.find_all("a") if a.get("id") or a.get("name")]
                anchor = next((i for i in ids + self.alias.get(id(tag), []) if i), None) or self.slugger.slug(title)
                extras = [i for i in ids + self.alias.get(id(tag), []) if i and i != anchor]
                self.outline.heading(int(name[1]), title, anchor, line, extras)
            else:
                self.outline.note(line, "heading inside a list, table cell or quote kept as a bold paragraph")
                sink.append(Para([Run(r.text, r.em, True, r.href, r.line_break) for r in runs], line))
        elif name in LISTS:
            items: list[list[DBlock]] = []
            item_anchors: dict[int, str] = {}
            for child in tag.children:
                body: list[DBlock] = []
                if isinstance(child, Tag) and child.name in LISTS and items:  # <ul> right inside <ul>: nested
                    self.container(child, items[-1])
                elif isinstance(child, Tag):
                    self.flow(child, body) if child.name in CONTAINERS else self.flow_one(child, body)
                elif str(child).strip():
                    self.flow_one(child, body)
                if body:
                    item_id = own_id(child.get("id")) if isinstance(child, Tag) and child.name == "li" else None
                    if item_id:
                        item_anchors[len(items)] = item_id
                    items.append(body)
                elif isinstance(child, Tag) and child.name == "li" and own_id(child.get("id")):
                    self.anchor(own_id(child.get("id")) or "", child)
            if items:
                self.emit(DList(name == "ol", items, line, own, item_anchors), sink)
            elif own:
                self.anchor(own, tag)
        elif name == "table":
            if tag.find(HEADINGS) or tag.find("table"):  # a layout table: its cells are the page's blocks
                for cell in tag.find_all(["td", "th"]):
                    if cell.find_parent("table") is tag:
                        self.flow(cell, sink)
            else:
                table = self.table(tag)
                if table:
                    table.anchor = own
                    self.emit(table, sink)
                elif own:
                    self.anchor(own, tag)
        elif name == "pre":
            self.outline.note(line, "preformatted text kept as plain text, line by line")
            text = tag.get_text().strip("\n")
            runs = [r for n, piece in enumerate(text.split("\n")) for r in ([BREAK] if n else []) + [Run(piece)]]
            if text.strip():
                self.emit(Para(runs, line), sink)
        elif name == "blockquote":
            self.outline.note(line, "block quote kept as ordinary paragraphs (the format has no quotes)")
            self.flow(tag, sink)
        elif name == "dl":
            self.outline.note(line, "definition list kept as paragraphs (terms in bold)")
            for child in [c for c in tag.find_all(["dt", "dd"]) if c.find_parent("dl") is tag]:
                if child.name == "dt":
                    runs = self.inline(child, False, True, None)
                    if plain(runs).strip():
                        self.emit(Para(runs, self.where(child)), sink)
                else:
                    self.flow(child, sink)
        elif name == "hr":
            return
        else:
            if name == "p" and "caption" in (tag.get("class") or []):
                runs = self.inline(tag, False, False, None)
                if plain(runs).strip():
                    self.emit(Para(runs, line, "caption"), sink)
                return
            if own:
                self.claim(own)
            self.flow(tag, sink)

    def flow_one(self, node: object, sink: list[DBlock]) -> None:
        runs = self.inline(node, False, False, None)
        if plain(runs).strip():
            sink.append(Para(runs, 0))

    def register_anchor(self, tag: Tag) -> str | None:
        """An id on a non-heading element: an alias of the heading it opens; the element's own anchor when it
        is one block (a paragraph, list or table: returned); else an anchor where it stands."""
        anchor = own_id(tag.get("id"))
        if not anchor or tag.name in HEADINGS:
            return None
        first = tag.find(True)
        if isinstance(first, Tag) and first.name in HEADINGS:
            self.alias.setdefault(id(first), []).append(anchor)
        elif tag.name in ("p", "table", *LISTS) and not (tag.name == "table" and tag.find(HEADINGS)):
            return anchor
        else:
            self.anchor(anchor, tag)
        return None

    def claim(self, name: str) -> None:
        """An id for the paragraph being read; one waiting already goes where it stands."""
        if self.slot and self.slot != name:
            self.outline.anchor(self.slot)
        self.slot = name

    def anchor(self, name: str, tag: Tag) -> None:
        """An anchor of the old page where it stands: inline, the paragraph's (the first one); else it waits
        for the next block or heading (Outline)."""
        if not name:
            return
        if self.slot is None and tag.name == "a":
            self.slot = name
        else:
            self.outline.anchor(name)

    # --- tables ----------------------------------------------------------------------------------
    def cell(self, tag: Tag, row_anchor: str | None = None) -> DCellValue:
        """A cell: its text (paragraphs as lines), or paragraphs and lists of one-line items; the id of the
        cell, of an <a id> in it or of its row (first cell) is its anchor."""
        blocks: list[DBlock] = []
        saved, self.slot = self.slot, None
        self.in_cell += 1
        try:
            self.flow(tag, blocks)
        finally:
            self.in_cell -= 1
        names = [n for n in [own_id(tag.get("id")), row_anchor, self.slot] if n]
        self.slot = saved
        kept: list[DBlock] = []
        for block in blocks:
            if isinstance(block, Para) and block.anchor:
                names.append(block.anchor)
                block.anchor = None
            if isinstance(block, DList):
                names += block_anchors(block)
                items: list[list[DBlock]] = [[Para(flatten_all(item), block.line)] for item in block.items]
                if any(len(item) > 1 or not isinstance(item[0], Para) for item in block.items):
                    self.outline.note(self.where(tag), "a list item of several blocks inside a table cell is kept "
                                                       "as one item with lines")
                kept.append(DList(block.ordered, items, block.line))
            elif isinstance(block, DTable):
                self.outline.note(self.where(tag), "a table inside a table cell is kept as lines of text")
                kept.append(Para(flatten(block), block.line))
            else:
                kept.append(block)
        names = list(dict.fromkeys(names))
        for extra in names[1:]:
            self.outline.note(self.where(tag), f"anchor #{shown(extra)} in a table cell lands on its section's heading "
                                               "(a cell has one anchor)")
            self.outline.anchor(extra)
        anchor = names[0] if names else None
        if any(isinstance(b, DList) for b in kept):
            return DCell(kept, anchor)
        runs: list[Run] = []
        for block in kept:
            if runs:
                runs.append(BREAK)
            runs += flatten(block)
        return DCell([Para(runs, self.where(tag))], anchor) if anchor and runs else runs

    def table(self, tag: Tag) -> DTable | None:
        return read_table(tag, self.where(tag), self.cell, lambda t: self.inline(t, False, False, None),
                          self.outline.note)

    # --- inline ----------------------------------------------------------------------------------
    def inline(self, node: object, em: bool, strong: bool, href: str | None, heading: bool = False) -> list[Run]:
        if isinstance(node, (Comment, Doctype, ProcessingInstruction)):
            return []
        if isinstance(node, NavigableString):
            return [Run(str(node), em, strong, href)]
        if not isinstance(node, Tag):
            return []
        name = node.name
        if name == "br":
            return [Run(" ") if heading else BREAK]
        if name == "img":
            alt = str(node.get("alt", "")).strip()
            self.outline.note(self.where(node), f"image '{alt}' dropped ({node.get('src', '')}); link to it instead")
            return []
        if name == "a" and node.get("id") or name == "a" and node.get("name"):
            if not heading:
                self.anchor(own_id(node.get("id") or node.get("name")) or "", node)
        if name == "a" and heading and PERMALINK.search(" ".join(node.get("class") or [])):
            return []  # the ¶ or # link a site generator puts in headings
        if name == "a" and node.get("href") is not None:
            if heading:
                self.outline.note(self.where(node), "link in a heading: titles hold no links; its text is kept")
            else:
                href = str(node["href"]).strip()
        em = em or name in EMPHASIS
        strong = strong or name in STRONG
        runs: list[Run] = []
        if name == "q":
            runs.append(Run("“", em, strong, href))
        for child in node.children:
            inner = self.inline(child, em, strong, href, heading)
            if isinstance(child, Tag) and child.name in CONTAINERS and inner:  # a block inside inline text
                inner = [Run(" ", em, strong, href)] + inner + [Run(" ", em, strong, href)]
            runs += inner
        if name == "q":
            runs.append(Run("”", em, strong, href))
        return runs


def read_html(html: str, paragraphs: bool = False) -> Doc:
    """The document in a web page (its main content). paragraphs=True names positions by paragraph, not line
    (HTML converted from Word has no lines of its own)."""
    soup = htmlpage.parse(html)
    page = htmlpage.main_content(soup)
    outline = Outline()
    if paragraphs:
        order = {id(t): n for n, t in enumerate(page.main.find_all(["p", "li", "td", "th", "table", "img"] +
                                                                  list(HEADINGS)), start=1)}

        def where(tag: Tag) -> int:
            while isinstance(tag, Tag) and id(tag) not in order and tag.parent is not None:
                tag = tag.parent
            return order.get(id(tag), 0)
    else:
        where = htmlpage.line_of
    for line, what in page.dropped:
        outline.note(line, what)
    walker = _Walker(outline, where)
    walker.flow(page.main, None)
    if walker.slot:
        outline.anchor(walker.slot)
    if outline.title is None and page.title:
        outline.title = page.title
    front: dict = {"base": page.base} if page.base else {}
    if not paragraphs:
        front["content"] = page.chosen
    return outline.doc(front, "paragraph" if paragraphs else "line")


def fragment(html: str, line: int) -> tuple[list[DBlock], list[Note], list[str]]:
    """The blocks of an HTML fragment (a raw HTML block in Markdown), its notes and anchors."""
    soup = BeautifulSoup(html, "html5lib")
    outline = Outline()
    outline.heading(6, "fragment", "fragment", line)  # a scratch section: headings inside stay paragraphs
    holder = outline.sections[0]
    blocks: list[DBlock] = []
    walker = _Walker(outline, lambda tag: line + max(htmlpage.line_of(tag) - 1, 0))
    walker.flow(soup.body or soup, blocks)
    if walker.slot:
        outline.anchor(walker.slot)
    outline.settle()
    return blocks, outline.notes, holder.anchors
