"""The effective date of an imported document: an "Effective date: July 22, 2020" (or "Last updated …",
"Effective as of …") line of the text, or a date in the front matter.

The line is found on the plain text of each paragraph line (markup already parsed away), its date parsed
with python-dateutil ("July 22, 2020", "22 July 2020", "22nd July 2020", "2020-07-22", "22.07.2020"); a date
without a day, or text around it, is not taken. The line is then removed from the text: the date becomes
the policy's `effective`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from dateutil import parser as dateparser

from .doc import Doc, DSection, Para, Run, plain

_PREFIX = r"^\s*(?:this [\w ]{0,40}?(?:is|was|has been|becomes|became|takes effect) )?"
_EFFECTIVE = re.compile(_PREFIX + r"(?P<label>effective(?: date| as of| from| on)?|date effective|"
                        r"in effect (?:from|as of))"
                        r"\s*(?:on|as of)?\s*[:\-–—]?\s*(?P<date>[^:]+?)\s*\.?\s*$", re.IGNORECASE)
_UPDATED = re.compile(_PREFIX + r"(?P<label>last (?:updated|modified|revised|amended|update|revision)|"
                      r"(?:updated|revised|amended)|date of last (?:revision|update))"
                      r"\s*(?:on|as of)?\s*[:\-–—]?\s*(?P<date>[^:]+?)\s*\.?\s*$", re.IGNORECASE)
FRONT_EFFECTIVE = ("effective", "effective_date", "effective-date", "effectiveDate")
FRONT_UPDATED = ("last_updated", "last-updated", "lastUpdated", "last_modified_at", "updated", "modified", "date")
_AMBIGUOUS = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-]\d{2,4}\s*$")


@dataclass(frozen=True)
class Effective:
    value: date
    line: int  # 0 for front matter
    text: str  # the line as it stood, or "front matter 'key'"
    note: str | None = None  # how an ambiguous date was read


def parse_date(text: str) -> date | None:
    """A full calendar date written in any common way, or None (no day, no year, or not a date)."""
    text = text.strip().rstrip(".").strip()
    if not text or not re.search(r"\d", text) or len(text) > 40:
        return None
    try:
        first = dateparser.parse(text, default=datetime(1, 1, 1))
        second = dateparser.parse(text, default=datetime(2, 2, 2))
    except (ValueError, OverflowError, dateparser.ParserError):
        return None
    if first.date() != second.date() or first.year < 1900:  # a part was missing and filled in
        return None
    return first.date()


def _lines(runs: list[Run]) -> list[list[Run]]:
    lines: list[list[Run]] = [[]]
    for run in runs:
        if run.line_break:
            lines.append([])
        else:
            lines[-1].append(run)
    return lines


def _paragraphs(doc: Doc):
    """(container, paragraph) of every paragraph outside lists and tables, in reading order."""
    def of(body: list) -> list:
        found = []
        for block in body:
            if isinstance(block, Para):
                found.append((body, block))
            elif isinstance(block, DSection):
                found += of(block.body)
        return found
    return of(doc.intro) + of(list(doc.sections))


def _find(doc: Doc, pattern: re.Pattern[str]) -> Effective | None:
    for container, para in _paragraphs(doc):
        lines = _lines(para.runs)
        for index, line in enumerate(lines):
            text = plain(line).strip()
            match = pattern.match(text)
            value = parse_date(match.group("date")) if match else None
            if match is None or value is None:
                continue
            kept = [run for i, ln in enumerate(lines) if i != index for run in ln + [Run("\n", line_break=True)]]
            para.runs = kept[:-1] if kept else []
            if not para.runs:
                container.remove(para)
            ambiguous = _AMBIGUOUS.match(match.group("date"))
            note = None
            if ambiguous and int(ambiguous.group(1)) <= 12 and int(ambiguous.group(2)) <= 12 \
                    and ambiguous.group(1) != ambiguous.group(2):
                note = f"the date '{match.group('date')}' is ambiguous; read as {value.isoformat()} (month first)"
            return Effective(value, para.line, text, note)
    return None


def _front(front: dict, keys: tuple[str, ...]) -> Effective | None:
    for key in keys:
        value = front.get(key)
        if isinstance(value, datetime):
            value = value.date()
        if isinstance(value, date):
            return Effective(value, 0, f"front matter '{key}'")
        if isinstance(value, str) and parse_date(value):
            return Effective(parse_date(value) or date.min, 0, f"front matter '{key}'")
    return None


def take_effective(doc: Doc) -> Effective | None:
    """The document's effective date, its line removed from the text; None when it names none."""
    return (_find(doc, _EFFECTIVE) or _front(doc.front, FRONT_EFFECTIVE) or _find(doc, _UPDATED)
            or _front(doc.front, FRONT_UPDATED))
