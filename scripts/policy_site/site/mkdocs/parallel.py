"""A second process for `policy build`: while MkDocs renders the pages from the first, a forked helper renders the
published pages the cache can keep from the last, and the two meet in the middle.

MkDocs renders one page after another on one core. Most pages of a policy site are published versions and their
changes pages, each rendered on its own and kept by the page cache (page_cache.py) — so a cold build can share
them out. At the end of MkDocs' `on_nav` (the list of files and the nav are final), when there are at least
MIN_PAGES such pages still to render, two cores or more, and no other thread runs, the build forks once:
- the helper takes those pages from the last one backwards: it reads and renders each exactly as MkDocs would
  (`_populate_page`, then `_build_page` with its own theme environment), the page cache stores the page's HTML and
  search entries as for any rendered page, and the helper reports the page's number on a pipe. It writes nothing
  into site_dir, prints nothing (MkDocs' log handlers are removed; a page that logged a warning is not stored and
  not reported), and stops before a page the main process has reached, or when the main process is gone;
- the main process, before it reads each of those pages, says how far it got (in shared memory) and takes any page
  the helper reported from the cache, the way a cached page named by the nav is: its Markdown is not converted and
  its HTML and search entries are the stored ones. Any page the helper did not finish, it renders itself.
- when MkDocs has read every page (`on_env`), the helper is stopped and waited for; on a build error it is killed.
The site is byte-identical to one rendered by one process (tests/integration/test_parallel.py).
POLICY_BUILD_PROCESSES=1 turns the helper off; `policy serve` never uses it.
"""

from __future__ import annotations

import logging
import mmap
import os
import signal
import struct
from collections.abc import Callable
from typing import Any

from mkdocs.commands.build import _build_page, _populate_page
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page

from ...pipes import fork

MIN_PAGES = 16
_DONE = 1 << 62


class Helper:
    """The forked helper as the main process sees it (and as the helper itself runs)."""

    def __init__(self, pages: list[File]) -> None:
        self.pages = pages
        self.number = {file.src_uri: i for i, file in enumerate(pages)}
        self.delivered: set[int] = set()
        self._shared = mmap.mmap(-1, 8)  # anonymous and shared: the main process's progress, seen by the helper
        struct.pack_into("q", self._shared, 0, -1)
        self._pid = 0
        self._read = -1
        self._pending = b""
        self._parent = os.getpid()

    def start(self, work: Callable[[Helper, int], None]) -> bool:
        """Fork; the helper runs work(self, write_fd) and exits. False when the fork failed."""
        read, write = os.pipe()
        try:
            # the collector rule of pipes.py: what both processes share is frozen, so the helper's collector goes
            # through only what it makes (each page's Markdown converter holds cycles: without it, every one stays)
            pid = fork()
        except OSError:
            os.close(read)
            os.close(write)
            return False
        if pid == 0:  # the helper: never returns into MkDocs
            code = 1
            try:
                os.close(read)
                work(self, write)
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        os.set_blocking(read, False)
        self._pid, self._read = pid, read
        return True

    # the helper's side
    def may_take(self, number: int) -> bool:
        """Whether the helper may render page `number`: the main process has not reached it and still runs."""
        return struct.unpack_from("q", self._shared, 0)[0] < number and os.getppid() == self._parent

    # the main process's side
    def reached(self, source: str) -> bool:
        """The main process is about to read this page: True when the helper rendered it and it is in the cache."""
        number = self.number.get(source)
        if number is None or not self._pid:
            return False
        struct.pack_into("q", self._shared, 0, number)
        self._poll()
        return number in self.delivered

    def _poll(self, wait: bool = False) -> bool:
        """Read what the helper reported; False at the end of its reports."""
        os.set_blocking(self._read, wait)
        try:
            while True:
                try:
                    chunk = os.read(self._read, 4096)
                except BlockingIOError:
                    return True
                if not chunk:
                    return False
                self._pending += chunk
                *lines, self._pending = self._pending.split(b"\n")
                self.delivered.update(int(line) for line in lines if line.isdigit())
        finally:
            if self._read >= 0:
                os.set_blocking(self._read, False)

    def stop(self) -> None:
        """After MkDocs read every page: the helper finishes the page it is on, exits, and is waited for."""
        if not self._pid:
            return
        struct.pack_into("q", self._shared, 0, _DONE)
        while self._poll(wait=True):
            pass
        self._reap()

    def kill(self) -> None:
        if self._pid:
            try:
                os.kill(self._pid, signal.SIGKILL)
            except OSError:
                pass
            self._reap()

    def _reap(self) -> None:
        try:
            os.waitpid(self._pid, 0)
        except ChildProcessError:
            pass
        os.close(self._read)
        self._pid, self._read = 0, -1


def render_from_the_end(helper: Helper, write: int, config: Any, files: Files, nav: Any,
                        stored: Callable[[str], bool]) -> None:
    """The helper's work: render pages from the last backwards, report each one the page cache stored."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    mkdocs_log = logging.getLogger("mkdocs")
    for handler in list(mkdocs_log.handlers):
        if not getattr(handler, "policy_page_warnings", False):
            mkdocs_log.removeHandler(handler)
    mkdocs_log.propagate = False
    import mkdocs.utils
    mkdocs.utils.write_file = lambda content, output_path: None  # the main process writes site_dir
    env = config.plugins.on_env(config.theme.get_env(), config=config, files=files)
    doc_files = files.documentation_pages(inclusion=InclusionLevel.is_included)
    for number in range(len(helper.pages) - 1, -1, -1):
        if not helper.may_take(number):
            break
        file = helper.pages[number]
        page = file.page if file.page is not None else Page(None, file, config)
        _populate_page(page, config, files)
        _build_page(page, config, doc_files, nav, env)
        if stored(file.src_uri):
            os.write(write, b"%d\n" % number)
