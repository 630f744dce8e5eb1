"""What the site shows: each published version with its status, time in force, diff and amendments.

A version's diff starts from the previous version as published. When that version was amended later, the
changes already published as its amendments are marked as such on the next version's changes (they are
news only once). A version whose text reads exactly like the previous one is editorial.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property, partial
from typing import Any

from ..diff.sections import PolicyDiff, SectionChange, diff_policies
from ..history.versions import Amendment, History, PublishedVersion
from ..settings import Settings
from ..source.model import Policy, content_hash, same_version
from . import page_types
from .notice_terms import NoticeTerms


@dataclass
class VersionEntry:
    published: PublishedVersion
    previous: PublishedVersion | None
    diff: PolicyDiff
    amendments: list[tuple[Amendment, PolicyDiff]]
    status: str = "superseded"  # current | upcoming | superseded
    in_force_to: date | None = None
    already_amended: dict[str, datetime] = field(default_factory=dict)  # section id → amendment time
    until_then: VersionEntry | None = None  # the version in force the day before this one takes effect
    rewrites: list[dict] = field(default_factory=list)  # accepted rewrites of its published text (site/rewrites.py)
    prefix: str = ""  # where its document's pages live: '' or 'terms/'
    timestamp: Any = None  # its RFC 3161 token (site/timestamps.Timestamp), when it has one

    @property
    def reads_as_before(self) -> bool:
        """True when the text reads exactly like the previous version's (only the number or date changed)."""
        return self.previous is not None and not self.diff.visible

    @property
    def kind(self) -> str:
        """material, minor or editorial: what the version declares (`change:`); one that reads as before is
        editorial whatever it declares. The first version is material."""
        if self.previous is None:
            return "material"
        return "editorial" if self.reads_as_before else self.policy.change

    @property
    def lead_days(self) -> int | None:
        """Days from its publication to its effective date (negative: effective before it was published)."""
        published = self.published.published
        return None if published is None else (self.policy.effective - published.date()).days

    @property
    def editorial(self) -> bool:
        """No email, no stale translation: a version declared editorial, or one whose text reads as before."""
        return self.kind == "editorial"

    @property
    def new_changes(self) -> list[SectionChange]:
        """The changed sections that were not already published as amendments of the previous version."""
        return [c for c in self.diff.changed if c.id not in self.already_amended]

    @property
    def version(self) -> str:
        return self.published.version

    @property
    def policy(self) -> Policy:
        return self.published.policy

    @cached_property
    def content_hash(self) -> str:
        """The fingerprint of its published text (source/model.content_hash)."""
        return content_hash(self.policy)

    @property
    def path(self) -> str:
        return page_types.VERSION.at(self.version)

    @property
    def changes_path(self) -> str:
        return page_types.CHANGES.at(self.version)

    @property
    def site_path(self) -> str:
        """The page's path from the site's root (the document's prefix included)."""
        return self.prefix + self.path

    @property
    def site_changes_path(self) -> str:
        return self.prefix + self.changes_path

    @property
    def feed_id_path(self) -> str:
        """The path that names this version in feeds, forever: where its changes page was when it was published
        (a library document that was the project's only one keeps its old ids, so readers see nothing twice)."""
        return self.changes_path if self.published.at_root else self.site_changes_path


@dataclass
class Draft:
    """Unpublished working-tree edits, shown only under `mkdocs serve`."""

    policy: Policy
    diff: PolicyDiff


