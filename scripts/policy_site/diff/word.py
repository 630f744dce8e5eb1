"""The Word redline: a change between two versions as a .docx with real tracked changes (`policy diff A B --format
docx`, and the `.docx` linked from each changes page).

The document is the newer version's text, headings numbered as on the site, with the word redline of
diff/redline.py written as Word revisions by the organisation, dated the newer version's publication:

- words deleted and inserted: `w:del` (its text in `w:delText`) and `w:ins` runs, exactly the redline's words (a
  changed link target is a deleted and an inserted word, as in the redline); a paragraph, list item or table row
  wholly added or removed also has its paragraph mark (or row) tracked, so "accept all" gives the newer text and
  "reject all" the older one;
- sections added or removed: heading and text inserted or deleted; a removed section stands where it stood;
- renamed sections: the old title deleted and the new one inserted in the heading;
- moved sections (and the subsections they carry): Word moves, `w:moveFrom` at the old place and `w:moveTo` at the new
  one (named ranges "move1", …), with the section's word changes kept apart — its deleted words beside the
  moveFrom text, its inserted words beside the moveTo text — so that accepting or rejecting gives each text whole;
- table cells: their words tracked inside the cell; a cell's lists and paragraphs rebuilt from the redline's
  markers (redline_render.cell_blocks); the markers are not words of the text;
- a change that only formatting shows (a new link target, emphasis): a visible note in brackets after it, "[link:
  #old → #new]", not tracked (it is no part of either text; the cover says so).

A cover comes first: what changed, from which version to which, and a table of the changed sections (section,
kind, summary, effective date). Section numbers are the newer version's, as on the site (renumbering is not
tracked).

Text is escaped by lxml; characters that XML 1.0 forbids (control characters) are replaced by U+FFFD, never dropped
silently. The bytes are reproducible: revision and bookmark ids count from 1, the zip's entries are sorted and dated
`when`, and docProps' created and modified dates are `when`. python-docx writes the document (it cannot write
revisions: its oxml elements take them).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement as _OxmlElement
from docx.oxml.ns import qn
from docx.oxml.parser import oxml_parser

from ..source import inline
from ..source.inline import BREAK
from ..source.model import Policy, Section, policy_anchors
from .redline import RedlineBlock, Span, marker_kind, redline
from .redline_render import _structure_note, cell_blocks, kind_parts, mark_note
from .sections import PolicyDiff, SectionChange, units

Resolve = Callable[[str], str | None]  # a link target → a URL for the document, or None for no link
Element = Any  # an lxml element of python-docx's oxml
_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# How a part of the text is written: what each operation of the redline becomes (None: left out)
Mode = dict[str, str | None]
PLAIN: Mode = {"equal": "", "insert": "w:ins", "delete": "w:del"}
MOVE_FROM: Mode = {"equal": "w:moveFrom", "insert": None, "delete": "w:del"}
MOVE_TO: Mode = {"equal": "w:moveTo", "insert": "w:ins", "delete": None}


_TAGS: dict[str, tuple[str, dict[str, str]]] = {}


def OxmlElement(tag: str) -> Element:  # noqa: N802 - python-docx's name, which it stands in for
    """python-docx's OxmlElement, its tag's name worked out once (a redline makes tens of thousands of elements)."""
    found = _TAGS.get(tag)
    if found is None:
        sample = _OxmlElement(tag)
        found = _TAGS[tag] = (sample.tag, dict(sample.nsmap))
    return oxml_parser.makeelement(found[0], nsmap=found[1])


def xml_text(text: str) -> str:
    """Text XML can hold: every character XML 1.0 forbids (C0 controls but tab and newlines, lone surrogates,
    U+FFFE/U+FFFF) becomes U+FFFD."""
    return _FORBIDDEN.sub("\ufffd", text)


def word_name(old_version: str, new_version: str) -> str:
    """The file name of a change's Word redline, as the site publishes it."""
    return f"redline-{old_version}-to-{new_version}.docx"


