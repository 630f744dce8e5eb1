"""The pages the page cache kept, as the theme's own templates see them (sitemap.xml lists every page).

A cached page is not rendered, so MkDocs makes no Page for it; the sitemap still needs each one's URL and date.
A library has ~1,300 such pages on every build, and MkDocs' Page joins each URL with urllib: ListedPage is a Page
that joins a plain relative URL itself, with exactly urljoin's result (tests/integration/test_pagecache.py
compares them).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from mkdocs.structure.pages import Page

# path segments that never start with a dot (so never "." or ".."), of characters URLs use as they are
_PLAIN_URL = re.compile(r"^(?:[A-Za-z0-9_~%-][A-Za-z0-9._~%-]*/)*(?:[A-Za-z0-9_~%-][A-Za-z0-9._~%-]*)?$")


class ListedPage(Page):
    """A Page whose URLs are joined without urllib when its URL is a plain relative path."""

    def _set_canonical_url(self, base: str | None) -> None:
        if not base or "?" in base or "#" in base or not _PLAIN_URL.match(self.url):
            super()._set_canonical_url(base)
            return
        if not base.endswith("/"):
            base += "/"
        self.canonical_url = base + self.url  # what urljoin(base, url) gives for such a path
        self.abs_url = urlsplit(base).path + self.url
