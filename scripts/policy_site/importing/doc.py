"""The document as read from any source format, before it becomes a Policy: headings, blocks and inline runs
with their source lines, and the notes of what could not be represented faithfully.

Readers (markdown.py, html.py) fill an Outline with headings and blocks in reading order; convert.py turns the
resulting Doc into a Policy. Links stay as written (made absolute or `#anchor`) until ids are final.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Run:
    """A piece of inline text with its formatting; line_break=True stands for a hard line break."""

    text: str
    em: bool = False
    strong: bool = False
    href: str | None = None
    line_break: bool = False


BREAK = Run("\n", line_break=True)
Inline = list[Run]


def plain(runs: Inline) -> str:
    """The text of runs, a line break as a newline."""
    return "".join("\n" if r.line_break else r.text for r in runs)


@dataclass
class Para:
    runs: Inline
    line: int
    css_class: str = ""  # the HTML class ('caption' marks a table caption from Word)
    datetime: str | None = None  # a Markdown attribute list's datetime="…" on this paragraph (dates.py reads it)
    anchor: str | None = None  # the id the old page gave this paragraph


@dataclass
class DList:
    ordered: bool
    items: list[list[DBlock]]
    line: int
    anchor: str | None = None
    item_anchors: dict[int, str] = field(default_factory=dict)  # item index → the id the old page gave it


@dataclass
class DCell:
    """A table cell that holds more than a line of text: paragraphs and lists, and/or an anchor."""

    blocks: list[DBlock]
    anchor: str | None = None


DCellValue = Inline | DCell


@dataclass
class DTable:
    rows: list[list[DCellValue]]
    line: int
    header: list[DCellValue] | None = None
    caption: Inline | None = None
    row_headers: bool = False
    anchor: str | None = None


DBlock = Para | DList | DTable


def block_anchors(block: DBlock) -> list[str]:
    """The anchors the old page gave a block, its items and its cells."""
    out = [block.anchor] if block.anchor else []
    if isinstance(block, DList):
        out += list(block.item_anchors.values())
        out += [a for item in block.items for inner in item for a in block_anchors(inner)]
    elif isinstance(block, DTable):
        out += [c.anchor for row in ([block.header] if block.header else []) + block.rows for c in row
                if isinstance(c, DCell) and c.anchor]
    return out


@dataclass
class DSection:
    title: str
    anchor: str  # the anchor the old page had for this heading
    level: int
    line: int
    body: list[DBlock | DSection] = field(default_factory=list)
    anchors: list[str] = field(default_factory=list)  # other anchors of the old page inside this section
    id: str = ""  # set by convert.assign_ids

    @property
    def blocks(self) -> list[DBlock]:
        return [b for b in self.body if not isinstance(b, DSection)]

    @property
    def children(self) -> list[DSection]:
        return [b for b in self.body if isinstance(b, DSection)]

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True, order=True)
class Note:
    """Something the import could not represent faithfully, at a source line (0: the whole document)."""

    line: int
    message: str


@dataclass
class Doc:
    title: str | None
    title_line: int
    intro: list[DBlock]
    sections: list[DSection]
    front: dict = field(default_factory=dict)  # front matter (Markdown) or page metadata (HTML)
    notes: list[Note] = field(default_factory=list)
    where: str = "line"  # how positions are named in notes: "line" (Markdown, HTML) or "paragraph" (Word)

    def walk(self):
        for section in self.sections:
            yield from section.walk()


class Outline:
    """Builds a Doc from headings and blocks in reading order: the first level-1 heading is the title; the
    other headings nest by level (a deeper heading is a subsection of the nearest shallower one).

    An anchor of the old page (`anchor`) waits for what comes next: the next block puts it in the section it
    belongs to, the next heading makes it one of that heading's anchors — so `<a id="partners"></a>` standing
    alone right before a heading lands on that heading's section, not on the one before."""

    def __init__(self) -> None:
        self.title: str | None = None
        self.title_line = 0
        self.intro: list[DBlock] = []
        self.sections: list[DSection] = []
        self._stack: list[DSection] = []
        self._pending: list[str] = []  # anchors waiting for the next block or heading
        self.notes: list[Note] = []

    def heading(self, level: int, title: str, anchor: str, line: int, anchors: list[str] | None = None) -> None:
        """A heading with its anchor and its other anchors (ids of elements it opens or holds)."""
        if level == 1 and self.title is None and not self.sections:
            self.title, self.title_line = title, line
            self._pending = []  # anchors before the title: the top of the page (no section)
            return
        section = DSection(title, anchor, level, line, anchors=[*self._pending, *(anchors or [])])
        self._pending = []
        while self._stack and self._stack[-1].level >= level:
            self._stack.pop()
        (self._stack[-1].body if self._stack else self.sections).append(section)
        self._stack.append(section)

    def block(self, block: DBlock) -> None:
        self.settle()
        (self._stack[-1].body if self._stack else self.intro).append(block)

    def anchor(self, name: str) -> None:
        """An anchor of the old page (an element id) at this point of the text: it belongs to the section of the
        next block, or to the next heading when a heading comes first."""
        if name:
            self._pending.append(name)

    @property
    def in_section(self) -> bool:
        """Whether the text read now belongs to a section (not to the introduction)."""
        return bool(self._stack)

    def settle(self) -> None:
        """Anchors waiting go to the current section (before the first heading: nowhere, as before)."""
        if self._stack:
            self._stack[-1].anchors.extend(self._pending)
        self._pending = []

    def note(self, line: int, message: str) -> None:
        self.notes.append(Note(line, message))

    def doc(self, front: dict | None = None, where: str = "line") -> Doc:
        self.settle()
        return Doc(self.title, self.title_line, self.intro, self.sections, front or {}, self.notes, where)
