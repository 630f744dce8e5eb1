"""The page cache's store: each page's finished HTML and search entries, kept under .cache/ between builds.

What is cached: for one Markdown page of the generated folder, the exact bytes MkDocs writes for it (the theme
rendered around the converted Markdown, after every plugin's on_post_page) and the entries the search plugin
indexed from it. Pages that logged a warning while rendering are never stored, so the warning comes back.

The key (made in site/mkdocs/page_cache.py, the MkDocs side): sha256 over the *site key* — the validated MkDocs config
minus volatile fields (config_file_path, docs_dir, site_dir, dev_addr, watch), the nav, the theme folders (their
files' contents, or the version of the installed package that holds them; our theme override is one), the
versions of MkDocs, Material, Markdown and the other rendering packages, the fingerprint of this package's code,
serve or build — then the page's path in the generated folder and its Markdown file's bytes.

When an entry is trusted: its two plain files — `<key>.json` (the header: format, key, page, the HTML's length and
sha256, the search entries) and `<key>.html` (the bytes) — read and parse, the header names this format, the very
key asked for and the same page, and the HTML has the length and sha256 the header records.
Anything else — corrupt, truncated, foreign, a planted file — is a miss: the page is rendered again and its entry
rewritten (a one-line note counts them). Nothing in the cache is ever executed or unpickled.

The pages' Markdown is hashed for their keys: the generation that wrote or kept each page hands over its sha256
(site/output.OutputTree.written), so a build reads no page to key it.

Writing: by a thread beside the build, each file through a temporary file renamed into place, the HTML before
its header. A cache
that cannot be written (full disk, read-only folder) costs time, not the build: one line on stderr, once.
Each mode (build, serve) records the keys its last successful build used in `manifest-<mode>.json`; entries
no manifest names are removed then. Under `policy serve` the entries also stay in memory between rebuilds, and
the temporary site may hard-link an entry's HTML file while the file's stat is the one seen when it was checked.
This module does not import MkDocs.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..keys import Stamp, digest, stamp

FORMAT = "policy-site page cache 1"
STALE_TEMP_SECONDS = 600  # a temporary file older than this was left by a build that died


@dataclass(frozen=True)
class Entry:
    """One page as a cold build writes it: its HTML bytes and the search plugin's entries for it.

    file and signature: the cache file holding exactly these bytes, with its stat when they were checked (what a
    serve session may hard-link into its temporary site instead of writing the bytes again).
    """

    key: str
    page: str  # the Markdown file's path in the generated folder ('versions/1.0/index.md')
    html: bytes
    search: list[dict[str, Any]]
    file: Path | None = None
    signature: Stamp | None = None


def page_key(site_key: str, page: str, markdown_sha256: str) -> str:
    """The key of one page: the site key, the page's path and the sha256 of its Markdown bytes."""
    return digest(site_key, page, markdown_sha256)


def check_location(folder: Path, site_dir: Path, pages_dir: Path) -> None:
    """The cache never lives inside site_dir (wiped by every build) or pages_dir (rewritten by it)."""
    where = folder.resolve()
    for name, other in (("site_dir", site_dir), ("pages_dir", pages_dir)):
        other = other.resolve()
        if where == other or other in where.parents:
            raise UserError(f"page_cache_dir {folder} is inside {name} ({other}); set page_cache_dir in "
                            f"mkdocs.yml to a folder outside it, such as .cache/html")


def _read(path: Path) -> tuple[bytes, Stamp | None]:
    """A file's bytes, and its signature when the file did not change while it was read."""
    with open(path, "rb") as handle:
        before = os.fstat(handle.fileno())
        data = handle.read()
        after = os.fstat(handle.fileno())
    same = (before.st_mtime_ns, before.st_size) == (after.st_mtime_ns, after.st_size) == (after.st_mtime_ns, len(data))
    return data, (after.st_mtime_ns, after.st_size, after.st_ino) if same else None


