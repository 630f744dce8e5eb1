"""`mkdocs serve` rebuilds when a policy file is saved; the edit shows as a draft."""

from __future__ import annotations

import subprocess
import sys
import time

from policy_site.bench.local import fetch, free_port, stop, wait_for
from tests.support.project import Project

VERSIONS = 60  # a long history, as the project demands one in the suite


def test_serve_shows_a_saved_edit_as_draft(git_project: Project) -> None:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{port}"],
                              cwd=git_project.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        assert wait_for(url, "Version 1.0", 60) is not None, "server did not start"
        time.sleep(1.0)  # let the watcher settle after the first build
        section = git_project.read("sections/protecting-information.yaml")
        section["body"][0] = "Freshly saved sentence for the live preview."
        git_project.write("sections/protecting-information.yaml", section)
        elapsed = wait_for(url, "Freshly saved sentence", 20)
        assert elapsed is not None, "the edit never appeared"
        print(f"edit visible after {elapsed:.2f}s")
        page = fetch(url)
        assert "Draft — not published" in page
        assert "Freshly saved sentence" in fetch(url + "changes/draft/")
    finally:
        stop(server)


def test_serve_rerenders_only_what_an_edit_touches_on_a_long_history(tmp_path) -> None:
    """60 versions (the suite's longest served history; `make bench` serves 300): an edit of one section renders the
    home page and the draft changes, nothing else (site/preview.py, site/mkdocs/page_cache.py). How long a reload
    takes is `make bench`'s to say, not a test's."""

    import yaml

    from policy_site.bench.synthetic import make_repo

    repo = make_repo(tmp_path / "repo", VERSIONS)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "policy_site", "serve", "--dev-addr", f"127.0.0.1:{port}"],
                              cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    times = []
    try:
        assert wait_for(url, f"Version {VERSIONS}.0", 300) is not None, "server did not start"
        time.sleep(1.0)
        order = yaml.safe_load((repo / "policy/policy.yaml").read_text())["sections"]
        for n, section_id in enumerate(order[:3]):
            path = repo / "policy/sections" / f"{section_id}.yaml"
            section = yaml.safe_load(path.read_text())
            section["body"][0] = f"Saved sentence number {n} for the live preview."
            path.write_text(yaml.safe_dump(section, sort_keys=False))
            elapsed = wait_for(url, f"Saved sentence number {n} ", 30)
            assert elapsed is not None, f"edit {n} never appeared"
            times.append(elapsed)
            time.sleep(1.0)
    finally:
        server.terminate()
        log = server.communicate(timeout=30)[0]
    print(f"edit to reload at {VERSIONS} versions: {', '.join(f'{t:.2f}s' for t in times)}")
    rebuilds = [line for line in log.splitlines() if "page cache:" in line][1:]
    # 2 × VERSIONS + 6 pages: the versions and their changes, home, archive, latest changes, draft changes, compare,
    # follow; all but the home page and the draft changes from the page cache
    assert rebuilds and all(line.endswith(f"{2 * VERSIONS + 4} pages from " + str(repo / ".cache/html") + ", 2 rendered")
                            for line in rebuilds), log[-3000:]
