"""`policy import --git … --manifest FILE` with `translations:`: every revision of a document's translation into a
language, as the files `policy translate` writes (translations/LANG/policy.yaml and sections/<id>.yaml).

Each translated revision is converted like a document's revision, then its sections take the ids of the original's
sections: a top-level heading whose explicit id (`## Umfang {#scope}`) is one of the original's section ids keeps
it; the others are matched by their order among the top-level headings (subsections likewise, when their number
agrees). A translated heading left without a match is reported and left out (the site then calls the original's
section missing).

**Dating.** A translated revision translates the version of the original that was in force — published, i.e.
committed — at its own commit date: the last revision of the original committed at or before it. policy.yaml's
source_version is that version. A section's source_version is the version in force when its translated text last
changed: a section the translator did not touch keeps the version it was translated from, so a section whose
original changed meanwhile shows as stale. A revision older than the original's first version is skipped
(reported), as is one whose translated text reads as before.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import UserError
from ..history import git as gitcmd
from ..source.files import POLICY_FILE, SECTIONS_DIR
from ..source.loader import parse_files
from ..source.model import Organisation, Policy, Section, section_to_data
from ..source.translations import TRANSLATIONS_DIR
from .convert import Meta, convert
from .dates import take_effective
from .doc import DSection
from .formats import kind_of, read_document
from .history import WHITESPACE_ONLY, Plan, Planned, collect
from .slugs import to_id
from .yamlout import dump, policy_files

BEFORE_ORIGINAL = "committed before the original's first version: there was no version to translate"


@dataclass(frozen=True)
class TranslationSource:
    """A document's translation into a language: its paths in the repository, newest first."""

    document: str
    language: str
    paths: tuple[str, ...]

    @property
    def key(self) -> str:
        """The folder under policy/ it goes to, which also names it in the library's history."""
        return f"{self.document}/{TRANSLATIONS_DIR}/{self.language}"


def _time(revision: gitcmd.FileRevision) -> int:
    return int(revision.committer.date.split()[0])


def in_force(original: Plan, when: int) -> Planned | None:
    """The original's revision published (committed) last at or before `when`, or None before its first."""
    found = None
    for planned in original.kept:
        if _time(planned.revision) <= when:
            found = planned
    return found


def _children(section: Section) -> list[Section]:
    return [b for b in section.body if isinstance(b, Section)]


def _explicit(section: DSection, ids: set[str]) -> str | None:
    return next((to_id(a) for a in [section.anchor, *section.anchors] if to_id(a) in ids), None)


def _name(section: DSection, original: str) -> None:
    """The translated heading takes the original's id; its own anchor stays one of its anchors (links to it)."""
    if section.anchor != original:
        section.anchors = [section.anchor, *section.anchors]
    section.anchor = original


def _match_children(translated: list[DSection], original: list[Section]) -> None:
    """Subsections by order, when there are as many as the original's (else they keep their own ids)."""
    translated = [s for s in translated if s.body]
    if len(translated) != len(original):
        return
    for mine, theirs in zip(translated, original):
        _name(mine, theirs.id)
        _match_children(mine.children, _children(theirs))


def match_sections(top: list[DSection], original: Policy) -> list[str]:
    """Give the translated top-level headings the ids of the original's sections (explicit ids first, then by
    order); the titles of the translated headings left without a match."""
    ids = [s.id for s in original.sections]
    by_id = {s.id: s for s in original.sections}
    headings = [s for s in top if s.body]  # a heading with nothing under it becomes a paragraph
    matched: dict[int, str] = {}
    for n, section in enumerate(headings):
        found = _explicit(section, set(ids) - set(matched.values()))
        if found:
            matched[n] = found
    rest = [i for i in ids if i not in matched.values()]
    unmatched: list[str] = []
    for n, section in enumerate(headings):
        if n in matched:
            continue
        if rest:
            matched[n] = rest.pop(0)
        else:
            unmatched.append(section.title)
    for n, section in enumerate(headings):
        if n in matched:
            _name(section, matched[n])
            _match_children(section.children, _children(by_id[matched[n]]))
        else:
            section.anchor = f"unmatched-{to_id(section.anchor) or n}"
    return unmatched