def _note(text: str) -> None:
    print(f"policy: note: {text}", file=sys.stderr)


_KEY = re.compile(r"^[0-9a-f]{64}$")
_UNREADABLE = object()  # a header that is not JSON
_HEADERS: dict[Path, dict[str, Any]] = {}  # read ahead by prefetch(), by cache folder


def _decoded(head: bytes) -> Any:
    try:
        return json.loads(head)
    except ValueError:
        return _UNREADABLE


def prefetch(folder: Path, mode: str = "build") -> None:
    """Read the headers of the entries the last build of this mode used, ahead of the build that will ask for
    them (`policy build` does it while its second process generates). get() then takes a header from memory and
    checks it exactly as one read from disk; entries are never changed once written, only added or removed."""
    found: dict[str, Any] = {}
    for key in PageStore._manifest_keys(folder / f"manifest-{mode}.json"):
        if _KEY.match(key):
            try:
                found[key] = _decoded((folder / f"{key}.json").read_bytes())
            except OSError:
                continue
    _HEADERS[folder] = found


def _valid_search(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(e, dict) and all(isinstance(k, str) for k in e) for e in value)


@dataclass
class PageStore:
    """Entries on disk under `folder`, and in memory when `keep_in_memory` (a serve session)."""

    folder: Path
    mode: str = "build"  # which manifest this process keeps: "build" or "serve"
    keep_in_memory: bool = False
    memory: dict[str, Entry] = field(default_factory=dict)
    unusable: int = 0  # entries found damaged or foreign in this build
    cannot_write: bool = False
    _queue: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    _writer: threading.Thread | None = None
    _headers: dict[str, Any] = field(default_factory=dict)  # read ahead and decoded (prefetch), each used once

    def __post_init__(self) -> None:
        if self.mode == "build":
            self._headers = _HEADERS.pop(self.folder, {})

    def paths(self, key: str) -> tuple[Path, Path]:
        """The entry's header (JSON) and its HTML, two plain files."""
        return self.folder / f"{key}.json", self.folder / f"{key}.html"

    def get(self, key: str, page: str, html: bool = True) -> Entry | None:
        """The entry for key if it can be trusted, else None (a damaged or foreign entry counts as unusable).

        html=False: a caller that will not use the HTML (site/ already holds exactly these bytes: site_output.py)
        gets the entry with its search entries and empty HTML, without reading or checking the HTML file."""
        hit = self.memory.get(key)
        if hit is not None and hit.page == page:
            return hit
        header_file, html_file = self.paths(key)
        header = self._headers.pop(key, None)
        try:
            header = _decoded(header_file.read_bytes()) if header is None else header
        except OSError:
            return None
        try:
            if html:
                data, stat = _read(html_file)
                entry = self._parse(header, data, key, page, html_file, stat)
            else:
                entry = self._parse(header, None, key, page, html_file, None)
        except OSError:
            entry = None
        if entry is None:
            self.unusable += 1
        elif self.keep_in_memory:
            self.memory[key] = entry
        return entry

    def html_again(self, entry: Entry) -> bytes | None:
        """The HTML of an entry get() returned, read again (a build holds no page's HTML until MkDocs writes it):
        trusted while its file has the stat it had when checked, else checked again; None when it is gone."""
        if entry.file is not None:
            try:
                data, stat = _read(entry.file)
                if stat is not None and stat == entry.signature:
                    return data
            except OSError:
                pass
        again = self.get(entry.key, entry.page)
        return again.html if again is not None else None

    @staticmethod
    def _parse(header: Any, html: bytes | None, key: str, page: str, file: Path, stat: Stamp | None
               ) -> Entry | None:
        """The entry from its decoded header and HTML (None: the HTML is not wanted, and not checked)."""
        if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("key") != key:
            return None
        if header.get("page") != page or not _valid_search(header.get("search")):
            return None
        if html is None:
            return Entry(key, page, b"", header["search"])
        if header.get("size") != len(html) or header.get("sha256") != hashlib.sha256(html).hexdigest():
            return None
        return Entry(key, page, html, header["search"], file if stat else None, stat)

    def put(self, entry: Entry) -> None:
        """Keep an entry: in memory under serve, and on disk by a writer thread, so that the writing overlaps
        MkDocs rendering the next pages (a failure is one note, then costs time only). flush() waits for it."""
        if self.keep_in_memory:
            self.memory[entry.key] = entry
        if self.cannot_write:
            return
        if self._writer is None:
            self._queue = queue.SimpleQueue()
            self._writer = threading.Thread(target=self._write_entries, name="page cache writer", daemon=True)
            self._writer.start()
        self._queue.put(entry)

    def flush(self) -> None:
        """Wait until every entry put is on disk (or the folder was found unwritable)."""
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join()
            self._writer = None

    def _write_entries(self) -> None:
        while (entry := self._queue.get()) is not None:
            if not self.cannot_write:
                self._store(entry)

    def _store(self, entry: Entry) -> None:
        header = {"format": FORMAT, "key": entry.key, "page": entry.page, "size": len(entry.html),
                  "sha256": hashlib.sha256(entry.html).hexdigest(), "search": entry.search}
        header_file, html_file = self.paths(entry.key)
        written = self._write(html_file, entry.html)  # the HTML first: a header never names missing bytes
        data = json.dumps(header, default=str).encode()  # as the search plugins write their index
        if written is not None and self._write(header_file, data) is not None and self.keep_in_memory:
            self.memory[entry.key] = Entry(entry.key, entry.page, entry.html, entry.search, html_file, written)

    def _write(self, path: Path, data: bytes) -> Stamp | None:
        """Write a file through a temporary one; its signature, or None when the folder cannot be written."""
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
            tmp.replace(path)
            found = stamp(path)
            if found is None:
                raise OSError(f"{path} is gone")
            return found
        except OSError as exc:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass
            self.cannot_write = True
            _note(f"the page cache was not saved ({self.folder}: {exc.strerror or exc}); the next build renders "
                  "these pages again")
            return None

    def finish(self, used: set[str]) -> None:
        """After a successful build: record the keys it used, drop the entries no manifest names."""
        self.flush()
        if self.unusable:
            _note(f"{self.unusable} page cache entr{'y was' if self.unusable == 1 else 'ies were'} unusable "
                  f"(damaged or foreign) in {self.folder}; rendered again")
            self.unusable = 0
        if self.keep_in_memory:
            self.memory = {k: v for k, v in self.memory.items() if k in used}
        if self.cannot_write or not self.folder.is_dir():
            return
        manifest = {"format": FORMAT, "mode": self.mode, "keys": sorted(used)}
        if self._write(self.folder / f"manifest-{self.mode}.json", json.dumps(manifest).encode()) is None:
            return
        keep = set(used)
        for other in self.folder.glob("manifest-*.json"):
            if other.name != f"manifest-{self.mode}.json":
                keep |= self._manifest_keys(other)
        now = time.time()
        try:
            for path in self.folder.iterdir():
                name = path.name
                if name.endswith((".html", ".json")) and not name.startswith("manifest-") \
                        and path.stem not in keep:
                    path.unlink(missing_ok=True)
                elif name.endswith(".tmp") and now - path.stat().st_mtime > STALE_TEMP_SECONDS:
                    path.unlink(missing_ok=True)
        except OSError:
            pass  # an entry left behind costs disk space, nothing else; the next build tries again

    @staticmethod
    def _manifest_keys(path: Path) -> set[str]:
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return set()
        keys = data.get("keys") if isinstance(data, dict) and data.get("format") == FORMAT else None
        return {k for k in keys if isinstance(k, str)} if isinstance(keys, list) else set()
