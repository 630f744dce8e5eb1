"""The pages and files of a library (several documents) above the documents' own: the library page at `/`, a
follow page, the combined change feeds, `/versions.json` listing every document — and, for a document that was
the project's only one, its old addresses kept answering.

Each document's own pages live under `/<document>/` (site/pages.py with the document's prefix). When the
library was made from a single-document project (`formerly_single` in policy/library.yaml), every URL that
document had keeps working: pages redirect to their new place (keeping `?from=…&to=…` on /compare/), and the
files a redirect cannot stand for — policy.json, the per-section feeds — are written at their old paths too.
The combined feeds name that document's old versions by their old ids, so feed readers see nothing twice.
"""

from __future__ import annotations

from ..source.project import Layout
from .choices import Choices
from .data import dumps, version_record
from .feeds import FeedBuilder, atom_xml, json_feed, rss_xml
from .gencache import GeneratedFiles
from .model import SiteModel, VersionEntry
from .output import OutputTree
from .pages import library_pages
from .redirects import redirect_page


def library_versions_json(layout: Layout, models: list[SiteModel]) -> str:
    """/versions.json of a library: the documents, and every version of every document (newest first)."""
    settings = models[0].settings
    records = [(entry, {"document": model.document, **version_record(model, entry)})
               for model in models for entry in model.entries]
    records.sort(key=lambda pair: (pair[0].published.published or settings.build_time), reverse=True)
    return dumps({
        "title": layout.title,
        "generated": settings.build_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "documents": [{"id": m.document, "title": m.title, "current": m.current.version, "url": m.url(""),
                       "versions_url": m.url("versions.json"),
                       "upcoming": [e.version for e in m.upcoming]} for m in models],
        "versions": [record for _, record in records],
    })


def _combined(layout: Layout, models: list[SiteModel], out: OutputTree) -> None:
    settings = models[0].settings
    builders = [FeedBuilder(m) for m in models]
    newest: list[tuple[VersionEntry, FeedBuilder]] = [(e, b) for b in builders for e in b.model.newest_first]
    newest.sort(key=lambda pair: pair[1].dates[pair[0].version][0], reverse=True)
    limit = builders[0].limit
    items = [builder.item(entry) for entry, builder in newest[:limit]]
    title = settings["feed_title"] or f"{layout.title} — changes"
    subtitle = settings["feed_subtitle"] or f"Every new version of every document of the {layout.title}."
    feed = builders[0].feed(title, subtitle, settings.url(""), items)
    out.write("atom.xml", atom_xml(feed, settings.url("atom.xml")))
    out.write("rss.xml", rss_xml(feed, settings.url("rss.xml")))
    out.write("feed.json", json_feed(feed, settings.url("feed.json")))


def _old_addresses(model: SiteModel, out: OutputTree) -> None:
    """The pages and files a formerly single document had at the site's root, at their old paths: redirects for
    its pages, copies of every other file of its versions' folders."""
    url = model.settings.url
    moves = {"versions/": "versions/", "changes/": "changes/", "compare/": "compare/"}
    for entry in model.entries:
        moves[entry.path] = entry.path
        moves[entry.changes_path] = entry.changes_path
    for old, new in moves.items():
        out.write(old + "index.html", redirect_page(old + "index.html", model.prefix + new, url()))
    folders = tuple(model.prefix + p for e in model.entries for p in (e.path, e.changes_path))
    for path in sorted(p for p in out.written if p.startswith(folders) and not p.endswith(".md")):
        out.copy(path[len(model.prefix):], path)  # policy.json, the Word redline, PDFs, timestamp tokens
    for section_id in model.section_ids:
        path = f"sections/{section_id}/atom.xml"
        out.copy(path, model.prefix + path)


def write_library(layout: Layout, models: list[SiteModel], out: OutputTree, offered: Choices | None = None,
                  files: GeneratedFiles | None = None) -> None:
    """The library's own pages and files; files: where the documents' inputs are built once a build."""
    library_pages(layout, models, out, offered, files)
    out.write("versions.json", library_versions_json(layout, models))
    _combined(layout, models, out)
    for model in models:
        if model.document == layout.formerly_single:
            _old_addresses(model, out)
