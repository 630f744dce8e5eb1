"""`policy check`: the working tree against the loader's rules and against the published history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

from ..errors import PolicyInvalid, Problem
from ..source.files import POLICY_FILE, read_working_tree
from ..source.model import Policy, version_key
from ..source.project import load_project
from ..source.yamlnodes import compose
from .git import blob_id
from .versions import History, read_documents


def _field_position(files: dict[str, bytes], prefix: str, name: str) -> tuple[int, int]:
    """Line and column of a top-level field's value in policy.yaml."""
    root, _ = compose(prefix, files.get(POLICY_FILE, b""))
    for key, value in getattr(root, "value", []):
        if getattr(key, "value", None) == name:
            return value.start_mark.line + 1, value.start_mark.column + 1
    return 1, 1


def history_problems(policy: Policy, history: History, files: dict[str, bytes], prefix: str) -> list[Problem]:
    """Errors for edits that would change published text, reuse a version number or go back in time."""
    if not history.from_git or not history.versions:
        return []
    path = f"{prefix}/{POLICY_FILE}"
    line, column = _field_position(files, path, "version")
    latest = history.versions[-1]
    published = history.find(policy.version)
    respelled = published is not None and published.version != policy.version
    same = f"version {policy.version} is the same number as the published {published.version}" \
        if published is not None and respelled else ""
    if published is latest:
        if replace(policy, version=latest.version) != latest.policy:
            if respelled:
                return [Problem(path, line, column, f"{same}; use a number above {latest.version} "
                                                    f"(e.g. \"{suggest_next(latest.version)}\")")]
            when = f"in {latest.commit.describe()}" if latest.commit else "earlier"
            return [Problem(path, line, column,
                            f"the text of version {latest.version} changed after it was published {when}; "
                            f"published text never changes: bump the version (e.g. to "
                            f"\"{suggest_next(latest.version)}\") and update the summary")]
        if respelled:
            return [Problem(path, line, column, f"{same}: write it as \"{latest.version}\", as published")]
        return []
    if published is not None:
        return [Problem(path, line, column, f"{same or f'version {policy.version} was already published'}; "
                                            f"use a number above {latest.version}")]
    if version_key(policy.version) < version_key(latest.version):
        return [Problem(path, line, column, f"version {policy.version} goes backwards: the latest published "
                                            f"version is {latest.version}")]
    if policy.effective < latest.policy.effective:
        day = latest.policy.effective.isoformat()
        return [Problem(path, *_field_position(files, path, "effective"),
                        f"effective date {policy.effective.isoformat()} is before {day}, when the published version "
                        f"{latest.version} takes effect: a new version cannot take effect before the version it "
                        f"replaces; use {day} or later")]
    return []


def unpublished_head(policy: Policy, history: History, files: dict[str, bytes], prefix: str) -> list[Problem]:
    """An error when the working tree is HEAD's policy, holds a new version, and history does not publish it."""
    tip = history.tip
    if tip is None or not tip.files:
        return []
    like = next(iter(tip.files.values()))
    if {name: blob_id(data, like) for name, data in files.items()} != tip.files:
        return []  # uncommitted edits: a draft, judged by the rules above
    latest = history.versions[-1] if history.versions else None
    if latest is not None and version_key(policy.version) <= version_key(latest.version):
        return []
    if tip.problems:
        why = str(tip.problems[0])
    else:
        why = next((w for w in history.warnings if tip.commit.short in w), "the publishing rules skipped it")
    path = f"{prefix}/{POLICY_FILE}"
    return [Problem(path, *_field_position(files, path, "version"),
                    f"HEAD ({tip.commit.describe()}) holds version {policy.version}, but building the site would not "
                    f"publish it: {why}")]


