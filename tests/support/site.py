"""Helpers of the build tests: `policy build` with a fixed build time, a site's files, a site compared with a cold
build byte for byte, the page cache's entries, and the warm-then-cold scenario."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

from policy_site.bench.synthetic import add_version
from tests.support.project import run_policy


def build(repo: Path, epoch: int) -> str:
    """`policy build -v` with a fixed build time; its stderr."""
    result = run_policy(repo, "build", "-v", env={"SOURCE_DATE_EPOCH": str(epoch)})
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr[-3000:]
    return result.stderr


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def readable_files(site: Path) -> list[tuple[Path, bytes]]:
    """Every file of a built site as a reader's tools read it: a Word file's document XML (its zip is compressed),
    other files as they are; PDFs and timestamp tokens (compressed or DER) are left out."""
    found: list[tuple[Path, bytes]] = []
    for path in sorted(site.rglob("*")):
        if path.suffix == ".docx":
            with zipfile.ZipFile(path) as package:
                found.append((path, package.read("word/document.xml")))
        elif path.is_file() and path.suffix not in (".pdf", ".tsr"):
            found.append((path, path.read_bytes()))
    return found


def assert_same_site(built: Path, cold: Path) -> None:
    a, b = tree(built), tree(cold)
    assert a.keys() == b.keys(), (sorted(a.keys() - b.keys())[:10], sorted(b.keys() - a.keys())[:10])
    differ = [name for name in a if a[name] != b[name]]
    assert not differ, f"{len(differ)} files differ from a cold build: {differ[:10]}"


def cached_pages(repo: Path) -> dict[str, str]:
    """Cache entry → the page it holds."""
    return {p.stem: json.loads(p.read_bytes())["page"] for p in (repo / ".cache/html").glob("*.json")
            if not p.name.startswith(("manifest-", "digests-"))}


def warm_then_cold(repo: Path, epoch: int, tmp_path: Path, built: bool = False) -> tuple[str, set[str]]:
    """Cold build (built=True: repo holds one already, with its caches), one new version, warm build (kept), cold
    build of that commit: both sites must be equal. Returns the warm build's stderr and the pages it rendered and
    stored."""
    if not built:
        build(repo, epoch)
    before = cached_pages(repo)
    add_version(repo)
    warm_log = build(repo, epoch)
    rendered = {page for key, page in cached_pages(repo).items() if key not in before}
    shutil.copytree(repo / "site", tmp_path / "warm")
    shutil.rmtree(repo / ".cache")
    build(repo, epoch)
    assert_same_site(tmp_path / "warm", repo / "site")
    return warm_log, rendered