def default_resolve(site_url: str | None) -> Resolve:
    """Links as a document outside the site follows them: web and mail links as they are, site paths and other
    documents of a library under site_url (without it they are no links; the words stay)."""
    from ..site.render import resolver
    base = resolver(site_url) if site_url else None

    def resolve(href: str) -> str | None:
        url = base(href) if base else href
        return url if re.match(r"^(https?|mailto):", url, re.I) else None
    return resolve


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
        groups: list[tuple[str, list[Span]]] = []
        for span in shown:
            if groups and groups[-1][0] == span.op:
                groups[-1][1].append(span)
            else:
                groups.append((span.op, [span]))
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


def _words_count(blocks: Sequence[RedlineBlock], op: str) -> int:
    return sum(len(s.text.split()) for b in blocks for s in (b.spans or tuple(x for c in b.cells for x in c))
               if s.op == op and marker_kind(s.marks) is None)


def _equal(section: Section) -> list[RedlineBlock]:
    found = units(section)
    return redline(found, found)


def _change_summary(change: SectionChange, when: Callable[[date | datetime], str],
                    amended: dict[str, datetime]) -> str:
    parts: list[str] = []
    if "added" in change.kinds:
        parts.append(f"New section ({_words_count(change.redline, 'insert')} words).")
    if "removed" in change.kinds:
        parts.append(f"Section removed ({_words_count(change.redline, 'delete')} words).")
    if "renamed" in change.kinds:
        parts.append(f"Title was “{change.old_title}”.")
    if change.move:
        parts.append(change.move)
    if "modified" in change.kinds:
        parts.append(f"{_words_count(change.redline, 'insert')} words inserted, "
                     f"{_words_count(change.redline, 'delete')} deleted.")
    if change.id in amended:
        parts.append(f"Already published as an amendment on {when(amended[change.id])}.")
    return " ".join(parts)


def _carried(diff: PolicyDiff) -> set[str]:
    """The moved sections and the subsections they carry (in the old text too, under the same parent)."""
    moved = {c.id for c in diff.changed if "moved" in c.kinds}
    if not moved or diff.old is None:
        return moved
    old_parents = {p.section.id: p.parent for p in diff.old.walk()}
    out = set(moved)
    for placed in diff.new.walk():
        if placed.parent in out and old_parents.get(placed.section.id, "?") == placed.parent:
            out.add(placed.section.id)
    return out


