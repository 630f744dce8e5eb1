"""`policy build` over the back folder: files that would get the same bytes stay in place, then it is switched in.

MkDocs empties site_dir before every build and writes every file again: at 300 versions that is ~2,000 files in
~1,500 folders, most of them the theme's assets and the cached pages of published versions, unchanged since the
last build. `policy build` never writes into site_dir: it writes into the back folder — the site the build before
the last one published — and then switches the two in one step (site/publish.py). It runs MkDocs' "dirty" build
there, with MkDocs' rules (file times) replaced by exact ones:
- every Markdown page is read and rendered as in a clean build (MkDocs' dirty mode skips pages older than their
  HTML); what MkDocs then writes (a page, a theme template such as 404.html or sitemap.xml, the search index) is
  left in place when the file there holds these bytes already, so a warm build touches only what changed;
- a static file (a theme asset, a cached page, a feed or JSON file of the generated folder) is copied unless the
  record of the back folder says that this destination came from the same source — the same source file with the
  same stat, or the same page-cache key — and the destination still has the stat recorded then. A destination
  whose time is not older than the record file's own is copied again: a change made in the clock tick the record
  was written in would keep its stat (git's "racy" rule, which compares with the index file's time);
- afterwards, every file the build did not write or keep is removed, as cleaning would have (dotfiles at the top
  of the folder are site_dir's, carried over by publish.py), then the folders left empty. With no plugin but MkDocs'
  search and ours, and no hooks, the files a build writes are known: its pages, its static files, the theme's
  static templates, the extra templates and the search index.
Two records, in the cache folder: `site-files.json` for what site_dir holds, `site-files-back.json` for the back
folder. Both are removed when a build starts; when it has switched the folders, the one it made becomes site_dir's
record and site_dir's old record (its files now in the back folder, with the same stats) becomes the back folder's.
So a build that failed or was killed leaves none, and the next build writes the back folder whole. There is no
record to use — and MkDocs cleans the folder and writes everything — for a first build, a site folder moved or
changed by another version of this code, or when the page cache is off (another plugin or a hook could write into
the folder). The result is the same folder a clean build makes (tests/integration/test_site_output.py).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import mkdocs.utils
from mkdocs.structure.files import File, Files

from ...keys import Stamp, read_record, stamp, trusted, write_record
from ..publish import Staging
from .cached_files import CachedPage
from .page_cache import PageCache, search_entries

FORMAT = "policy-site site files 2"
RECORD = "site-files.json"  # what site_dir holds
BACK_RECORD = "site-files-back.json"  # what the back folder holds
DIRTY_WARNING = "A 'dirty' build is being performed"


def keeps_output(config: Any) -> bool:
    """Whether only MkDocs, its search plugin and ours write into site_dir (no other plugin, no hooks)."""
    return set(config.plugins) <= {"search", "material/search", "policy"} and not config.hooks


class _QuietDirty(logging.Filter):
    """MkDocs' warning that a dirty build may be inaccurate: not so here (every page is rendered, stale files go)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith((DIRTY_WARNING, "The directory contains stale files"))


QUIET_DIRTY = _QuietDirty()


