"""`policy import --git REPO --manifest FILE` (or `--document ID=PATH[,OLDER…]`, repeated): the histories of
several documents in another git repository as one library.

Each document is planned exactly as a single-document import plans it (history.plan: the same revisions kept and
skipped, the same version numbers and effective dates). The revisions of all documents are then interleaved by
commit date (each document's own order kept) into one first-parent history: one commit per revision, touching
only policy/<id>/ (and library.yaml when the document first appears), with the original author, committer, dates
and message plus "Imported from REPO SHA" — so each document publishes each of its versions at its own commit.

Importing again into a library an earlier import made continues it: the source commits its history names in
"Imported from" lines (per document: the commit's files under policy/<id>/) are left out, and only the newer
revisions are committed. Nothing new: nothing is written.

A document's translations (`translations: {de: [PATHS]}` in the manifest) are planned by translation_history.py
and interleaved the same way, one commit per translated revision in policy/<id>/translations/<lang>/, each dated
to the version of the original in force at its commit date; an import again adds only their new revisions too.
"""

from __future__ import annotations

import heapq
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from ..errors import UserError
from ..history import git as gitcmd
from ..source.model import Organisation
from ..source.project import LIBRARY_FILE, read_layout
from ..source.translations import LANGUAGE, TRANSLATIONS_DIR
from .history import Plan, Planned, plan, write_policy
from .library import check_id, one_level_down, write_library
from .translation_history import TranslationSource, plan_translation

MANIFEST_KEYS = {"title", "documents"}
DOCUMENT_KEYS = {"id", "title", "paths", "translations"}
_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")


@dataclass(frozen=True)
class Source:
    """One document to import: its id in the library, its paths in the repository (newest first) and an optional
    title that replaces its first heading's in every version."""

    id: str
    paths: tuple[str, ...]
    title: str | None = None
    translations: tuple[TranslationSource, ...] = ()


@dataclass(frozen=True)
class Manifest:
    documents: tuple[Source, ...]
    title: str | None = None  # the library's title


def _where(name: str, n: int | None = None) -> str:
    return f"{name}: documents[{n}]" if n is not None else name


