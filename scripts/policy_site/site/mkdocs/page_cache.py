"""The page cache inside MkDocs: published pages are rendered once, later builds copy them from .cache/.

A helper of plugin.py that imports MkDocs, like page_key.py (the site key); the store, the entry format and the
rules of trust are in site/pagecache.py, which does not import MkDocs.

Protocol, by MkDocs event (priorities from mkdocs.plugins.event_priority):
- on_files (last): the site key (page_key.site_key) covers everything that shapes every page. Each Markdown
  page the nav does not name gets its key from the site key, its path and its bytes; on a trusted hit its File is
  replaced by a `CachedPage`: the same path and URL, not a documentation page, holding the cached HTML, which
  MkDocs writes into site_dir with the static files. So MkDocs neither converts its Markdown nor renders the theme
  for it, and links from other pages still resolve to it. Pages the nav names stay pages (MkDocs' nav needs
  them); on a hit their Markdown is emptied in on_page_markdown and their output swapped in on_post_page.
- on_page_context (after the search plugin): the search entries each rendered page added are noted (for a
  swapped nav page, the entries indexed from nothing are replaced by its cached ones).
- on_post_page (last): a rendered page's HTML, exactly as MkDocs writes it, is stored with its search entries,
  unless rendering it logged a warning; a swapped nav page gets its cached HTML back.
- on_template_context: sitemap.xml (and any theme template) sees every page, cached ones included, in order.
- on_post_build (first, before the search plugin writes its index): the search index is put back in the order
  a cold build makes, cached pages' entries in their place; the store records what this build used.
The result is byte-identical to a cold build. The cache is off (everything rendered, one line at debug level) when
a plugin other than search and policy or a hook is configured (it could read pages we skip), when there is no
nav in the config (every page would show every page's title), when anchor validation is set to warn (it needs
every page's anchors), or when the search plugin's index is not where this code looks for it.

Under `policy serve` only, the temporary site folder (MkDocs' own, emptied by every rebuild) gets hard links
instead of copies: to a cached page's HTML file while its stat is the one seen when it was checked, and to the
static files of the generated folder (LinkedFile, cached_files.py). `policy build` always writes real copies.

Memory: a page's Markdown is let go once converted, its content waits for its rendering as UTF-8 bytes and is let
go once written; a cached page's HTML (CachedPage, or a page the helper rendered) is read again when written.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import PurePath
from typing import Any

from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from ...keys import Stamp, stamp
from ...pipes import may_fork
from ...settings import Settings
from ..pagecache import Entry, PageStore, check_location, page_key
from .cached_files import CachedPage, LinkedFile, gone
from .listed import ListedPage
from .page_key import Unkeyable, site_key
from .parallel import MIN_PAGES, Helper, render_from_the_end

log = logging.getLogger("mkdocs.plugins.policy")

KNOWN_PLUGINS = {"search", "material/search", "policy"}


def _nav_pages(nav: Any) -> tuple[set[str], set[str]]:
    """(the pages the nav names with a title, those it names without one). MkDocs' nav needs both as pages; the
    title of the second kind comes from rendering them, and other pages show it, so they are never cached."""
    titled: set[str] = set()
    bare: set[str] = set()
    stack: list[tuple[Any, bool]] = [(nav, False)]
    while stack:
        item, has_title = stack.pop()
        if isinstance(item, str):
            (titled if has_title else bare).add(PurePath(item).as_posix())
        elif isinstance(item, Mapping):
            stack.extend((value, True) for value in item.values())
        elif isinstance(item, list | tuple):
            stack.extend((value, False) for value in item)
    return titled, bare


def search_entries(config: Any) -> tuple[bool, list | None]:
    """(whether a search plugin is on, its list of index entries): Material's `search_index.entries` or
    MkDocs' `search_index._entries`; (True, None) when a search plugin is on but its index is not found."""
    for name, plugin in config.plugins.items():
        if name not in ("search", "material/search"):
            continue
        options = getattr(plugin, "config", None)
        if options is not None and options.get("enabled", True) is False:
            return False, None
        index = getattr(plugin, "search_index", None)
        for attribute in ("entries", "_entries"):
            entries = getattr(index, attribute, None)
            if isinstance(entries, list):
                return True, entries
        return True, None
    return False, None


