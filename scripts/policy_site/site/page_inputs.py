"""What each generated page and feed entry is made of: one frozen input per type, the only thing its template receives.

A page's template renders `page.context()`: the input's fields, plus what is computed from them alone (`link`
from its path, a changes page's `resolve`). So the key of the file (site/gencache.py) is `keys.digest` over the
input (site/inputs.canonical), the bytes of the templates it renders with and `keys.software()`: whatever a template
shows comes from its input, and a template that reaches beyond it meets jinja2.StrictUndefined (site/render.py)
and fails the build with a one-line error.

The page types and their input builders are listed in site/page_types.py; adding one is a template, an input class
here (its fields, and a classmethod building it) and a row there (docs/maintainers.md, "Adding a page type").
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup

from ..diff.sections import PolicyDiff, diff_policies
from ..source import inline
from ..source.model import Policy
from ..source.translations import Translation
from .choices import Choices
from .inputs import Document, DocumentInputs, Ref, Site, SiteSettings, Version
from .model import Draft, VersionEntry
from .notice_terms import NoticeTerms
from .render import Resolve, resolver
from .translations import SectionStatus, TranslatedDocument


def linker(page_path: str, prefix: str = "") -> Callable[[str], str]:
    """Relative link from a page ('versions/1.0/') to a path of the same document ('changes/1.0/', 'atom.xml',
    ''), or, starting with '/', to a path from the site's root ('/assets/compare.js'); prefix is where the
    document's pages live ('' or 'terms/')."""
    here = posixpath.join("/", prefix + page_path)

    def link(target: str) -> str:
        base = here if here.endswith("/") else posixpath.dirname(here)
        relative = posixpath.relpath(posixpath.join("/", target if target.startswith("/") else prefix + target), base)
        if relative == ".":
            return "./"
        is_folder = target == "" or target.endswith("/")
        return relative + ("/" if is_folder and not relative.endswith("/") else "")

    return link


def _anchors_on(site_path: Resolve, page: str) -> Resolve:
    """Links of a redline: '#section' anchors point to the version's own page; site paths as everywhere."""
    return lambda href: page + href if href.startswith("#") else site_path(href)


@dataclass(frozen=True)
class Page:
    """What every page's input holds: where the page is (its `link` is computed from that). A page type's input
    class adds its fields and a classmethod building it: `of(inputs, path, entry)` (entry: the version of a page
    per version, else None); site/page_types.py names it."""

    page_path: str  # under its document's folder: '', 'versions/1.0/'
    prefix: str  # where its document's pages live: '' or 'terms/'

    def context(self) -> dict[str, Any]:
        """What the template receives: the fields, and `link`."""
        found = {f.name: getattr(self, f.name) for f in fields(self)}
        found["link"] = linker(self.page_path, self.prefix)
        return found


@dataclass(frozen=True)
class CurrentPage(Page):
    """The home page of a document: the text in force (or the draft under serve)."""

    site: Document
    policy: Policy
    entry: Version | None  # None: the draft is shown
    draft: Draft | None
    warnings: bool  # built from a shallow history

    @classmethod
    def of(cls, inputs: DocumentInputs, path: str, at: VersionEntry | None = None) -> CurrentPage:
        model = inputs.model
        return cls(path, model.prefix, inputs.document, model.draft.policy if model.draft else model.current.policy,
                   None if model.draft else inputs.document.current, model.draft, model.history.shallow)


@dataclass(frozen=True)
class DocumentPage(Page):
    """A page that lists the whole document: the archive, the compare page."""

    site: Document

    @classmethod
    def of(cls, inputs: DocumentInputs, path: str, at: VersionEntry | None = None) -> DocumentPage:
        return cls(path, inputs.model.prefix, inputs.document)


@dataclass(frozen=True)
class FollowPage(Page):
    site: Document
    subscription: Choices  # what the subscribe form offers (when subscriptions_url is set)

    @classmethod
    def of(cls, inputs: DocumentInputs, path: str, at: VersionEntry | None = None) -> FollowPage:
        return cls(path, inputs.model.prefix, inputs.document, inputs.offered)


@dataclass(frozen=True)
class VersionPage(Page):
    """One version's full text."""

    site: Site
    entry: Version
    in_force: Ref | None  # the version in force, on an upcoming version's page (None on the others)

    @classmethod
    def of(cls, inputs: DocumentInputs, path: str, at: VersionEntry | None = None) -> VersionPage:
        assert at is not None
        model = inputs.model
        in_force = inputs.version(model.current).ref if at.status == "upcoming" else None
        return cls(path, model.prefix, inputs.site, inputs.version(at), in_force)


@dataclass(frozen=True)
class ChangesPage(Page):
    """What changed in a version (also at changes/ for the latest one, and the draft's changes under serve)."""

    site: Site
    entry: Version | None  # None: the draft's changes
    diff: PolicyDiff
    version: str
    draft: Draft | None
    alias: bool  # the latest changes, at changes/
    anchors: str  # the page '#section' links of the redline point to (the version's text)

    def context(self) -> dict[str, Any]:
        found = super().context()
        site_path = resolver(urlsplit(self.site.settings.site_url or "/").path or "/")
        found["resolve"] = _anchors_on(site_path, found["link"](self.anchors))
        return found

    @classmethod
    def of(cls, inputs: DocumentInputs, path: str, at: VersionEntry | None = None) -> ChangesPage:
        """A version's changes page."""
        assert at is not None
        entry = inputs.version(at)
        return cls(path, inputs.model.prefix, inputs.site, entry, entry.diff, entry.version, None, False, entry.path)

    @classmethod
    def latest(cls, inputs: DocumentInputs, path: str, at: VersionEntry | None = None) -> ChangesPage:
        """The latest version's changes, at changes/."""
        entry = inputs.version(inputs.model.latest)
        return cls(path, inputs.model.prefix, inputs.site, entry, entry.diff, entry.version, None, True, entry.path)

    @classmethod
    def draft_changes(cls, inputs: DocumentInputs, path: str, at: VersionEntry | None = None) -> ChangesPage:
        """The working tree's changes under serve (also before the first edit: none)."""
        model = inputs.model
        latest = model.latest.published.latest_text
        draft = model.draft or Draft(latest, diff_policies(latest, latest))
        return cls(path, model.prefix, inputs.site, None, draft.diff, "draft", draft, False, "")