def read_manifest(path: Path) -> Manifest:
    """The manifest file (YAML: title?, documents: [{id, title?, paths}]); UserError naming what is wrong."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"--manifest {path}: {exc.strerror or exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UserError(f"--manifest {path}: not readable YAML ({' '.join(str(exc).split())})") from None
    if not isinstance(data, dict) or not isinstance(data.get("documents"), list) or not data["documents"]:
        raise UserError(f"--manifest {path}: expected 'documents:' with a list of {{id, title, paths}}")
    unknown = sorted(set(map(str, data)) - MANIFEST_KEYS)
    if unknown:
        raise UserError(f"--manifest {path}: unknown key {unknown[0]!r} (known: title, documents)")
    documents = []
    for n, entry in enumerate(data["documents"]):
        if not isinstance(entry, dict):
            raise UserError(f"{_where(str(path), n)} is not a mapping of id, title and paths")
        unknown = sorted(set(map(str, entry)) - DOCUMENT_KEYS)
        if unknown:
            raise UserError(f"{_where(str(path), n)}: unknown key {unknown[0]!r} (known: id, title, paths, "
                            "translations)")
        paths = entry.get("paths")
        paths = [paths] if isinstance(paths, str) else paths
        if not isinstance(paths, list) or not paths or not all(isinstance(p, str) and p.strip() for p in paths):
            raise UserError(f"{_where(str(path), n)}: 'paths' must list the document's path in the repository, "
                            "then any older paths")
        title = entry.get("title")
        if title is not None and (not isinstance(title, str) or not title.strip()):
            raise UserError(f"{_where(str(path), n)}: 'title' must be a line of text")
        translations = _translations(entry.get("translations"), str(entry.get("id", "")), _where(str(path), n))
        documents.append(Source(str(entry.get("id", "")), tuple(p.strip() for p in paths),
                                " ".join(title.split()) if title else None, translations))
    title = data.get("title")
    if title is not None and (not isinstance(title, str) or not title.strip()):
        raise UserError(f"--manifest {path}: 'title' must be a line of text (the library's title)")
    return checked(Manifest(tuple(documents), " ".join(title.split()) if title else None))


def _translations(value: object, document: str, where: str) -> tuple[TranslationSource, ...]:
    """`translations: {LANG: [PATH, OLDER_PATH…]}` (one path may be given without a list)."""
    if value is None:
        return ()
    if not isinstance(value, dict) or not value:
        raise UserError(f"{where}: 'translations' must map each language to its paths, like {{de: [de/privacy.md]}}")
    out = []
    for language, paths in value.items():
        if not isinstance(language, str) or not LANGUAGE.match(language):
            raise UserError(f"{where}: translations: {language!r} is not a language code like de, fr, pt-BR")
        paths = [paths] if isinstance(paths, str) else paths
        if not isinstance(paths, list) or not paths or not all(isinstance(p, str) and p.strip() for p in paths):
            raise UserError(f"{where}: translations: {language}: give the translation's path in the repository, then "
                            "any older paths")
        out.append(TranslationSource(document, language, tuple(p.strip() for p in paths)))
    return tuple(out)


def from_options(specs: list[str], title: str | None, translations: list[str] | None = None) -> Manifest:
    """`--document ID=PATH[,OLDER_PATH…]`, repeated; `--translation ID/LANG=PATH[,OLDER_PATH…]`, repeated."""
    documents = []
    for spec in specs:
        document, sep, paths = spec.partition("=")
        listed = [p.strip() for p in paths.split(",")]
        if not sep or not all(listed):
            raise UserError(f"--document {spec!r}: with --git, give ID=PATH (then ,OLDER_PATH… for paths the "
                            "document had before), like privacy=legal/privacy.md")
        documents.append(Source(document.strip(), tuple(listed)))
    for spec in translations or []:
        name, sep, paths = spec.partition("=")
        document, slash, language = name.strip().partition("/")
        listed = [p.strip() for p in paths.split(",")]
        if not sep or not slash or not all(listed):
            raise UserError(f"--translation {spec!r}: give ID/LANG=PATH (then ,OLDER_PATH…), like "
                            "privacy/de=de/privacy.md")
        n = next((n for n, d in enumerate(documents) if d.id == document), None)
        if n is None:
            raise UserError(f"--translation {spec!r}: no --document {document}=PATH is given")
        found = _translations({language: listed}, document, f"--translation {spec!r}")
        documents[n] = replace(documents[n], translations=documents[n].translations + found)
    return checked(Manifest(tuple(documents), title))


def checked(manifest: Manifest) -> Manifest:
    """Ids valid and distinct, and no path claimed by two documents."""
    seen: dict[str, str] = {}
    for source in manifest.documents:
        check_id(source.id, "document id")
        if source.id in seen:
            raise UserError(f"document id {source.id!r} is given twice; each document needs its own id")
        seen[source.id] = source.id
    owners: dict[str, str] = {}
    for source in manifest.documents:
        languages: set[str] = set()
        for translation in source.translations:
            if translation.language in languages:
                raise UserError(f"document '{source.id}': the translation into {translation.language} is given twice")
            languages.add(translation.language)
        for owner, paths in [(source.id, source.paths), *((t.key, t.paths) for t in source.translations)]:
            for path in paths:
                if owners.setdefault(path, owner) != owner:
                    raise UserError(f"{path} is given for both {owners[path]!r} and {owner!r}; a path belongs to one "
                                    "document or translation")
    return manifest


def _owner(paths: list[str]) -> str | None:
    """The document folder (privacy) or translation folder (privacy/translations/de) a commit's files are all in."""
    owners = set()
    for path in paths:
        parts = path.split("/")
        if parts[0] != "policy" or len(parts) < 3 or parts[1] == "schema":
            continue
        translated = len(parts) >= 5 and parts[2] == TRANSLATIONS_DIR
        owners.add("/".join(parts[1:4]) if translated else parts[1])
    return owners.pop() if len(owners) == 1 else None


def imported_by_document(project: Path) -> dict[str, list[str]]:
    """The source commits an earlier import brought into each document and each translation (oldest first; keyed
    'privacy', 'privacy/translations/de'), from the "Imported from REPO SHA" lines of project's first-parent
    history and the files each such commit changed."""
    out: dict[str, list[str]] = {}
    for sha, paths in gitcmd.imported_commits(project):
        owner = _owner(paths) if _SHA.fullmatch(sha) else None
        if owner:
            out.setdefault(owner, []).append(sha)
    return out


