"""Translated pages: which sections of a translation are current, stale or missing, and the pages that say so.

A document's translation into LANG is shown at /LANG/ (a library's documents at /LANG/<document>/) as the version
in force: every section whose translation is *current* in the translated words; a *stale* or *missing* one in
the original words, marked with the original's language and a notice linking to what changed. Each page says
which version of the original it reflects and which language controls (`controlling_language`, default en).
`translation.json` beside it lists every section with its status and source_version. Material's language
switcher lists the languages (extra.alternate, set by the plugin).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from markupsafe import Markup

from ..diff.sections import diff_policies
from ..errors import PolicyInvalid, Problem
from ..source.model import Policy, Section, same_version
from ..source.translations import TRANSLATIONS_DIR, Translation, languages, read_translation
from .data import dumps
from .model import SiteModel

NAMES = {"en": "English", "de": "Deutsch", "fr": "Français", "es": "Español", "it": "Italiano", "nl": "Nederlands",
         "pt": "Português", "pt-BR": "Português (Brasil)", "pl": "Polski", "sv": "Svenska", "da": "Dansk",
         "fi": "Suomi", "nb": "Norsk bokmål", "cs": "Čeština", "ja": "日本語", "zh": "中文", "ko": "한국어",
         "ar": "العربية", "he": "עברית", "af": "Afrikaans", "tr": "Türkçe", "ru": "Русский", "uk": "Українська"}
_BLOCK_START = re.compile(r"^<(p|ul|ol|div|table)(?=[ >])", re.M)
_HEADING_ATTRS = re.compile(r"\{: (#[a-z0-9-]+) \}")


ENGLISH = {"en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "nl": "Dutch",
           "pt": "Portuguese", "pt-BR": "Brazilian Portuguese", "pl": "Polish", "sv": "Swedish", "da": "Danish",
           "fi": "Finnish", "nb": "Norwegian Bokmål", "cs": "Czech", "ja": "Japanese", "zh": "Chinese",
           "ko": "Korean", "ar": "Arabic", "he": "Hebrew", "af": "Afrikaans", "tr": "Turkish", "ru": "Russian",
           "uk": "Ukrainian"}


def language_name(code: str, english: bool = False) -> str:
    """A language's own name (for the language switcher) or, english=True, its English name (for notices)."""
    return (ENGLISH if english else NAMES).get(code, code)


@dataclass
class SectionStatus:
    id: str
    title: str  # the original's title in the version in force
    status: str  # current | stale | untranslated (the original's words, copied by the scaffold) | missing
    source_version: str | None


@dataclass
class TranslatedDocument:
    model: SiteModel
    translation: Translation
    statuses: list[SectionStatus]

    @property
    def language(self) -> str:
        return self.translation.language

    @property
    def prefix(self) -> str:
        """Where the translated page lives: 'de/' or 'de/terms/'."""
        return f"{self.language}/{self.model.prefix}"

    def status(self, section_id: str) -> SectionStatus:
        return next(s for s in self.statuses if s.id == section_id)


def _family(policy: Policy, section_id: str) -> set[str]:
    ids = {section_id}
    for placed in policy.walk():
        if placed.parent in ids:
            ids.add(placed.section.id)
    return ids


def _changed_since(model: SiteModel, source: str) -> set[str]:
    """Ids of the sections whose words changed after version `source`, up to the version in force — editorial
    versions left out, so a fixed comma never makes a translation stale."""
    current = model.current.policy
    versions = [e.version for e in model.entries]
    start = next((n for n, e in enumerate(model.entries) if same_version(e.version, source)), None)
    if start is None:
        return {p.section.id for p in current.walk()}  # an unknown version: nothing is current
    end = versions.index(model.current.version)
    if start > end:  # translated ahead of the version in force: compare the texts themselves
        diff = diff_policies(model.entries[start].policy, current)
        return {c.id for c in diff.changed if set(c.kinds) - {"moved"}}
    return {c.id for entry in model.entries[start + 1:end + 1] if not entry.editorial
            for c in entry.diff.changed if set(c.kinds) - {"moved"}}


