"""The files that stand for cached pages in MkDocs' list of files (a helper of page_cache.py, which makes them).

A `CachedPage` replaces a Markdown page found in the page cache: the same path and URL, not a documentation
page, written like a static file with the cached HTML. `policy build` does not hold that HTML from the moment the
entry is checked until MkDocs writes it (a library's first rebuild into an empty back folder writes thousands):
the page reads it again then, trusted while the entry's file has the stat it had, else checked again. Under
`policy serve` the entries are in memory, and the temporary site gets hard links to the cache's files (and
`LinkedFile`: to the generated folder's static files) instead of copies.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

from ...keys import stamp
from ..pagecache import Entry, PageStore


def gone(folder: Path, source: str) -> NoReturn:
    """An entry checked in this build whose file then changed or went: the build stops (nothing else writes the
    cache during a build; the next build renders the page again)."""
    raise PluginError(f"the page cache entry of {source} in {folder} changed while this build used it; build again")


def _link(source: str, target: str) -> bool:
    """Hard-link source at target (replacing what is there); False when this file system cannot."""
    try:
        try:
            os.link(source, target)
        except FileNotFoundError:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.link(source, target)
        except FileExistsError:
            os.unlink(target)  # left by a dirty rebuild: replaced, never written through
            os.link(source, target)
        return True
    except OSError:
        return False


class CachedPage(File):
    """A Markdown page replaced by its cached HTML: same source path and URL, written like a static file."""

    def __init__(self, original: File, entry: Entry, link: bool, store: PageStore | None = None) -> None:
        """store: an entry without its HTML is read from there again when written (not held meanwhile)."""
        super().__init__(original.src_uri, None, original.dest_dir, original.use_directory_urls,
                         dest_uri=original.dest_uri, inclusion=original.inclusion)
        self._html = entry.html
        self._again = (store, entry) if store is not None and not entry.html and entry.file is not None else None
        self.generated_by = "policy"
        self.key = entry.key
        self.entry = entry if link and entry.file is not None else None

    @property
    def _content(self) -> bytes:
        if self._again is None:
            return self._html
        store, entry = self._again
        return store.html_again(entry) or gone(store.folder, entry.page)

    @_content.setter
    def _content(self, value: bytes) -> None:
        self._html, self._again = value, None

    def is_documentation_page(self) -> bool:
        return False

    def copy_file(self, dirty: bool = False) -> None:
        entry = self.entry
        if entry is not None and entry.file is not None:
            if stamp(entry.file) == entry.signature and _link(str(entry.file), self.abs_dest_path):
                return
        if os.path.lexists(self.abs_dest_path):
            os.unlink(self.abs_dest_path)  # never write through a link left by a dirty build
        super().copy_file(dirty)


class LinkedFile(File):
    """A static file of the generated folder, hard-linked into serve's temporary site instead of copied."""

    def __init__(self, original: File) -> None:
        super().__init__(original.src_uri, original.src_dir, original.dest_dir, original.use_directory_urls,
                         dest_uri=original.dest_uri, inclusion=original.inclusion)

    def copy_file(self, dirty: bool = False) -> None:
        if self.abs_src_path is None or not _link(self.abs_src_path, self.abs_dest_path):
            super().copy_file(dirty)
