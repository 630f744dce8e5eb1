"""What each generated page and feed entry is made of: one frozen input per type, the only thing its template receives.

A page's template renders `page.context()`: the input's fields, plus what is computed from them alone (`link`
from its path, a changes page's `resolve`). So the key of the file (site/gencache.py) is `keys.digest` over
`canonical(page)` — the input written as plain data, once per object — with the bytes of the templates it
renders with and `keys.software()`: whatever a template shows comes from its input, and a template that reaches
beyond it meets jinja2.StrictUndefined (site/render.py) and fails the build with a one-line error.

The parts shared by many inputs are built once per document and build (`DocumentInputs`): one `Version` per
published version (its text, diff, amendments, status, dates, paths...) and one `Document` (every version, the
version in force, the settings pages read); each one's digest is computed once (`Keyed.key`) and stands for it in
every input that holds it. A policy's text stands as its content hash, a diff as the texts it compares.

The page types and their input classes are listed in site/page_types.py; adding one is a template, an input class
here (fields, and `of()`: how to build it) and a row there.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields, is_dataclass
from datetime import date, datetime
from functools import cached_property
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup

from ..diff.sections import PolicyDiff, diff_policies, path_labels
from ..keys import digest
from ..settings import Settings, require_site_url
from ..source import inline
from ..source.model import Policy, content_hash
from .choices import Choices
from .model import Draft, SiteModel, VersionEntry
from .notice_terms import NoticeTerms
from .render import Resolve, resolver

_HASHES: dict[int, tuple[object, str]] = {}


def policy_hash(policy: Any) -> str:
    """content_hash of a policy, once per object in this process (the same text is shared by many entries)."""
    hit = _HASHES.get(id(policy))
    if hit is None or hit[0] is not policy:
        hit = _HASHES[id(policy)] = (policy, content_hash(policy))
    return hit[1]


def _known(policy: Policy, found: str) -> None:
    """A policy's content hash, known already (the parse cache keeps those of published texts)."""
    _HASHES[id(policy)] = (policy, found)


class Keyed:
    """A part of inputs whose canonical form is its digest, computed once (an input holds it by that digest)."""

    @cached_property
    def key(self) -> str:
        return digest(_fields(self))


def canonical(value: Any) -> Any:
    """An input as plain data for keys.digest: what it holds, with a policy's text as its content hash, a diff as
    the two texts it compares (its code is in keys.software()) and a Keyed part as its digest. Anything else is a
    TypeError: an input holds nothing that cannot be keyed."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Keyed):
        return value.key
    if isinstance(value, Policy):
        return ["policy", policy_hash(value)]
    if isinstance(value, PolicyDiff):
        return ["diff", canonical(value.old), canonical(value.new)]
    if is_dataclass(value) and not isinstance(value, type):
        return _fields(value)
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    raise TypeError(f"a {type(value).__name__} cannot be part of a template's input")


def _fields(value: Any) -> list:
    return [type(value).__name__, {f.name: canonical(getattr(value, f.name)) for f in fields(value)}]


def input_key(value: Any) -> str:
    """The digest of an input (a page's, a feed entry's)."""
    return value.key if isinstance(value, Keyed) else digest(canonical(value))


@dataclass(frozen=True)
class SiteSettings(Keyed):
    """The settings as templates read them: `settings.url(path)`, `settings["pdf"]`, the site's name and URL."""

    site_name: str
    site_url: str | None
    draft: bool
    options: Mapping[str, Any]

    @classmethod
    def of(cls, settings: Settings) -> SiteSettings:
        return cls(settings.site_name, settings.site_url, settings.draft, MappingProxyType(asdict(settings.options)))

    def url(self, relative: str = "") -> str:
        """Absolute URL of a site path such as 'versions/1.0/'."""
        return require_site_url(self.site_url) + relative.lstrip("/")

    def __getitem__(self, name: str) -> Any:
        return self.options[name]


@dataclass(frozen=True)
class Ref:
    """Another version, named: its number and pages."""

    version: str
    path: str
    changes_path: str


@dataclass(frozen=True)
class Published:
    """When and in which commit a version was published; `updated`: its latest amendment's time."""

    published: datetime | None
    updated: datetime | None
    commit: Any  # history.git.Commit | None


@dataclass(frozen=True)
class Amended:
    """An amendment of a version (`entry.amendments` pairs each with its diff)."""

    commit: Any  # history.git.Commit


@dataclass(frozen=True)
class Token:
    """A version's RFC 3161 timestamp: the authority's time and the token's sha256."""

    time: datetime
    sha256: str


@dataclass(frozen=True)
class Version(Keyed):
    """One published version, as pages and feeds show it."""

    version: str
    path: str
    changes_path: str
    site_path: str  # from the site's root (the document's prefix included)
    site_changes_path: str
    feed_id_path: str
    status: str
    kind: str
    editorial: bool
    reads_as_before: bool
    lead_days: int | None
    in_force_to: date | None
    content_hash: str
    policy: Policy
    published: Published
    previous: Ref | None
    diff: PolicyDiff
    amendments: tuple[tuple[Amended, PolicyDiff], ...]
    already_amended: Mapping[str, datetime]
    rewrites: tuple[dict, ...]
    timestamp: Token | None
    pdf_path: str
    changes_pdf_path: str
    word_path: str | None

    @property
    def ref(self) -> Ref:
        return Ref(self.version, self.path, self.changes_path)