def _files(policy: Policy, sources: dict[str, str], version: str) -> dict[str, bytes]:
    meta: dict = {"title": policy.title}
    if policy.introduction:
        meta["introduction"] = list(policy.introduction)
    meta["source_version"] = version
    files = {POLICY_FILE: dump(meta).encode("utf-8")}
    for section in policy.sections:
        data = section_to_data(section)
        data["source_version"] = sources[section.id]
        files[f"{SECTIONS_DIR}/{section.id}.yaml"] = dump(data).encode("utf-8")
    return files


def plan_translation(repo: Path, ref: str, source: TranslationSource, original: Plan, organisation: Organisation,
                     others: frozenset[str]) -> Plan:
    """Every revision of the translation converted, matched to the original's sections and dated, in memory; the
    Plan's kept revisions carry the files of translations/LANG/ (Planned.policy: the translated text, its version
    the policy.yaml's source_version). UserError, nothing written, if one cannot be read."""
    for path in source.paths:
        kind_of(path)
    revisions, renames = collect(repo, ref, list(source.paths), others)
    result = Plan(repo, read=len(revisions), renames=renames)
    contents = gitcmd.read_files(repo, [f"{r.sha}:{r.path}" for r in revisions if r.status != "D"])
    last_texts: dict[str, dict] = {}  # section id → its data in the last kept revision
    sources: dict[str, str] = {}  # section id → the version it translates
    last_key: object = None
    for revision in revisions:
        data = contents.get(f"{revision.sha}:{revision.path}")
        if revision.status == "D" or data is None:
            result.skipped.append((revision, f"{revision.path} was deleted"))
            continue
        then = in_force(original, _time(revision))
        if then is None:
            result.skipped.append((revision, BEFORE_ORIGINAL))
            continue
        doc = read_document(revision.path, data)
        take_effective(doc)
        unmatched = match_sections(doc.sections, then.policy)
        day = revision.committer.time.date()
        converted = convert(doc, Meta(then.policy.version, day, "-", organisation, then.policy.title))
        originals = {s.id for s in then.policy.sections}
        kept_sections = tuple(s for s in converted.policy.sections if s.id in originals)
        policy = replace(converted.policy, sections=kept_sections or converted.policy.sections[:1])
        texts = {s.id: section_to_data(s) for s in kept_sections}
        key = (policy.title, policy.introduction, sorted(texts.items(), key=lambda kv: kv[0]))
        if key == last_key:
            result.skipped.append((revision, WHITESPACE_ONLY))
            continue
        last_key = key
        for section_id, text in texts.items():
            if last_texts.get(section_id) != text or section_id not in sources:
                sources[section_id] = then.policy.version
        last_texts = texts
        _check(policy, revision)
        translated = replace(policy, sections=kept_sections, version=then.policy.version)
        result.kept.append(Planned(revision, translated, _files(translated, sources, then.policy.version)))
        for title in unmatched:
            result.notes.setdefault(f"heading '{title}' matches no section of the original: left out",
                                    f"{revision.path}@{revision.sha[:10]}")
        for note in converted.notes:
            place = f"{revision.path}@{revision.sha[:10]}" + (f" {doc.where} {note.line}" if note.line else "")
            result.notes.setdefault(note.message, place)
    return result


def _check(policy: Policy, revision: gitcmd.FileRevision) -> None:
    """The translated text reads as a valid policy (the same checks as a document's revision)."""
    found, problems = parse_files(policy_files(policy))
    if found is None:
        lines = "\n".join(str(p) for p in problems[:20])
        raise UserError(f"revision {revision.sha[:10]} of {revision.path} does not convert to a valid translation (a "
                        f"bug of `policy import`; please report it with the file); nothing was written:\n{lines}")
