"""Pages that moved keep answering: `redirects:` in mkdocs.yml maps old site paths to new ones.

Each old path gets a small static page — a meta refresh, a canonical link, a plain link for people and
robots, `noindex` — written among the generated pages, which MkDocs copies as they are; no JavaScript, so it
works everywhere. A redirect may not stand where the site has a page of its own (it would hide it), and its
target must be a page or file the site has; both are errors for `policy check` and the build.
"""

from __future__ import annotations

import html
import json
import posixpath
from collections.abc import Iterable, Mapping

from ..errors import UserError

# the paths the site itself uses (pages, data, feeds, MkDocs' own files): a redirect never shadows them
RESERVED = ("versions", "changes", "compare", "follow", "sections", "assets", "search", "versions.json",
            "atom.xml", "rss.xml", "feed.json", "404.html", "sitemap.xml", "sitemap.xml.gz", "index.html")
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Moved to {label}</title>
<meta name="robots" content="noindex">
<meta http-equiv="refresh" content="0; url={href}">
<link rel="canonical" href="{canonical}">
<script>var t = new URL({script_href}, location.href); if (location.search) t.search = location.search;
if (location.hash) t.hash = location.hash; location.replace(t.href);</script>
</head>
<body>
<p>This page has moved to <a href="{href}">{label}</a>.</p>
</body>
</html>
"""


def _clean(path: str) -> str:
    """'/privacy' → 'privacy', '/a/b/' → 'a/b/'; the site path without its leading slash."""
    return path.strip().lstrip("/")


def output_path(old: str) -> str:
    """Where the redirect page of an old path is written: 'privacy/index.html', 'old.html'."""
    clean = _clean(old).split("#", 1)[0].split("?", 1)[0]
    if clean.endswith((".html", ".htm")):
        return clean
    return posixpath.join(clean, "index.html") if clean else "index.html"


def redirect_page(out: str, new: str, site_url: str) -> str:
    """The page written at `out` ('privacy/index.html') sending readers to `new` (a site path or an https URL).
    The script keeps the query and the fragment (compare/?from=…&to=…); the meta refresh works without it."""
    if not new.startswith(("https://", "http://")):
        path, hash_, fragment = ("/" + new.lstrip("/")).partition("#")
        href = posixpath.relpath(path, posixpath.dirname("/" + out))
        href = "./" if href == "." else href + ("/" if path.endswith("/") else "")
        href += hash_ + fragment
        canonical = site_url.rstrip("/") + "/" + _clean(new)
    else:
        href = canonical = new
    script_href = json.dumps(href).replace("<", "\\u003c")
    return PAGE.format(href=html.escape(href, quote=True), canonical=html.escape(canonical, quote=True),
                       label=html.escape(new), script_href=script_href)


def problems(redirects: Mapping[str, str]) -> list[str]:
    """What is wrong with the redirects map (each a line naming the old path and what to do)."""
    out: list[str] = []
    for old, new in redirects.items():
        where = f"redirects: {old!r}"
        if not isinstance(old, str) or not isinstance(new, str) or not new.strip():
            out.append(f"{where}: both the old and the new path must be text, like \"/privacy\": \"/\"")
            continue
        clean = _clean(old)
        if not old.startswith("/") or "#" in old or "?" in old or ".." in clean.split("/"):
            out.append(f"{where}: write the old address as a site path like /privacy-statement (no #, ?, ..)")
        elif not clean or clean.split("/")[0] in RESERVED:
            out.append(f"{where} is a page of this site; a redirect there would hide it: remove it")
        if not (new.startswith("/") or new.startswith(("https://", "http://"))):
            out.append(f"{where}: the new address must be a site path (/versions/) or an https:// URL, not {new!r}")
    return out


def redirect_pages(redirects: Mapping[str, str], site_url: str, existing: Iterable[str]) -> dict[str, str]:
    """The redirect pages (output path → HTML); UserError when a target is not on the site."""
    found = problems(redirects)
    if found:
        raise UserError("mkdocs.yml " + "; ".join(found))
    have = set(existing)
    pages: dict[str, str] = {}
    for old, new in sorted(redirects.items()):
        target = new.split("#", 1)[0]
        if target.startswith("/") and not ({_clean(target), _clean(target) + "index.md",
                                             posixpath.join(_clean(target), "index.md")} & have):
            raise UserError(f"mkdocs.yml redirects: {old!r} points to {new!r}, which is not a page of this site; "
                            "point it to an existing page such as \"/\" or \"/versions/\"")
        out = output_path(old)
        pages[out] = redirect_page(out, new, site_url)
    return pages