@dataclass
class SiteModel:
    settings: Settings
    history: History
    entries: list[VersionEntry]
    current: VersionEntry
    draft: Draft | None = None
    section_ids: list[str] = field(default_factory=list)
    document: str = ""  # the document's id ('' in a single-document project)
    prefix: str = ""  # where its pages live: '' or 'terms/'
    formerly_single: bool = False  # a library document that was the project's only one (its old URLs and ids)

    @property
    def notice_terms(self) -> NoticeTerms:
        """What its pages may say about email notices (site/notice_terms.py)."""
        return NoticeTerms.of(self.settings, [self.document])

    def url(self, path: str = "") -> str:
        """Absolute URL of one of this document's pages ('versions/1.0/')."""
        return self.settings.url(self.prefix + path)

    @property
    def title(self) -> str:
        return self.current.policy.title

    @property
    def newest_first(self) -> list[VersionEntry]:
        return list(reversed(self.entries))

    @property
    def upcoming(self) -> list[VersionEntry]:
        return [e for e in self.entries if e.status == "upcoming"]

    @property
    def latest(self) -> VersionEntry:
        return self.entries[-1]

    def entry(self, version: str) -> VersionEntry | None:
        return next((e for e in self.entries if same_version(e.version, version)), None)

    def in_force_on(self, day: date, before: VersionEntry | None = None) -> VersionEntry | None:
        """The version in force on a day (the latest effective date not after it; of those published before
        `before` when given), or None when no version was in force yet."""
        candidates = self.entries[: self.entries.index(before)] if before else self.entries
        found: VersionEntry | None = None
        for e in candidates:  # the latest effective date; of equal dates, the later publication
            if e.policy.effective <= day and (found is None or e.policy.effective >= found.policy.effective):
                found = e
        return found

    def in_force_until(self, entry: VersionEntry) -> VersionEntry | None:
        """The version in force the day before `entry` takes effect (what stays in force until then)."""
        return self.in_force_on(entry.policy.effective - timedelta(days=1), before=entry)


def _already_amended(history: History, previous: VersionEntry, published: PublishedVersion,
                     diff: PolicyDiff) -> dict[str, datetime]:
    """Sections whose change from the previous version was entirely published as its amendments already."""
    last = previous.published.amendments[-1]
    key = f"diff:{last.key}:{published.key}" if published.key and last.key else ""
    since = history.memo(key, partial(diff_policies, previous.published.latest_text, published.policy))
    still_new = {c.id for c in since.changed}
    amended: dict[str, datetime] = {}
    for amendment, amendment_diff in previous.amendments:
        for change in amendment_diff.changed:
            amended[change.id] = amendment.commit.time
    return {c.id: amended[c.id] for c in diff.changed if c.id in amended and c.id not in still_new}


def build_model(settings: Settings, history: History, working: Policy | None = None, document: str = "",
                prefix: str = "") -> SiteModel:
    """Entries in publication order; working is the working-tree policy, shown as a draft when it differs."""
    today = settings.build_time.date()
    entries: list[VersionEntry] = []
    previous: PublishedVersion | None = None
    for published in history.versions:
        amendments = [(a, history.memo(f"diff:{a.before_key}:{a.key}" if a.key else "",
                                       partial(diff_policies, a.before, a.after)))
                      for a in published.amendments]
        old = previous.policy if previous else None
        key = f"diff:{previous.key if previous else ''}:{published.key}" if published.key else ""
        diff = history.memo(key, partial(diff_policies, old, published.policy))
        entry = VersionEntry(published, previous, diff, amendments, prefix=prefix)
        if published.key:  # the fingerprint of a text parsed from these blobs, kept with the parsed policies
            entry.__dict__["content_hash"] = history.memo(f"hash:{published.key}",
                                                          partial(content_hash, published.policy))
        if entries and entries[-1].amendments:
            entry.already_amended = _already_amended(history, entries[-1], published, diff)
        entries.append(entry)
        previous = published
    for entry, following in zip(entries, entries[1:]):  # never a range that ends before it starts
        entry.in_force_to = max(following.policy.effective, entry.policy.effective)
    in_force = SiteModel(settings, history, entries, entries[0]).in_force_on(today)
    current = in_force or entries[0]
    current.status = "current" if in_force else "upcoming"
    for entry in entries[entries.index(current) + 1:]:
        entry.status = "upcoming" if entry.policy.effective > today else "superseded"
    draft = None
    if working is not None and working != entries[-1].published.latest_text:
        draft = Draft(working, diff_policies(entries[-1].policy, working))
    ids: dict[str, None] = {}  # every id ever published, in order of first appearance
    for entry in entries:
        ids.update(dict.fromkeys(entry.policy.section_ids()))
    model = SiteModel(settings, history, entries, current, draft, list(ids), document, prefix)
    by_date: list[tuple[date, int]] = []  # (effective, publication index) of the entries before, sorted
    for n, entry in enumerate(entries):
        found = bisect.bisect_right(by_date, (entry.policy.effective - timedelta(days=1), len(entries))) - 1
        entry.until_then = entries[by_date[found][1]] if found >= 0 else None
        bisect.insort(by_date, (entry.policy.effective, n))
    return model
