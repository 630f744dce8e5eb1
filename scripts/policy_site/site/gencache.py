"""Generated files reused between builds: a page, a policy.json or a feed entry is rendered only when what shapes
it changed.

Published versions never change, so most of the generated folder (pages_dir) is the same from one build to the
next. Each file that can be reused gets a key (keys.digest), one rule for all: the digest of exactly what its
renderer receives. A page's or a feed entry's key holds its input (site/inputs.py: the frozen value that is all
its template sees), the bytes of every template it renders with — its own and the closure of what it imports,
includes or extends (`references`), each as the renderer finds it (the project's own copy, else the built-in
one) — and `keys.software()`. The files not rendered from a template input (policy.json, PDFs, Word files,
timestamp tokens) are keyed by their version's input (`scope`) with the settings (a PDF: with its templates).

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
from pathlib import Path

from ..keys import Stamp, digest, read_record, software, stamp, trusted, write_record
from ..settings import Settings
from .choices import Choices
from .inputs import DocumentInputs, SiteSettings, canonical, input_key
from .model import SiteModel, VersionEntry
from .output import OutputTree

FORMAT = "policy-site generated files 2"
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


def template_closure(folders: list[Path], names: list[str] | None = None) -> dict[str, bytes]:
    """The templates a renderer finds (the first folder holding each) starting from these names — by default
    every file of pages/, feeds/ and pdf/ — and, transitively, what they import, include or extend. A reference
    that is not a constant name (or a template that is not UTF-8) brings in every template there is."""
    def find(name: str) -> bytes | None:
        for folder in folders:
            if (folder / name).is_file():
                return (folder / name).read_bytes()
        return None

    todo = sorted(set(names) if names is not None else
                  {n for f in folders for sub in TEMPLATE_FOLDERS for n in _names(f, sub)})
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


def templates_digest(folders: list[Path], names: list[str] | None = None) -> str:
    """sha256 over the bytes of a template_closure, each by its name."""
    found = template_closure(folders, names)
    return digest({name: hashlib.sha256(data).hexdigest() for name, data in sorted(found.items())})


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
        self.template_dirs = settings.template_dirs
        self.software = digest(FORMAT, software())
        # the files made of a version but not of a template (policy.json, Word files, tokens; PDFs add theirs)
        self.base = digest(self.software, SiteSettings.of(settings).key)
        self.closures: dict[tuple[str, ...], str] = {}  # template names → templates_digest
        self.documents: dict[int, DocumentInputs] = {}  # id(model) → its inputs (models live through the build)
        self.old: dict[str, Found] = {}
        self.old_entries: dict[str, str] = {}
        self.new: dict[str, tuple[str, str]] = {}  # path → (key, sha256 of its bytes)
        self.new_entries: dict[str, str] = {}
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

    def inputs(self, model: SiteModel, offered: Choices | None = None) -> DocumentInputs:
        """The parts of a document's inputs, built once in this build (entries are final once generation starts)."""
        found = self.documents.get(id(model))
        if found is None or found.model is not model:
            found = self.documents[id(model)] = DocumentInputs(model, offered)
        elif offered is not None:
            found.offered = offered
        return found

    def templates(self, *names: str) -> str:
        """templates_digest of these templates' closure (no name: of every page, feed and PDF template), once per
        build."""
        found = self.closures.get(names)
        if found is None:
            found = self.closures[names] = templates_digest(self.template_dirs, list(names) if names else None)
        return found

    def key(self, template: str | tuple[str, ...], given: object) -> str:
        """The key of a file rendered from a template with an input: the input's digest, the bytes of every
        template it renders with (built-in or the project's own) and the software."""
        names = (template,) if isinstance(template, str) else template
        return digest(self.software, self.templates(*names), input_key(given))

    def scope(self, model: SiteModel, entry: VersionEntry) -> str:
        """The part of a key that a file made of one version (its policy.json, PDFs, Word file, token) shares
        with the other files of that version: its Version input and the settings."""
        return digest(self.base, self.inputs(model).version(entry).key)

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

    def fingerprint(self, model: SiteModel, offered: Choices) -> str | None:
        """What every file of one document (its pages, policy.json files and feeds: site/generate._document) is
        made of: each file's key is a function of it. None where the build time is part of it (versions outside
        git, which the feeds date by it): those documents are checked file by file."""
        if not self.enabled or not model.history.from_git:
            return None
        inputs = self.inputs(model, offered)
        return digest(self.base, self.templates(), "whole document", inputs.document.key, canonical(offered),
                      canonical(model.draft), model.history.shallow)

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
