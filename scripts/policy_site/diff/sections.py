"""Two versions → section-level changes (added, removed, renamed, moved, modified) with word-level redlines.

Identity is the section id. A section is modified when its own text changed in any visible way: words,
emphasis, link targets. A move records where from and where to (parent, position among its siblings and
the sibling just before it) and is told by where the section now stands, as a reader finds it: after which
section, under which one ("Moved: now under “Your rights”, after “Access”."). Every change carries its
context (the titles of the sections it sits in), so it reads correctly wherever sections are listed out of
their tree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import codec
from ..source import inline
from ..source.inline import Word
from ..source.model import Block, CellValue, ItemList, Paragraph, PlacedSection, Policy, Section, Table, policy_anchors
from .redline import CELL_MARKERS, RedlineBlock, Unit, redline

KINDS = ("added", "removed", "renamed", "moved", "modified")
CONTEXT_SEPARATOR = " › "


@dataclass(frozen=True, slots=True)
class Place:
    """Where a section stands: its parent (id and label, None at the top level), 1-based position, and the
    sibling just before it (id and label, None for the first)."""

    parent: str | None
    parent_label: str | None
    position: int
    siblings: int
    after: str | None = None
    after_label: str | None = None


@dataclass
class SectionChange(codec.Lazy):  # not slots: its redline is decoded from the parse cache when first read
    id: str
    kinds: tuple[str, ...]
    old_title: str | None
    new_title: str | None
    old_number: str | None = None
    new_number: str | None = None
    depth: int = 1
    redline: list[RedlineBlock] = field(default_factory=list)
    context: tuple[str, ...] = ()  # labels of the enclosing sections, outermost first
    old_place: Place | None = None
    new_place: Place | None = None

    @property
    def title(self) -> str:
        return self.new_title if self.new_title is not None else self.old_title or self.id

    @property
    def number(self) -> str:
        return self.new_number or self.old_number or ""

    @property
    def label(self) -> str:
        """'2. Title', or the title alone in an unnumbered policy."""
        return f"{self.number} {self.title}".strip()

    @property
    def path_label(self) -> str:
        """The label with its context: 'Some important terms › 4. Enable cookies:'."""
        return CONTEXT_SEPARATOR.join((*self.context, self.label))

    @property
    def kind(self) -> str:
        return ", ".join(self.kinds) if self.kinds else "unchanged"

    @property
    def move(self) -> str | None:
        """Where a moved section now stands, in words: 'Moved: now after “2. Sharing”.'"""
        if "moved" not in self.kinds or not self.old_place or not self.new_place:
            return None
        return move_text(self.old_place, self.new_place)


def move_text(old: Place, new: Place) -> str:
    """A move told by the section's new neighbour and parent (compare.js's moveText says the same):
    'Moved: now after “A”.', 'Moved: now the first section.', 'Moved: now under “P”, after “A”.',
    'Moved: now the first section under “P”.', 'Moved: now at the top level, after “A”.' ('the only section
    under “P”' when it has no sibling there)."""
    changed_parent = old.parent != new.parent
    inside = f"under “{new.parent_label}”" if new.parent_label is not None else "at the top level"
    if new.after_label is None:
        where = ("the only section" if new.siblings == 1 else "the first section") \
            + (f" {inside}" if changed_parent or new.parent is not None else "")
    else:
        where = (f"{inside}, after" if changed_parent else "after") + f" “{new.after_label}”"
    return f"Moved: now {where}."


@dataclass(frozen=True, slots=True)
class MetaChange:
    field: str
    old: str
    new: str


@dataclass
class PolicyDiff(codec.Lazy):
    """The changed sections (in reading order, removed ones last) and how many stayed the same."""

    old: Policy | None
    new: Policy
    meta: list[MetaChange]
    changed: list[SectionChange]
    unchanged_count: int
    introduction: list[RedlineBlock] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changed if kind in c.kinds)

    @property
    def sections_before(self) -> int:
        return len(self.old.section_ids()) if self.old else 0

    @property
    def sections_after(self) -> int:
        return len(self.new.section_ids())

    @property
    def summary(self) -> str:
        """'3 of 40 sections changed (1 added, 2 modified); 37 unchanged.'"""
        parts = [f"{self.count(k)} {k}" for k in ("added", "removed", "modified", "renamed", "moved") if self.count(k)]
        detail = f" ({', '.join(parts)})" if parts else ""
        return (f"{len(self.changed)} of {max(self.sections_before, self.sections_after)} sections changed{detail}; "
                f"{self.unchanged_count} unchanged.")

    @property
    def anchors_changed(self) -> bool:
        """Whether the anchors on the page (ids links can point to, other than section ids) changed."""
        return self.old is not None and policy_anchors(self.old) != policy_anchors(self.new)

    @property
    def unseen(self) -> str:
        """What may have changed in a version that reads as before, in words: 'the version number or its date',
        with ', … or its link anchors' when those changed."""
        return "the version number, its date or its link anchors" if self.anchors_changed else \
            "the version number or its date"

    @property
    def visible(self) -> bool:
        """False when the new text reads exactly like the old one (only the version, its date or anchors
        changed: anchors are not text)."""
        return bool(self.changed or self.introduction
                    or any(m.field not in ("version", "effective date") for m in self.meta))


