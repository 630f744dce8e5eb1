"""A build is published whole or not at all (site/publish.py): `policy build` killed with SIGKILL (its whole process
group) at many points of a cold and of a warm build leaves site/ byte for byte as the previous build made it — or,
killed after the switch, as the new build made it, whole — and the next build equals a clean one. Two builds at once:
the second names the first. A build that fails writes nothing into site/."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from policy_site.bench.synthetic import add_version, make_repo
from tests.support.project import ROOT, killed_policy, run_policy
from tests.support.site import assert_same_site

pytestmark = pytest.mark.long

EPOCH = 1_700_000_000
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "scripts"), "SOURCE_DATE_EPOCH": str(EPOCH)}
FRACTIONS = (0.02, 0.08, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.72, 0.8, 0.87, 0.93, 0.97, 1.0, 1.05)


def snapshot(site: Path) -> dict[str, bytes] | None:
    """Every file of site/ (dotfiles too) and its bytes; None when there is no site/."""
    if not site.exists():
        return None
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def build(repo: Path) -> float:
    """A whole `policy build` (forked as run_policy's are: the kills below land in the build, not in Python's
    start-up); how long it took (to spread the kills over, never asserted)."""
    start = time.monotonic()
    result = run_policy(repo, "build", env={"SOURCE_DATE_EPOCH": str(EPOCH)})
    assert result.returncode == 0, result.stderr[-3000:]
    return time.monotonic() - start


def killed_build(repo: Path, after: float) -> bool:
    """`policy build` in its own process group, SIGKILLed as a whole after `after` seconds; True if it had ended."""
    return killed_policy(repo, "build", after=after, env={"SOURCE_DATE_EPOCH": str(EPOCH)})


def reference(repo: Path, work: Path) -> tuple[dict[str, bytes], float]:
    """What a whole build of repo's commit makes, built in a copy (caches and site/ as repo has them); how long that
    build took (a warm build's length when repo has its caches)."""
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(repo, work, symlinks=True)
    took = build(work)
    found = snapshot(work / "site")
    assert found is not None
    return found, took


def kill_everywhere(repo: Path, before: dict[str, bytes] | None, after: dict[str, bytes], duration: float,
                    cold: bool) -> set[str]:
    """Kill a build at each fraction of `duration`; site/ must be `before` or `after` each time. Which it was."""
    seen = set()
    for fraction in FRACTIONS:
        if cold:
            shutil.rmtree(repo / ".cache", ignore_errors=True)
        killed_build(repo, duration * fraction)
        now = snapshot(repo / "site")
        assert now in (before, after), f"killed at {fraction:.0%} of a build: site/ is neither the old build nor " \
                                       f"the new one ({len(now or {})} files)"
        seen.add("old" if now == before else "new")
        if now == after:
            before = after  # switched: from now on the previous build is the new one
    return seen


def test_a_killed_build_leaves_the_previous_site_whole(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", 24)
    # the very first build, killed early: no site/ at all, never half of one
    killed_build(repo, 0.5)
    first = snapshot(repo / "site")
    assert first is None or first == reference(repo, tmp_path / "first")[0]  # (a very fast machine: whole)
    shutil.rmtree(repo / "site", ignore_errors=True)
    duration = build(repo)
    (repo / "site" / ".well-known").mkdir()
    (repo / "site" / ".well-known" / "security.txt").write_text("kept across builds, as MkDocs keeps dotfiles")
    old = snapshot(repo / "site")

    # cold: the caches removed before every attempt
    add_version(repo)
    new, _ = reference(repo, tmp_path / "cold-reference")
    seen = kill_everywhere(repo, old, new, duration, cold=True)
    assert "old" in seen  # some kills landed before the switch (the build takes longer than the first fractions)
    build(repo)
    assert snapshot(repo / "site") == new

    # warm: the caches of the last build kept
    add_version(repo)
    newer, warm = reference(repo, tmp_path / "warm-reference")  # a warm build's length, to spread the kills over
    kill_everywhere(repo, new, newer, max(warm, 0.5), cold=False)
    build(repo)
    assert snapshot(repo / "site") == newer

    # nothing of the killed builds is left behind but the back folder, and the result equals a clean build
    staging = repo / ".cache" / "history" / "staging"
    assert [p.name.split("-")[1] for p in staging.iterdir()] == ["back"]
    assert not list(repo.glob(".site.*"))
    kept = tmp_path / "kept"
    shutil.copytree(repo / "site", kept)
    shutil.rmtree(kept / ".well-known")
    shutil.rmtree(repo / ".cache")
    shutil.rmtree(repo / "site")
    build(repo)
    assert_same_site(kept, repo / "site")


def test_a_second_build_names_the_first(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", 2)
    build(repo)
    before = snapshot(repo / "site")
    lock = repo / ".cache" / "history" / "build.lock"
    with open(lock, "a+") as held:  # a build in progress, as the kernel sees it
        fcntl.flock(held, fcntl.LOCK_EX)
        held.seek(0)
        held.truncate()
        held.write("4242\n")
        held.flush()
        add_version(repo)
        result = run_policy(repo, "build")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "another build is running (pid 4242)" in result.stderr
    assert snapshot(repo / "site") == before
    build(repo)  # the lock is free again
    assert (repo / "site" / "versions" / "3.0" / "index.html").is_file()


def test_a_failed_build_writes_nothing(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", 3)
    build(repo)
    before = snapshot(repo / "site")
    # a theme override that cannot render: MkDocs fails half-way through writing the pages
    override = repo / "templates" / "theme" / "main.html"
    override.write_text("{% extends 'base.html' %}{% block content %}{{ page.no_such_thing.nested }}{% endblock %}")
    result = run_policy(repo, "build", env={"SOURCE_DATE_EPOCH": str(EPOCH)})
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert snapshot(repo / "site") == before


def test_a_plain_mkdocs_build_is_staged_too(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", 3)
    build(repo)
    before = snapshot(repo / "site")
    mkdocs = [sys.executable, "-m", "mkdocs", "build"]
    # strict mode and a warning (from a hook): MkDocs fails after every file was written
    (repo / "warn.py").write_text("import logging\n\ndef on_page_content(html, page, config, files):\n"
                                  "    logging.getLogger('mkdocs.hooks').warning('a warning')\n    return html\n")
    config = repo / "mkdocs.yml"
    config.write_text(config.read_text() + "\nstrict: true\nhooks:\n  - warn.py\n")
    failed = subprocess.run(mkdocs, cwd=repo, env=ENV, capture_output=True, text=True)
    assert failed.returncode != 0
    assert snapshot(repo / "site") == before
    subprocess.run(["git", "checkout", "mkdocs.yml"], cwd=repo, check=True)
    add_version(repo)
    killed_build(repo, 0.1)  # (policy build) killed early: nothing changes
    assert snapshot(repo / "site") == before
    done = subprocess.run(mkdocs, cwd=repo, env=ENV, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (repo / "site" / "versions" / "4.0" / "index.html").is_file()
    assert not list((repo / ".cache" / "history" / "staging").glob("*building*"))


def test_the_switch_is_one_step_or_two_renames(tmp_path: Path, monkeypatch) -> None:
    """site/publish.py in-process: the exchange (renameat2 here) and the fallback where a system has none; the
    previous build becomes the back folder (or is removed, for a fresh folder), dotfiles are carried over."""
    from policy_site.site import publish
    for exchange, fresh in ((True, False), (False, False), (True, True)):
        root = tmp_path / f"exchange-{exchange}-{fresh}"
        site, cache = root / "site", root / ".cache"
        (site / "old").mkdir(parents=True)
        (site / "old" / "page.html").write_text("old page")
        (site / ".nojekyll").write_text("")
        if not exchange:
            monkeypatch.setattr(publish, "_exchange", lambda a, b: False)
        staging = publish.Staging(site, cache, fresh=fresh)
        folder = staging.begin()
        assert folder.parent == cache / publish.STAGING and (folder / ".nojekyll").is_file()
        (folder / "new.html").write_text("new page")
        assert snapshot(site) == {".nojekyll": b"", "old/page.html": b"old page"}
        staging.publish()
        assert snapshot(site) == {".nojekyll": b"", "new.html": b"new page"}
        assert snapshot(folder) == (None if fresh else {".nojekyll": b"", "old/page.html": b"old page"})
        monkeypatch.undo()
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    if publish._exchange(str(a), str(b)):  # Linux and macOS: the two folders swapped whole
        assert (b / "x").read_text() == "a" and not (a / "x").exists()


def test_a_mounted_site_folder_is_switched_entry_by_entry(tmp_path: Path) -> None:
    from tests.support.failure import tmpfs
    repo = make_repo(tmp_path / "repo", 3)
    build(repo)
    expected = snapshot(repo / "site")
    with tmpfs(tmp_path / "mounted", "64m") as mounted:
        (mounted / "stray.html").write_text("not made by a build")
        (mounted / ".well-known").mkdir()
        (mounted / ".well-known" / "security.txt").write_text("kept")
        for _ in range(2):
            result = run_policy(repo, "build", "--site-dir", str(mounted), env={"SOURCE_DATE_EPOCH": str(EPOCH)})
            assert result.returncode == 0, result.stderr
            assert "is a mount point" in result.stderr
            assert snapshot(mounted) == {**expected, ".well-known/security.txt": b"kept"}
        assert [p.name for p in mounted.iterdir() if p.name.startswith(".policy-")] == []
