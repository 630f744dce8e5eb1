"""The effective date of an imported document: an "Effective date: July 22, 2020" (or "Last updated …",
"Effective as of …") line of the text, a date standing alone right under the title, or a date in the front
matter; in German and French too ("Gültig ab 9. September 2020", "Stand: Mittwoch, 9. September 2020",
"En vigueur le 9 septembre 2020", "Dernière mise à jour : 1er mars 2021").

The line is found on the plain text of each paragraph line (markup already parsed away), its date parsed
with python-dateutil ("July 22, 2020", "22 July 2020", "22nd July 2020", "2020-07-22", "22.07.2020"); German
and French month and weekday names are first turned into English ones with Babel's names of the two
languages. A date without a day, or text around it, is not taken. The line is then removed from the text:
the date becomes the policy's `effective`.

A kramdown / Python-Markdown attribute list on the date's paragraph (`{: datetime="2026-05-04" }`, markdown.py
puts it on the Para) is the machine-readable date: it wins over the date as written when both are there and
differ (the report says so), and it gives the date when the words hold none ("Effective: upon publication").
A datetime attribute on any other paragraph is reported and not used.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from dateutil import parser as dateparser

from .attrlists import shown
from .doc import DList, Doc, DSection, Note, Para, Run, plain

_PREFIX = r"^\s*(?:this [\w ]{0,40}?(?:is|was|has been|becomes|became|takes effect) )?"
_APOSTROPHE = "['’]"
_EFFECTIVE = re.compile(_PREFIX + r"(?P<label>effective(?: date| as of| from| on)?|date effective|"
                        r"in effect (?:from|as of)|"
                        r"gültig (?:ab|seit|vom)|in ?kraft (?:ab|seit)|inkrafttreten|wirksam (?:ab|seit)|"
                        r"(?:date d" + _APOSTROPHE + r")?entrée en vigueur|en vigueur (?:le|depuis le|à compter du|"
                        r"au|à partir du)|applicable (?:le|à compter du|à partir du|au))\b"
                        r"\s*(?:on|as of|am|le|du|dem)?\s*[:\-–—]?\s*(?P<date>[^:]+?)\s*\.?\s*$", re.IGNORECASE)
_UPDATED = re.compile(_PREFIX + r"(?P<label>last (?:updated|modified|revised|amended|update|revision)|"
                      r"(?:updated|revised|amended)|date of last (?:revision|update)|"
                      r"stand|zuletzt (?:aktualisiert|geändert)|letzte (?:aktualisierung|änderung)|"
                      r"aktualisiert|dernière (?:mise à jour|modification|révision)|mis à jour|mise à jour)\b"
                      r"\s*(?:on|as of|am|le|du|vom)?\s*[:\-–—]?\s*(?P<date>[^:]+?)\s*\.?\s*$", re.IGNORECASE)
_LANGUAGES = ("de", "fr")  # the languages whose month and weekday names are read (besides English)
_WORD = re.compile(r"[^\W\d_]+\.?")
_SMALL_WORDS = {"le", "du", "au", "den", "dem", "am", "vom"}
FRONT_EFFECTIVE = ("effective", "effective_date", "effective-date", "effectiveDate")
FRONT_UPDATED = ("last_updated", "last-updated", "lastUpdated", "last_modified_at", "updated", "modified", "date")
_AMBIGUOUS = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-]\d{2,4}\s*$")


@dataclass(frozen=True)
class Effective:
    value: date
    line: int  # 0 for front matter
    text: str  # the line as it stood, or "front matter 'key'"
    note: str | None = None  # how an ambiguous date was read


def _fold(word: str) -> str:
    """A word without case, accents and a final dot ("Févr." → "fevr")."""
    decomposed = unicodedata.normalize("NFKD", word.lower().rstrip("."))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    """German and French month names (wide and abbreviated) → English month names; weekday names → ""."""
    from babel.dates import get_day_names, get_month_names
    english = dict(get_month_names("wide", locale="en"))
    names: dict[str, str] = {}
    for language in _LANGUAGES:
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                for number, name in get_month_names(width, context, language).items():
                    names.setdefault(_fold(name), english[number])
                for name in get_day_names(width, context, language).values():
                    names.setdefault(_fold(name), "")
    names.update({"mrz": "March", "maerz": "March", "sept": "September"})
    return names


def _in_english(text: str) -> str:
    """German and French month and weekday names as English ones, "1er" as 1, "9." as 9."""
    names = _names()

    def word(match: re.Match[str]) -> str:
        folded = _fold(match.group(0))
        if folded in _SMALL_WORDS:
            return ""
        return names.get(folded, match.group(0))
    text = re.sub(r"\b(\d{1,2})(?:er|\.)(?=\s)", r"\1", text)
    return _WORD.sub(word, text)


def parse_date(text: str) -> date | None:
    """A full calendar date written in any common way (in English, German or French), or None (no day, no
    year, or not a date)."""
    text = text.strip().rstrip(".").strip()
    if not text or not re.search(r"\d", text) or len(text) > 40:
        return None
    found = _parse(text)
    if found is None and re.search(r"[^\W\d_]", text):
        found = _parse(_in_english(text))
    return found


def parse_datetime(value: str | None) -> date | None:
    """The date of an HTML datetime value ("2026-05-04", "2026-05-04T09:00:00Z"), or None."""
    match = re.match(r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?\s*$", value or "")
    if not match:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def _parse(text: str) -> date | None:
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


def _paragraphs(doc: Doc, lists: bool = False) -> list[tuple[list, Para]]:
    """(container, paragraph) of every paragraph outside tables (and lists, unless lists), in reading order."""
    def of(body: list) -> list:
        found = []
        for block in body:
            if isinstance(block, Para):
                found.append((body, block))
            elif isinstance(block, DSection):
                found += of(block.body)
            elif isinstance(block, DList) and lists:
                found += [pair for item in block.items for pair in of(item)]
        return found
    return of(doc.intro) + of(list(doc.sections))


def _take_line(container: list, para: Para, lines: list[list[Run]], index: int) -> None:
    """The line taken out of the paragraph (the paragraph out of its container when nothing is left)."""
    kept = [run for i, ln in enumerate(lines) if i != index for run in ln + [Run("\n", line_break=True)]]
    para.runs = kept[:-1] if kept else []
    if not para.runs:
        container.remove(para)


def _effective(para: Para, text: str, written: str, value: date | None) -> Effective | None:
    """The date of a line (the words' date `written` parsed as value), its datetime attribute winning."""
    attribute = parse_datetime(para.datetime)
    notes = []
    if para.datetime is not None and attribute is None:
        notes.append(f"its datetime attribute '{shown(para.datetime)}' is not a date and was not used")
    if attribute is not None and value is not None and attribute != value:
        notes.append(f"the line says {value.isoformat()}, its datetime attribute {attribute.isoformat()}: the "
                     "attribute was taken (it is what browsers and search engines read); check which is right")
    chosen = attribute or value
    if chosen is None:
        return None
    ambiguous = _AMBIGUOUS.match(written)
    if attribute is None and ambiguous and int(ambiguous.group(1)) <= 12 and int(ambiguous.group(2)) <= 12 \
            and ambiguous.group(1) != ambiguous.group(2):
        notes.append(f"the date '{written}' is ambiguous; read as {chosen.isoformat()} (month first)")
    if attribute is not None and value is None:
        notes.append(f"the date is its datetime attribute's ({attribute.isoformat()})")
    return Effective(chosen, para.line, text, "; ".join(notes) or None)


def _find(doc: Doc, pattern: re.Pattern[str]) -> tuple[Effective, Para] | None:
    for container, para in _paragraphs(doc):
        lines = _lines(para.runs)
        for index, line in enumerate(lines):
            text = plain(line).strip()
            match = pattern.match(text)
            if match is None:
                continue
            found = _effective(para, text, match.group("date"), parse_date(match.group("date")))
            if found is None:
                continue
            _take_line(container, para, lines, index)
            return found, para
    return None


def _under_title(doc: Doc) -> tuple[Effective, Para] | None:
    """A date standing alone on the first line right under the title ("September 9, 2020",
    "Mittwoch, 9. September 2020")."""
    if not doc.intro or not isinstance(doc.intro[0], Para):
        return None
    para = doc.intro[0]
    lines = _lines(para.runs)
    text = plain(lines[0]).strip()
    found = _effective(para, text, text, parse_date(text)) if parse_date(text) else None
    if found is None:
        return None
    _take_line(doc.intro, para, lines, 0)
    return found, para


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
    """The document's effective date, its line removed from the text; None when it names none. A datetime
    attribute on a paragraph that did not give the date is reported (doc.notes)."""
    found: Effective | None = None
    used: Para | None = None
    for finder in (lambda: _find(doc, _EFFECTIVE), lambda: _front(doc.front, FRONT_EFFECTIVE),
                   lambda: _under_title(doc), lambda: _find(doc, _UPDATED),
                   lambda: _front(doc.front, FRONT_UPDATED)):
        result = finder()
        if isinstance(result, tuple):
            found, used = result
        else:
            found = result
        if found is not None:
            break
    for _, para in _paragraphs(doc, lists=True):
        if para.datetime is not None and para is not used:
            doc.notes.append(Note(para.line, f"datetime attribute '{shown(para.datetime)}' dropped: only the effective "
                                             "date's line gives the policy a date"))
    return found