def notice_problems(policy: Policy, history: History, files: dict[str, bytes], prefix: str, notice_days: int,
                    today: date, pull_request: bool = False) -> list[Problem]:
    """A material version must take effect at least notice_days after it is published: the working tree's version,
    counted from today when no commit publishes it yet (or on a pull request, which publishes it when merged), else
    from its publishing commit — and only within notice_days of that, so a past mistake does not fail every check
    for ever (publishing a new version with a later date is how it is put right)."""
    if notice_days <= 0 or policy.change != "material" or not history.versions:
        return []  # a project's first version gives notice to nobody
    published = history.find(policy.version)
    if published is None:
        if version_key(policy.version) <= version_key(history.versions[-1].version):
            return []  # not a new version: the history rules speak about it
        since, how = today, "from today, as nothing publishes it yet"
    elif published is history.versions[0] or published.commit is None:
        return []
    elif pull_request:
        since, how = max(today, published.commit.time.date()), "from today, as the pull request publishes it"
    else:
        since, how = published.commit.time.date(), f"from its publication on {published.commit.time.date()}"
        if (today - since).days >= notice_days:
            return []
    earliest = since + timedelta(days=notice_days)
    if policy.effective >= earliest:
        return []
    path = f"{prefix}/{POLICY_FILE}"
    days = (policy.effective - since).days
    return [Problem(path, *_field_position(files, path, "effective"),
                    f"version {policy.version} is a material change, so it takes effect at least {notice_days} days "
                    f"after it is published (notice_days in mkdocs.yml): effective {policy.effective.isoformat()} is "
                    f"{days} day{'s' if abs(days) != 1 else ''} {how}; use {earliest.isoformat()} or later, or "
                    f"declare `change: minor` or `change: editorial` if that is what it is")]


def suggest_next(version: str) -> str:
    parts = version.split(".")
    parts[-1] = str(int(parts[-1]) + 1)
    return ".".join(parts)


@dataclass
class Checked:
    """One document that passed: its working-tree policy, its history and the warnings about it."""

    document: str
    policy: Policy
    history: History
    warnings: list[str]


def numbering_warnings(policy: Policy, where: str) -> list[str]:
    """Sections of one level that mix numbered and unnumbered ones (a section added by hand after an import that
    wrote `numbered: false` is numbered by default, and shows as "1." among unnumbered ones)."""
    out: list[str] = []
    levels: dict[str, list] = {}
    for placed in policy.walk():
        levels.setdefault(placed.parent or "", []).append(placed.section)
    for parent, sections in levels.items():
        numbered = [s for s in sections if s.numbered]
        # fewer numbered than unnumbered: numbered by default, not by choice (an unnumbered few, like a closing
        # section, took `numbered: false` written on purpose)
        if not numbered or len(numbered) * 2 > len(sections):
            continue
        level = f"under '{parent}'" if parent else "at the top level"
        names = ", ".join(s.id for s in numbered[:5]) + (" …" if len(numbered) > 5 else "")
        one = len(numbered) == 1
        out.append(f"{where}: sections {level} mix numbered and unnumbered ones: {names} {'is' if one else 'are'} "
                   f"numbered (the default) while the others are not: add `numbered: false` to "
                   f"{'it' if one else 'them'}, or number the others")
    return out


def run_check(policy_dir: Path, prefix: str = "policy", allow_shallow: bool = False,
              cache_dir: Path | None = None, notice_days: Callable[[str], int] | None = None,
              today: date | None = None, pull_request: bool = False) -> list[Checked]:
    """Every document of the project checked against the loader's rules and its history (one git pass for all),
    or PolicyInvalid with every problem of every document."""
    layout, policies = load_project(policy_dir, prefix)
    views = [(d, d, d == layout.formerly_single) for d in layout.documents]
    histories = read_documents(policy_dir, views, allow_shallow=allow_shallow, cache_dir=cache_dir,
                               require_versions=False)
    problems: list[Problem] = []
    checked: list[Checked] = []
    for document in layout.documents:
        policy, history = policies[document], histories[document]
        where = f"{prefix}/{document}" if document else prefix
        files, _ = read_working_tree(layout.folder(policy_dir, document))
        problems += history_problems(policy, history, files, where) + unpublished_head(policy, history, files, where)
        if notice_days is not None:
            problems += notice_problems(policy, history, files, where, notice_days(document), today or date.today(),
                                        pull_request)
        warnings = list(history.warnings)
        named = f"{document}: " if document else ""
        if history.from_git and not history.versions:
            warnings.append(f"{named}nothing is published yet: no commit holds a valid policy; commit this "
                            "working tree")
        for version in history.versions[:-1]:
            for amendment in version.amendments:
                warnings.append(f"{named}version {version.version} was amended without a new number in "
                                f"{amendment.commit.describe()}; its page shows the amendment")
        latest = history.versions[-1] if history.versions else None
        if latest is not None and policy.change != "material" and latest.policy.change == policy.change \
                and version_key(policy.version) > version_key(latest.version):
            warnings.append(f"{named}version {policy.version} is declared `change: {policy.change}`, as version "
                            f"{latest.version} was: check that it still describes the new version (material is the "
                            "default when `change` is left out)")
        warnings += [f"{named}{w}" for w in numbering_warnings(policy, where)]
        checked.append(Checked(document, policy, history, warnings))
    if problems:
        raise PolicyInvalid(problems)
    return checked
