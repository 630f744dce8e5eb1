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


@dataclass(frozen=True)
class ListItem:
    """A list item of several blocks: paragraphs, nested lists, tables. A one-paragraph item is a plain str."""

    body: tuple[TextBlock, ...]


Item = str | ListItem


@dataclass(frozen=True)
class ItemList:
    ordered: bool
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Table:
    """A table: an optional caption and header row, rows of cells (inline text, line breaks allowed).
    With row_headers the first cell of each row heads its row."""

    caption: str | None
    header: tuple[str, ...] | None
    rows: tuple[tuple[str, ...], ...]
    row_headers: bool = False


TextBlock = Paragraph | ItemList | Table


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    body: tuple[Block, ...]
    numbered: bool = True
    summary: str | None = None  # the plain-language "In short" box

    @cached_property
    def subsections(self) -> tuple[Section, ...]:
        return tuple(b for b in self.body if isinstance(b, Section))

    @cached_property
    def own_blocks(self) -> tuple[Block, ...]:
        """Paragraphs, lists and tables of this section, without its subsections."""
        return tuple(b for b in self.body if not isinstance(b, Section))


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
        return [p.section.id for p in self.walk()]


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


codec.register(Paragraph, ListItem, ItemList, Table, Section, Organisation, Policy)


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
            yield from (cell for cell in row if cell)


def policy_texts(policy: Policy) -> Iterator[str]:
    """Every inline text of a policy, in reading order (titles aside)."""
    yield from policy.introduction
    for placed in policy.walk():
        if placed.section.summary:
            yield placed.section.summary
        for block in placed.section.own_blocks:
            yield from block_texts(block)


# --- plain data form, for JSON output ------------------------------------------------------------

def _item_to_data(item: Item) -> object:
    return item if isinstance(item, str) else {"body": [block_to_data(b) for b in item.body]}


def table_to_data(table: Table) -> dict:
    data: dict = {}
    if table.caption is not None:
        data["caption"] = table.caption
    if table.header is not None:
        data["header"] = list(table.header)
    if table.row_headers:
        data["row_headers"] = True
    data["rows"] = [list(row) for row in table.rows]
    return data


def block_to_data(block: Block) -> object:
    """The YAML form of a block (what the files hold; new fields appear only when used, so a policy that uses
    none of them keeps the same data, and the same content hash)."""
    if isinstance(block, Paragraph):
        return block.text
    if isinstance(block, ItemList):
        return {"numbered" if block.ordered else "bullets": [_item_to_data(i) for i in block.items]}
    if isinstance(block, Table):
        return {"table": table_to_data(block)}
    return {"section": section_to_data(block)}


def section_to_data(section: Section) -> dict:
    data: dict = {"id": section.id, "title": section.title}
    if not section.numbered:
        data["numbered"] = False
    if section.summary is not None:
        data["summary"] = section.summary
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

    return {
        "title": policy.title,
        "version": policy.version,
        "effective": policy.effective.isoformat(),
        "summary": policy.summary,
        "organisation": {"name": policy.organisation.name, "contact": policy.organisation.contact},
        "introduction": list(policy.introduction),
        **({"change": policy.change} if policy.change != "material" else {}),
        "sections": [section(s) for s in policy.sections],
    }


def content_hash(policy: Policy) -> str:
    """The identity of a policy's text: sha256 (hex) of its plain data as canonical JSON."""
    text = json.dumps(policy_to_data(policy), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
