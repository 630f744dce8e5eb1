"""`policy import --git`: every revision of one document in another git repository, as the versions of a new
project.

The document's first-parent history is read once (`git log --follow`, then each older --path before the
earliest commit found), every revision converted in memory and checked with the project's loader; only then
is the new project written, one commit per revision whose visible text changed, with the original author,
committer, dates and message. Section ids stay stable from revision to revision (convert.assign_ids), so a
retitled heading is a rename. Nothing is written when any revision fails.

A revision whose visible text, anchors and effective date read as before (whitespace, comments, front matter,
an attribute list's class) is skipped. One whose text reads as before but whose effective date or anchors
changed (a mistyped `{: datetime="…" }` corrected, a date line fixed, an `{: #id }` added) is published, as
`change: editorial`: a reader sees the new date, links land on the new anchor, nobody is notified, and it is
not presented as a material change.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from ..errors import UserError
from ..history import git as gitcmd
from ..source.files import POLICY_FILE, SECTIONS_DIR
from ..source.loader import parse_files
from ..source.model import Organisation, Policy, policy_to_data, without_anchors
from .convert import Meta, SectionText, convert
from .dates import take_effective
from .doc import Note, Run
from .formats import kind_of, read_document
from .inlinetext import to_markdown
from .yamlout import policy_files

WHITESPACE_ONLY = "only whitespace, comments, attribute lists or front matter changed"
EDITORIAL = "the text reads as before; only its {what} changed: published as an editorial version"


@dataclass
class Planned:
    """A revision to commit: the source commit, the policy it becomes, and its files."""

    revision: gitcmd.FileRevision
    policy: Policy
    files: dict[str, bytes]


@dataclass
class Plan:
    repo: Path
    read: int = 0
    kept: list[Planned] = field(default_factory=list)
    skipped: list[tuple[gitcmd.FileRevision, str]] = field(default_factory=list)
    renames: list[str] = field(default_factory=list)
    redirects: dict[str, str] = field(default_factory=dict)
    renamed_anchors: list[tuple[str, str]] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # message → "path@sha:line" where first seen
    clamped: list[str] = field(default_factory=list)
    editorial: list[tuple[gitcmd.FileRevision, str]] = field(default_factory=list)  # revision, why


def collect(repo: Path, ref: str, paths: list[str],
            others: frozenset[str] = frozenset()) -> tuple[list[gitcmd.FileRevision], list[str]]:
    """The revisions of the document, oldest first, and the renames followed. others: the paths of other documents
    imported with it; git's --follow never continues into one of them (it takes a copy of a document for a
    rename), the history starts at the commit that made this one from it."""
    chain: list[gitcmd.FileRevision] = []
    renames: list[str] = []
    start = gitcmd.resolve_commit(repo, ref)
    for n, path in enumerate(paths):
        if n and any(r.path == path or r.old_path == path for r in chain):
            continue  # git followed that rename already
        if n:
            earliest = chain[-1]
            try:
                start = gitcmd.resolve_commit(repo, f"{earliest.sha}^")
            except UserError:
                raise UserError(f"--path {path}: nothing is older than {earliest.sha[:10]}, the first commit of "
                                f"{earliest.path}") from None
        found = gitcmd.file_history(repo, start, path)
        if not found:
            where = ref if not n else f"the history before {chain[-1].sha[:10]}"
            raise UserError(f"{path} is not in {where} of {repo} (first-parent history); check the path, relative to "
                            f"the repository's top folder (`git -C {repo} log --name-only`)")
        if n:
            renames.append(f"{path} → {chain[-1].path} (given with --path, before {chain[-1].sha[:10]})")
        cut = next((i for i, r in enumerate(found) if r.old_path in others), len(found))
        renames += [f"{r.old_path} → {r.path} in {r.sha[:10]}" for r in found[:cut] if r.status in "RC" and r.old_path]
        chain += found[: cut + 1]
        if cut < len(found):
            stop = found[cut]
            renames.append(f"{stop.old_path} → {stop.path} in {stop.sha[:10]} not followed: {stop.old_path} is "
                           "another document's; the history starts there")
            break
    return list(reversed(chain)), renames


def _summary(revision: gitcmd.FileRevision, first: bool) -> str:
    """The commit's subject line; without one, words a reader can read (never a path or a commit id)."""
    subject = " ".join((revision.message.split("\n", 1)[0] if revision.message else "").split())
    text, _ = to_markdown([Run(subject)], lambda href: (href, None)) if subject else ("", [])
    return text or ("First published version" if first else "A revised text")


def _redirects(front: dict) -> list[str]:
    value = front.get("redirect_from") or []
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return ["/" + str(v).strip().lstrip("/") for v in values if isinstance(v, (str, int)) and str(v).strip()]