def redline_docx(diff: PolicyDiff, author: str, when: datetime, from_label: str, to_label: str,
                 resolve: Resolve | None = None, language: str | None = None,
                 published: datetime | None = None, amended: dict[str, datetime] | None = None) -> bytes:
    """The Word redline of a diff (module docstring), as the bytes of a .docx; the same input gives the same
    bytes. author: who made the changes (the organisation); when: the revisions' date (the publication)."""
    from ..site.dates import readable

    def day(value: date | datetime) -> str:
        return readable(value, language)

    old, new = diff.old, diff.new
    w = _Writer(author, when, resolve or default_resolve(None))
    amended = amended or {}
    # bookmarks first, so that links anywhere find them: sections and the anchors of their text
    heading_names: dict[str, str] = {}
    for policy in (new, old) if old else (new,):
        for placed in policy.walk():
            sid = placed.section.id
            if sid not in heading_names:
                name = re.sub(r"[^A-Za-z0-9_]", "_", "s_" + sid)[:40]
                if name in heading_names.values():
                    name = f"s_{len(heading_names)}"
                heading_names[sid] = name
        for anchor, sid in policy_anchors(policy).items():
            w.bookmarks.setdefault(anchor, heading_names[sid])
    w.bookmarks.update(heading_names)

    # --- the cover ---
    cover_title = w.paragraph(style="Title")
    cover_title.append(w.run(f"What changed in version {new.version}"))
    p = w.paragraph(style="Subtitle")
    p.append(w.run(f"{new.title}: from {from_label} to {to_label} · effective {day(new.effective)}"
                   + (f" · published {day(published)}" if published else "")))
    p = w.paragraph()
    p.append(w.run(f"The text below is {to_label} with the changes from {from_label} as tracked changes by {author}, "
                   f"dated {day(when)}: accept them all for the text of {to_label}, reject them all for "
                   f"{from_label}. Notes in [brackets] are no part of either text."))
    w.paragraph(style="Heading 1").append(w.run("Summary"))
    w.spans(w.paragraph(), _plain_spans(new.summary), PLAIN)
    w.paragraph(style="Heading 1").append(w.run("Changed sections"))
    w.paragraph().append(w.run(diff.summary))
    for m in diff.meta:
        p = w.paragraph(num=(w.new_num("ul"), 0))
        dated = m.field == "effective date"
        was, now = (day(date.fromisoformat(m.old)), day(date.fromisoformat(m.new))) if dated else (m.old, m.new)
        p.append(w.run(f"{m.field.capitalize()}: {was} → {now}"))
    if diff.introduction:
        w.paragraph(num=(w.new_num("ul"), 0)).append(w.run("Introduction: modified"))
    table = w.doc.add_table(rows=1, cols=4)
    table.style = w.doc.styles["Table Grid"]
    header = table.rows[0]
    header._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    for cell, text in zip(header.cells, ("Section", "Change", "Summary", "Effective")):
        tc = cell._tc
        for old_p in tc.findall(qn("w:p")):
            tc.remove(old_p)
        w.paragraph(tc).append(w.run(text, ("strong",)))
    for listed in diff.changed:
        row = table.add_row()
        for cell, text in zip(row.cells, (listed.path_label, listed.kind, _change_summary(listed, day, amended),
                                          day(new.effective))):
            tc = cell._tc
            for old_p in tc.findall(qn("w:p")):
                tc.remove(old_p)
            target = w.link("#" + listed.id) if "removed" not in listed.kinds and text is listed.path_label else None
            para = w.paragraph(tc)
            if target is not None:
                target.append(w.run(text, ("a:#",)))
                para.append(target)
            else:
                para.append(w.run(text))
    if not diff.changed:
        w.paragraph().append(w.run("No section changed."))
    w.paragraph().append(OxmlElement("w:r"))
    w.last_p[-1].append(_page_break())

    # --- the text ---
    p = w.paragraph(style="Title")
    title_change = next((m for m in diff.meta if m.field == "title"), None)
    if title_change:
        w.spans(p, [Span("delete", title_change.old), Span("insert", title_change.new)], PLAIN)
    else:
        p.append(w.run(new.title))
    w.paragraph(style="Subtitle").append(w.run(f"Version {new.version} · effective {day(new.effective)}"))
    intro = diff.introduction or redline([("p", inline.words(t)) for t in new.introduction],
                                         [("p", inline.words(t)) for t in new.introduction])
    w.blocks(intro, PLAIN)

    changes = {c.id: c for c in diff.changed}
    carried = _carried(diff)
    moves: dict[str, str] = {}
    for sid in sorted(carried, key=lambda s: [p.section.id for p in new.walk()].index(s)):
        w.moves += 1
        moves[sid] = f"move{w.moves}"
    # where the old-only parts go (removed sections, the old place of moved ones): after the nearest section before
    # them in the old text that stayed where it was
    after: dict[str | None, list[tuple[str, Any]]] = {}
    if old is not None:
        new_ids = set(new.section_ids())
        stable: str | None = None
        for placed in old.walk():
            sid = placed.section.id
            if sid not in new_ids:
                after.setdefault(stable, []).append(("removed", placed))
            elif sid in carried:
                after.setdefault(stable, []).append(("moved", placed))
            else:
                stable = sid
    new_numbers = {p.section.id: p.number for p in new.walk()}

    def old_parts(key: str | None) -> None:
        for what, placed in after.get(key, []):
            section = placed.section
            gone = changes.get(section.id)
            if what == "removed":
                p = w.paragraph(style=f"Heading {min(placed.depth, 9)}", mark="w:del", keep_next=True)
                w.bookmark(p, w.bookmarks[section.id])
                w.spans(p, _title_spans(placed.number, section.title, "delete"), PLAIN)
                w.blocks(gone.redline if gone else _equal(section), PLAIN)
                continue
            name = moves[section.id]
            p = w.paragraph(style=f"Heading {min(placed.depth, 9)}", mark="w:moveFrom", keep_next=True)
            start = _range("w:moveFromRangeStart", w, name)
            p.append(start)
            renamed = gone is not None and "renamed" in gone.kinds
            title = [Span("delete" if renamed else "equal", section.title)]
            w.spans(p, ([Span("equal", placed.number)] if placed.number else []) + title, MOVE_FROM)
            blocks = gone.redline if gone and gone.redline else _equal(section)
            w.blocks(blocks, MOVE_FROM)
            w.last_p.append(_range_end("w:moveFromRangeEnd", start))

    old_parts(None)
    for placed in new.walk():
        section = placed.section
        change = changes.get(section.id)
        kinds = change.kinds if change else ()
        style = f"Heading {min(placed.depth, 9)}"
        mode = MOVE_TO if section.id in carried else PLAIN
        if "added" in kinds:
            p = w.paragraph(style=style, mark="w:ins", keep_next=True)
            w.bookmark(p, w.bookmarks[section.id])
            w.spans(p, _title_spans(placed.number, section.title, "insert"), PLAIN)
        else:
            p = w.paragraph(style=style, mark=mode["equal"] or "", keep_next=True)
            w.bookmark(p, w.bookmarks[section.id])
            start = _range("w:moveToRangeStart", w, moves[section.id]) if mode is MOVE_TO else None
            if start is not None:
                p.append(start)
            number = [Span("equal", new_numbers[section.id] or "")] if new_numbers[section.id] else []
            if "renamed" in kinds and change is not None:
                title = [Span("delete", change.old_title or ""), Span("insert", section.title)]
            else:
                title = [Span("equal", section.title)]
            w.spans(p, [*number, *[Span(s.op, s.text, s.marks, False) for s in title]], mode)
        blocks = change.redline if change and change.redline else _equal(section)
        w.blocks(blocks, mode)
        if "added" not in kinds and mode is MOVE_TO:
            w.last_p.append(_range_end("w:moveToRangeEnd", start))
        old_parts(section.id)
    _core(w.doc, new, author, when)
    out = io.BytesIO()
    w.doc.save(out)
    return _reproducible_zip(out.getvalue(), when)


