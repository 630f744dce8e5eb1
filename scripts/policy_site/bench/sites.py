"""`make bench`: synthetic policy histories (bench/synthetic.py: 1/10/100/300 versions of a ~40-section policy),
timed side by side.

(a) git log -p --first-parent -- policy/         (b) our history + diff phase, cold and warm parse cache
(c) plain mkdocs build of the same Markdown pages (d) our full build, the project's caches and site/ removed
(d0) the same with the user's compiled templates removed too (site/compiled.py): the first build after installing
(e) rebuild after one more commit, warm caches   reload: edit-to-reload under serve (median of 5)
peak RSS of our builds; size and load time of the parse cache; size of the page cache.
The builds run with XDG_CACHE_HOME in the benchmark's own folder, never the user's. Targets: d ≤ 1.3×c at every
size, e ≤ 2× the cold build of a one-version repository, reload ≤ 1 s at 300
versions, RSS ≤ 300 MB; the same for a library of 10 documents × 60 versions × 2 languages (library.py); the
publisher-sized library of 60 documents × 50 versions in 10 languages: publisher.py. Runs that are compared
are interleaved and the best of each kept (d, c, d0: 2; e and the
one-version build beside it: 3). measure_repo(repo, ...) takes any prepared repository (the hook for other
histories).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import yaml

from .report import HEADER, line, verdicts
from .serve import edit_section, edit_to_reload
from .synthetic import ROOT, add_version, make_repo


class Run(NamedTuple):
    wall: float  # seconds
    cpu: float  # user + system seconds of the child: what a busy shared machine changes least
    rss_kib: int  # peak resident set


def timed(cmd: list[str], cwd: Path, stdout=subprocess.DEVNULL) -> Run:
    """Wall and CPU seconds and peak RSS of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=stdout, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "scripts")})
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    err = proc.stderr.read() if proc.stderr else b""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {err.decode(errors='replace')[-2000:]}")
    return Run(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)


def best(runs: int, fn) -> float:
    return min(fn() for _ in range(runs))


def best_run(runs: list[Run]) -> Run:
    """The least wall time, the least CPU time and the highest peak RSS of several runs of one thing."""
    return Run(min(r.wall for r in runs), min(r.cpu for r in runs), max(r.rss_kib for r in runs))


PHASE = """
import sys, time, tempfile
t0 = time.perf_counter()
from pathlib import Path
from policy_site.history.versions import read_history
from policy_site.site.mkdocs.plugin import load_settings
from policy_site.site.model import build_model
t1 = time.perf_counter()
settings = load_settings(Path('mkdocs.yml'))
cache = Path(tempfile.mkdtemp())
times = []
for _ in range(2):  # cold cache, then warm cache
    t = time.perf_counter()
    history = read_history(settings.policy_dir, cache_dir=cache)
    build_model(settings, history)
    history.save_cache()
    times.append(time.perf_counter() - t)
print(t1 - t0, *times)
"""


CACHE_LOAD = """
import time
from pathlib import Path
from policy_site.history.cache import ParseCache
from policy_site.site import model  # the diff classes, as in a build
t = time.perf_counter()
cache = ParseCache(Path('.cache/history'))
assert cache.entries, 'the parse cache did not load'
print(time.perf_counter() - t)
"""


def cache_figures(repo: Path) -> tuple[float, float]:
    """Size (MB) of the parse cache a build left, and the best of three loads (s), each in a fresh process."""
    size = sum(f.stat().st_size for f in (repo / ".cache/history").iterdir() if f.is_file()) / 1e6
    loads = [float(subprocess.run([sys.executable, "-c", CACHE_LOAD], cwd=repo, capture_output=True, text=True,
                                  check=True, env={**os.environ, "PYTHONPATH": str(ROOT / "scripts")}).stdout)
             for _ in range(3)]
    return size, min(loads)


SINGLE_NAV = [("Current policy", "index.md"), ("All versions", "versions/index.md"),
              ("Latest changes", "changes/index.md"), ("Compare versions", "compare/index.md"),
              ("Follow changes", "follow/index.md")]