def _visible(policy: Policy) -> tuple[str, str]:
    """The policy's text as a reader reads it, and with its anchors (version, date and summary aside)."""
    data = policy_to_data(policy)
    for name in ("version", "effective", "summary"):
        data.pop(name)
    return (json.dumps(without_anchors(data), sort_keys=True, ensure_ascii=False),
            json.dumps(data, sort_keys=True, ensure_ascii=False))


def plan(repo: Path, ref: str, paths: list[str], versions: str, organisation: Organisation,
         title: str | None = None, others: frozenset[str] = frozenset()) -> Plan:
    """Every revision converted and checked, in memory; UserError (nothing written) if any cannot be. title: the
    document's title in every version instead of its first heading's; others: see collect()."""
    for path in paths:
        kind_of(path)
    root = gitcmd.repository_root(repo)
    revisions, renames = collect(root, ref, paths, others)
    result = Plan(root, read=len(revisions), renames=renames)
    contents = gitcmd.read_files(root, [f"{r.sha}:{r.path}" for r in revisions if r.status != "D"])
    previous: list[SectionText] | None = None
    last_key: tuple | None = None
    last_effective: date | None = None
    per_year: Counter = Counter()
    for revision in revisions:
        data = contents.get(f"{revision.sha}:{revision.path}")
        if revision.status == "D" or data is None:
            result.skipped.append((revision, f"{revision.path} was deleted"))
            continue
        doc = read_document(revision.path, data)
        for old in _redirects(doc.front):
            result.redirects[old] = "/"
        effective = take_effective(doc)
        committed = revision.committer.time.date()
        day = effective.value if effective else committed
        converted = convert(doc, Meta("1.0", day, "-", organisation, Path(revision.path).stem), previous)
        if title:
            converted = replace(converted, policy=replace(converted.policy, title=title))
        key = (_visible(converted.policy), effective.value if effective else None)
        previous = converted.sections
        if key == last_key:
            result.skipped.append((revision, WHITESPACE_ONLY))
            continue
        change = "editorial" if last_key is not None and key[0][0] == last_key[0][0] else "material"
        what = " and ".join(w for w, changed in (("effective date", last_key is not None and key[1] != last_key[1]),
                                                  ("anchors", last_key is not None and key[0][1] != last_key[0][1]))
                            if changed)
        last_key = key
        if last_effective and day < last_effective:
            result.clamped.append(f"{revision.sha[:10]}: effective {day} is before the previous version's "
                                  f"{last_effective}; kept at {last_effective}")
            day = last_effective
        last_effective = day
        year = revision.committer.time.year
        if per_year and year < max(per_year):
            year = max(per_year)  # a commit dated before the one before it: numbers never go back
        per_year[year] += 1
        version = f"{year}.{per_year[year]}" if versions == "date" else f"{sum(per_year.values())}.0"
        policy = replace(converted.policy, version=version, effective=day, summary=_summary(revision, not result.kept),
                         change=change)
        if change == "editorial":
            dates = f" ({result.kept[-1].policy.effective} → {day})" if "date" in what else ""
            result.editorial.append((revision, f"{version}: {EDITORIAL.format(what=what)}{dates}"))
        files = policy_files(policy)
        _check(files, revision)
        result.kept.append(Planned(revision, policy, files))
        result.renamed_anchors = converted.renamed_anchors
        for note in converted.notes:
            _remember(result, revision, note, doc.where)
    if not result.kept:
        raise UserError(f"no revision of {paths[0]} in {ref} has text to import")
    return result


def _remember(result: Plan, revision: gitcmd.FileRevision, note: Note, where: str) -> None:
    place = f"{revision.path}@{revision.sha[:10]}" + (f" {where} {note.line}" if note.line else "")
    result.notes.setdefault(note.message, place)


def _check(files: dict[str, bytes], revision: gitcmd.FileRevision) -> None:
    policy, problems = parse_files(files)
    if policy is None:
        lines = "\n".join(str(p) for p in problems[:20])
        raise UserError(f"revision {revision.sha[:10]} of {revision.path} does not convert to a valid policy (a bug "
                        f"of `policy import`; please report it with the file); nothing was written:\n{lines}")


def write_policy(policy_dir: Path, files: dict[str, bytes]) -> None:
    """Replace policy.yaml and sections/ in policy_dir with files (schema/ stays)."""
    sections = policy_dir / SECTIONS_DIR
    if sections.exists():
        shutil.rmtree(sections)
    sections.mkdir(parents=True)
    (policy_dir / POLICY_FILE).unlink(missing_ok=True)
    for name, data in files.items():
        (policy_dir / name).write_bytes(data)


def replay(project: Path, result: Plan, label: str) -> list[str]:
    """One commit per kept revision in the new project (its skeleton goes in with the first); the new ids."""
    written = []
    for planned in result.kept:
        write_policy(project / "policy", planned.files)
        revision = planned.revision
        message = f"{revision.message.rstrip()}\n\nImported from {label} {revision.sha}".lstrip("\n")
        written.append(gitcmd.commit_all(project, message, revision.author, revision.committer))
    return written
