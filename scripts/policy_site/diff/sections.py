"""Two versions → section-level changes (added, removed, modified, moved, renamed) with word-level redlines."""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import codec
from ..source import inline
from ..source.model import ItemList, Paragraph, Policy, Section
from .redline import RedlineBlock, redline

KINDS = ("added", "removed", "renamed", "moved", "modified")


@dataclass
class SectionChange:
    id: str
    kinds: tuple[str, ...]
    old_title: str | None
    new_title: str | None
    old_number: str | None = None
    new_number: str | None = None
    depth: int = 1
    redline: list[RedlineBlock] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.new_title if self.new_title is not None else self.old_title or self.id

    @property
    def kind(self) -> str:
        return ", ".join(self.kinds) if self.kinds else "unchanged"


@dataclass(frozen=True)
class MetaChange:
    field: str
    old: str
    new: str


@dataclass
class PolicyDiff:
    """The changed sections (in reading order, removed ones last) and how many stayed the same."""

    old: Policy | None
    new: Policy
    meta: list[MetaChange]
    changed: list[SectionChange]
    unchanged_count: int
    introduction: list[RedlineBlock] = field(default_factory=list)


def _lines(section: Section | None) -> list[tuple[str, str]]:
    """A section's own text as (kind, plain text) lines: paragraphs and list items."""
    out: list[tuple[str, str]] = []
    for block in section.own_blocks if section else ():
        if isinstance(block, Paragraph):
            out.append(("p", inline.to_text(block.text)))
        elif isinstance(block, ItemList):
            out.extend(("ol" if block.ordered else "ul", inline.to_text(item)) for item in block.items)
    return out


def _moved_ids(old_order: list[str], new_order: list[str]) -> set[str]:
    """Ids kept in both orders but outside their longest common subsequence (so one insertion moves nothing)."""
    old_set, new_set = set(old_order), set(new_order)
    common_new = [i for i in new_order if i in old_set]
    common_old = [i for i in old_order if i in new_set]
    if common_new == common_old:
        return set()
    # LCS by dynamic programming over the (small) lists of common ids
    n, m = len(common_old), len(common_new)
    table = [[0] * (m + 1) for _ in range(n + 1)]
    for x in range(n - 1, -1, -1):
        for y in range(m - 1, -1, -1):
            table[x][y] = table[x + 1][y + 1] + 1 if common_old[x] == common_new[y] \
                else max(table[x + 1][y], table[x][y + 1])
    keep: set[str] = set()
    x = y = 0
    while x < n and y < m:
        if common_old[x] == common_new[y]:
            keep.add(common_old[x])
            x, y = x + 1, y + 1
        elif table[x + 1][y] >= table[x][y + 1]:
            x += 1
        else:
            y += 1
    return set(common_new) - keep


def _siblings(policy: Policy | None) -> dict[str | None, list[str]]:
    groups: dict[str | None, list[str]] = {}
    for placed in policy.walk() if policy else ():
        groups.setdefault(placed.parent, []).append(placed.section.id)
    return groups


def diff_policies(old: Policy | None, new: Policy) -> PolicyDiff:
    """Section changes from old to new (old None: everything is added)."""
    old_placed = {p.section.id: p for p in old.walk()} if old else {}
    new_placed = {p.section.id: p for p in new.walk()}
    moved: set[str] = set()
    old_groups, new_groups = _siblings(old), _siblings(new)
    for parent, ids in new_groups.items():
        moved |= _moved_ids(old_groups.get(parent, []), ids)
    moved |= {i for i, p in new_placed.items() if i in old_placed and old_placed[i].parent != p.parent}
    changes: list[SectionChange] = []
    for section_id, placed in new_placed.items():
        before = old_placed.get(section_id)
        kinds: list[str] = []
        if before is not None and before.section.own_blocks == placed.section.own_blocks:
            lines_old = lines_new = []  # identical text: skip the word split
        else:
            lines_old, lines_new = _lines(before.section if before else None), _lines(placed.section)
        if before is None:
            kinds.append("added")
        else:
            if before.section.title != placed.section.title:
                kinds.append("renamed")
            if section_id in moved:
                kinds.append("moved")
            if lines_old != lines_new:
                kinds.append("modified")
        changes.append(SectionChange(
            section_id, tuple(kinds), before.section.title if before else None, placed.section.title,
            before.number if before else None, placed.number, placed.depth,
            redline(lines_old, lines_new) if {"added", "modified"} & set(kinds) else []))
    for section_id, placed in old_placed.items():
        if section_id not in new_placed:
            changes.append(SectionChange(section_id, ("removed",), placed.section.title, None, placed.number,
                                         None, placed.depth, redline(_lines(placed.section), [])))
    meta: list[MetaChange] = []
    if old is not None:
        for name, a, b in (("title", old.title, new.title), ("version", old.version, new.version),
                           ("effective date", old.effective.isoformat(), new.effective.isoformat()),
                           ("organisation", old.organisation.name, new.organisation.name),
                           ("contact", old.organisation.contact, new.organisation.contact)):
            if a != b:
                meta.append(MetaChange(name, a, b))
    intro: list[RedlineBlock] = []
    if old is None or old.introduction != new.introduction:
        intro = redline([("p", inline.to_text(t)) for t in (old.introduction if old else ())],
                        [("p", inline.to_text(t)) for t in new.introduction])
    changed = [c for c in changes if c.kinds]
    return PolicyDiff(old, new, meta, changed, len(changes) - len(changed), intro)


def diff_to_data(d: PolicyDiff) -> dict:
    """The JSON form shared by `policy diff --format json` and the in-browser compare page."""
    return {
        "from": d.old.version if d.old else None,
        "to": d.new.version,
        "meta": [{"field": m.field, "old": m.old, "new": m.new} for m in d.meta],
        "introduction_changed": bool(d.introduction),
        "sections": [
            {"id": s.id, "kinds": list(s.kinds), "old_title": s.old_title, "new_title": s.new_title,
             "old_number": s.old_number, "new_number": s.new_number,
             "redline": [{"kind": b.kind, "status": b.status,
                          "pieces": [[p.op, p.text] for p in b.pieces]} for b in s.redline]}
            for s in d.changed
        ],
        "unchanged": d.unchanged_count,
    }


codec.register(SectionChange, MetaChange, PolicyDiff)
