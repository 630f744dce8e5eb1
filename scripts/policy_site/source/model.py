"""The typed policy: metadata, ordered sections, and their blocks (paragraphs, lists, subsections)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import cached_property, lru_cache

from .. import codec

# numbers without leading zeros (a zero may be written "0" or "00"), at most 9 digits, two or three of them
VERSION_PATTERN = re.compile(r"^(0|[1-9]\d{0,8})(\.(0+|[1-9]\d{0,8})){1,2}$")
VERSION_SHAPE = re.compile(r"^\d+(\.\d+){1,2}$")
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# an anchor of a block or an extra anchor of a section: kept as the source wrote it (links from elsewhere use it)
ANCHOR_PATTERN = re.compile(r"^(?!__)[A-Za-z0-9_][A-Za-z0-9_.:-]{0,99}$")


@lru_cache(maxsize=4096)  # a history compares the same few version strings many times
def version_key(version: str) -> tuple[int, ...]:
    """The number a version string stands for, for sorting and equality: "1.10" comes after "1.9", and
    "1.0" = "1.00" = "1.0.0" (trailing zero numbers are ignored). ValueError if it is not a version."""
    digits = [part.lstrip("0") for part in version.split(".")] if VERSION_SHAPE.match(version) else []
    if not digits or any(len(d) > 9 for d in digits):
        raise ValueError(f"not a version number: {version!r}")
    parts = [int(d or "0") for d in digits]
    while parts and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def same_version(a: str, b: str) -> bool:
    """Whether two version strings are the same number, however spelled."""
    try:
        return version_key(a) == version_key(b)
    except ValueError:
        return a == b


@dataclass(frozen=True)
class Paragraph:
    text: str
    anchor: str | None = None  # an id of its own on the page (`{text: …, anchor: …}`), for links from elsewhere


@dataclass(frozen=True)
class ListItem:
    """A list item of several blocks (paragraphs, nested lists, tables), or of one paragraph with an anchor.
    A one-paragraph item without an anchor is a plain str."""

    body: tuple[TextBlock, ...]
    anchor: str | None = None

    @property
    def inline(self) -> str | None:
        """The item's text when it is one paragraph given as `{text: …, anchor: …}` (shown as a plain item)."""
        first = self.body[0]
        return first.text if len(self.body) == 1 and isinstance(first, Paragraph) and self.anchor else None


Item = str | ListItem


@dataclass(frozen=True)
class ItemList:
    ordered: bool
    items: tuple[Item, ...]
    anchor: str | None = None


@dataclass(frozen=True)
class Cell:
    """A table cell that is more than one text: paragraphs and lists of one-line items, and/or an anchor of its
    own. A cell of one text without an anchor is a plain str."""

    body: tuple[Paragraph | ItemList, ...]
    anchor: str | None = None

    @property
    def inline(self) -> str | None:
        """The cell's text when it is one paragraph (with an anchor), else None."""
        first = self.body[0]
        return first.text if len(self.body) == 1 and isinstance(first, Paragraph) else None


CellValue = str | Cell


@dataclass(frozen=True)
class Table:
    """A table: an optional caption and header row, rows of cells (inline text with line breaks, or a Cell of
    paragraphs and lists). With row_headers the first cell of each row heads its row."""

    caption: str | None
    header: tuple[CellValue, ...] | None
    rows: tuple[tuple[CellValue, ...], ...]
    row_headers: bool = False
    anchor: str | None = None


TextBlock = Paragraph | ItemList | Table


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    body: tuple[Block, ...]
    numbered: bool = True
    summary: str | None = None  # the plain-language "In short" box
    anchors: tuple[str, ...] = ()  # other anchors that land on its heading (a source's old ids), kept as written

    @cached_property
    def subsections(self) -> tuple[Section, ...]:
        return tuple(b for b in self.body if isinstance(b, Section))

    @cached_property
    def own_blocks(self) -> tuple[Block, ...]:
        """Paragraphs, lists and tables of this section, without its subsections."""
        return tuple(b for b in self.body if not isinstance(b, Section))

    @cached_property
    def canonical(self) -> bytes:
        """canonical_bytes(section_to_data(self)): made once per section, which the versions that keep it share."""
        return canonical_bytes(section_to_data(self))

    @cached_property
    def tree_ids(self) -> tuple[str, ...]:
        """Its id and its subsections', in reading order: known once per section, which the versions that keep it
        unchanged share (a history of 300 versions walks its few distinct sections, not 300 trees)."""
        return (self.id, *(i for s in self.subsections for i in s.tree_ids))


