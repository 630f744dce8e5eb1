"""Generated files reused between builds: a page, a policy.json or a feed entry is rendered only when what shapes
it changed.

Published versions never change, so most of the generated folder (pages_dir) is the same from one build to the
next. Each file that can be reused gets a key: sha256 (keys.digest) over the *scope* — the format, this package's code
fingerprint, the versions of Python, Jinja2, MarkupSafe, feedgen, lxml and Babel, the settings (mkdocs.yml's site
name, URL and every plugin option, serve or build) and the bytes of every template a page or feed is rendered
with: the page and feed templates and the closure of what they import, include or extend (`references`: a macro of
subscriptions/ too), each as the renderer finds it (the project's own copy, else the built-in one) — then the
file's path and the state of the version it shows (`entry_state`: its content hash and blob ids, the version
before it, its commit, amendments, status, time in force, rewrites...). When a project's templates differ from
the built-in ones they could show anything of the site, so the scope then also holds the state of the whole
document (`model_state`: every version's state, the version in force, the build time): a custom template's
pages are reused only while nothing at all changed.

Where the output is kept: the generated file itself. `generated.json` in the cache folder records, for each
file written, its key, its stat (mtime, size, inode) and the sha256 of its bytes. A later build whose key for
that path is the same, and whose file still has that stat, leaves the file as it is: nothing rendered, read or
written, so MkDocs' page cache finds the same Markdown by its stat too. A file whose stamp is not older than
the record is read and hashed as well (keys.trusted: git's "racy" rule). Feed entries are not files: their
HTML is kept in `feed-entries.json`, by key, beside the record.

Both files are plain JSON, never executed or unpickled; one that is damaged, foreign or written by other code is
ignored (everything is rendered, as in a cold build), and one that cannot be written costs time, not the build
(one note on stderr). This module does not import MkDocs.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..keys import Stamp, digest, read_record, software, stamp, trusted, write_record
from ..settings import Settings, builtin_templates
from ..source.model import content_hash
from .model import SiteModel, VersionEntry
from .output import OutputTree

FORMAT = "policy-site generated files 1"
RECORD = "generated.json"
ENTRIES = "feed-entries.json"
TEMPLATE_FOLDERS = ("pages", "feeds", "pdf")
Found = tuple[str, Stamp, str, bool]  # a file's key, stamp and sha256 in the record, and whether its stamp is trusted


def _names(folder: Path, sub: str = "") -> list[str]:
    base = folder / sub if sub else folder
    return [p.relative_to(folder).as_posix() for p in sorted(base.rglob("*")) if p.is_file()] if base.is_dir() else []


# {% import/include/extends/from <what> … %}: a plain quoted name is a reference; anything else may name any template
_REFERENCE = re.compile(r"\{%[-+]?\s*(?:import|include|extends|from)\b(.*?)[-+]?%\}", re.S)
_LITERAL = re.compile(r"""^\s*(["'])([^"'{}]+)\1\s*(?:$|(?:as|import|ignore|with|without)\s)""")


def references(text: str) -> list[str | None]:
    """The templates a template's text names (None for a reference that is not a plain name: it may be any).
    What jinja2.meta.find_referenced_templates finds (tests/unit/test_template_references.py proves it on every
    built-in template), read without parsing: parsing the page templates costs a build 0.1 s. A commented-out or
    raw reference is counted too, which can only add to a key."""
    found: list[str | None] = []
    for match in _REFERENCE.finditer(text):
        literal = _LITERAL.match(match.group(1))
        found.append(literal.group(2) if literal else None)
    return found


def template_closure(folders: list[Path]) -> dict[str, bytes]:
    """Every template a page or feed template renders with, as the renderer finds it (the first folder holding
    it): the files of pages/ and feeds/ and, transitively, what they import, include or extend. A reference
    that is not a constant name (or a template that is not UTF-8) brings in every template there is."""
    def find(name: str) -> bytes | None:
        for folder in folders:
            if (folder / name).is_file():
                return (folder / name).read_bytes()
        return None

    todo = sorted({n for f in folders for sub in TEMPLATE_FOLDERS for n in _names(f, sub)})
    found: dict[str, bytes] = {}
    while todo:
        name = todo.pop()
        data = None if name in found else find(name)
        if data is None:
            continue
        found[name] = data
        try:
            referenced = references(data.decode("utf-8"))
        except UnicodeDecodeError:
            referenced = [None]
        if None in referenced:
            referenced = [n for f in folders for n in _names(f)]
        todo += sorted({n for n in referenced if n is not None and n not in found})
    return found


def template_state(settings: Settings) -> tuple[str, bool]:
    """sha256 over the templates the pages and feeds render with (template_closure), and whether each reads
    exactly like the built-in one, so that the pages show only what the built-in templates show."""
    found = template_closure(settings.template_dirs)
    builtin = builtin_templates()
    standard = all((builtin / name).is_file() and (builtin / name).read_bytes() == data for name, data in found.items())
    return digest({name: hashlib.sha256(data).hexdigest() for name, data in sorted(found.items())}), standard


def settings_state(settings: Settings) -> dict[str, Any]:
    return {"site_name": settings.site_name, "site_url": settings.site_url, "draft": settings.draft,
            "options": asdict(settings.options)}


_HASHES: dict[int, tuple[object, str]] = {}


def policy_hash(policy: Any) -> str:
    """content_hash of a policy, once per object in this process (the same text is shared by many entries)."""
    hit = _HASHES.get(id(policy))
    if hit is None or hit[0] is not policy:
        hit = _HASHES[id(policy)] = (policy, content_hash(policy))
    return hit[1]


def _text(policy: Any, key: str) -> str:
    """The identity of a text: the blob ids of its files (history.versions: what it was parsed from), or
    outside git its content_hash."""
    return f"blobs {key}" if key else policy_hash(policy)


def _commit(commit: Any) -> list[str] | None:
    return [commit.sha, commit.time.isoformat(), commit.author, commit.subject] if commit else None


def entry_state(entry: VersionEntry) -> str:
    """Everything of one version that its pages, policy.json and feed entries can show (the built-in templates
    reach no further): its text, the text before it, its commit, amendments, status and dates."""
    published, previous = entry.published, entry.previous
    return digest({
        "prefix": entry.prefix, "version": entry.version, "hash": entry.content_hash, "key": published.key,
        "at_root": published.at_root, "commit": _commit(published.commit),
        "previous": [previous.version, _text(previous.policy, previous.key), _commit(previous.commit),
                     [[_commit(a.commit), _text(a.before, a.before_key), _text(a.after, a.key)]
                      for a in previous.amendments]] if previous else None,
        "amendments": [[_commit(a.commit), _text(a.before, a.before_key), _text(a.after, a.key)]
                       for a, _ in entry.amendments],
        "status": entry.status, "in_force_to": entry.in_force_to, "kind": entry.kind,
        "already_amended": sorted((k, v.isoformat()) for k, v in entry.already_amended.items()),
        "until_then": entry.until_then.version if entry.until_then else None, "rewrites": entry.rewrites,
        "timestamp": entry.timestamp.sha256 if entry.timestamp else None,
    })


def model_state(model: SiteModel, timed: bool = True) -> str:
    """The whole document as a template could see it; with `timed`, the build time too (templates other than
    the built-in ones could show it, and versions without a commit are dated by it)."""
    return digest({
        "entries": [entry_state(e) for e in model.entries], "current": model.current.version,
        "draft": policy_hash(model.draft.policy) if model.draft else None, "sections": model.section_ids,
        "document": model.document, "prefix": model.prefix, "formerly_single": model.formerly_single,
        "shallow": model.history.shallow, "from_git": model.history.from_git, "warnings": model.history.warnings,
        "build_time": model.settings.build_time.isoformat() if timed else None,
    })


def _note(text: str) -> None:
    print(f"policy: note: {text}", file=sys.stderr)


def _keys(paths: list[str], keys: list[str]) -> str:
    """A digest of the keys a document's files were made under."""
    return digest(list(zip(paths, keys)))


class GeneratedFiles:
    """The record of one generated folder: which files can stay as they are, and the cached feed entries.

    enabled=False (serve's partial regenerations, or a caller that wants everything rendered) reuses nothing.
    """

    def __init__(self, settings: Settings, out: OutputTree, enabled: bool = True) -> None:
        self.folder = settings.cache_dir
        self.out = out
        self.enabled = enabled
        templates, self.standard = template_state(settings)
        self.base = digest(FORMAT, software(), settings_state(settings), templates)
        self.old: dict[str, Found] = {}
        self.old_entries: dict[str, str] = {}
        self.new: dict[str, tuple[str, str]] = {}  # path → (key, sha256 of its bytes)
        self.new_entries: dict[str, str] = {}
        self.scopes: dict[int, tuple[VersionEntry | None, str]] = {}  # memo: entries are final once generation starts
        self.states: dict[tuple[int, bool], tuple[SiteModel, str]] = {}  # memo: model_state by (document, timed)
        self.rendered = 0  # files and feed entries rendered in this build
        self.reused = 0  # files left as they were and feed entries taken from the cache
        self.made: list[str] = []  # the files rendered, in order
        self.stamps: dict[str, Stamp] = {}  # files kept as they were → their stamp, as checked (for save())
        # prefix → (fingerprint, its files, the digest of their keys), from the last build and for the next
        self.old_documents: dict[str, tuple[str, list[str], str]] = {}
        self.new_documents: dict[str, tuple[str, list[str], str]] = {}
        if enabled:
            self._load_record()
            entries = (read_record(self.folder / ENTRIES, FORMAT) or ({}, 0))[0].get("entries")
            if isinstance(entries, dict):
                self.old_entries = {k: v for k, v in entries.items() if isinstance(v, str)}

    def _load_record(self) -> None:
        found = read_record(self.folder / RECORD, FORMAT)
        if found is None or found[0].get("pages_dir") != str(self.out.root):
            return
        data, made = found
        try:
            for path, (key, m, size, inode, sha) in data["files"].items():
                if isinstance(key, str) and isinstance(sha, str):
                    self.old[path] = (key, (int(m), int(size), int(inode)), sha, trusted(int(m), made))
            for prefix, (fingerprint, paths, keys) in data.get("documents", {}).items():
                if isinstance(fingerprint, str) and isinstance(keys, str) and all(isinstance(p, str) for p in paths):
                    self.old_documents[prefix] = (fingerprint, list(paths), keys)
        except (ValueError, TypeError, KeyError, AttributeError):
            self.old, self.old_documents = {}, {}  # not a record this code wrote: everything is rendered

    def scope(self, model: SiteModel, entry: VersionEntry | None) -> str:
        """The part of a key that a file of `entry` shares with the other files of its version (an upcoming
        version's page names the version in force until then)."""
        hit = self.scopes.get(id(entry))
        if hit is not None and hit[0] is entry:
            return hit[1]
        current = model.current.version if entry is not None and entry.status == "upcoming" else None
        found = digest(self.base, model.prefix, entry_state(entry) if entry else None, current,
                       None if self.standard else self._state(model, True))
        self.scopes[id(entry)] = (entry, found)
        return found

    def document(self, model: SiteModel, *parts: object) -> str:
        """The key of a file that shows the whole document (its current page, archive, follow and compare pages,
        main feeds): every version's state and the document's own facts, with the build time only where something
        could show it (a project's own templates, or versions outside git, which the feeds date by it)."""
        timed = not self.standard or not model.history.from_git
        return digest(self.base, "document", model.prefix, self._state(model, timed), *parts)

    def _state(self, model: SiteModel, timed: bool) -> str:
        """model_state, once per document and build (a project's own templates need it for every key)."""
        hit = self.states.get((id(model), timed))
        if hit is None or hit[0] is not model:
            hit = self.states[(id(model), timed)] = (model, model_state(model, timed))
        return hit[1]

    def file(self, path: str, key: str, make: Callable[[], str | bytes]) -> None:
        """Write the generated file at path (in the folder) unless the last build wrote it with the same key and
        it is still as that build left it: the same stat, and, when that stat is racy, the same sha256."""
        found = self.old.get(path) if self.enabled else None
        if found is not None and found[0] == key and self._unchanged(path, found):
            self.out.keep(path, found[2])
            self.stamps[path] = found[1]
            self.new[path] = (key, found[2])
            self.reused += 1
            return
        content = make()
        data = content.encode("utf-8") if isinstance(content, str) else content
        sha = hashlib.sha256(data).hexdigest()
        self.out.write(path, data, sha)
        self.new[path] = (key, sha)
        self.rendered += 1
        self.made.append(path)

    def fingerprint(self, model: SiteModel, offered: object) -> str | None:
        """What every file of one document (its pages, policy.json files and feeds: site/generate._document) is
        made of: each file's key is a function of it. None where the build time is part of it (a project's own
        templates, or versions outside git): those documents are checked file by file."""
        if not self.enabled or not self.standard or not model.history.from_git:
            return None
        return digest(self.base, "whole document", model.prefix, self._state(model, False), offered)

    def reuse_document(self, prefix: str, fingerprint: str | None) -> bool:
        """Keep every file the last build wrote for a document with this fingerprint, when each is still as that
        build left it: what file() would do one by one, with the keys it would compute (a library's rebuild leaves
        most documents as they were)."""
        old = self.old_documents.get(prefix)
        if fingerprint is None or old is None or old[0] != fingerprint:
            return False
        found = {path: self.old[path] for path in old[1] if path in self.old}
        if len(found) != len(old[1]) or _keys(old[1], [found[path][0] for path in old[1]]) != old[2]:
            return False  # the record of its files is not the one made with this fingerprint
        if not all(self._unchanged(path, f) for path, f in found.items()):
            return False
        for path, f in found.items():
            self.out.keep(path, f[2])
            self.new[path] = (f[0], f[2])
            self.stamps[path] = f[1]
        self.reused += len(found)
        self.new_documents[prefix] = old
        return True

    def remember_document(self, prefix: str, fingerprint: str | None, mark: tuple) -> None:
        """The files written or kept for a document since mark(), under its fingerprint, for the next build."""
        if fingerprint is not None:
            paths = sorted(p for p in self.new if p not in mark[0])
            self.new_documents[prefix] = (fingerprint, paths, _keys(paths, [self.new[p][0] for p in paths]))

    def mark(self) -> tuple:
        """Where the record stands now (for since())."""
        return set(self.new), set(self.new_entries), self.rendered, self.reused, len(self.made), set(self.new_documents)

    def since(self, mark: tuple) -> tuple:
        """What was written and reused after mark(): what a forked process sends the first one (merge())."""
        new, entries, rendered, reused, made, documents = mark
        return ({k: v for k, v in self.new.items() if k not in new},
                {k: v for k, v in self.new_entries.items() if k not in entries},
                self.rendered - rendered, self.reused - reused, self.made[made:],
                {k: v for k, v in self.new_documents.items() if k not in documents},
                {k: v for k, v in self.stamps.items() if k not in new})

    def merge(self, taken: tuple) -> None:
        new, entries, rendered, reused, made, documents, stamps = taken
        self.new.update(new)
        self.stamps.update(stamps)
        self.new_entries.update(entries)
        self.rendered += rendered
        self.reused += reused
        self.made.extend(made)
        self.new_documents.update(documents)

    def _unchanged(self, path: str, found: Found) -> bool:
        """Whether the file is still as the record lists it: the same stamp, and its bytes when that is not
        trusted."""
        file = self.out.path(path)
        if stamp(file) != found[1]:
            return False
        try:
            return found[3] or hashlib.sha256(Path(file).read_bytes()).hexdigest() == found[2]
        except OSError:
            return False

    def entry_html(self, key: str, make: Callable[[], str]) -> str:
        """A feed entry's HTML: the cached one for key, else made (and kept for the next build)."""
        found = self.old_entries.get(key) if self.enabled else None
        if found is None:
            found = make()
            self.rendered += 1
        else:
            self.reused += 1
        self.new_entries[key] = found
        return found

    def save(self) -> None:
        """Record what this build wrote (after the folder is final). A folder that cannot be written costs time."""
        if not self.enabled:
            return
        files: dict[str, list] = {}
        for path, (key, sha) in sorted(self.new.items()):  # a file kept has the stamp it was checked with
            found = self.stamps.get(path) or stamp(self.out.path(path))
            if found is not None:
                files[path] = [key, *found, sha]
        documents = {prefix: list(document) for prefix, document in sorted(self.new_documents.items())
                     if all(path in files for path in document[1])}
        try:
            write_record(self.folder / ENTRIES, FORMAT, {"entries": self.new_entries})
            write_record(self.folder / RECORD, FORMAT, {"pages_dir": str(self.out.root), "files": files,
                                                        "documents": documents})
        except OSError as exc:
            _note(f"the record of generated files was not saved ({self.folder}: {exc.strerror or exc}); the next "
                  "build renders every page again")