def plain_mkdocs(repo: Path, work: Path, nav: list[tuple[str, str]] = SINGLE_NAV) -> Callable[[], Run]:
    """(c) plain MkDocs over the very pages our build generated, without our plugin: the same theme override,
    Markdown extensions and nav (the nav our plugin gives, read from which pages exist). Returns one run of it."""
    plain = work / f"plain-{repo.name}"
    shutil.rmtree(plain, ignore_errors=True)
    shutil.copytree(repo / ".cache/pages", plain / "docs")
    config = yaml.safe_load((repo / "mkdocs.yml").read_text())
    config["plugins"] = ["search"]
    config["docs_dir"] = "docs"
    config["theme"]["custom_dir"] = str(repo / "templates/theme")
    config["nav"] = [{title: page} for title, page in nav if (plain / "docs" / page).is_file()]
    config["not_in_nav"] = "/*/**/index.md\n"  # every other page: versions, changes, documents, translations
    (plain / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    command = [sys.executable, "-m", "mkdocs", "build", "-q", "-d", str(plain / "site")]
    return lambda: timed(command, plain)


def measure_repo(repo: Path, work: Path, label: str, one_version_build: Callable[[], Run],
                 add: Callable[[Path], None] = add_version, edit: Callable[[Path, int], str] = edit_section,
                 serve: bool = True, nav: list[tuple[str, str]] = SINGLE_NAV, phases: bool = True) -> dict:
    """Every figure for one prepared repository: the hook for other histories (a library of documents, several
    languages) — pass a git repository with mkdocs.yml, policy/ and templates/ committed and not built yet, how to
    add one more version (`add`), how to edit the working tree (`edit`, for the serve figure), the nav our plugin
    gives it (for plain MkDocs), and whether to time the single-document history phase (b)."""
    py = sys.executable
    a = best(3, lambda: timed(["git", "log", "-p", "--first-parent", "--", "policy/"], repo).wall)
    runs = []
    for _ in range(3 if phases else 0):
        out = subprocess.run([py, "-c", PHASE], cwd=repo, capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT / "scripts")})
        runs.append([float(x) for x in out.stdout.split()])
    imports, b, b_warm = (min(p[i] for p in runs) for i in range(3)) if runs else (0.0, 0.0, 0.0)

    def full_build(nothing_cached: bool = False) -> Run:
        shutil.rmtree(repo / ".cache", ignore_errors=True)
        shutil.rmtree(repo / "site", ignore_errors=True)
        if nothing_cached:  # the user's compiled templates too (main() put XDG_CACHE_HOME in the bench's folder)
            shutil.rmtree(Path(os.environ["XDG_CACHE_HOME"]) / "policy-site", ignore_errors=True)
        return timed([py, "-m", "policy_site", "build"], repo)

    # Runs to be compared are interleaved (d, c, d, c; e, 1v, e, 1v, ...) and the best of each kept: the load of a
    # shared machine changes from minute to minute.
    d_runs = [full_build()]
    pages = sum(1 for _ in (repo / ".cache/pages").rglob("*.md"))
    plain = plain_mkdocs(repo, work, nav)
    c_runs = [plain()]
    d0_runs = [full_build(nothing_cached=True)]
    d_runs.append(full_build())
    c_runs.append(plain())
    d0_runs.append(full_build(nothing_cached=True))
    d_runs.append(full_build())  # the last leaves the caches warm for (e)
    d, c, d0 = best_run(d_runs), best_run(c_runs), best_run(d0_runs)
    cache_mb, cache_load = cache_figures(repo)
    html_mb = sum(f.stat().st_size for f in (repo / ".cache/html").iterdir()) / 1e6
    e_runs, one_runs = [], []
    for _ in range(3):  # each after one more version
        add(repo)
        e_runs.append(timed([py, "-m", "policy_site", "build"], repo))
        one_runs.append(one_version_build())
    e, one = best_run(e_runs), best_run(one_runs)
    row = {"label": label, "pages": pages, "a_git_log_s": round(a, 3), "b_history_diff_s": round(b, 3),
           "b_warm_s": round(b_warm, 3), "b_warm_over_a": round(b_warm / a, 2), "imports_s": round(imports, 3),
           "c_plain_mkdocs_s": round(c.wall, 3), "d_our_build_s": round(d.wall, 3),
           "d0_nothing_cached_s": round(d0.wall, 3), "d0_over_c": round(d0.wall / c.wall, 2),
           "d0_over_c_cpu": round(d0.cpu / c.cpu, 2),
           "e_warm_rebuild_s": round(e.wall, 3),
           "c_cpu_s": round(c.cpu, 3), "d_cpu_s": round(d.cpu, 3), "e_cpu_s": round(e.cpu, 3),
           "peak_rss_mb": round(max(d.rss_kib, e.rss_kib) / 1024, 1), "b_over_a": round(b / a, 2),
           "d_over_c": round(d.wall / c.wall, 2), "d_over_c_cpu": round(d.cpu / c.cpu, 2),
           "e_over_one_version": round(e.wall / one.wall, 2), "e_over_one_version_cpu": round(e.cpu / one.cpu, 2),
           "one_version_build_s": round(one.wall, 3), "cache_mb": round(cache_mb, 2),
           "cache_load_s": round(cache_load, 3), "page_cache_mb": round(html_mb, 1)}
    if serve:
        reloads = edit_to_reload(repo, edits=5, edit=edit)
        row["reload_s"] = [round(t, 2) for t in reloads]
        row["reload_median_s"] = round(statistics.median(reloads), 2)
    return row