Block = Paragraph | ItemList | Table | Section


@dataclass(frozen=True)
class Organisation:
    name: str
    contact: str


@dataclass(frozen=True)
class Policy:
    title: str
    version: str
    effective: date
    summary: str
    organisation: Organisation
    introduction: tuple[str, ...]
    sections: tuple[Section, ...]
    change: str = "material"  # the kind of change this version declares: material | minor | editorial

    def walk(self) -> tuple[PlacedSection, ...]:
        """Every section and subsection in reading order, with its number and parent."""
        return self._placed

    @cached_property
    def _placed(self) -> tuple[PlacedSection, ...]:
        return tuple(_walk(self.sections, parent=None, depth=1))

    def section_ids(self) -> list[str]:
        """Every section's id in reading order (walk()'s, without placing each section)."""
        return [i for s in self.sections for i in s.tree_ids]


@dataclass(frozen=True)
class PlacedSection:
    """A section where it stands in a policy: its number label ('2.' or None), depth and parent id."""

    section: Section
    number: str | None
    depth: int
    parent: str | None


def _walk(sections: tuple[Section, ...], parent: str | None, depth: int) -> Iterator[PlacedSection]:
    counter = 0
    for section in sections:
        number = None
        if section.numbered:
            counter += 1
            number = f"{counter}."
        yield PlacedSection(section, number, depth, parent)
        yield from _walk(section.subsections, section.id, depth + 1)


codec.register(Paragraph, ListItem, ItemList, Cell, Table, Section, Organisation, Policy)


def cell_texts(cell: CellValue) -> Iterator[str]:
    """The inline texts of a table cell: its text, or its paragraphs' and list items' texts."""
    if isinstance(cell, str):
        if cell:
            yield cell
        return
    for block in cell.body:
        yield from block_texts(block)


def block_anchors(block: Block) -> Iterator[str]:
    """The anchors a block puts on the page (its own, its items', its cells'), subsections aside."""
    if isinstance(block, (Paragraph, ItemList, Table)) and block.anchor:
        yield block.anchor
    if isinstance(block, ItemList):
        for item in block.items:
            if isinstance(item, ListItem):
                if item.anchor:
                    yield item.anchor
                for inner in item.body:
                    yield from block_anchors(inner)
    elif isinstance(block, Table):
        for row in ((block.header,) if block.header else ()) + block.rows:
            for cell in row:
                if isinstance(cell, Cell) and cell.anchor:
                    yield cell.anchor


def policy_anchors(policy: Policy) -> dict[str, str]:
    """Every anchor of a policy's page that is not a section id: anchor → the id of the section it lands in."""
    out: dict[str, str] = {}
    for placed in policy.walk():
        section = placed.section
        for name in section.anchors:
            out.setdefault(name, section.id)
        for block in section.own_blocks:
            for name in block_anchors(block):
                out.setdefault(name, section.id)
    return out


def block_texts(block: Block) -> Iterator[str]:
    """Every inline text of a block: paragraphs, list items at any depth, table captions and cells."""
    if isinstance(block, Paragraph):
        yield block.text
    elif isinstance(block, ItemList):
        for item in block.items:
            if isinstance(item, str):
                yield item
            else:
                for inner in item.body:
                    yield from block_texts(inner)
    elif isinstance(block, Table):
        if block.caption:
            yield block.caption
        for row in ((block.header,) if block.header else ()) + block.rows:
            for cell in row:
                yield from cell_texts(cell)


def policy_texts(policy: Policy) -> Iterator[str]:
    """Every inline text of a policy, in reading order (titles aside)."""
    yield from policy.introduction
    for placed in policy.walk():
        if placed.section.summary:
            yield placed.section.summary
        for block in placed.section.own_blocks:
            yield from block_texts(block)


# --- plain data form, for JSON output ------------------------------------------------------------

def _anchored(data: dict, anchor: str | None) -> dict:
    if anchor:
        data["anchor"] = anchor
    return data


