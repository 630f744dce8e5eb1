"""The parts of the frozen inputs templates receive (site/page_inputs.py), and the one way an input becomes a key.

`canonical(value)` writes an input as plain data for keys.digest: a policy's text as its content hash, a diff as
the two texts it compares (the diff's code is in keys.software()), a shared part as its own digest; anything that
cannot be keyed is refused. The parts shared by many inputs are built once per document and build
(`DocumentInputs`): one `Version` per published version (its text, diff, amendments, status, dates, paths...),
one `Site` (the settings and notice terms a version's pages read) and one `Document` (every version and the one in
force); each one's digest is computed once (`Keyed.key`) and stands for it in every input that holds it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields, is_dataclass
from datetime import date, datetime
from functools import cached_property
from types import MappingProxyType
from typing import Any

from ..diff.sections import PolicyDiff, path_labels
from ..keys import digest
from ..settings import Settings, require_site_url
from ..source.model import Policy, content_hash
from .choices import Choices
from .model import SiteModel, VersionEntry
from .notice_terms import NoticeTerms
from .page_types import CHANGES, VERSION

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
    kind = type(value)
    how = _HOW.get(kind)
    if how is None:
        how = _HOW[kind] = _how(kind)
    return how(value)


def _same(value: Any) -> Any:
    return value


def _fields(value: Any) -> list:
    kind = type(value)
    names = _NAMES.get(kind)
    if names is None:
        names = _NAMES[kind] = tuple(f.name for f in fields(value))
    return [kind.__name__, {name: canonical(getattr(value, name)) for name in names}]


def _refused(value: Any) -> Any:
    raise TypeError(f"a {type(value).__name__} cannot be part of a template's input")


def _how(kind: type) -> Callable[[Any], Any]:
    """How canonical writes a value of this type (decided once per type)."""
    if issubclass(kind, (str, int, float, bool, type(None))):
        return _same
    if issubclass(kind, Keyed):
        return lambda value: value.key
    if issubclass(kind, (datetime, date)):
        return lambda value: value.isoformat()
    if issubclass(kind, Policy):
        return lambda value: ["policy", policy_hash(value)]
    if issubclass(kind, PolicyDiff):
        return lambda value: ["diff", canonical(value.old), canonical(value.new)]
    if is_dataclass(kind):
        return _fields
    if issubclass(kind, Mapping):
        return lambda value: {str(k): canonical(v) for k, v in value.items()}
    if issubclass(kind, (list, tuple)):
        return lambda value: [canonical(v) for v in value]
    if issubclass(kind, (set, frozenset)):
        return lambda value: sorted(canonical(v) for v in value)
    return _refused


_HOW: dict[type, Callable[[Any], Any]] = {}
_NAMES: dict[type, tuple[str, ...]] = {}  # a dataclass's field names, by its type


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
    from .pdf import changes_pdf_path, version_pdf_path  # (both import gencache, which imports this module)
    from .word.files import word_path
    published, previous = entry.published, entry.previous
    _known(entry.policy, entry.content_hash)  # kept by the parse cache (an amended text is hashed when keyed)
    return Version(
        entry.version, entry.path, entry.changes_path, entry.site_path, entry.site_changes_path, entry.feed_id_path,
        entry.status, entry.kind, entry.editorial, entry.reads_as_before, entry.lead_days, entry.in_force_to,
        entry.content_hash, entry.policy,
        Published(published.published, published.updated, published.commit),
        Ref(previous.version, VERSION.at(previous.version), CHANGES.at(previous.version))
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
