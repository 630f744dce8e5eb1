"""The page types of a document's site, in one table: each one's template, the input its template receives (the
builder of a frozen input of site/inputs.py), where it lives (one per version where its path holds `{version}`),
its title in the navigation (None: not in it) and when it exists.

The navigation (nav), the plugin's list of pages MkDocs need not warn about (site/mkdocs/plugin.py: not_in_nav),
a version's paths (site/model.VersionEntry), the rendering and caching of every page (site/pages.write_pages:
each page's key is its input's digest) and the tests read this table. Adding a page type is a template, an input
class in site/inputs.py and a row here (docs/maintainers.md, "Adding a page type").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any


def _always(model: Any) -> bool:
    return True


@dataclass(frozen=True)
class PageType:
    key: str
    template: str  # in templates/pages/
    builder: str  # what builds its input, in site/page_inputs.py ('VersionPage.of'): named, so that the nav (read
    #               by MkDocs' process early) imports nothing of the rendering
    path: str  # under the document's folder; "versions/{version}/": one page per version
    title: str | None = None  # in the navigation, in this table's order; None: not in the navigation
    exists: Callable[[Any], bool] = _always  # given the document's SiteModel

    @property
    def per_version(self) -> bool:
        return "{version}" in self.path

    @property
    def input(self) -> Callable[..., Any]:
        """The builder of the page's input: input(DocumentInputs, path, entry or None) (a library's own pages:
        input(title, [DocumentInputs], path, Choices)), which returns a site/page_inputs.Page."""
        from . import page_inputs
        return attrgetter(self.builder)(page_inputs)

    def at(self, version: str = "") -> str:
        """The page's path ('versions/1.0/'), for a version when there is one per version."""
        return self.path.format(version=version) if self.per_version else self.path


CURRENT = PageType("current", "current.md.j2", "CurrentPage.of", "", "Current policy")
ARCHIVE = PageType("archive", "archive.md.j2", "DocumentPage.of", "versions/", "All versions")
LATEST_CHANGES = PageType("latest-changes", "changes.md.j2", "ChangesPage.latest", "changes/", "Latest changes")
DRAFT = PageType("draft", "changes.md.j2", "ChangesPage.draft_changes", "changes/draft/", "Draft changes",
                 lambda model: bool(model.draft or model.settings.draft))  # under serve, also before a first edit
COMPARE = PageType("compare", "compare.md.j2", "DocumentPage.of", "compare/", "Compare versions",
                   lambda model: len(model.entries) > 1)
FOLLOW = PageType("follow", "follow.md.j2", "FollowPage.of", "follow/", "Follow changes")
VERSION = PageType("version", "version.md.j2", "VersionPage.of", "versions/{version}/")
CHANGES = PageType("changes", "changes.md.j2", "ChangesPage.of", "changes/{version}/")
PAGE_TYPES = (CURRENT, ARCHIVE, LATEST_CHANGES, DRAFT, COMPARE, FOLLOW, VERSION, CHANGES)

# a library's own pages, above its documents' (site/library.py)
LIBRARY = PageType("library", "library.md.j2", "LibraryPage.of", "", "Policies")
LIBRARY_FOLLOW = PageType("library-follow", "library_follow.md.j2", "LibraryPage.of", "follow/", "Follow changes")
LIBRARY_PAGE_TYPES = (LIBRARY, LIBRARY_FOLLOW)


def nav(model: Any) -> list[dict[str, str]]:
    """The navigation: the titled page types that exist, in the table's order. It never names a version, so a
    new version leaves every cached page valid (site/mkdocs/page_cache.py)."""
    return [{t.title: t.at() + "index.md"} for t in PAGE_TYPES if t.title and t.exists(model)]


def not_in_nav() -> list[str]:
    """Gitignore-style patterns of the pages the navigation does not name (the untitled types: one per version)."""
    return ["/" + t.path.replace("{version}", "*") + "index.md" for t in PAGE_TYPES if t.title is None]


def nav_pages(model: Any) -> set[str]:
    """The files of the pages the navigation names (for tests and tools)."""
    return {path for item in nav(model) for path in item.values()}


def library_nav() -> list[dict[str, str]]:
    """The navigation of a library: its own pages."""
    return [{t.title: t.at() + "index.md"} for t in LIBRARY_PAGE_TYPES if t.title]
