"""The typed policy: metadata, ordered sections, and their blocks (paragraphs, lists, subsections)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from .. import codec

# numbers without leading zeros (a zero may be written "0" or "00"), at most 9 digits, two or three of them
VERSION_PATTERN = re.compile(r"^(0|[1-9]\d{0,8})(\.(0+|[1-9]\d{0,8})){1,2}$")
VERSION_SHAPE = re.compile(r"^\d+(\.\d+){1,2}$")
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


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
class ItemList:
    ordered: bool
    items: tuple[str, ...]


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    body: tuple[Block, ...]
    numbered: bool = True

    @cached_property
    def subsections(self) -> tuple[Section, ...]:
        return tuple(b for b in self.body if isinstance(b, Section))

    @cached_property
    def own_blocks(self) -> tuple[Block, ...]:
        """Paragraphs and lists of this section, without its subsections."""
        return tuple(b for b in self.body if not isinstance(b, Section))


Block = Paragraph | ItemList | Section


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


codec.register(Paragraph, ItemList, Section, Organisation, Policy)


# --- plain data form, for JSON output ------------------------------------------------------------

def block_to_data(block: Block) -> object:
    if isinstance(block, Paragraph):
        return block.text
    if isinstance(block, ItemList):
        return {"numbered" if block.ordered else "bullets": list(block.items)}
    return {"section": section_to_data(block)}


def section_to_data(section: Section) -> dict:
    data: dict = {"id": section.id, "title": section.title}
    if not section.numbered:
        data["numbered"] = False
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
        "sections": [section(s) for s in policy.sections],
    }


def content_hash(policy: Policy) -> str:
    """The identity of a policy's text: sha256 (hex) of its plain data as canonical JSON."""
    text = json.dumps(policy_to_data(policy), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
