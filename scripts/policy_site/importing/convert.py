"""Doc → Policy: section ids (old anchors made valid, kept stable across revisions), the old page's other
anchors kept as written (a section's extra anchors, a block's, an item's, a cell's), links resolved (same-page
anchors → `#anchor` or `#id`, same-site links → site paths), table captions, numbering, the introduction;
every text written as the format's inline Markdown.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from urllib.parse import unquote, urljoin, urlsplit

from ..errors import UserError
from ..source import characters
from ..source.inline import link_problem
from ..source.model import (
    ANCHOR_PATTERN,
    Cell,
    CellValue,
    Item,
    ItemList,
    ListItem,
    Organisation,
    Paragraph,
    Policy,
    Section,
    Table,
    TextBlock,
)
from .doc import DBlock, DCell, DCellValue, DList, Doc, DSection, DTable, Note, Para, Run, block_anchors, plain
from .inlinetext import to_markdown
from .slugs import to_id, unique

_CAPTION = re.compile(r"^(table|tab\.)\s*[\w.\-]{0,8}\s*[:.–—-]\s*\S", re.IGNORECASE)
_NUMBERED = re.compile(r"^(\d{1,3})[.)]\s+(\S.*)$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029\t]")


@dataclass(frozen=True)
class Meta:
    version: str
    effective: date
    summary: str
    organisation: Organisation
    fallback_title: str  # when the document names none (the file's name)


@dataclass(frozen=True)
class SectionText:
    """A section of one revision, for keeping ids stable in the next: its id and its words."""

    id: str
    words: Counter


@dataclass
class Converted:
    policy: Policy
    notes: list[Note]
    renamed_anchors: list[tuple[str, str]]  # old page anchor → new id, where they differ
    sections: list[SectionText] = field(default_factory=list)


def similarity(a: Counter, b: Counter) -> float:
    total = max(sum(a.values()), sum(b.values()))
    return sum((a & b).values()) / total if total else 0.0


def _words(section: DSection) -> Counter:
    own = " ".join(plain(r) for b in section.blocks for r in _texts(b))
    if not own.strip():
        own = section.title + " " + " ".join(plain(r) for s in section.walk() for b in s.blocks for r in _texts(b))
    return Counter(w.lower() for w in re.findall(r"\w+", own))


def _texts(block: DBlock) -> list[list[Run]]:
    if isinstance(block, Para):
        return [block.runs]
    if isinstance(block, DList):
        return [r for item in block.items for inner in item for r in _texts(inner)]
    cells = [c for row in ([block.header] if block.header else []) + block.rows for c in row]
    return ([block.caption] if block.caption else []) + [r for c in cells for r in (
        [c] if not isinstance(c, DCell) else [t for b in c.blocks for t in _texts(b)])]


def assign_ids(doc: Doc, previous: list[SectionText] | None) -> None:
    """Every section's id: its old anchor made valid (unique), or — when an earlier revision is given — the id
    of the same heading there, or of the section whose text it mostly shares (a renamed heading)."""
    sections = list(doc.walk())
    taken: set[str] = set()
    candidates = [unique(to_id(s.anchor) or to_id(s.title), taken) for s in sections]
    if previous is None:
        for section, candidate in zip(sections, candidates):
            section.id = candidate
        return
    old = {p.id: p for p in previous}
    used: set[str] = set()
    for section, candidate in zip(sections, candidates):
        if candidate in old:
            section.id = candidate
            used.add(candidate)
    left_old = [p for p in previous if p.id not in used]
    left_new = [s for s in sections if not s.id]
    bags = {id(s): _words(s) for s in left_new}
    pairs = sorted(((similarity(bags[id(s)], p.words), i, j) for i, s in enumerate(left_new)
                    for j, p in enumerate(left_old)), key=lambda x: (-x[0], x[1], x[2]))
    for score, i, j in pairs:
        if score < 0.5:
            break
        if not left_new[i].id and left_old[j].id not in used:
            left_new[i].id = left_old[j].id
            used.add(left_old[j].id)
    for section, candidate in zip(sections, candidates):
        if not section.id:
            section.id = unique(candidate, used)


def clean(text: str) -> tuple[str, list[str]]:
    """Text without the invisible characters the format refuses (named) and control characters."""
    removed = [characters.describe(char) for _, char in characters.find_literal(" " + text)]
    if removed:
        padded = " " + text
        drop = {i for i, _ in characters.find_literal(padded)}
        text = "".join(c for i, c in enumerate(padded) if i not in drop)[1:]
    return _CONTROL.sub(" ", text), removed


class _Builder:
    def __init__(self, doc: Doc, base: str | None) -> None:
        self.doc = doc
        base = base or "/"
        self.base = base if urlsplit(base).netloc else "https://site.invalid/" + base.lstrip("/")
        self.notes: list[Note] = []
        self.anchors: dict[str, str] = {}
        for section, target in _targets(doc.sections, None):
            for name in [section.anchor, *section.anchors, *(a for b in section.blocks for a in block_anchors(b))]:
                for key in (name, unquote(name), name.lower(), to_id(name)):
                    if target:
                        self.anchors.setdefault(key, target)
        self.headings = {n for s in doc.walk() for n in [s.anchor, *s.anchors] if s.body}
        self.kept = self._kept_anchors()
        self.placed: set[str] = set()
        self.line = 0

    def _kept_anchors(self) -> set[str]:
        """The old page's anchors kept as anchors of their own: valid as ids, not a section's id, the first of
        each name; the others are reported (links to them land on their section)."""
        ids = {s.id for s in self.doc.walk() if s.body}
        kept: set[str] = set()
        for section in self.doc.walk():
            own = [section.anchor] if section.anchor != section.id or not section.body else []
            for name in [*own, *section.anchors, *(a for b in section.blocks for a in block_anchors(b))]:
                if name in ids or name in kept:
                    continue
                if ANCHOR_PATTERN.match(name):
                    kept.add(name)
                else:
                    self.note(f"anchor #{name[:60]} is not kept (an anchor is letters, digits, '-', '_', '.' or ':'): "
                              "links to it land on its section", section.line)
        for name in (a for b in self.doc.intro for a in block_anchors(b)):
            self.note(f"anchor #{name[:60]} before the first heading is not kept (the introduction holds no "
                      "anchors)", self.doc.title_line)
        return kept

    def keep(self, name: str | None) -> str | None:
        """The anchor name when it is kept and not placed yet (each is placed once), else None."""
        if name and name in self.kept and name not in self.placed:
            self.placed.add(name)
            return name
        return None

    def note(self, message: str, line: int | None = None) -> None:
        self.notes.append(Note(self.line if line is None else line, message))

    def resolve(self, href: str) -> tuple[str | None, str | None]:
        href = href.strip()
        if href.startswith("//"):
            href = "https:" + href
        base = urlsplit(self.base)
        target = urlsplit(urljoin(self.base, href)) if not re.match(r"^[a-zA-Z][\w+.\-]*:", href) else urlsplit(href)
        if target.scheme not in ("", "http", "https") or link_problem(href):
            if target.scheme == "mailto" and not link_problem(href):
                return href, None
            return None, f"link to '{href[:60]}' is not allowed in the format; its text is kept"
        same_page = target.netloc == base.netloc and target.path == (base.path or "/") and not target.query
        if href.startswith("#") or (same_page and target.fragment):
            anchor = unquote(target.fragment)
            if anchor in self.kept and anchor not in self.headings:
                return f"#{anchor}", None  # a block's own anchor (a heading's other anchors: its section id)
            found = next((self.anchors[k] for k in (anchor, anchor.lower(), to_id(anchor)) if k in self.anchors), None)
            if found is None:
                return None, f"link to '#{anchor}': no heading of the document has that anchor; its text is kept"
            return f"#{found}", None
        if urlsplit(href).netloc or urlsplit(href).scheme:  # absolute links stay as they are
            return href, None
        query = f"?{target.query}" if target.query else ""
        return (target.path or "/") + query + (f"#{target.fragment}" if target.fragment else ""), None

    def text(self, runs: list[Run], line: int, one_line: bool = False) -> str:
        self.line = line
        if one_line:
            runs = [Run(" ") if r.line_break else r for r in runs]
        cleaned: list[Run] = []
        for run in runs:
            text, removed = clean(run.text)
            for name in sorted(set(removed)):
                self.note(f"invisible character {name} removed")
            cleaned.append(Run(text, run.em, run.strong, run.href, run.line_break))
        try:
            written, notes = to_markdown(cleaned, self.resolve)
        except ValueError as exc:
            raise UserError(f"line {line}: {exc}; this is a bug of `policy import` (please report it with the file); "
                            "nothing was written") from None
        for message in notes:
            self.note(message)
        return written

    def title(self, text: str, line: int) -> str:
        written, removed = clean(" ".join(text.split()))
        for name in sorted(set(removed)):
            self.note(f"invisible character {name} removed", line)
        return " ".join(written.split())

    # --- blocks --------------------------------------------------------------------------------
    def blocks(self, blocks: list[DBlock]) -> list[TextBlock]:
        out: list[TextBlock] = []
        for block in _attach_captions(blocks):
            made = self.block(block)
            if made is not None:
                out.append(made)
        return out

    def block(self, block: DBlock) -> TextBlock | None:
        if isinstance(block, Para):
            text = self.text(block.runs, block.line)
            return Paragraph(text, self.keep(block.anchor)) if text else None
        if isinstance(block, DList):
            items: list[Item] = []
            for n, item in enumerate(block.items):
                anchor = self.keep(block.item_anchors.get(n))
                body = self.blocks(item)
                if len(body) == 1 and isinstance(body[0], Paragraph):
                    anchor = anchor or body[0].anchor
                    items.append(ListItem((Paragraph(body[0].text),), anchor) if anchor else body[0].text)
                elif body:
                    items.append(ListItem(tuple(body), anchor))
            return ItemList(block.ordered, tuple(items), self.keep(block.anchor)) if items else None
        cells = [[self.cell(c, block.line) for c in row] for row in block.rows]
        header = tuple(self.cell(c, block.line) for c in block.header) if block.header else None
        caption = self.text(block.caption, block.line, one_line=True) if block.caption else None
        if not any(any(row) for row in cells) and not (header and any(header)):
            return None
        if header is not None and not any(header):
            header = None
        return Table(caption or None, header, tuple(tuple(r) for r in cells), block.row_headers,
                     self.keep(block.anchor))

    def cell(self, cell: DCellValue, line: int) -> CellValue:
        """A cell: its text, or a Cell of paragraphs and lists of one-line items with its anchor."""
        if not isinstance(cell, DCell):
            return self.text(cell, line)
        anchor = self.keep(cell.anchor)
        body: list[Paragraph | ItemList] = []
        for block in self.blocks(cell.blocks):
            if isinstance(block, Paragraph):
                body.append(Paragraph(block.text))
            elif isinstance(block, ItemList):
                body.append(ItemList(block.ordered, tuple(i if isinstance(i, str) else i.body[0].text  # type: ignore
                                                          for i in block.items)))
        if not body:
            return ""
        if len(body) == 1 and isinstance(body[0], Paragraph) and not anchor:
            return body[0].text
        return Cell(tuple(body), anchor)

    def sections(self, sections: list[DSection]) -> list[Section | Paragraph]:
        """Sections of one level; a heading with nothing under it becomes a bold paragraph (reported)."""
        numbered = _numbered([s.title for s in sections])
        out: list[Section | Paragraph] = []
        for section in sections:  # a heading's own blocks come before its first subsection (Outline)
            body: list[TextBlock | Section | Paragraph] = [*self.blocks(section.blocks),
                                                           *self.sections(section.children)]
            title = self.title(section.title, section.line)
            if numbered:
                title = _NUMBERED.match(title).group(2)  # type: ignore[union-attr]
            if not body:
                self.note(f"heading '{title}' has no text under it; kept as a bold paragraph", section.line)
                out.append(Paragraph(f"**{self.text([Run(section.title)], section.line)}**",
                                     self.keep(section.anchor)))
                continue
            own = [section.anchor] if section.anchor != section.id else []
            anchors = tuple(a for a in (self.keep(n) for n in [*own, *section.anchors]) if a)
            out.append(Section(section.id, title, tuple(body), numbered, anchors=anchors))
        return out


def _targets(sections: list[DSection], parent: str | None):
    """(section, the id a link to it lands on): its own, or for a heading with nothing under it (which becomes
    a paragraph) its parent's."""
    for section in sections:
        empty = not section.body
        yield section, (parent if empty else section.id)
        yield from _targets(section.children, parent if empty else section.id)


