"""Word revisions written into a python-docx document: runs, paragraphs, lists, tables and links, each inserted,
deleted or moved by one author at one date (site/word/redline.py lays out the policy with it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn

from ...diff.redline import RedlineBlock, Span, marker_kind
from ...diff.redline_render import _groups, _structure_note, cell_blocks, kind_parts, mark_note
from ...source.inline import BREAK
from .package import Element, OxmlElement, xml_text

Resolve = Callable[[str], str | None]  # a link target → a URL for the document, or None for no link
# How a part of the text is written: what each operation of the redline becomes (None: left out)
Mode = dict[str, str | None]
PLAIN: Mode = {"equal": "", "insert": "w:ins", "delete": "w:del"}
MOVE_FROM: Mode = {"equal": "w:moveFrom", "insert": None, "delete": "w:del"}
MOVE_TO: Mode = {"equal": "w:moveTo", "insert": "w:ins", "delete": None}


class _Writer:
    """Builds the document body: paragraphs, lists and tables, with revisions."""

    def __init__(self, author: str, when: datetime, resolve: Resolve) -> None:
        self.doc = docx.Document()
        self.body = self.doc.element.body
        self.author, self.resolve = xml_text(author), resolve
        self.date = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.ids = 0
        self.moves = 0
        self.bookmarks: dict[str, str] = {}  # an anchor of the text → its bookmark name
        self.numbering = self.doc.part.numbering_part.element
        self.abstract: dict[str, int] = {}
        self.num_ids: list[int] = []  # the last w:num id given
        self.links: dict[str, str] = {}  # URL → relationship id
        self.last_p: Element = None
        self._abstract_numbering()

    # --- low-level XML ------------------------------------------------------------------------------

    def next_id(self) -> str:
        self.ids += 1
        return str(self.ids)

    def revision(self, tag: str) -> Element:
        el = OxmlElement(tag)
        el.set(qn("w:id"), self.next_id())
        el.set(qn("w:author"), self.author)
        el.set(qn("w:date"), self.date)
        return el

    def run(self, text: str, marks: Sequence[str] = (), deleted: bool = False, note: bool = False) -> Element:
        r = OxmlElement("w:r")
        props = []
        if note:
            props += ["w:i"]
        if "strong" in marks:
            props.append("w:b")
        if "em" in marks:
            props.append("w:i")
        if any(m.startswith("a:") for m in marks):
            props.append("link")
        if props:
            rpr = OxmlElement("w:rPr")
            for name in ("w:b", "w:i"):
                if name in props:
                    rpr.append(OxmlElement(name))
            if "link" in props:
                color, underline = OxmlElement("w:color"), OxmlElement("w:u")
                color.set(qn("w:val"), "0563C1")
                underline.set(qn("w:val"), "single")
                rpr.append(color)
                rpr.append(underline)
            if note:
                color = OxmlElement("w:color")
                color.set(qn("w:val"), "595959")
                rpr.append(color)
            r.append(rpr)
        for n, line in enumerate(xml_text(text).split(BREAK)):
            if n:
                r.append(OxmlElement("w:br"))
            if line:
                t = OxmlElement("w:delText" if deleted else "w:t")
                t.text = line
                t.set(qn("xml:space"), "preserve")
                r.append(t)
        return r

    def paragraph(self, parent: Element | None = None, style: str | None = None, mark: str = "",
                  num: tuple[int, int] | None = None, indent: int = 0, keep_next: bool = False) -> Element:
        """A new paragraph at the end of parent (the body, or a table cell); mark: its paragraph mark's revision
        ('w:ins', 'w:del', 'w:moveFrom', 'w:moveTo' or '')."""
        p = OxmlElement("w:p")
        ppr = OxmlElement("w:pPr")
        if style:
            el = OxmlElement("w:pStyle")
            el.set(qn("w:val"), style)
            ppr.append(el)
        if keep_next:
            ppr.append(OxmlElement("w:keepNext"))
        if num:
            numpr, ilvl, numid = OxmlElement("w:numPr"), OxmlElement("w:ilvl"), OxmlElement("w:numId")
            ilvl.set(qn("w:val"), str(num[1]))
            numid.set(qn("w:val"), str(num[0]))
            numpr.append(ilvl)
            numpr.append(numid)
            ppr.append(numpr)
        if indent:
            ind = OxmlElement("w:ind")
            ind.set(qn("w:left"), str(360 * indent))
            ppr.append(ind)
        if mark:
            rpr = OxmlElement("w:rPr")
            rpr.append(self.revision(mark))
            ppr.append(rpr)
        if len(ppr):
            p.append(ppr)
        if parent is None:
            self.body.sectPr.addprevious(p)
        else:
            parent.append(p)
        self.last_p = p
        return p

    def link(self, href: str) -> Element | None:
        """A w:hyperlink for a link target, or None when it leads nowhere the document can go."""
        if href.startswith("#"):
            name = self.bookmarks.get(href[1:])
            if name is None:
                return None
            el = OxmlElement("w:hyperlink")
            el.set(qn("w:anchor"), name)
            return el
        url = self.resolve(href)
        if url is None:
            return None
        url = xml_text(url)
        if url not in self.links:
            self.links[url] = self.doc.part.relate_to(url, RT.HYPERLINK, is_external=True)
        el = OxmlElement("w:hyperlink")
        el.set(qn("r:id"), self.links[url])
        return el

    def bookmark(self, p: Element, name: str) -> None:
        """A bookmark on a heading (its section's name: redline_docx), for the document's own links."""
        number = self.next_id()
        start, end = OxmlElement("w:bookmarkStart"), OxmlElement("w:bookmarkEnd")
        start.set(qn("w:id"), number)
        start.set(qn("w:name"), name)
        end.set(qn("w:id"), number)
        p.append(start)
        p.append(end)

    # --- numbering ----------------------------------------------------------------------------------

    def _abstract_numbering(self) -> None:
        """Two list definitions of nine levels, bullets and decimal numbers, after the template's own."""
        taken = [int(a.get(qn("w:abstractNumId"))) for a in self.numbering.findall(qn("w:abstractNum"))]
        first = max(taken, default=-1) + 1
        for n, kind in enumerate(("ul", "ol")):
            abstract = OxmlElement("w:abstractNum")
            abstract.set(qn("w:abstractNumId"), str(first + n))
            multi = OxmlElement("w:multiLevelType")
            multi.set(qn("w:val"), "hybridMultilevel")
            abstract.append(multi)
            for level in range(9):
                lvl = OxmlElement("w:lvl")
                lvl.set(qn("w:ilvl"), str(level))
                for tag, value in (("w:start", "1"), ("w:numFmt", "bullet" if kind == "ul" else "decimal"),
                                   ("w:lvlText", ("•", "◦", "▪")[level % 3] if kind == "ul" else f"%{level + 1}."),
                                   ("w:lvlJc", "left")):
                    el = OxmlElement(tag)
                    el.set(qn("w:val"), value)
                    lvl.append(el)
                ppr, ind = OxmlElement("w:pPr"), OxmlElement("w:ind")
                ind.set(qn("w:left"), str(720 * (level + 1)))
                ind.set(qn("w:hanging"), "360")
                ppr.append(ind)
                lvl.append(ppr)
                abstract.append(lvl)
            nums = self.numbering.findall(qn("w:num"))
            (nums[0].addprevious if nums else self.numbering.append)(abstract)
            self.abstract[kind] = first + n

    def new_num(self, kind: str) -> int:
        """A list of its own (numbered lists start again at 1): a w:num after the template's own."""
        if not self.num_ids:
            self.num_ids = [max((int(n.get(qn("w:numId"))) for n in self.numbering.findall(qn("w:num"))), default=0)]
        self.num_ids[0] += 1
        num, abstract = OxmlElement("w:num"), OxmlElement("w:abstractNumId")
        num.set(qn("w:numId"), str(self.num_ids[0]))
        abstract.set(qn("w:val"), str(self.abstract[kind]))
        num.append(abstract)
        cleanup = self.numbering.find(qn("w:numIdMacAtCleanup"))
        (cleanup.addprevious if cleanup is not None else self.numbering.append)(num)
        return self.num_ids[0]

    # --- inline content -----------------------------------------------------------------------------

    def spans(self, p: Element, spans: Sequence[Span], mode: Mode) -> None:
        """Spans into a paragraph: each operation as mode says (mode[op] None: left out), a space before each
        span that is not glued to the one before (an inserted word after a deleted one takes the deleted word's
        space: accepting or rejecting leaves one), formatting as runs, links as hyperlinks, and a note in brackets
        where only formatting changed."""
        shown = [s for s in spans if mode.get(s.op) is not None and marker_kind(s.marks) is None]
        groups = _groups(shown)
        written = False
        previous_sep = ""
        for n, (op, run) in enumerate(groups):
            tag = mode[op] or ""
            wrapper = self.revision(tag) if tag else None
            for k, span in enumerate(run):
                sep = "" if not written or span.glue else " "
                if k == 0 and op == "insert" and n and groups[n - 1][0] == "delete":
                    sep = previous_sep
                if k == 0:
                    previous_sep = sep
                r = self.run(sep + span.text, span.marks, deleted=tag == "w:del")
                href = next((m[2:] for m in span.marks if m.startswith("a:")), None)
                link = self.link(href) if href is not None else None
                written = True
                if link is not None:
                    if tag:  # the revision inside the link: Word's own nesting
                        inner = self.revision(tag)
                        inner.append(r)
                        link.append(inner)
                    else:
                        link.append(r)
                    p.append(link)
                    wrapper = self.revision(tag) if tag else None  # the words after the link: a revision of their own
                    continue
                if wrapper is None:
                    p.append(r)
                    continue
                wrapper.append(r)
                if wrapper.getparent() is None:
                    p.append(wrapper)
            if op == "insert" and n and groups[n - 1][0] == "delete":
                note = mark_note(groups[n - 1][1], run)
                if note:
                    p.append(self.run(f" [{note}]", note=True))

    def note(self, p: Element, text: str) -> None:
        p.append(self.run(f" [{text}]", note=True))

    # --- blocks -------------------------------------------------------------------------------------

    def blocks(self, blocks: Sequence[RedlineBlock], mode: Mode) -> None:
        """Redline blocks as paragraphs, lists and tables; blocks whose operation mode leaves out are skipped."""
        open_lists: list[tuple[str, int]] = []  # the open list levels: (kind, w:num id)
        rows: list[RedlineBlock] = []
        table_kind = "table"
        caption: RedlineBlock | None = None

        def flush_table() -> None:
            nonlocal rows, caption
            if rows or caption:
                self.table(caption, rows, table_kind, mode)
            rows, caption = [], None

        for block in blocks:
            status_op = {"insert": "insert", "delete": "delete"}.get(block.status, "equal")
            if mode.get(status_op) is None:
                continue
            mark = _mark(block.status, mode)
            path, leaf = kind_parts(block.kind)
            if leaf in ("th", "tr"):
                rows.append(block)
                continue
            flush_table()
            if leaf in ("table", "table*"):
                table_kind, caption = leaf, block
                continue
            same = 0
            while same < min(len(open_lists), len(path)) and open_lists[same][0] == path[same]:
                same += 1
            del open_lists[same:]
            for kind in path[same:]:
                open_lists.append((kind, self.new_num(kind)))
            if leaf is None:  # a list item
                p = self.paragraph(mark=mark, num=(open_lists[-1][1], len(path) - 1))
            elif leaf == "summary":
                p = self.paragraph(style="Intense Quote", mark=mark)
                label = self.run("In short:", ("strong",), deleted=block.status == "delete" and mark == "w:del")
                if block.status in ("insert", "delete") and mark:  # the label comes and goes with its box
                    box = self.revision(mark)
                    box.append(label)
                    label = box
                p.append(label)
                p.append(self.run(" "))
            else:
                p = self.paragraph(mark=mark, indent=2 * len(path))
            self.spans(p, block.spans, mode)
        flush_table()

    def table(self, caption: RedlineBlock | None, rows: Sequence[RedlineBlock], kind: str, mode: Mode) -> None:
        if caption is not None and caption.spans:
            p = self.paragraph(style="Caption", mark=_mark(caption.status, mode), keep_next=True)
            self.spans(p, caption.spans, mode)
        if not rows:
            return
        columns = max(len(r.cells) for r in rows) or 1
        table = self.doc.add_table(rows=0, cols=columns)
        table.style = self.doc.styles["Table Grid"]
        for block in rows:
            row = table.add_row()
            tr = row._tr
            revision = {"insert": "w:ins", "delete": "w:del"}.get(block.status)
            if mode is MOVE_FROM and block.status != "insert":
                revision = "w:del"  # the old place's rows go with its text
            elif mode is MOVE_TO and block.status != "delete":
                revision = "w:ins"
            trpr = tr.get_or_add_trPr()
            if block.kind.endswith("th"):
                trpr.append(OxmlElement("w:tblHeader"))
            if revision:
                trpr.append(self.revision(revision))
            for n, cell in enumerate(row.cells):
                tc = cell._tc
                for old in tc.findall(qn("w:p")):
                    tc.remove(old)
                spans = block.cells[n] if n < len(block.cells) else ()
                header = block.kind.endswith("th") or (n == 0 and kind == "table*")
                self.cell(tc, spans, mode, _mark(block.status, mode), header)

    def cell(self, tc: Element, spans: Sequence[Span], mode: Mode, row_mark: str, header: bool) -> None:
        """A cell's paragraphs and list items rebuilt from the redline's markers (a cell holds at least one)."""
        written = False
        nums: dict[str, int] = {}
        last = None
        for kind, op, inner in cell_blocks(spans):
            if kind is not None and mode.get(op) is None:
                continue
            mark = mode[op] if kind is not None and op != "equal" else row_mark
            num = None
            if kind in ("li:ul", "li:ol"):
                if kind != last:
                    nums[kind] = self.new_num(kind[3:])
                num = (nums[kind], 0)
            last = kind
            p = self.paragraph(tc, mark=mark or "", num=num)
            if header:
                inner = [Span(s.op, s.text, tuple(sorted({*s.marks, "strong"})), s.glue) for s in inner]
            self.spans(p, inner, mode)
            note = _structure_note(kind, op, inner) if kind else None
            if note:
                self.note(p, note)
            written = True
        if not written:
            self.paragraph(tc)


def _mark(status: str, mode: Mode) -> str:
    """The revision of a block's paragraph mark: a whole inserted or deleted block's, or a moved one's."""
    if status in ("insert", "delete"):
        return mode[status] or ""
    return mode["equal"] or ""


def _range(tag: str, w: _Writer, name: str) -> Element:
    el = w.revision(tag)
    el.set(qn("w:name"), name)
    return el


def _range_end(tag: str, start: Element) -> Element:
    el = OxmlElement(tag)
    el.set(qn("w:id"), start.get(qn("w:id")))
    return el