class SiteOutput:
    """One `policy build` into the back folder: what the build before the last left there, and what this one writes
    or keeps."""

    def __init__(self, staging: Staging, cache_dir: Path) -> None:
        self.staging = staging
        self.site_dir = staging.folder  # where this build writes: the back folder
        self.record_file = cache_dir / BACK_RECORD
        self.front_file = cache_dir / RECORD
        # destination → (source identity, its stat when recorded, the sha256 of its bytes or "" when not known)
        self.old: dict[str, tuple[str, Stamp, str]] = {}
        self.kept: set[str] = set()
        self.copied: dict[str, str] = {}  # destination → source identity, for the next record
        self.files: Files | None = None
        self.page_cache: PageCache | None = None
        self.front = _read(self.front_file, str(staging.final))  # site_dir's: the back folder's after the switch
        self.usable = self._load()
        self._prefix = os.path.join(os.path.normpath(os.path.abspath(self.site_dir)), "")
        self._before: list[str] | None = None  # the folder's files before MkDocs writes (look_ahead)
        self._record: dict[str, Any] | None = None

    def look_ahead(self) -> None:
        """List the back folder's files now, before the build writes into it (`policy build` does it while its second
        process generates): finish() then removes those of them the build did not name. Every file the build
        writes is named, so this is the list finish() would find afterwards, less files it keeps anyway."""
        if self.usable:
            self._before = self._walk()

    def _load(self) -> bool:
        """Read the back folder's record (then remove it: only a build that finishes writes one); False when
        unusable."""
        found = _read(self.record_file, str(self.site_dir))
        if found is None or not self.site_dir.is_dir():
            return False
        self.old = found
        return True

    def _walk(self) -> list[str]:
        """Every file of the back folder (but the dotfiles and dot-folders at its top), relative to it."""
        found: list[str] = []
        root = str(self.site_dir)
        for top, folders, names in os.walk(root):
            if top == root:
                folders[:] = [f for f in folders if not f.startswith(".")]
                names = [n for n in names if not n.startswith(".")]
            found.extend(os.path.relpath(os.path.join(top, name), root) for name in names)
        return found

    def _relative(self, file: File) -> str:
        path = file.abs_dest_path  # normalised and absolute (MkDocs makes site_dir absolute): the prefix is exact
        return path[len(self._prefix):] if path.startswith(self._prefix) else os.path.relpath(path, self.site_dir)

    @staticmethod
    def _source(file: File) -> str | None:
        """What a static file's bytes come from, as the record keeps it; None when unknown (always copied)."""
        if isinstance(file, CachedPage):
            return f"page {file.key}"
        if file.abs_src_path is not None and getattr(file, "_content", None) is None:
            stat = stamp(file.abs_src_path)
            return f"file {file.abs_src_path} {stat}" if stat is not None else None
        return None

    def wrap(self, files: Files, page_cache: PageCache | None) -> Files:
        """Before MkDocs writes anything: pages always rendered, static files copied only when changed, and what
        MkDocs writes left in place where it holds the same bytes (until finish())."""
        self.files, self.page_cache = files, page_cache
        if self.usable and not isinstance(mkdocs.utils.write_file, _SameBytes):
            mkdocs.utils.write_file = _SameBytes(self._prefix, mkdocs.utils.write_file)
        for file in files:
            if file.is_documentation_page():
                file.is_modified = _always  # type: ignore[method-assign]
            else:
                file.copy_file = _Copy(self, file, file.copy_file)  # type: ignore[method-assign]
        return files

    def _unchanged(self, relative: str, source: str | None, path: str) -> bool:
        """Whether the file at path is what the last build wrote there from the same source."""
        old = self.old.get(relative)
        return source is not None and old is not None and old[0] == source and stamp(path) == old[1]

    def keeps_page(self, file: File, key: str) -> bool:
        """For the page cache, before it reads an entry: whether site_dir holds this page as the cache entry with
        this key made it (then the page is kept as it is, and the entry's HTML is never read)."""
        relative = self._relative(file)
        if not self.usable or not self._unchanged(relative, f"page {key}", file.abs_dest_path):
            return False
        self.kept.add(relative)
        return True

    def copy(self, file: File, copy: Any) -> None:
        relative = self._relative(file)
        source = self._source(file)
        if relative in self.kept:
            pass  # the page cache asked first (keeps_page)
        elif self._unchanged(relative, source, file.abs_dest_path):
            self.kept.add(relative)
        else:
            if os.path.lexists(file.abs_dest_path) and not os.path.isfile(file.abs_dest_path):
                os.unlink(file.abs_dest_path)  # a link is replaced, never written through
            copy(False)
        if source is not None:
            self.copied[relative] = source

    def finish(self, config: Any) -> None:
        """After a build that succeeded, before the switch: remove what it did not write, then make its record.

        What MkDocs writes, with only its search plugin and ours (keeps_output): every documentation page, every
        static file (copied or kept here), the theme's static templates (and sitemap.xml.gz), the extra templates
        and the search index. Anything else in the folder is left from earlier builds.
        """
        named = set(self.copied) | self.kept
        written = self.page_cache.written if self.page_cache else {}
        for file in self.files.documentation_pages() if self.files is not None else ():
            relative = self._relative(file)
            named.add(relative)
            if file.src_uri in written:  # written with exactly the bytes of that cache entry: next time a CachedPage
                self.copied[relative] = f"page {written[file.src_uri]}"
        for name in (*config.theme.static_templates, *config.extra_templates):
            named.add(os.path.normpath(name))
        named.add("sitemap.xml.gz")
        named.add("manifest.json")  # written after this (site/manifest.py)
        if search_entries(config)[0]:
            named.add(os.path.join("search", "search_index.json"))
        emptied: set[str] = set()
        for relative in (self._before if self._before is not None else self._walk()) if self.usable else ():
            if relative not in named:
                os.unlink(os.path.join(self.site_dir, relative))
                emptied.add(os.path.dirname(relative))
        for folder in sorted(emptied, key=len, reverse=True):  # then their parents, if nothing is left in them
            while folder:
                try:
                    os.rmdir(os.path.join(self.site_dir, folder))
                except OSError:
                    break  # not empty
                folder = os.path.dirname(folder)
        files = {}
        for relative, source in sorted(self.copied.items()):
            stat = stamp(os.path.join(self.site_dir, relative))
            if stat is not None:
                files[relative] = [source, *stat, ""]
        self._record = files

    def kept_hashes(self) -> dict[str, str]:
        """The sha256 of each file this build kept as the build before the last wrote it (its record has it):
        what the site's manifest.json need not hash again."""
        return {relative: self.old[relative][2] for relative in self.kept
                if relative in self.old and self.old[relative][2]}

    def note_hashes(self, hashes: dict[str, str]) -> None:
        """The sha256 of every file of the finished folder (site/manifest.py), kept in its record for the next
        build into it."""
        for relative, entry in (self._record or {}).items():
            entry[-1] = hashes.get(relative.replace(os.sep, "/"), "")

    def save(self) -> None:
        """Once the folders are switched: this build's record is site_dir's, site_dir's old one the back folder's."""
        if self._record is not None:
            _write(self.front_file, str(self.staging.final), self._record)
        if self.front is not None:
            _write(self.record_file, str(self.site_dir),
                   {path: [source, *stat, sha] for path, (source, stat, sha) in self.front.items()})


