"""Dates as readers read them, in the language of what they read; ISO dates where machines read them.

Every date a reader sees (pages, feed titles and content, notice emails and their Subject) is written here, with
Babel's long date format (CLDR) for the language: "4 May 2026" (en), "4. Mai 2026" (de), "4 mai 2026" (fr).
A bare `en` reads day-month-year, as CLDR's international English (en_001) writes it; a regional code keeps its
region's form (en-US: "May 4, 2026"). A language Babel does not know is written in English, never an error.

In HTML a shown date is a `<time datetime="2026-05-04">` element (the ISO form stays machine-readable); JSON,
feed timestamps, the command line and mail headers other than Subject keep `iso()`.

The Jinja filters (registered by site/render.py): `|date` gives the <time> element, `|date_text` the plain
text; both read the language from the template's `date_language` (a global that render.environment() sets,
which a translated page overrides in its context).
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from markupsafe import Markup, escape

FALLBACK = "en_001"  # English, day month year
Day = date | datetime | str | None


def iso(value: date | datetime | None) -> str:
    """The machine form: 2026-05-04, or 2026-05-04T10:00:00Z for a time (UTC)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


@lru_cache(maxsize=64)
def locale(language: str | None) -> Locale:
    """Babel's locale for a language code (en, de, pt-BR, pt_BR); English for one it does not know."""
    code = (language or "").strip().replace("_", "-")
    if code.lower() in ("", "en"):
        return Locale.parse(FALLBACK)
    for candidate in (code, code.split("-")[0]):
        try:
            return Locale.parse(candidate, sep="-")
        except (ValueError, TypeError, UnknownLocaleError):
            continue
    return Locale.parse(FALLBACK)


def _day(value: Day) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def _readable(day: date, language: str | None) -> str:
    return format_date(day, format="long", locale=locale(language))


def readable(value: Day, language: str | None) -> str:
    """'4 May 2026' in the language (a date, a time or an ISO string; '' for none; other text as it is)."""
    day = _day(value)
    if day is None:
        return "" if value is None else str(value)
    return _readable(day, language)


def machine(value: Day) -> str:
    """The datetime attribute of a shown date: the ISO date, or the full ISO time of a datetime."""
    if isinstance(value, (date, datetime)):
        return iso(value)
    return str(value or "")


def time_html(value: Day, language: str | None, marked: bool = False) -> Markup:
    """<time datetime="2026-05-04">4 May 2026</time> ('' for none; text that is not a date, escaped); marked: with
    lang="…" (a translation's date within the original's words)."""
    if value is None or value == "":
        return Markup("")
    if _day(value) is None:
        return escape(str(value))
    lang = Markup(' lang="{}"').format(language) if marked and language else ""
    return Markup('<time datetime="{}"{}>{}</time>').format(machine(value), lang, readable(value, language))