def family(new: Policy, old: Policy | None, section_id: str | None) -> set[str] | None:
    """A section's id and its subsections' ids in either version (None: every section)."""
    if section_id is None:
        return None
    found = {section_id}
    for policy in (old, new):
        for placed in policy.walk() if policy else ():
            if placed.parent in found:
                found.add(placed.section.id)
    return found


@dataclass(frozen=True)
class FeedEntry:
    """One version's entry in a feed (templates/feeds/entry.html.j2): in the main feeds (section_id None) or in
    one section's feed (the section and its subsections). Its context (the changes shown, their excerpts) is
    computed from these fields alone, and only when the entry is rendered."""

    entry: Version
    section_id: str | None
    section_title: str | None
    settings: SiteSettings

    def context(self, excerpt: Callable[[Any], Any]) -> dict[str, Any]:
        """What the template receives; excerpt: site/feeds.excerpt (a short redline of a change)."""
        entry, section_id = self.entry, self.section_id
        version_url = self.settings.url(entry.site_path)
        changes_url = self.settings.url(entry.site_changes_path)
        resolve = resolver(self.settings.url(), version_url)
        within = family(entry.policy, entry.diff.old, section_id)
        changes = [c for c in entry.diff.changed if within is None or c.id in within]
        amendments = []
        for amended, diff in entry.amendments:
            inside = family(diff.new, diff.old, section_id)
            touched = [c.path_label for c in diff.changed if inside is None or c.id in inside]
            if section_id is None or touched:
                amendments.append((amended.commit.time, touched))
        return {"entry": entry, "changes": changes, "amendments": amendments,
                "summary_html": Markup(inline.to_html(entry.policy.summary, resolve)),
                "introduction": bool(entry.diff.introduction and entry.previous and section_id is None),
                "meta": entry.diff.meta if section_id is None else [],
                "excerpts": {c.id: excerpt(c.redline) for c in changes} if entry.previous else {},
                "resolve": resolve, "section_id": section_id, "section_title": self.section_title,
                "changes_url": changes_url, "version_url": version_url}


@dataclass(frozen=True)
class Library:
    """A library of documents, as its pages name it."""

    title: str


@dataclass(frozen=True)
class LibraryPage(Page):
    """A page of a library above its documents' own: `/` (every document, its version in force) and `/follow/`."""

    layout: Library
    documents: tuple[Document, ...]  # in the library's order
    settings: SiteSettings
    terms: NoticeTerms  # what the pages may say of email notices, for all the documents
    subscription: Choices  # what the subscribe form offers (when subscriptions_url is set)

    @classmethod
    def of(cls, title: str, inputs: list[DocumentInputs], path: str, offered: Choices) -> LibraryPage:
        settings = inputs[0].model.settings
        terms = NoticeTerms.of(settings, [i.model.document for i in inputs])
        return cls(path, "", Library(title), tuple(i.document for i in inputs), inputs[0].settings, terms, offered)


@dataclass(frozen=True)
class Translated:
    """A document's translation into one language, as its pages show it: the translation's files, each top-level
    section's status and the original document."""

    language: str
    prefix: str  # where its page lives: 'de/' or 'de/terms/'
    translation: Translation
    statuses: tuple[SectionStatus, ...]
    model: Document  # the original

    def status(self, section_id: str) -> SectionStatus:
        return next(s for s in self.statuses if s.id == section_id)

    @classmethod
    def of(cls, doc: TranslatedDocument, inputs: DocumentInputs) -> Translated:
        return cls(doc.language, doc.prefix, doc.translation, tuple(doc.statuses), inputs.document)

    @classmethod
    def kept(cls, doc: Any, inputs: DocumentInputs) -> Translated:
        """A translation this build keeps as the last one wrote it (site/translation_reuse.KeptTranslation): its
        title and its sections' statuses read back from its translation.json, for the language's library page."""
        return cls(doc.language, doc.prefix, doc.translation, doc.statuses, inputs.document)


@dataclass(frozen=True)
class TranslatedPage(Page):
    """A translation's page at /LANG/ (/LANG/<document>/ in a library): the version in force, translated."""

    doc: Translated
    site: Document
    original_path: str  # the original's page, from the site's root
    date_language: str
    pdf_file: str | None  # the translation's PDF, beside the page

    @classmethod
    def of(cls, doc: Translated, pdf_file: str | None) -> TranslatedPage:
        return cls("", doc.prefix, doc, doc.model, "/" + doc.model.prefix, doc.language, pdf_file)


@dataclass(frozen=True)
class TranslatedLibraryPage(Page):
    """/LANG/ of a library: the documents translated into LANG."""

    language: str
    documents: tuple[Translated, ...]
    date_language: str

    @classmethod
    def of(cls, language: str, documents: list[Translated]) -> TranslatedLibraryPage:
        return cls(f"{language}/", "", language, tuple(documents), language)
