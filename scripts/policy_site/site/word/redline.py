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
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from docx.oxml.ns import qn

from ...diff.redline import RedlineBlock, Span, marker_kind, redline
from ...diff.sections import PolicyDiff, SectionChange, units
from ...source import inline
from ...source.model import Section, policy_anchors
from .package import OxmlElement, _core, _page_break, _reproducible_zip
from .writer import MOVE_FROM, MOVE_TO, PLAIN, Resolve, _range, _range_end, _Writer


def default_resolve(site_url: str | None) -> Resolve:
    """Links as a document outside the site follows them: web and mail links as they are, site paths and other
    documents of a library under site_url (without it they are no links; the words stay)."""
    from ..render import resolver
    base = resolver(site_url) if site_url else None

    def resolve(href: str) -> str | None:
        url = base(href) if base else href
        return url if re.match(r"^(https?|mailto):", url, re.I) else None
    return resolve


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
    from ..dates import readable

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
    from ...diff.redline import spans
    return spans(inline.words(text), "equal")