def _title_spans(number: str | None, title: str, op: str) -> list[Span]:
    return ([Span(op, number)] if number else []) + [Span(op, title)]


def _plain_spans(text: str) -> list[Span]:
    from .redline import spans
    return spans(inline.words(text), "equal")


def _page_break() -> Element:
    br = OxmlElement("w:br")
    br.set(qn("w:type"), "page")
    return br


def _range(tag: str, w: _Writer, name: str) -> Element:
    el = w.revision(tag)
    el.set(qn("w:name"), name)
    return el


def _range_end(tag: str, start: Element) -> Element:
    el = OxmlElement(tag)
    el.set(qn("w:id"), start.get(qn("w:id")))
    return el


def _core(document: docx.document.Document, policy: Policy, author: str, when: datetime) -> None:
    core = document.core_properties
    stamp = when.astimezone(UTC).replace(tzinfo=None)
    core.author = core.last_modified_by = xml_text(author)
    core.title = xml_text(f"{policy.title}: changes in version {policy.version}")
    core.subject = core.keywords = core.category = core.comments = core.content_status = ""
    core.identifier = core.language = core.version = ""
    core.created = core.modified = stamp
    core.last_printed = stamp
    core.revision = 1


def _reproducible_zip(data: bytes, when: datetime) -> bytes:
    """The package's entries sorted, each dated `when` (at least 1980, zip's epoch), with fixed attributes; the
    template's thumbnail left out (it pictures an empty page)."""
    stamp = max(when.astimezone(UTC).replace(tzinfo=None), datetime(1980, 1, 1))
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in sorted(source.namelist()):
            if name == "docProps/thumbnail.jpeg":
                continue
            body = source.read(name)
            if name == "_rels/.rels":
                body = re.sub(rb'<Relationship [^>]*thumbnail\.jpeg"/>', b"", body)
            if name == "[Content_Types].xml":
                body = body.replace(b'<Default Extension="jpeg" ContentType="image/jpeg"/>', b"")
            info = zipfile.ZipInfo(name, date_time=stamp.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            target.writestr(info, body)
    return out.getvalue()

