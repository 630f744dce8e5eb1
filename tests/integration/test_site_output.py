"""`policy build` over the previous build's site folder (site/mkdocs/site_output.py): unchanged files stay in place,
whatever the build does not make is removed, and the folder equals the one a clean build makes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from policy_site.bench.synthetic import add_version, make_repo
from policy_site.site.mkdocs.site_output import BACK_RECORD, RECORD
from tests.support.project import run_policy
from tests.support.site import assert_same_site, build

EPOCH = 1_700_000_000


def stat(path: Path) -> tuple[int, int]:
    found = path.stat()
    return found.st_ino, found.st_mtime_ns


def test_unchanged_files_stay_and_the_folder_equals_a_clean_build(tmp_path: Path) -> None:
    """Double buffering (site/publish.py): each build writes the folder the build before the last published, so a
    file is left in place when it is what that build wrote there; hand edits to it are undone."""
    repo = make_repo(tmp_path / "repo", 8)
    site = repo / "site"
    build(repo, EPOCH)
    record = repo / ".cache/history" / RECORD
    assert record.is_file()
    # a page written in the last few clock ticks before the record is written again by a later build (the racy
    # rule): two more builds copy every page from the cache early on, so that the fourth can keep them all
    build(repo, EPOCH)
    build(repo, EPOCH)
    asset = next(site.glob("assets/javascripts/bundle.*.min.js"))
    old_page, feed = site / "versions/2.0/index.html", site / "versions/2.0/policy.json"
    before = {path: stat(path) for path in (asset, old_page, feed)}
    # things a clean build would not leave: a stray file and folder, a page edited by hand, a deleted page
    (site / "stray.html").write_text("stray")
    (site / "old/deep").mkdir(parents=True)
    (site / "old/deep/file.txt").write_text("stray")
    edited = site / "versions/3.0/index.html"
    edited.write_text("edited by hand")
    deleted = site / "changes/4.0/index.html"
    deleted.unlink()
    (site / ".well-known").mkdir()
    (site / ".well-known/security.txt").write_text("kept, as MkDocs' cleaning keeps dotfiles")
    add_version(repo)
    build(repo, EPOCH)  # into the other folder: this one is now the back folder
    assert (site / ".well-known/security.txt").is_file() and not (site / "stray.html").exists()
    log = build(repo, EPOCH)  # into this one again
    assert "dirty" not in log.lower(), log[-2000:]  # MkDocs' warning about dirty builds does not apply here
    assert {path: stat(path) for path in before} == before, "unchanged files were written again"
    assert not (site / "stray.html").exists() and not (site / "old").exists()
    assert "edited by hand" not in edited.read_text() and deleted.is_file()
    assert (site / "versions/9.0/index.html").is_file()
    shutil.copytree(site, tmp_path / "kept")
    shutil.rmtree(tmp_path / "kept/.well-known")
    shutil.rmtree(repo / ".cache")
    shutil.rmtree(site)
    build(repo, EPOCH)
    assert_same_site(tmp_path / "kept", site)


def test_without_a_usable_record_the_build_is_a_clean_one(tmp_path: Path) -> None:
    """The back folder without a usable record (a killed build, another version of this code, a record that names
    another folder) is written whole, and what else it holds is not published."""
    repo = make_repo(tmp_path / "repo", 3)
    site = repo / "site"
    build(repo, EPOCH)
    build(repo, EPOCH)
    back = next((repo / ".cache/history/staging").glob("site-back-*"))
    record = repo / ".cache/history" / BACK_RECORD
    data = json.loads(record.read_text())
    assert data["site_dir"] == str(back)
    for damage in ("not json", json.dumps({**data, "site_dir": str(tmp_path / "elsewhere")}),
                   json.dumps({**data, "format": "something else"})):
        (back / "stray.html").write_text("stray")
        record.write_text(damage)
        asset = next(back.glob("assets/javascripts/bundle.*.min.js"))
        before = stat(asset)
        build(repo, EPOCH)  # back → site
        assert not (site / "stray.html").exists()
        assert stat(next(site.glob("assets/javascripts/bundle.*.min.js"))) != before, "a file was kept"
        assert json.loads((repo / ".cache/history" / RECORD).read_text())["site_dir"] == str(site)
        build(repo, EPOCH)  # and back again, so that `back` is the back folder once more
    # a file replaced by a folder of the same name (and a folder by a file) is handled by a clean build
    page = back / "versions/2.0/index.html"
    page.unlink()
    page.mkdir()
    (page / "x").write_text("in the way")
    build(repo, EPOCH)
    assert (site / "versions/2.0/index.html").is_file()


def test_a_site_folder_elsewhere_gets_its_own_record(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", 3)
    build(repo, EPOCH)
    other = tmp_path / "out"
    run_policy(repo, "build", "--site-dir", str(other), check=True, env={"SOURCE_DATE_EPOCH": str(EPOCH)})
    assert_same_site(other, repo / "site")
    assert json.loads((repo / ".cache/history" / RECORD).read_text())["site_dir"] == str(other)
    (repo / "site/stray.html").write_text("stray")
    build(repo, EPOCH)  # the record names the other folder: a clean build
    assert not (repo / "site/stray.html").exists()
