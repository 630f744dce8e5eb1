"""What the site shows: each published version with its status, time in force, diff and amendments."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, partial

from ..diff.sections import PolicyDiff, diff_policies
from ..history.versions import Amendment, History, PublishedVersion
from ..settings import Settings
from ..source.model import Policy, content_hash, same_version


@dataclass
class VersionEntry:
    published: PublishedVersion
    previous: PublishedVersion | None
    diff: PolicyDiff
    amendments: list[tuple[Amendment, PolicyDiff]]
    status: str = "superseded"  # current | upcoming | superseded
    in_force_to: date | None = None
    rewrites: list[dict] = field(default_factory=list)  # accepted rewrites of its published text (site/rewrites.py)

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
        return f"versions/{self.version}/"

    @property
    def changes_path(self) -> str:
        return f"changes/{self.version}/"


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


def build_model(settings: Settings, history: History, working: Policy | None = None) -> SiteModel:
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
        entries.append(VersionEntry(published, previous, diff, amendments))
        previous = published
    for entry, following in zip(entries, entries[1:]):  # never a range that ends before it starts
        entry.in_force_to = max(following.policy.effective, entry.policy.effective)
    in_force = [e for e in entries if e.policy.effective <= today]
    current = in_force[-1] if in_force else entries[0]
    current.status = "current" if in_force else "upcoming"
    for entry in entries[entries.index(current) + 1:]:
        entry.status = "upcoming" if entry.policy.effective > today else "superseded"
    draft = None
    if working is not None and working != entries[-1].published.latest_text:
        draft = Draft(working, diff_policies(entries[-1].policy, working))
    ids: list[str] = []
    for entry in entries:
        ids.extend(i for i in entry.policy.section_ids() if i not in ids)
    return SiteModel(settings, history, entries, current, draft, ids)