def _numbered(titles: list[str]) -> bool:
    """Whether sibling headings are numbered 1., 2., 3. … in order: the site numbers them the same way."""
    matches = [_NUMBERED.match(t.strip()) for t in titles]
    return bool(titles) and all(m and int(m.group(1)) == n for n, m in enumerate(matches, start=1))


def _attach_captions(blocks: list[DBlock]) -> list[DBlock]:
    """A paragraph right before (or after) a table that reads like its caption ("Table 1: …", or Word's
    Caption style) becomes the table's caption."""
    out = list(blocks)
    for i, block in enumerate(out):
        if not isinstance(block, DTable) or block.caption:
            continue
        for j in (i - 1, i + 1):
            if 0 <= j < len(out) and isinstance(out[j], Para):
                para = out[j]
                assert isinstance(para, Para)
                text = plain(para.runs)
                if (para.css_class == "caption" or _CAPTION.match(text)) and "\n" not in text.strip():
                    block.caption = para.runs
                    out[j] = Para([], para.line)
                    break
    return [b for b in out if not (isinstance(b, Para) and not b.runs)]


def _section_of_intro(doc: Doc, builder: _Builder, blocks: list[TextBlock]) -> Section:
    taken = {s.id for s in doc.walk()}
    return Section(unique("introduction", taken), "Introduction", tuple(blocks), False)


