"""Published text is anchored: once a version's content hash was announced, history may not change it silently.

Announcements come from sources, each a mapping of version → (content hash, commit): the previous build's
`<site_dir>/versions.json` always, and whatever the caller adds (the command line can pass the notify
ledger's). A version announced with one hash whose publishing text in history now has another — or that is
gone from a complete history — stops the build with an error naming the version and both commits, unless the
version is accepted (`policy build --accept-rewrite VERSION`, or `accept_rewrite` in mkdocs.yml): then the
build goes on and the version's pages say it was rewritten, from this build on (versions.json carries it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..errors import UserError
from ..source.model import same_version, version_key
from .dates import iso
from .model import SiteModel, VersionEntry

# (where it was announced, {version: (content hash, commit)})
Announced = Mapping[str, tuple[str, str | None]]
Source = tuple[str, Announced]


def previous_build(site_dir: Path, prefix: str = "", formerly_single: bool = False
                   ) -> tuple[Source, dict[str, list[dict]], str | None]:
    """What the previous build announced in versions.json, the rewrites it already showed (by version), and a
    warning when that file exists but cannot be read (then nothing is compared with it).

    prefix: a library document's folder ('terms/'); a document that was the project's only one reads the
    site's root versions.json until its own exists (the records there without a document were its own).
    """
    path = site_dir / prefix / "versions.json"
    if formerly_single and not path.is_file():
        path = site_dir / "versions.json"
    label = f"the previous build ({path})"
    try:
        records = [r for r in json.loads(path.read_text(encoding="utf-8"))["versions"]
                   if not (isinstance(r, dict) and r.get("document"))]
        announced = {r["version"]: (r["content_hash"], r.get("commit")) for r in records
                     if isinstance(r, dict) and isinstance(r.get("content_hash"), str)}
        shown = {r["version"]: r["rewritten"] for r in records
                 if isinstance(r, dict) and isinstance(r.get("rewritten"), list) and r["rewritten"]}
    except FileNotFoundError:
        return (label, {}), {}, None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return (label, {}), {}, (f"{path} cannot be read ({str(exc)[:80]}): published versions were not compared "
                                 "with the previous build")
    return (label, announced), shown, None


def _number(version: str) -> tuple[int, ...] | str:
    """What same_version compares: the version's number, or its spelling when it is not a number."""
    try:
        return version_key(version)
    except ValueError:
        return version


def _short(value: str | None) -> str:
    return value[:10] if value else "none"


def check_rewrites(model: SiteModel, sources: Sequence[Source], accepted: Sequence[str],
                   shown: Mapping[str, list[dict]] | None = None) -> None:
    """Stop the build on a rewritten published version not accepted; mark accepted ones on their entries.

    shown: the rewrites the previous build already showed; they stay on the pages, and stay accepted.
    """
    history_complete = model.history.from_git and not model.history.shallow
    for each in model.entries:
        current = each.content_hash
        each.rewrites.extend(r for r in (shown or {}).get(each.version, [])
                             if isinstance(r, dict) and r.get("new_content_hash") == current)
    errors: list[str] = []
    refused: list[str] = []
    used: set[str] = set()
    by_number = {_number(e.version): e for e in reversed(model.entries)}  # model.entry, without n² lookups
    for label, announced in sources:
        for version, (old_hash, old_commit) in announced.items():
            entry = by_number.get(_number(version))
            if entry is None and not history_complete:
                continue
            new_hash = entry.content_hash if entry else None
            if new_hash == old_hash or (entry and any(r.get("old_content_hash") == old_hash for r in entry.rewrites)):
                continue
            chosen = [name for name in accepted if same_version(version, name)]
            if chosen:
                used.update(chosen)
                if entry is not None:
                    _mark(entry, old_hash, old_commit)
                continue
            commit = entry.published.commit if entry else None
            now = (f"history now publishes it in commit {_short(commit.sha if commit else None)} with other text "
                   f"(content {_short(new_hash)})") if entry else "it is no longer in the history"
            errors.append(f"  version {version}: published in commit {_short(old_commit)} (content "
                          f"{_short(old_hash)}) according to {label}; {now}")
            refused.append(version)
    if errors:
        raise UserError("published text was rewritten in git history:\n" + "\n".join(errors) + "\n"
                        "Published text never changes. If this rewrite is intended, build with "
                        + " ".join(f"--accept-rewrite {v}" for v in dict.fromkeys(refused))
                        + " (or list the versions under accept_rewrite in the policy plugin's options in mkdocs.yml);"
                          " their pages will then say they were rewritten.")
    for name in accepted:
        if name not in used:
            model.history.warnings.append(f"accept_rewrite {name}: that version was not rewritten; nothing to accept")


def _mark(entry: VersionEntry, old_hash: str, old_commit: str | None) -> None:
    commit = entry.published.commit
    record = {"version": entry.version, "old_commit": old_commit, "old_content_hash": old_hash,
              "new_commit": commit.sha if commit else None, "new_content_hash": entry.content_hash,
              "date": iso(commit.time) if commit else None}
    if record not in entry.rewrites:
        entry.rewrites.append(record)