@dataclass(frozen=True)
class Elsewhere:
    """A section that is not in the version in force, named as in a version that has it."""

    id: str
    label: str  # its label with its context ('Your rights › 7. Portability'), as in `entry`
    entry: Version  # the soonest upcoming version that has it, else the last version that had it
    upcoming: bool


@dataclass(frozen=True)
class Site(Keyed):
    """What a page of one version knows of its site: the settings, what it may say about notices, its document."""

    settings: SiteSettings
    notice_terms: NoticeTerms
    document: str  # '' in a single-document project
    prefix: str  # where the document's pages live: '' or 'terms/'


@dataclass(frozen=True)
class Document(Keyed):
    """The whole document, for the pages and feeds that show all of it."""

    settings: SiteSettings
    notice_terms: NoticeTerms
    document: str
    prefix: str
    entries: tuple[Version, ...]  # in publication order
    current: Version  # the version in force (the first one, upcoming, when none is in force yet)

    @property
    def title(self) -> str:
        return self.current.policy.title

    @property
    def newest_first(self) -> list[Version]:
        return list(reversed(self.entries))

    @property
    def latest(self) -> Version:
        return self.entries[-1]

    @property
    def upcoming(self) -> list[Version]:
        return [e for e in self.entries if e.status == "upcoming"]

    def url(self, path: str = "") -> str:
        return self.settings.url(self.prefix + path)

    @cached_property
    def section_ids(self) -> list[str]:
        """Every section id ever published, in order of first appearance."""
        ids: dict[str, None] = {}
        for entry in self.entries:
            ids.update(dict.fromkeys(entry.policy.section_ids()))
        return list(ids)

    def sections_elsewhere(self) -> list[Elsewhere]:
        """The sections of other versions than the one in force, in the order of `section_ids`: those of an
        upcoming version named as there (the soonest that has them), the removed ones as when last published."""
        shown = set(self.current.policy.section_ids())
        coming = sorted((e for e in self.upcoming if e is not self.current), key=lambda e: e.policy.effective)
        labels: dict[int, dict[str, str]] = {}

        def named(entry: Version) -> dict[str, str]:
            if id(entry) not in labels:
                labels[id(entry)] = path_labels(entry.policy)
            return labels[id(entry)]

        out: list[Elsewhere] = []
        for section_id in self.section_ids:
            if section_id in shown:
                continue
            found = next((e for e in coming if section_id in named(e)), None)
            entry = found or next(e for e in reversed(self.entries) if section_id in named(e))
            out.append(Elsewhere(section_id, named(entry)[section_id], entry, found is not None))
        return out


def _version(model: SiteModel, entry: VersionEntry) -> Version:
    from . import page_types  # which imports this module
    from .pdf import changes_pdf_path, version_pdf_path  # pdf imports this module's neighbours (pages)
    from .word.files import word_path
    published, previous = entry.published, entry.previous
    _known(entry.policy, entry.content_hash)  # kept by the parse cache (an amended text is hashed when keyed)
    return Version(
        entry.version, entry.path, entry.changes_path, entry.site_path, entry.site_changes_path, entry.feed_id_path,
        entry.status, entry.kind, entry.editorial, entry.reads_as_before, entry.lead_days, entry.in_force_to,
        entry.content_hash, entry.policy,
        Published(published.published, published.updated, published.commit),
        Ref(previous.version, page_types.VERSION.at(previous.version), page_types.CHANGES.at(previous.version))
        if previous else None,
        entry.diff, tuple((Amended(a.commit), d) for a, d in entry.amendments),
        MappingProxyType(dict(entry.already_amended)), tuple(dict(r) for r in entry.rewrites),
        Token(entry.timestamp.time, entry.timestamp.sha256) if entry.timestamp else None,
        version_pdf_path(model, entry), changes_pdf_path(model, entry),
        word_path(entry) if model.settings["word"] else None)


class DocumentInputs:
    """The parts of one document's inputs, each built once in a build: its versions, the document, its site."""

    def __init__(self, model: SiteModel, offered: Choices | None = None) -> None:
        self.model = model
        self.offered = offered or Choices()
        self.versions: dict[int, tuple[VersionEntry, Version]] = {}

    def version(self, entry: VersionEntry) -> Version:
        hit = self.versions.get(id(entry))
        if hit is None or hit[0] is not entry:
            hit = self.versions[id(entry)] = (entry, _version(self.model, entry))
        return hit[1]

    @cached_property
    def settings(self) -> SiteSettings:
        return SiteSettings.of(self.model.settings)

    @cached_property
    def site(self) -> Site:
        model = self.model
        return Site(self.settings, model.notice_terms, model.document, model.prefix)

    @cached_property
    def document(self) -> Document:
        model = self.model
        return Document(self.settings, model.notice_terms, model.document, model.prefix,
                        tuple(self.version(e) for e in model.entries), self.version(model.current))


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