def convert(doc: Doc, meta: Meta, previous: list[SectionText] | None = None) -> Converted:
    """The Policy of a document (effective date already taken out of it)."""
    assign_ids(doc, previous)
    builder = _Builder(doc, doc.front.get("base") or doc.front.get("permalink"))
    title = builder.title(doc.title or meta.fallback_title, doc.title_line)
    intro = builder.blocks(doc.intro)
    made = builder.sections(doc.sections)
    sections: list[Section] = []
    for part in made:  # a bold paragraph standing for an empty top-level heading joins the section before it
        if isinstance(part, Section):
            sections.append(part)
        elif sections:
            last = sections[-1]
            sections[-1] = replace(last, body=last.body + (part,))
        else:
            intro.append(part)
    introduction: tuple[str, ...] = ()
    if all(isinstance(b, Paragraph) for b in intro):
        introduction = tuple(b.text for b in intro if isinstance(b, Paragraph))
    else:  # lists or tables before the first heading: the introduction holds paragraphs only
        builder.note("the text before the first heading holds lists or tables: it became a first section "
                     "'Introduction'", 0)
        sections.insert(0, _section_of_intro(doc, builder, intro))
    if not sections:
        builder.note("the document has no headings below its title: its text became one section", 0)
        sections = [Section(unique(to_id(title) or "policy", set()), title, tuple(Paragraph(t) for t in introduction)
                            or (Paragraph(title),), False)]
        introduction = ()
    policy = Policy(title, meta.version, meta.effective, meta.summary, meta.organisation, introduction,
                    tuple(sections))
    renamed = [(s.anchor, s.id) for s in doc.walk() if s.anchor != s.id]
    texts = [SectionText(s.id, _words(s)) for s in doc.walk()]
    return Converted(policy, builder.notes + doc.notes, renamed, texts)