def _block_units(block: Block, path: str, out: list[Unit]) -> None:
    """Units of one block inside a list item at path ('ul', 'ul/ol') or at the top ('')."""
    inner = f"{path}+" if path else ""
    if isinstance(block, Paragraph):
        out.append((inner + "p", inline.words(block.text)))
    elif isinstance(block, ItemList):
        item_path = f"{path}/" if path else ""
        item_path += "ol" if block.ordered else "ul"
        for item in block.items:
            if isinstance(item, str):
                out.append((item_path, inline.words(item)))
                continue
            first, *rest = item.body
            if isinstance(first, Paragraph):
                out.append((item_path, inline.words(first.text)))
            else:  # the item starts with a list or a table: an empty start keeps the items apart
                out.append((item_path, ()))
                rest = [first, *rest]
            for inside in rest:
                _block_units(inside, item_path, out)
    elif isinstance(block, Table):
        out.append((inner + ("table*" if block.row_headers else "table"), inline.words(block.caption or "")))
        if block.header:
            out.append((inner + "th", tuple(cell_words(cell) for cell in block.header)))
        out.extend((inner + "tr", tuple(cell_words(cell) for cell in row)) for row in block.rows)


def cell_words(cell: CellValue) -> tuple[Word, ...]:
    """A cell's words; in a cell of several blocks each list item and each further paragraph starts with its
    marker word (redline.CELL_MARKERS). Anchors are not words: a change to them alone changes no text."""
    if isinstance(cell, str):
        return inline.words(cell)
    out: list[Word] = []
    for n, block in enumerate(cell.body):
        if isinstance(block, Paragraph):
            if n:
                out.append((CELL_MARKERS["p"], ("p",), False))
            out += inline.words(block.text)
        else:
            kind = "li:ol" if block.ordered else "li:ul"
            for item in block.items:
                out.append((CELL_MARKERS[kind], (kind,), False))
                out += inline.words(item if isinstance(item, str) else "")
    return tuple(out)


def units(section: Section | None) -> list[Unit]:
    """A section's own text as redline units, in reading order.

    Kinds: 'summary' (the In short box) and 'p' (a paragraph); a list item that starts at a list path — 'ul',
    'ol', 'ul/ol' (an ol item inside a ul item) —, and inside the current item '<path>+p' (a further
    paragraph), '<path>+table'…; tables as 'table' (or 'table*' with row headers: its caption), then 'th' (the
    header row) and 'tr' rows, whose content is their cells' words.
    """
    out: list[Unit] = []
    if section is not None and section.summary:
        out.append(("summary", inline.words(section.summary)))
    for block in section.own_blocks if section else ():
        _block_units(block, "", out)
    return out


def _moved_ids(old_order: list[str], new_order: list[str]) -> set[str]:
    """Ids kept in both orders but outside their longest common subsequence (so one insertion moves nothing)."""
    old_set, new_set = set(old_order), set(new_order)
    common_new = [i for i in new_order if i in old_set]
    common_old = [i for i in old_order if i in new_set]
    if common_new == common_old:
        return set()
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


def _siblings(placed: dict[str, PlacedSection]) -> dict[str | None, list[str]]:
    groups: dict[str | None, list[str]] = {}
    for section_id, p in placed.items():
        groups.setdefault(p.parent, []).append(section_id)
    return groups


def _label(p: PlacedSection) -> str:
    return f"{p.number} {p.section.title}" if p.number else p.section.title


def _context(placed: dict[str, PlacedSection], section_id: str) -> tuple[str, ...]:
    out: list[str] = []
    parent = placed[section_id].parent
    while parent is not None:
        out.append(_label(placed[parent]))
        parent = placed[parent].parent
    return tuple(reversed(out))


def path_labels(policy: Policy) -> dict[str, str]:
    """Every section's label with its context ('Some important terms › 4. Enable cookies:'), in reading order."""
    placed = {p.section.id: p for p in policy.walk()}
    return {i: CONTEXT_SEPARATOR.join((*_context(placed, i), _label(p))) for i, p in placed.items()}