def existing_library(target: Path, manifest: Manifest) -> tuple[list[str], dict[str, list[str]]]:
    """The documents an existing project's library.yaml lists and what earlier imports brought into each — or
    UserError when target is not a library made by `policy import --git`, or is not clean."""
    policy_dir = target / "policy"
    why = "it is not a library made by `policy import --git` (choose a new folder)"
    if not (policy_dir / LIBRARY_FILE).is_file() or gitcmd.head_commit(target) is None:
        raise UserError(f"{target} exists and {why}; nothing was written")
    layout = read_layout(policy_dir)
    if layout.problems:
        raise UserError(f"{target}: {layout.problems[0]}; fix {LIBRARY_FILE} first (nothing was written)")
    imported = imported_by_document(target)
    if not imported:
        raise UserError(f"{target} holds no commit \"Imported from REPO SHA\", so {why}; nothing was written")
    dirty = gitcmd.uncommitted(target)
    if dirty:
        raise UserError(f"{target} has uncommitted changes ({dirty[0]}{' …' if len(dirty) > 1 else ''}); commit or "
                        "discard them first (nothing was written)")
    for source in manifest.documents:
        if source.id in layout.documents and source.id not in imported:
            raise UserError(f"policy/{source.id}/ in {target} was not made by an import; give this document another "
                            "id (nothing was written)")
        if source.id not in layout.documents and (policy_dir / source.id).exists():
            raise UserError(f"{policy_dir / source.id} exists and is not a listed document; move it away first "
                            "(nothing was written)")
        for translation in source.translations:
            if (policy_dir / translation.key).exists() and translation.key not in imported:
                raise UserError(f"{policy_dir / translation.key} was not made by an import; move it away first "
                                "(nothing was written)")
    return list(layout.documents), imported


@dataclass
class LibraryPlan:
    repo: Path
    plans: dict[str, Plan]
    translations: dict[str, Plan] = field(default_factory=dict)  # 'privacy/translations/de' → its plan
    steps: list[tuple[str, Planned]] = field(default_factory=list)  # (document or translation, revision), in order
    done: dict[str, int] = field(default_factory=dict)  # document or translation → revisions imported before


def _new_revisions(name: str, path: str, result: Plan, imported: list[str]) -> list[Planned]:
    """The planned revisions that come after those imported already; UserError when the two disagree (the source
    history was rewritten, or the document's paths or options changed)."""
    kept = [p.revision.sha for p in result.kept]
    for n, sha in enumerate(imported):
        if n >= len(kept) or kept[n] != sha:
            raise UserError(f"{name}: the library holds revision {sha[:10]}, which is not where it "
                            f"was in the history of {path} (was the source rewritten, or were the paths "
                            "or --versions changed?); nothing was written")
    return result.kept[len(imported):]


def _time(item: tuple[str, Planned]) -> int:
    return int(item[1].revision.committer.date.split()[0])


def plan_library(repo: Path, ref: str, manifest: Manifest, versions: str, organisation: Organisation,
                 imported: dict[str, list[str]]) -> LibraryPlan:
    """Every document planned in memory, and the revisions still to commit interleaved by commit date."""
    paths = {path: s.id for s in manifest.documents for path in s.paths}
    paths.update({path: t.key for s in manifest.documents for t in s.translations for path in t.paths})
    plans = {s.id: plan(repo, ref, list(s.paths), versions, organisation, s.title,
                        frozenset(p for p, owner in paths.items() if owner != s.id)) for s in manifest.documents}
    result = LibraryPlan(next(iter(plans.values())).repo, plans)
    for source in manifest.documents:
        for t in source.translations:
            result.translations[t.key] = plan_translation(result.repo, ref, t, plans[source.id], organisation,
                                                          frozenset(p for p, owner in paths.items() if owner != t.key))
    queues = []
    for source in manifest.documents:
        done = imported.get(source.id, [])
        result.done[source.id] = len(done)
        queues.append([(source.id, p) for p in _new_revisions(f"document '{source.id}'", source.paths[0],
                                                               plans[source.id], done)])
    for source in manifest.documents:  # after the documents: at the same time, the original comes first
        for t in source.translations:
            done = imported.get(t.key, [])
            result.done[t.key] = len(done)
            queues.append([(t.key, p) for p in _new_revisions(f"translation {t.key}", t.paths[0],
                                                              result.translations[t.key], done)])
    result.steps = list(heapq.merge(*queues, key=_time))
    return result


def replay_library(project: Path, result: LibraryPlan, listed: list[str], title: str) -> list[str]:
    """One commit per step; a document appears in library.yaml with its first commit (after the documents listed
    already, in the manifest's order). The new commit ids."""
    policy_dir = project / "policy"
    before, present = list(listed), set(listed)
    written = []
    for document, planned in result.steps:
        if document in result.translations:
            write_policy(policy_dir / document, planned.files)
        else:
            write_policy(policy_dir / document, {name: one_level_down(data) for name, data in planned.files.items()})
        if document not in present and document in result.plans:
            present.add(document)
            write_library(policy_dir, before + [d for d in result.plans if d in present and d not in before], title,
                          None)
        revision = planned.revision
        message = f"{revision.message.rstrip()}\n\nImported from {result.repo} {revision.sha}".lstrip("\n")
        written.append(gitcmd.commit_all(project, message, revision.author, revision.committer))
    return written
