"""The import's report: what could not be represented faithfully (with source positions), anchors that
changed, where the effective date came from."""

from __future__ import annotations

from .dates import Effective
from .doc import Note


def unique_notes(notes: list[Note]) -> list[Note]:
    """Sorted by position, each (position, message) once."""
    return sorted(set(notes))


def note_lines(source: str, notes: list[Note], where: str = "line") -> list[str]:
    out = []
    for note in unique_notes(notes):
        if note.line <= 0:
            out.append(f"  {source}: {note.message}")
        elif where == "line":
            out.append(f"  {source}:{note.line}: {note.message}")
        else:
            out.append(f"  {source} ({where} {note.line}): {note.message}")
    return out


def effective_line(source: str, effective: Effective | None, used: str, where: str = "line") -> str:
    if effective is None:
        return f"  {source}: no 'Effective date: …' line or date in the front matter; effective set to {used}"
    if effective.line:
        place = f"{source}:{effective.line}" if where == "line" else f"{source} ({where} {effective.line})"
        text = f"  {place}: '{effective.text}' → effective {effective.value.isoformat()} (the line was taken out of " \
               "the text; the site shows the date)"
    else:
        text = f"  {source}: effective {effective.value.isoformat()} from the {effective.text}"
    return text + (f"; {effective.note}" if effective.note else "")


RENAMED_ANCHORS = ("anchors of the old page that changed (old → new id; the old one stays on the page as another "
                   "anchor of its section, so links to it land)")


def anchor_lines(renamed: list[tuple[str, str]]) -> list[str]:
    return [f"  #{old} → #{new}" for old, new in renamed]