def _item_to_data(item: Item) -> object:
    if isinstance(item, str):
        return item
    if item.inline is not None:
        return _anchored({"text": item.inline}, item.anchor)
    return _anchored({"body": [block_to_data(b) for b in item.body]}, item.anchor)


def cell_to_data(cell: CellValue) -> object:
    """A cell as the files hold it: text, {text, anchor} or {body: [...], anchor?}."""
    if isinstance(cell, str):
        return cell
    if cell.inline is not None:
        return _anchored({"text": cell.inline}, cell.anchor)
    return _anchored({"body": [block_to_data(b) for b in cell.body]}, cell.anchor)


def table_to_data(table: Table) -> dict:
    data: dict = {}
    if table.caption is not None:
        data["caption"] = table.caption
    if table.header is not None:
        data["header"] = [cell_to_data(c) for c in table.header]
    if table.row_headers:
        data["row_headers"] = True
    data["rows"] = [[cell_to_data(c) for c in row] for row in table.rows]
    return data


def block_to_data(block: Block) -> object:
    """The YAML form of a block (what the files hold; new fields appear only when used, so a policy that uses
    none of them keeps the same data, and the same content hash)."""
    if isinstance(block, Paragraph):
        return _anchored({"text": block.text}, block.anchor) if block.anchor else block.text
    if isinstance(block, ItemList):
        return _anchored({"numbered" if block.ordered else "bullets": [_item_to_data(i) for i in block.items]},
                         block.anchor)
    if isinstance(block, Table):
        return _anchored({"table": table_to_data(block)}, block.anchor)
    return {"section": section_to_data(block)}


def section_to_data(section: Section) -> dict:
    data: dict = {"id": section.id, "title": section.title}
    if not section.numbered:
        data["numbered"] = False
    if section.summary is not None:
        data["summary"] = section.summary
    if section.anchors:
        data["anchors"] = list(section.anchors)
    data["body"] = [block_to_data(b) for b in section.body]
    return data


def policy_to_data(policy: Policy, memo: dict[int, tuple[Section, dict]] | None = None) -> dict:
    """Plain data of a policy; memo (keyed by section identity) saves work across many similar versions."""
    def section(s: Section) -> dict:
        if memo is None:
            return section_to_data(s)
        hit = memo.get(id(s))
        if hit is None or hit[0] is not s:
            hit = memo[id(s)] = (s, section_to_data(s))
        return hit[1]

    return {**_head(policy), "sections": [section(s) for s in policy.sections]}


def _head(policy: Policy) -> dict:
    """policy_to_data without its sections."""
    return {
        "title": policy.title,
        "version": policy.version,
        "effective": policy.effective.isoformat(),
        "summary": policy.summary,
        "organisation": {"name": policy.organisation.name, "contact": policy.organisation.contact},
        "introduction": list(policy.introduction),
        **({"change": policy.change} if policy.change != "material" else {}),
    }


def without_anchors(data: object) -> object:
    """Plain data (policy_to_data's) with every anchor taken out: what a reader reads. A paragraph, item or cell
    that was {text, anchor} is its text again."""
    if isinstance(data, list):
        return [without_anchors(v) for v in data]
    if not isinstance(data, dict):
        return data
    out = {k: without_anchors(v) for k, v in data.items() if k not in ("anchor", "anchors")}
    return out["text"] if set(out) == {"text"} else out


def canonical_bytes(data: object) -> bytes:
    """Plain data (policy_to_data's, or the `policy` of a published policy.json) as the canonical JSON that
    content_hash hashes: keys sorted, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def policy_bytes(policy: Policy) -> bytes:
    """canonical_bytes(policy_to_data(policy)), the same bytes, with each section's part written once for every
    version that keeps the section (Section.canonical): sorted keys at the top, each value as canonical_bytes
    writes it, so nothing but the order of work differs."""
    head = _head(policy)
    sections = b"[" + b",".join(s.canonical for s in policy.sections) + b"]"
    parts = [canonical_bytes(key) + b":" + (sections if key == "sections" else canonical_bytes(head[key]))
             for key in sorted([*head, "sections"])]
    return b"{" + b",".join(parts) + b"}"


def content_hash(policy: Policy) -> str:
    """The identity of a policy's text: sha256 (hex) of its plain data as canonical JSON."""
    return hashlib.sha256(policy_bytes(policy)).hexdigest()