def forget(cache_dir: Path) -> None:
    """Remove both records: a build that writes its folder whole (another plugin or a hook writes there too)."""
    for name in (RECORD, BACK_RECORD):
        (cache_dir / name).unlink(missing_ok=True)


def _read(record_file: Path, folder: str) -> dict[str, tuple[str, Stamp, str]] | None:
    """The entries of a record that names folder (then the file is removed: only a build that finishes writes one);
    None when there is none, or it is unusable. Entries written in the record's own clock tick are left out."""
    found = read_record(record_file, FORMAT)
    try:
        record_file.unlink()
    except OSError:
        return None
    if found is None or found[0].get("site_dir") != folder:
        return None
    data, made = found
    entries: dict[str, tuple[str, Stamp, str]] = {}
    try:
        for path, (source, m, size, inode, sha) in data["files"].items():
            if isinstance(source, str) and isinstance(sha, str) and trusted(int(m), made):
                entries[path] = (source, (int(m), int(size), int(inode)), sha)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    return entries


def _write(record_file: Path, folder: str, files: dict[str, list]) -> None:
    try:
        write_record(record_file, FORMAT, {"site_dir": folder, "files": files})
    except OSError:
        pass  # without a record the next build writes the folder whole: it costs time only


class _SameBytes:
    """MkDocs' write_file (which every page, theme template and the search index go through), leaving a file under
    the back folder as it is when it holds these bytes already."""

    def __init__(self, prefix: str, original: Any) -> None:
        self.prefix, self.original = prefix, original

    def __call__(self, content: bytes, output_path: str) -> None:
        if output_path.startswith(self.prefix) and os.path.isfile(output_path) \
                and not os.path.islink(output_path) and os.path.getsize(output_path) == len(content):
            try:
                with open(output_path, "rb") as handle:
                    if handle.read() == content:
                        return
            except OSError:
                pass
        if os.path.islink(output_path):
            os.unlink(output_path)  # a link is replaced, never written through
        self.original(content, output_path)


def _always() -> bool:
    return True


class _Copy:
    """A static file's copy_file, asking SiteOutput first."""

    def __init__(self, output: SiteOutput, file: File, copy: Any) -> None:
        self.output, self.file, self.original = output, file, copy

    def __call__(self, dirty: bool = False) -> None:
        self.output.copy(self.file, self.original)