class _PageWarnings(logging.Handler):
    """Notes which page was being read or rendered when MkDocs logged a warning."""

    policy_page_warnings = True  # the one handler a helper process keeps (parallel.py)

    def __init__(self, config: Any) -> None:
        super().__init__(logging.WARNING)
        self.config = config
        self.pages: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        page = getattr(self.config, "_current_page", None)
        if page is not None:
            self.pages.add(page.file.src_uri)


class PageCache:
    """The page cache of one plugin instance (kept across `policy serve` rebuilds, like the plugin)."""

    def __init__(self) -> None:
        self.store: PageStore | None = None
        self.settings: Settings | None = None
        self.serving = False
        self.generated: dict[str, str] = {}  # page → sha256 of its Markdown, as this build's generation wrote it
        self.digests: dict[str, tuple[Stamp | None, str]] = {}  # serve: page → (stamp, sha256 of its Markdown)
        self._reset()

    def _reset(self) -> None:
        self.active = False
        self.config: Any = None
        self.order: list[File] = []  # every documentation page a cold build renders, in its order
        self.hits: dict[str, Entry] = {}  # pages replaced by a CachedPage
        self.nav_hits: dict[str, Entry] = {}  # pages the nav names: MkDocs keeps them, their output is swapped
        self.pending: dict[str, str] = {}  # rendered page → its key
        self.stored: set[str] = set()
        self.written: dict[str, str] = {}  # page → key of the entry whose bytes MkDocs writes for it in this build
        self.helpable: list[File] = []  # pages a helper process may render (parallel.py)
        self.helper: Helper | None = None
        self.helped = 0  # pages the helper rendered and this process took from the cache
        self.search: list | None = None
        self.search_seen = 0
        self.page_search: dict[str, list] = {}
        self.held: dict[str, bytes] = {}  # converted pages' content until they are rendered (on_page_content)
        self.warnings: _PageWarnings | None = None

    def configure(self, settings: Settings, serving: bool) -> None:
        folder = settings.path("page_cache_dir")
        check_location(folder, settings.site_dir, settings.pages_dir)
        if not settings["page_cache"]:
            self.store = None
        elif self.store is None or self.store.folder != folder:
            self.store = PageStore(folder, "serve" if serving else "build", keep_in_memory=serving)
        self.settings, self.serving = settings, serving

    def _why_not(self, config: Any) -> str | None:
        others = sorted(set(config.plugins) - KNOWN_PLUGINS)
        if others:
            return f"plugin {', '.join(others)} may read every page"
        if config.hooks:
            return "hooks may read every page"
        if not config.nav:
            return "without a nav in the config, every page shows every page's title"
        if config.validation.links.anchors >= logging.WARNING:
            return "anchor validation needs every page rendered"
        on, entries = search_entries(config)
        if on and entries is None:
            return "the search plugin's index was not found"
        self.search = entries
        return None

    def on_files(self, files: Files, config: Any, output: Any = None) -> Files:
        """output: site_output.SiteOutput of a `policy build`, which knows the pages site_dir already holds."""
        self._reset()
        if self.store is None or self.settings is None:
            return files
        why = self._why_not(config)
        if why:
            log.debug(f"page cache off: {why}")
            return files
        try:
            key_of_site = site_key(config, self.serving)
        except Unkeyable as exc:
            log.debug(f"page cache off: the config value {exc} cannot be compared between builds")
            return files
        self.active, self.config = True, config
        self.order = list(files.documentation_pages())
        self.search_seen = len(self.search) if self.search is not None else 0
        in_nav, untitled = _nav_pages(config.nav)
        for file in self.order:
            if file.abs_src_path is None or file.src_uri in untitled:
                continue
            key = page_key(key_of_site, file.src_uri, self._digest(file))
            kept = output is not None and file.src_uri not in in_nav and file is not self.order[0] \
                and output.keeps_page(file, key)  # (the first page may have to be rendered: see below)
            entry = self.store.get(key, file.src_uri, html=not kept)
            if entry is None:
                self.pending[file.src_uri] = key
            else:
                (self.nav_hits if file.src_uri in in_nav else self.hits)[file.src_uri] = entry
        if self.hits and len(self.hits) == len(self.order):  # MkDocs dates sitemap.xml.gz from rendered pages
            first = self.order[0].src_uri
            self.nav_hits[first] = self.hits.pop(first)
        self.helpable = [f for f in self.order if f.src_uri in self.pending and f.src_uri not in in_nav]
        for file in self.order:
            if file.src_uri in self.hits:
                entry = self.hits[file.src_uri]
                if not self.serving and entry.file is not None:  # its HTML read again when written, not held
                    self.hits[file.src_uri] = entry = replace(entry, html=b"")
                files.remove(file)
                files.append(CachedPage(file, entry, link=self.serving, store=self.store))
        if self.serving:  # the generated folder's JSON and feeds, linked into serve's temporary site
            for file in [f for f in files if f.src_dir == config.docs_dir and not f.is_documentation_page()]:
                files.remove(file)
                files.append(LinkedFile(file))
        self.warnings = _PageWarnings(config)
        logging.getLogger("mkdocs").addHandler(self.warnings)
        return files

    def _digest(self, file: File) -> str:
        """sha256 of a page's Markdown: as the generation that wrote or kept it in this build knows it (nothing
        else writes the generated folder during a build), else read (serve: remembered while its stamp stays)."""
        path = file.abs_src_path
        assert path is not None
        known = self.generated.get(file.src_uri)
        if known is not None and not self.serving:
            return known
        now = stamp(path)
        if known is None:
            memo = self.digests.get(file.src_uri)
            if memo is not None and memo[0] is not None and memo[0] == now:
                return memo[1]
            with open(path, "rb") as handle:
                known = hashlib.sha256(handle.read()).hexdigest()
        self.digests[file.src_uri] = (now, known)
        return known

    def on_nav(self, nav: Any, config: Any, files: Files) -> None:
        """A cold build with enough pages to share: a helper process renders them from the end."""
        if not self.active or self.serving or self.store is None or len(self.helpable) < MIN_PAGES or not may_fork():
            return
        try:
            helper = Helper(self.helpable)
        except OSError:  # no shared memory: one process renders everything
            return
        if helper.start(lambda h, write: self._help(h, write, config, files, nav)):
            self.helper = helper

    def _help(self, helper: Helper, write: int, config: Any, files: Files, nav: Any) -> None:
        """In the helper process."""
        assert self.store is not None
        self.store._writer = None  # the main process's writer thread (if any) did not come along
        render_from_the_end(helper, write, config, files, nav, self._on_disk)

    def _on_disk(self, source: str) -> bool:
        """In the helper: whether the page just rendered is stored, and on disk."""
        assert self.store is not None
        self.store.flush()
        return source in self.written and not self.store.cannot_write

    def on_page_markdown(self, markdown: str, page: Page) -> str:
        """A page found in the cache that MkDocs still reads (the nav names it, or the helper rendered it after
        this build started): nothing to convert (its output is swapped in on_post_page)."""
        if not self.active:
            return markdown
        source = page.file.src_uri
        if self.helper is not None and self.store is not None and source not in self.nav_hits \
                and self.helper.reached(source):
            entry = self.store.get(self.pending[source], source)
            if entry is not None:  # its HTML is read again when it is written, not held by every page meanwhile
                self.nav_hits[source] = replace(entry, html=b"")
                self.helped += 1
        return "" if source in self.nav_hits else markdown

    def on_page_content(self, content: str, page: Page) -> str:
        """Last after a page is converted: nothing reads its Markdown again, nor its content until it is rendered
        (every page is converted before the first is rendered), so that content waits as UTF-8 bytes, half the
        memory of a str holding any character beyond Latin-1; returns what MkDocs keeps as the content meanwhile.
        Its title is kept: MkDocs takes it from the converted page, never from Markdown or content not None."""
        if not self.active or not content:
            return content
        page.markdown = ""
        self.held[page.file.src_uri] = content.encode("utf-8", errors="surrogatepass")
        return ""

    def before_page_context(self, page: Page) -> None:
        """First as a page is rendered: its content back, exactly as converted."""
        held = self.held.pop(page.file.src_uri, None)
        if held is not None:
            page.content = held.decode("utf-8", errors="surrogatepass")

    def on_env(self) -> None:
        """Every page is read: the helper has nothing left to do."""
        if self.helper is not None:
            self.helper.stop()

    def on_page_context(self, page: Page) -> None:
        if not self.active or self.search is None:
            return
        source = page.file.src_uri
        if source in self.nav_hits:  # indexed from nothing: its cached entries stand instead
            del self.search[self.search_seen:]
            self.page_search[source] = self.nav_hits[source].search
        else:
            self.page_search[source] = self.search[self.search_seen:]
        self.search_seen = len(self.search)

    def on_post_page(self, output: str, page: Page) -> str:
        source = page.file.src_uri
        if not self.active or self.store is None:
            return output
        if source in self.nav_hits:
            entry = self.nav_hits[source]
            self.written[source] = entry.key
            html = entry.html or self.store.html_again(entry) or gone(self.store.folder, source)
            return html.decode("utf-8")  # MkDocs encodes it back to the very same bytes
        if self.serving and os.path.isfile(page.file.abs_dest_path):  # a dirty rebuild: never write through a link
            os.unlink(page.file.abs_dest_path)
        key = self.pending.get(source)
        if key is None or not output.strip():
            return output
        if self.warnings is not None and source in self.warnings.pages:
            return output  # rendered again next time, so its warning is shown again
        html = output.encode("utf-8", errors="xmlcharrefreplace")  # as MkDocs writes it
        self.store.put(Entry(key, source, html, self.page_search.get(source, [])))
        self.stored.add(key)
        self.written[source] = key
        page.content = ""  # written: nothing reads it again (the search plugin indexed it; the title is kept)
        return output

    def on_template_context(self, context: Any) -> Any:
        if self.active and self.hits and "pages" in context:
            for file in self.order:
                if file.src_uri in self.hits and file.page is None:
                    ListedPage(None, file, self.config)  # URL and date for sitemap.xml, as a rendered page has
            context["pages"] = list(self.order)
        return context

    def on_post_build(self) -> None:
        if not self.active or self.store is None:
            return
        self._stop_listening()
        self.store.flush()  # the entries are written before the search index they hold is reordered
        if self.search is not None:
            ordered: list = []
            for file in self.order:
                hit = self.hits.get(file.src_uri)
                ordered.extend(hit.search if hit else self.page_search.get(file.src_uri, []))
            placed = {id(e) for entries in self.page_search.values() for e in entries}
            self.search[:] = ordered + [e for e in self.search if id(e) not in placed]
        used = {e.key for e in self.hits.values()} | {e.key for e in self.nav_hits.values()} | self.stored
        self.store.finish(used)
        cached = len(self.hits) + len(self.nav_hits) - self.helped
        helped = f" ({self.helped} of them by a second process)" if self.helped else ""
        log.info(f"page cache: {cached} pages from {self.store.folder}, {len(self.order) - cached} rendered{helped}")

    def on_build_error(self) -> None:
        if self.helper is not None:
            self.helper.kill()
            self.helper = None
        self._stop_listening()
        self.active = False
        if self.store is not None:
            self.store.flush()

    def _stop_listening(self) -> None:
        if self.warnings is not None:
            logging.getLogger("mkdocs").removeHandler(self.warnings)
            self.warnings = None
