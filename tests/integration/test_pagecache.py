"""The page cache (site/pagecache.py, site/mkdocs/page_cache.py): a build from the cache is byte-identical to a cold
build, a new version renders only the pages that change, and a damaged, foreign or unwritable cache costs time,
never the build."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pytest

from policy_site.bench.synthetic import make_repo
from policy_site.site.page_types import DRAFT, PAGE_TYPES
from tests.support.failure import fill, set_option, tmpfs
from tests.support.project import Project, run_policy
from tests.support.site import assert_same_site, build, warm_then_cold

NAV_PAGES = {t.at() + "index.md" for t in PAGE_TYPES if t.title and t is not DRAFT}  # a build: no draft page


def test_a_new_version_renders_only_its_pages_and_the_build_equals_a_cold_one(tmp_path: Path) -> None:
    """`policy build` end to end: generated files reused (site/gencache.py) and pages from the page cache, the
    same bytes as a cold build (this scenario also stands for test_gencache's former end-to-end build)."""
    repo = make_repo(tmp_path / "repo", 12)
    log, rendered = warm_then_cold(repo, 1_700_000_000, tmp_path)
    found = re.search(r"generated files: (\d+) reused, (\d+) rendered", log)
    assert found and int(found[1]) > int(found[2]) > 0, log[-2000:]
    # the new version's two pages, the previous version's page (no longer in force) and the nav pages that list
    # versions; every other page, the follow page included, comes from the cache
    changed = {"versions/13.0/index.md", "changes/13.0/index.md", "versions/12.0/index.md"}
    assert rendered == changed | (NAV_PAGES - {"follow/index.md"}), rendered
    total = 2 * 13 + len(NAV_PAGES)
    assert f"page cache: {total - len(rendered)} pages from {repo / '.cache/html'}, {len(rendered)} rendered" \
        in log, log[-2000:]
    site = repo / "site"
    search = json.loads((site / "search/search_index.json").read_text())
    assert any(d["location"].startswith("changes/2.0/") for d in search["docs"]), "a cached page left the index"
    sitemap = (site / "sitemap.xml").read_text()
    assert all(f"/versions/{n}.0/</loc>" in sitemap and f"/changes/{n}.0/</loc>" in sitemap for n in range(1, 14))


def test_the_demo_from_the_cache_equals_a_cold_build(demo_site: Path, tmp_path: Path) -> None:
    """Amendments, an upcoming version, renames, moves, removed sections: the same bytes from the cache. (The
    session's `policy demo` — create_demo and a cold build, tests/support/browser.py — copied with its caches.)"""
    repo = tmp_path / "demo"
    shutil.copytree(demo_site.parent, repo, symlinks=True)
    assert (repo / ".cache/html").is_dir()
    warm_then_cold(repo, int(time.time()), tmp_path, built=True)


@pytest.fixture(scope="module")
def built_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4-version repository after one cold build, for this module (its site also kept in ../cold)."""
    repo = make_repo(tmp_path_factory.mktemp("pagecache") / "repo", 4)
    build(repo, 1_700_000_000)
    shutil.copytree(repo / "site", repo.parent / "cold")
    return repo


@pytest.fixture
def built(built_once: Path, tmp_path: Path) -> Path:
    """A copy of built_once (its caches too), the cold build's site in tmp_path/cold."""
    repo = tmp_path / "repo"
    shutil.copytree(built_once, repo, symlinks=True)
    shutil.copytree(built_once.parent / "cold", tmp_path / "cold")
    return repo


def test_a_rebuild_with_nothing_new_renders_nothing(built: Path, tmp_path: Path) -> None:
    log = build(built, 1_700_000_000)
    assert f"page cache: {2 * 4 + len(NAV_PAGES)} pages from {built / '.cache/html'}, 0 rendered" in log, log[-2000:]
    assert_same_site(built / "site", tmp_path / "cold")


def test_damaged_or_foreign_entries_are_rendered_again_with_a_note(built: Path, tmp_path: Path) -> None:
    cache = built / ".cache/html"
    entries = sorted(p.stem for p in cache.glob("*.json") if not p.name.startswith(("manifest-", "digests-")))
    truncated, garbage, foreign, planted = entries[:4]
    (cache / f"{truncated}.html").write_bytes((cache / f"{truncated}.html").read_bytes()[:100])
    (cache / f"{garbage}.json").write_bytes(b"\x80not json{")
    header = json.loads((cache / f"{foreign}.json").read_bytes())
    header["key"] = entries[5]  # another entry's header: a foreign file
    (cache / f"{foreign}.json").write_text(json.dumps(header))
    (cache / f"{planted}.html").write_bytes(b"\x80\x04\x95cos\nsystem\n(S'touch /tmp/pwned'\ntR.")  # a pickle
    # with site/ as the last build left it, a kept page's HTML is not even read (tests/integration/test_site_output.py); without
    # it, every page comes from the cache, and each entry is checked
    shutil.rmtree(built / "site")
    result = run_policy(built, "build", env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "policy: note: 4 page cache entries were unusable (damaged or foreign)" in result.stderr, result.stderr
    assert_same_site(built / "site", tmp_path / "cold")
    for key in (truncated, garbage, foreign, planted):  # rewritten whole
        assert json.loads((cache / f"{key}.json").read_bytes())["key"] == key
    again = run_policy(built, "build", env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert "unusable" not in again.stderr


def test_a_page_cache_that_cannot_be_written_costs_time_not_the_build(git_project: Project, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "html", "64k") as cache:
        fill(cache)
        set_option(git_project, "page_cache_dir", cache)
        result = git_project.run("build")
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
        notes = [line for line in result.stderr.splitlines() if "page cache was not saved" in line]
        assert len(notes) == 1 and "No space left on device" in notes[0], result.stderr
        assert (git_project.path / "site/versions/1.0/index.html").is_file()


def test_a_page_cache_inside_the_site_is_refused(git_project: Project) -> None:
    set_option(git_project, "page_cache_dir", git_project.path / "site/cache")
    result = git_project.run("build")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "page_cache_dir" in result.stderr and "is inside site_dir" in result.stderr, result.stderr


def test_another_plugin_turns_the_cache_off(git_project: Project) -> None:
    """A hook could read every page: nothing is skipped, nothing is cached, the site is complete."""
    (git_project.path / "hooks.py").write_text("def on_page_markdown(markdown, **kwargs):\n    return markdown\n")
    config = git_project.path / "mkdocs.yml"
    config.write_text(config.read_text() + "\nhooks:\n  - hooks.py\n")
    for _ in range(2):
        git_project.run("build", check=True)
    assert not (git_project.path / ".cache/html").exists()
    assert (git_project.path / "site/versions/1.0/index.html").is_file()


def test_headers_read_ahead_are_checked_like_those_read_then(tmp_path: Path) -> None:
    """`policy build` reads the headers of the last build's entries while its second process generates."""
    from policy_site.site.pagecache import Entry, PageStore, prefetch
    folder = tmp_path / "html"
    store = PageStore(folder)
    keys = [f"{n:064x}" for n in range(3)]
    for n, key in enumerate(keys):
        store.put(Entry(key, f"p{n}/index.md", b"<p>%d</p>" % n, [{"location": f"p{n}/"}]))
    store.finish(set(keys))
    (folder / f"{keys[1]}.json").write_bytes(b"\x80not json{")
    prefetch(folder)
    for key in keys:
        (folder / f"{key}.json").unlink()  # from now on, only what was read ahead
    again = PageStore(folder)
    first = again.get(keys[0], "p0/index.md", html=False)
    assert first is not None and first.search == [{"location": "p0/"}]
    assert again.get(keys[1], "p1/index.md", html=False) is None and again.unusable == 1  # damaged, as on disk
    assert again.get(keys[2], "p9/index.md", html=False) is None  # another page's entry: foreign, as on disk
    assert again.get(keys[0], "p0/index.md", html=False) is None  # used once: then it is read from disk (gone)
    assert PageStore(folder).get(keys[2], "p2/index.md", html=False) is None  # taken by the first store only


def test_an_entry_read_again_is_trusted_only_while_its_file_is_unchanged(tmp_path: Path) -> None:
    """A build holds no cached page's HTML until MkDocs writes it (site/mkdocs/cached_files.py): it is read again
    then, without its checksum while the file keeps the stat it had when checked, else checked again."""
    import os

    from policy_site.site.pagecache import Entry, PageStore
    folder = tmp_path / "html"
    store = PageStore(folder)
    key = "a" * 64
    store.put(Entry(key, "p/index.md", b"<p>cached</p>", []))
    store.finish({key})
    entry = PageStore(folder).get(key, "p/index.md")
    assert entry is not None and entry.file is not None
    assert store.html_again(entry) == b"<p>cached</p>"
    entry.file.write_bytes(b"<p>CACHED</p>")  # the same size, another stat: checked again, and refused
    os.utime(entry.file, ns=(1, 1))
    assert store.html_again(entry) is None


@pytest.mark.parametrize("site_url", ["https://example.org/", "https://example.org/policies", "http://x",
                                      "https://example.org/a b/ü/", "https://example.org/?q=1", None])
def test_a_listed_page_has_the_urls_mkdocs_gives_a_page(site_url: str | None) -> None:
    """The sitemap's pages of a warm build (site/page_cache.ListedPage) join their URLs without urllib when
    they can: always what MkDocs' Page gives."""
    from mkdocs.structure.files import File
    from mkdocs.structure.pages import Page

    from policy_site.site.mkdocs.listed import ListedPage
    config = {"site_url": site_url, "repo_url": None, "edit_uri": None, "edit_uri_template": None}
    for source in ("index.md", "doc-01/versions/1.0/index.md", "de/doc-01/index.md", "a b/ü/index.md",
                   "x/.hidden/index.md", "odd..name/index.md", "-dash/_under/~tilde/index.md"):
        for directory_urls in (True, False):
            page = Page(None, File(source, "/docs", "/site", directory_urls), config)  # type: ignore[arg-type]
            listed = ListedPage(None, File(source, "/docs", "/site", directory_urls), config)  # type: ignore[arg-type]
            assert (listed.canonical_url, listed.abs_url) == (page.canonical_url, page.abs_url), source