def statuses(model: SiteModel, translation: Translation) -> list[SectionStatus]:
    """Every top-level section of the version in force: is its translation current, stale or missing?"""
    current = model.current.policy
    changed_since: dict[str, set[str]] = {}  # source version → ids whose text reads differently now
    out: list[SectionStatus] = []
    for section in current.sections:
        translated = translation.sections.get(section.id)
        if translated is None:
            out.append(SectionStatus(section.id, section.title, "missing", None))
            continue
        source = translated[1]
        if source not in changed_since:
            changed_since[source] = _changed_since(model, source)
        stale = bool(_family(current, section.id) & changed_since[source])
        status = "stale" if stale else "current"
        if section.id not in translation.marked and _reads_as_original(model, source, translated[0]):
            status = "untranslated"
        out.append(SectionStatus(section.id, section.title, status, source))
    return out


def _reads_as_original(model: SiteModel, source: str, translated: Section) -> bool:
    """True when the translated section's words are the original's in its source_version (a scaffold not yet
    translated): the same title, summary, text and subsections."""
    entry = model.entry(source)
    original = next((p.section for p in entry.policy.walk() if p.section.id == translated.id), None) if entry else None
    return original is not None and _words(original) == _words(translated)


def _words(section: Section) -> tuple:
    return " ".join(section.title.split()), section.summary, section.body


def translate(model: SiteModel, translation: Translation) -> TranslatedDocument:
    return TranslatedDocument(model, translation, statuses(model, translation))


def translation_json(doc: TranslatedDocument, pdf: dict[str, str] | None = None) -> str:
    """translation.json; pdf: its PDF's URL and sha256 (site/pdf.py), when the site has PDFs."""
    model = doc.model
    data = {
        "language": doc.language, "document": model.document or None, "title": doc.translation.title,
        "source_version": doc.translation.source_version, "original_version": model.current.version,
        "controlling_language": model.settings["controlling_language"],
        "url": model.settings.url(doc.prefix),
        "sections": [{"id": s.id, "title": s.title, "status": s.status, "source_version": s.source_version}
                     for s in doc.statuses],
        **(pdf or {}),
    }
    return dumps(data)


def with_language(markdown: str, language: str) -> Markup:
    """A section's Markdown with every block and heading marked as written in `language`."""
    marked = _BLOCK_START.sub(lambda m: f'<{m.group(1)} lang="{language}"', str(markdown))
    return Markup(_HEADING_ATTRS.sub(lambda m: f"{{: {m.group(1)} lang={language} }}", marked))


def shown_section(doc: TranslatedDocument, section: Section) -> tuple[Section, str]:
    """The section to show (translated when current, else the original) and the language it is written in."""
    status = doc.status(section.id)
    original_language = doc.model.settings["controlling_language"]
    if status.status == "current":
        return doc.translation.sections[section.id][0], doc.language
    return section, original_language


def merged(doc: TranslatedDocument) -> tuple[Policy, dict[str, str]]:
    """The page's text — the version in force with each current section translated — and each top-level
    section's language."""
    current = doc.model.current.policy
    sections, languages = [], {}
    for section in current.sections:
        shown, language = shown_section(doc, section)
        sections.append(shown)
        languages[section.id] = language
    return replace(current, title=doc.translation.title, sections=tuple(sections)), languages


def translated_versions(doc: TranslatedDocument) -> bool:
    """True when the translation's own source_version is the version in force."""
    return same_version(doc.translation.source_version, doc.model.current.version)


def load_translations(models: list[SiteModel], folders: dict[str, Path], prefix: str = "policy",
                      skip: Callable[[SiteModel, str], bool] | None = None) -> list[TranslatedDocument]:
    """Every translation of every document (but those `skip` names: kept as the last build made them,
    site/translation_reuse.py), or PolicyInvalid listing every problem of their files."""
    out: list[TranslatedDocument] = []
    problems: list[Problem] = []
    for model in models:
        folder = folders[model.document]
        where = f"{prefix}/{model.document}" if model.document else prefix
        for language in languages(folder):
            if skip is not None and skip(model, language):
                continue
            translation, found = read_translation(folder / TRANSLATIONS_DIR / language, language,
                                                  f"{where}/{TRANSLATIONS_DIR}/{language}", model.history.memo)
            problems += found
            if translation is not None:
                unknown = [s for s, (_, v) in translation.sections.items() if model.history.find(v) is None]
                if model.history.from_git and model.history.find(translation.source_version) is None:
                    unknown.insert(0, "policy.yaml")
                problems += [Problem(f"{where}/{TRANSLATIONS_DIR}/{language}/"
                                     f"{name if name == 'policy.yaml' else 'sections/' + name + '.yaml'}", 1, 1,
                                     "source_version names no published version of the original; use one listed "
                                     "by `policy versions`") for name in unknown]
                out.append(translate(model, translation))
    if problems:
        raise PolicyInvalid(problems)
    return out