def measure_downloads(work: Path, versions: int = 10) -> dict:
    """What the PDFs and Word redlines cost: a cold build of `versions` versions with and without them (no cache of
    any kind), and a rebuild with them (every file reused)."""
    runs = {}
    for downloads in (False, True):
        repo = make_repo(work / f"downloads-{versions}-{downloads}", versions, downloads=downloads)
        runs[downloads] = timed([sys.executable, "-m", "policy_site", "build"], repo)
    again = timed([sys.executable, "-m", "policy_site", "build"], repo)
    return {"versions": versions, "cold_without_s": round(runs[False].wall, 2),
            "cold_with_s": round(runs[True].wall, 2), "cold_with_cpu_s": round(runs[True].cpu, 2),
            "per_version_cpu_s": round((runs[True].cpu - runs[False].cpu) / versions, 2),
            "rebuild_with_s": round(again.wall, 2)}


def measure(work: Path, versions: int, one_version_build: Callable[[], Run]) -> dict:
    """The synthetic history of `versions` versions."""
    row = measure_repo(make_repo(work / f"repo-{versions}", versions), work, str(versions), one_version_build)
    return {"versions": versions, **row}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,100,300")
    parser.add_argument("--out", default="bench-results/bench.json")
    parser.add_argument("--no-library", dest="library", action="store_false",
                        help="skip the library case (10 documents × 60 versions × 2 languages)")
    parser.add_argument("--no-downloads", dest="downloads", action="store_false",
                        help="skip the cost of the PDFs and Word redlines")
    parser.add_argument("--publisher", default="60x50", help="the publisher-sized library, DOCUMENTSxVERSIONS "
                        "(issue 25; 0: skip)")
    parser.add_argument("--publisher-curve", default="10,30", help="the smaller libraries of the warm-time curve")
    parser.add_argument("--notify", type=int, default=10_000, help="subscribers for the notify benchmark (0: skip)")
    parser.add_argument("--notify-memory", default="10000,1000000",
                        help="subscriber counts of the notify memory figure (peak RSS), comma-separated ('': skip)")
    parser.add_argument("--no-import", dest="import_library", action="store_false",
                        help="skip the import of a legal-documents repository into a library")
    args = parser.parse_args(argv)
    results: dict = {"history": []}
    with tempfile.TemporaryDirectory(prefix="policy-bench-") as tmp:
        work = Path(tmp)
        os.environ["XDG_CACHE_HOME"] = str(work / "user-cache")  # compiled templates: the bench's own
        one = make_repo(work / "one-version", 1)

        def one_version_build() -> Run:
            shutil.rmtree(one / ".cache", ignore_errors=True)
            return timed([sys.executable, "-m", "policy_site", "build"], one)
        one_build = best_run([one_version_build() for _ in range(3)])
        results["one_version_build_s"] = round(one_build.wall, 3)
        results["one_version_build_cpu_s"] = round(one_build.cpu, 3)
        print(f"one-version build (cold): {one_build.wall:.2f}s, {one_build.cpu:.2f}s CPU (measured again beside "
              "each (e)); cpu columns: the same ratio in CPU seconds")
        print(HEADER)
        for size in [int(s) for s in args.sizes.split(",") if s]:
            row = measure(work, size, one_version_build)
            results["history"].append(row)
            print(line(row), flush=True)
        if args.downloads:
            results["downloads"] = d = measure_downloads(work)
            print(f"PDFs and Word redlines, {d['versions']} versions: cold {d['cold_without_s']} s without them, "
                  f"{d['cold_with_s']} s with them ({d['per_version_cpu_s']} s CPU a version); rebuilt "
                  f"{d['rebuild_with_s']} s (every file reused). The rows above are without them.", flush=True)
        if args.library:
            from .library import DOCUMENTS, LIBRARY_NAV, VERSIONS, add_library_version, make_library_repo
            repo = make_library_repo(work / "library")
            row = measure_repo(repo, work, "library", one_version_build, add=add_library_version, serve=False,
                               nav=LIBRARY_NAV, phases=False)
            results["library"] = {"documents": DOCUMENTS, "versions_each": VERSIONS, "languages": 2, **row}
            print(line(row) + f"   ({DOCUMENTS} documents × {VERSIONS} versions × 2 languages; b not timed)",
                  flush=True)
        if args.import_library:
            from .import_library import line as import_line
            from .import_library import measure_import
            results["import_library"] = measure_import(work, one_version_build)
            print(import_line(results["import_library"]), flush=True)
        if args.publisher != "0":
            from .publisher import lines as publisher_lines
            from .publisher import measure_publisher
            documents, versions = (int(n) for n in args.publisher.split("x"))
            curve = tuple(int(n) for n in args.publisher_curve.split(",") if n)
            results["publisher"] = measure_publisher(work, one_version_build, documents, versions, curve)
            print("\n".join(publisher_lines(results["publisher"])), flush=True)
        results["targets"] = verdicts(results["history"] + ([results["library"]] if args.library else []))
        print("\n".join(results["targets"]))
    if args.notify:
        from .notify import measure_all
        results["notify"] = measure_all(args.notify, args.notify_memory)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
