"""A warm rebuild of a generated library touches only what the change shows (issue 25): after one new version of
one document, the files written — in site/ and in the generated pages folder, by inode, mtime and bytes — are that
document's pages, its translations' status pages and the library-wide pages that list it, nothing else; and the
site is the one a cold build makes."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from policy_site.bench.library import Shape, add_library_version, make_library_repo
from policy_site.site.mkdocs.plugin import load_settings
from policy_site.site.page_types import PAGE_TYPES, VERSION
from policy_site.site.publish import Staging
from tests.support.site import assert_same_site, build

EPOCH = 1_700_000_000
SHAPE = Shape(documents=8, versions=4, sections=6, languages=("de", "fr"), translated=3, lags=(0, 1, 2))
CHANGED = "doc-01"  # add_library_version's document
# the library-wide files that list every document's versions (site/library.py) and MkDocs' own over every page
LIBRARY_WIDE = {"index.html", "versions.json", "atom.xml", "rss.xml", "feed.json"}
MKDOCS_WIDE = {"search/search_index.json", "sitemap.xml", "sitemap.xml.gz", "manifest.json"}

Seen = dict[str, tuple[int, int, str]]  # path → (mtime_ns, inode, sha256)


def _seen(root: Path) -> Seen:
    found: Seen = {}
    for top, _, names in os.walk(root):
        for name in names:
            path = os.path.join(top, name)
            info = os.stat(path)
            with open(path, "rb") as handle:
                sha = hashlib.sha256(handle.read()).hexdigest()
            found[os.path.relpath(path, root).replace(os.sep, "/")] = (info.st_mtime_ns, info.st_ino, sha)
    return found


def _touched(before: Seen, after: Seen) -> set[str]:
    return {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}


@pytest.fixture(scope="module")
def touched(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A library built twice (the back folder then holds the first build), one more version of doc-01, built
    again: what that build wrote into the folder it published and into the generated pages folder."""
    work = tmp_path_factory.mktemp("touch")
    repo = make_library_repo(work / "lib", shape=SHAPE)
    build(repo, EPOCH)
    build(repo, EPOCH)
    settings = load_settings(repo / "mkdocs.yml")
    back = Staging(settings.site_dir, settings.cache_dir).folder  # what the next build writes into
    assert back.is_dir()
    site_before, pages_before = _seen(back), _seen(settings.pages_dir)
    old_versions = {p.split("/")[2] for p in site_before if p.startswith(f"{CHANGED}/versions/") and p.count("/") == 3}
    add_library_version(repo)
    build(repo, EPOCH)
    site_after, pages_after = _seen(settings.site_dir), _seen(settings.pages_dir)
    warm = work / "warm"
    shutil.copytree(settings.site_dir, warm)
    shutil.rmtree(repo / ".cache")
    build(repo, EPOCH)
    assert_same_site(warm, settings.site_dir)
    new = {p.split("/")[2] for p in site_after if p.startswith(f"{CHANGED}/versions/") and p.count("/") == 3}
    assert len(new - old_versions) == 1
    return {"site": _touched(site_before, site_after), "pages": _touched(pages_before, pages_after),
            "new": (new - old_versions).pop(), "previous": max(old_versions, key=lambda v: float(v)),
            "old": old_versions, "languages": SHAPE.languages}


def _allowed(path: str, languages: tuple[str, ...], markdown: bool) -> bool:
    """Within the changed document, its translations, or the library-wide pages."""
    wide = {p.replace("index.html", "index.md") for p in LIBRARY_WIDE} if markdown else LIBRARY_WIDE | MKDOCS_WIDE
    translated = tuple(f"{language}/{CHANGED}/" for language in languages)
    library_pages = {f"{language}/index.{'md' if markdown else 'html'}" for language in languages}
    return path.startswith((f"{CHANGED}/", *translated)) or path in wide or path in library_pages


def test_only_the_changed_document_its_translations_and_the_library_pages_are_written(touched: dict) -> None:
    for kind, markdown in (("site", False), ("pages", True)):
        stray = sorted(p for p in touched[kind] if not _allowed(p, touched["languages"], markdown))
        assert not stray, f"{kind}: files outside the changed document were written: {stray}"


def test_what_shows_the_new_version_is_written(touched: dict) -> None:
    """From the page-type table: every whole-document page that lists versions, and the new version's pages."""
    site = touched["site"]
    listing = {t.at() + "index.html" for t in PAGE_TYPES if not t.per_version and t.key in
               ("current", "archive", "latest-changes", "compare")}
    new = {t.at(touched["new"]) + "index.html" for t in PAGE_TYPES if t.per_version}
    expected = {f"{CHANGED}/{p}" for p in listing | new} | LIBRARY_WIDE | MKDOCS_WIDE
    expected |= {f"{CHANGED}/{name}" for name in ("versions.json", "atom.xml", "rss.xml", "feed.json")}
    expected |= {f"{language}/{CHANGED}/{name}" for language in touched["languages"]
                 for name in ("index.html", "translation.json")}  # the translations' status pages
    assert expected <= site, sorted(expected - site)


def test_older_versions_and_other_pages_of_the_document_are_left_alone(touched: dict) -> None:
    """Published versions never change: only the one before the new one (now superseded) is written again."""
    site = touched["site"]
    for version in touched["old"] - {touched["previous"]}:
        for page_type in (t for t in PAGE_TYPES if t.per_version):
            assert f"{CHANGED}/{page_type.at(version)}index.html" not in site, (page_type.key, version)
    assert f"{CHANGED}/{VERSION.at(touched['previous'])}index.html" in site  # its status: superseded
    assert f"{CHANGED}/follow/index.html" not in site and "follow/index.html" not in site
    assert "404.html" not in site and not any(p.startswith("assets/") for p in site)