def _place(placed: dict[str, PlacedSection], groups: dict[str | None, list[str]], section_id: str) -> Place:
    p = placed[section_id]
    siblings = groups[p.parent]
    at = siblings.index(section_id)
    after = siblings[at - 1] if at else None
    return Place(p.parent, _label(placed[p.parent]) if p.parent else None, at + 1, len(siblings), after,
                 _label(placed[after]) if after is not None else None)


def diff_policies(old: Policy | None, new: Policy) -> PolicyDiff:
    """Section changes from old to new (old None: everything is added)."""
    old_placed = {p.section.id: p for p in old.walk()} if old else {}
    new_placed = {p.section.id: p for p in new.walk()}
    old_groups, new_groups = _siblings(old_placed), _siblings(new_placed)
    moved: set[str] = set()
    for parent, ids in new_groups.items():
        moved |= _moved_ids(old_groups.get(parent, []), ids)
    moved |= {i for i, p in new_placed.items() if i in old_placed and old_placed[i].parent != p.parent}
    changes: list[SectionChange] = []
    for section_id, placed in new_placed.items():
        before = old_placed.get(section_id)
        kinds: list[str] = []
        same_text = before is not None and before.section.own_blocks == placed.section.own_blocks \
            and before.section.summary == placed.section.summary
        units_old = [] if same_text or before is None else units(before.section)
        units_new = [] if same_text else units(placed.section)
        if before is None:
            kinds.append("added")
        else:
            if before.section.title != placed.section.title:
                kinds.append("renamed")
            if section_id in moved:
                kinds.append("moved")
            if not same_text and units_old != units_new:
                kinds.append("modified")
        change = SectionChange(
            section_id, tuple(kinds), before.section.title if before else None, placed.section.title,
            before.number if before else None, placed.number, placed.depth,
            redline(units_old, units_new) if {"added", "modified"} & set(kinds) else [],
            _context(new_placed, section_id))
        if "moved" in kinds:
            change.old_place = _place(old_placed, old_groups, section_id)
            change.new_place = _place(new_placed, new_groups, section_id)
        changes.append(change)
    for section_id, placed in old_placed.items():
        if section_id not in new_placed:
            changes.append(SectionChange(section_id, ("removed",), placed.section.title, None, placed.number,
                                         None, placed.depth, redline(units(placed.section), []),
                                         _context(old_placed, section_id)))
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
        intro = redline([("p", inline.words(t)) for t in (old.introduction if old else ())],
                        [("p", inline.words(t)) for t in new.introduction])
        if all(b.status == "equal" for b in intro):
            intro = []  # whitespace or layout only: nothing a reader could see
    changed = [c for c in changes if c.kinds]
    return PolicyDiff(old, new, meta, changed, len(changes) - len(changed), intro)


def _place_data(place: Place | None) -> dict | None:
    if place is None:
        return None
    return {"parent": place.parent, "parent_label": place.parent_label, "position": place.position,
            "siblings": place.siblings, "after": place.after, "after_label": place.after_label}


def _spans_data(spans: tuple) -> list:
    return [[s.op, s.text, list(s.marks), s.glue] for s in spans]


def blocks_to_data(blocks: list[RedlineBlock]) -> list[dict]:
    out = []
    for b in blocks:
        data = {"kind": b.kind, "status": b.status, "pieces": [[p.op, p.text] for p in b.pieces],
                "spans": _spans_data(b.spans)}
        if b.cells:
            data["cells"] = [_spans_data(cell) for cell in b.cells]
        out.append(data)
    return out


def diff_to_data(d: PolicyDiff) -> dict:
    """The JSON form shared by `policy diff --format json` and the in-browser compare page."""
    return {
        "from": d.old.version if d.old else None,
        "to": d.new.version,
        "meta": [{"field": m.field, "old": m.old, "new": m.new} for m in d.meta],
        "introduction_changed": bool(d.introduction),
        "introduction": blocks_to_data(d.introduction),
        "sections": [
            {"id": s.id, "kinds": list(s.kinds), "old_title": s.old_title, "new_title": s.new_title,
             "old_number": s.old_number, "new_number": s.new_number, "context": list(s.context),
             "old_place": _place_data(s.old_place), "new_place": _place_data(s.new_place), "move": s.move,
             "redline": blocks_to_data(s.redline)}
            for s in d.changed
        ],
        "unchanged": d.unchanged_count,
        "counts": {"added": d.count("added"), "removed": d.count("removed"), "modified": d.count("modified"),
                   "renamed": d.count("renamed"), "moved": d.count("moved"),
                   "sections_before": d.sections_before, "sections_after": d.sections_after},
        "visible": d.visible,
    }


codec.register(MetaChange, Place)
codec.register(SectionChange, lazy=("redline",))
codec.register(PolicyDiff, lazy=("introduction",))
