"""The MkDocs internals the plugin relies on (site/mkdocs/) are where it expects them, in the installed MkDocs.

pyproject.toml accepts MkDocs 1.6.x only; when a new MkDocs is tried (by widening that pin), this test names every
private function, attribute or behaviour that moved, instead of a build failing somewhere, or a page going stale.
"""

from __future__ import annotations

import inspect

import mkdocs
import mkdocs.utils
from mkdocs.commands import build
from mkdocs.contrib.search.search_index import SearchIndex
from mkdocs.livereload import LiveReloadServer
from mkdocs.structure.files import File
from mkdocs.structure.pages import Page


def _parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)  # type: ignore[arg-type]


def test_the_private_api_in_use_is_there() -> None:
    missing = []
    if _parameters(getattr(build, "_populate_page", None) or (lambda: None))[:3] != ["page", "config", "files"]:
        missing.append("mkdocs.commands.build._populate_page(page, config, files) (site/mkdocs/parallel.py)")
    if _parameters(getattr(build, "_build_page", None) or (lambda: None))[:5] != [
            "page", "config", "doc_files", "nav", "env"]:
        missing.append("mkdocs.commands.build._build_page(page, config, doc_files, nav, env) (site/mkdocs/parallel.py)")
    if not callable(getattr(mkdocs.utils, "write_file", None)):
        missing.append("mkdocs.utils.write_file, replaced in forked workers (site/mkdocs/parallel.py)")
    if not hasattr(mkdocs.utils, "CountHandler"):
        missing.append("mkdocs.utils.CountHandler, counting warnings (site/mkdocs/staged_build.py)")
    if not callable(getattr(Page, "_set_canonical_url", None)):
        missing.append("Page._set_canonical_url, overridden for listed pages (site/mkdocs/listed.py)")
    if "_content" not in inspect.getsource(File):
        missing.append("File._content, a page's Markdown held in memory (site/mkdocs/site_output.py, page_cache.py)")
    if "_entries" not in inspect.getsource(SearchIndex.__init__):
        missing.append("SearchIndex._entries, where cached pages rejoin the search index (site/mkdocs/page_cache.py)")
    if "observer" not in inspect.getsource(LiveReloadServer.__init__):
        missing.append("LiveReloadServer.observer (its _timeout: serve's polling, site/mkdocs/plugin.py)")
    title = inspect.getsource(Page)
    if "if self.markdown is None:" not in title or "elif self.content is None:" not in title:
        missing.append("Page.title read from Markdown only when markdown or content is None (a converted page's "
                       "are emptied: site/mkdocs/page_cache.py)")
    if "content = self._content" not in inspect.getsource(File.copy_file):
        missing.append("File.copy_file writing File._content (a property of CachedPage: site/mkdocs/cached_files.py)")
    if "_current_page" not in inspect.getsource(build):
        missing.append("config._current_page, set while a page builds (site/mkdocs/page_cache.py)")
    assert not missing, f"MkDocs {mkdocs.__version__} moved what the plugin relies on:\n" + "\n".join(missing)
