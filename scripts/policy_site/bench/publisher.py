"""`make bench`, the publisher-sized library of issue 25: 60 documents × 50 versions of ~40 sections, the 15 first
documents in 10 languages (library.publisher), measured in one run beside a plain `mkdocs build` of the same pages.

Figures: the cold build (caches and site/ removed) against plain MkDocs; warm rebuilds after one new version of one
document, after one edit of one translation and after one edit of one page template (follow.md.j2), each beside a
one-version build, in wall and CPU seconds; the peak RSS of every build; `policy serve` edit-to-reload on a
document's page; `policy check`; and the curve: the warm rebuild after one new version at 10, 30 and 60 documents.
Targets: cold ≤ 1.0× plain MkDocs, every warm rebuild ≤ 2× a one-version build (wall and CPU), RSS ≤ 300 MB,
reload ≤ 1 s, check ≤ 2 s. The size is a parameter (`--publisher 60x50`); the row says what was run.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from .library import LIBRARY_NAV, _doc, add_library_version, make_library_repo, publisher
from .serve import edit_section, edit_to_reload
from .sites import Run, best_run, plain_mkdocs, timed

TEMPLATE = "templates/pages/follow.md.j2"


def _commit(repo: Path, message: str) -> None:
    env = {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x", "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@x"}
    subprocess.run(["git", "commit", "-qam", message], cwd=repo, check=True, env={**os.environ, **env})


def edit_translation(repo: Path, n: int = 0) -> None:
    """Rewrite the first paragraph of one section of doc-01's German translation, committed."""
    folder = repo / "policy" / _doc(1) / "translations" / "de" / "sections"
    path = sorted(folder.glob("*.yaml"))[0]
    section = yaml.safe_load(path.read_text(encoding="utf-8"))
    section["body"][0] = f"Ein neu übersetzter Absatz, Fassung {n}."
    path.write_text(yaml.safe_dump(section, sort_keys=False, allow_unicode=True), encoding="utf-8")
    _commit(repo, "Translation edited")


def edit_template(repo: Path, n: int = 0) -> None:
    """One visible edit of a page template (the follow pages), committed."""
    path = repo / TEMPLATE
    path.write_text(path.read_text().replace("— for feed readers", f"— for feed readers ({n})", 1)
                    .replace(f"— for feed readers ({n - 1})", f"— for feed readers ({n})", 1))
    _commit(repo, "Template edited")


def _build(repo: Path) -> Run:
    return timed([sys.executable, "-m", "policy_site", "build"], repo)


def _cold(repo: Path) -> Run:
    shutil.rmtree(repo / ".cache", ignore_errors=True)
    shutil.rmtree(repo / "site", ignore_errors=True)
    return _build(repo)


def _ratio(run: Run, one: Run) -> dict:
    return {"s": round(run.wall, 2), "cpu_s": round(run.cpu, 2), "over_1v": round(run.wall / one.wall, 2),
            "over_1v_cpu": round(run.cpu / one.cpu, 2), "rss_mb": round(run.rss_kib / 1024, 1)}


def warm_after_version(work: Path, documents: int, versions: int, one_version_build: Callable[[], Run]) -> dict:
    """A library of `documents` built cold, then one more version of one document: the warm rebuild (best of 2)."""
    repo = make_library_repo(work / f"curve-{documents}", shape=publisher(documents, versions))
    _cold(repo)
    runs, ones = [], []
    for _ in range(2):
        add_library_version(repo)
        runs.append(_build(repo))
        ones.append(one_version_build())
    row = {"documents": documents, **_ratio(best_run(runs), best_run(ones))}
    shutil.rmtree(repo, ignore_errors=True)
    return row


def measure_publisher(work: Path, one_version_build: Callable[[], Run], documents: int = 60, versions: int = 50,
                      curve: tuple[int, ...] = (10, 30), serve: bool = True, progress: bool = True) -> dict:
    """Every figure of the publisher-sized library (module docstring); `progress`: each printed as it is measured
    (a full run takes most of an hour on a busy 2-core machine)."""
    shape = publisher(documents, versions)
    start = time.perf_counter()
    repo = make_library_repo(work / "publisher", shape=shape)
    made = time.perf_counter() - start
    def say(text: str) -> None:
        if progress:
            print(text)

    say(f"publisher library: {documents} × {versions} written in {made:.1f} s")
    d = [_cold(repo)]
    pages = sum(1 for _ in (repo / ".cache/pages").rglob("*.md"))
    plain = plain_mkdocs(repo, work, LIBRARY_NAV)
    c = [plain()]
    d.append(_cold(repo))  # interleaved, the best of each kept; leaves the caches warm
    c.append(plain())
    cold, mkdocs = best_run(d), best_run(c)
    say(f"  cold {cold.wall:.1f} s ({cold.cpu:.1f} s CPU, {cold.rss_kib / 1024:.0f} MB), plain mkdocs "
        f"{mkdocs.wall:.1f} s ({mkdocs.cpu:.1f} s CPU)")
    warm: dict[str, dict] = {}
    changes: list[tuple[str, Callable[[Path, int], None]]] = [
        ("version", lambda r, n: add_library_version(r)), ("translation", edit_translation),
        ("template", edit_template)]
    for name, change in changes:
        runs, ones = [], []
        for n in range(2):
            change(repo, n + 1)
            runs.append(_build(repo))
            ones.append(one_version_build())
        warm[name] = _ratio(best_run(runs), best_run(ones))
        say(f"  warm after one {name} change: {warm[name]}")
    check = best_run([timed([sys.executable, "-m", "policy_site", "check"], repo) for _ in range(2)])
    row: dict = {"documents": documents, "versions_each": versions, "sections": shape.sections,
                 "languages": 1 + len(shape.languages), "translated_documents": shape.translated, "pages": pages,
                 "generate_repo_s": round(made, 1), "cold_s": round(cold.wall, 1), "cold_cpu_s": round(cold.cpu, 1),
                 "plain_mkdocs_s": round(mkdocs.wall, 1), "plain_mkdocs_cpu_s": round(mkdocs.cpu, 1),
                 "cold_over_mkdocs": round(cold.wall / mkdocs.wall, 2),
                 "cold_over_mkdocs_cpu": round(cold.cpu / mkdocs.cpu, 2), "warm": warm,
                 "check_s": round(check.wall, 2),
                 "peak_rss_mb": round(max(cold.rss_kib, *(w["rss_mb"] * 1024 for w in warm.values())) / 1024, 1)}
    if serve:
        reloads = edit_to_reload(repo, edits=3, edit=lambda r, n: edit_section(r, n, f"policy/{_doc(1)}"),
                                 page=f"{_doc(1)}/", start_timeout=1800)
        row["reload_s"] = [round(t, 2) for t in reloads]
        row["reload_median_s"] = round(statistics.median(reloads), 2)
    say(f"  check {check.wall:.2f} s, reload {row.get('reload_s')}")
    row["curve"] = []
    for n in (n for n in curve if n < documents):
        row["curve"].append(warm_after_version(work, n, versions, one_version_build))
        say(f"  curve: {row['curve'][-1]}")
    row["curve"].append({"documents": documents, **warm["version"]})
    return row


def lines(row: dict) -> list[str]:
    """The rows, with the targets met or not."""
    def said(ok: bool) -> str:
        return "met" if ok else "NOT met"

    out = [f"publisher library: {row['documents']} documents × {row['versions_each']} versions × {row['sections']} "
           f"sections, {row['languages']} languages for {row['translated_documents']} documents, {row['pages']} "
           f"pages (repository written in {row['generate_repo_s']} s)",
           f"  cold build {row['cold_s']} s ({row['cold_cpu_s']} s CPU), plain mkdocs {row['plain_mkdocs_s']} s "
           f"({row['plain_mkdocs_cpu_s']} s CPU): {row['cold_over_mkdocs']}× ({row['cold_over_mkdocs_cpu']}× CPU) — "
           f"≤ 1.0× {said(row['cold_over_mkdocs'] <= 1.0)} (CPU: {said(row['cold_over_mkdocs_cpu'] <= 1.0)})"]
    for name, w in row["warm"].items():
        out.append(f"  warm after one {name} change: {w['s']} s ({w['cpu_s']} s CPU) = {w['over_1v']}× a one-version "
                   f"build ({w['over_1v_cpu']}× CPU) — ≤ 2× {said(w['over_1v'] <= 2)} "
                   f"(CPU: {said(w['over_1v_cpu'] <= 2)}); RSS {w['rss_mb']} MB")
    out.append(f"  peak RSS {row['peak_rss_mb']} MB — ≤ 300 MB {said(row['peak_rss_mb'] <= 300)}; policy check "
               f"{row['check_s']} s — ≤ 2 s {said(row['check_s'] <= 2)}")
    if "reload_median_s" in row:
        out.append(f"  serve edit-to-reload median {row['reload_median_s']} s {row['reload_s']} — ≤ 1 s "
                   f"{said(row['reload_median_s'] <= 1)}")
    out.append("  warm rebuild after one new version by library size: " + ", ".join(
        f"{p['documents']} documents {p['s']} s = {p['over_1v']}× ({p['over_1v_cpu']}× CPU)" for p in row["curve"]))
    return out
