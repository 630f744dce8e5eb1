"""The helper process of a cold build (site/mkdocs/parallel.py): the site is byte-identical to one rendered by one
process, the entries it stored serve the next build, and a page that logs a warning is rendered by the main
process, so the warning is shown exactly once."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from policy_site.bench.synthetic import make_repo
from tests.support.project import run_policy
from tests.support.site import assert_same_site

EPOCH = "1700000000"
pytestmark = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the helper process needs two cores")


def build(repo: Path, processes: int | None = None) -> str:
    env = {"SOURCE_DATE_EPOCH": EPOCH, "POLICY_BUILD_PROCESSES": str(processes or "")}
    result = run_policy(repo, "build", "-v", env=env)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr[-3000:]
    return result.stderr


def helped(log: str) -> int:
    found = re.search(r"page cache: \d+ pages from .*, \d+ rendered(?: \((\d+) of them by a second process\))?", log)
    assert found, log[-2000:]
    return int(found.group(1) or 0)


def test_a_cold_build_shares_its_pages_and_equals_one_made_by_one_process(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", 30)
    log = build(repo)
    assert helped(log) > 0, log[-2000:]
    shutil.copytree(repo / "site", tmp_path / "shared")
    shutil.rmtree(repo / ".cache")
    shutil.rmtree(repo / "site")
    assert helped(build(repo, processes=1)) == 0
    assert_same_site(tmp_path / "shared", repo / "site")
    # what the helper stored is a cache like any other: the next build renders nothing but the nav pages
    shutil.rmtree(repo / ".cache")
    build(repo)
    again = build(repo)
    assert re.search(r"page cache: \d+ pages from .*, [0-5] rendered\n", again), again[-2000:]
    assert_same_site(tmp_path / "shared", repo / "site")


def test_a_page_that_warns_is_rendered_by_the_main_process_and_warns_once(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", 20)
    # the project's own template: on the pages of odd versions, a link MkDocs cannot resolve
    template = repo / "templates/pages/version.md.j2"
    template.write_text(template.read_text() + "\n{% if entry.version.split('.')[0]|int is odd %}"
                        "[An annex](missing-annex.md){% endif %}\n")
    log = build(repo)
    warnings = [line for line in log.splitlines() if "missing-annex.md" in line]
    pages = sorted({re.search(r"'(versions/[^']+)'", line).group(1) for line in warnings})  # type: ignore[union-attr]
    assert len(warnings) == len(pages) == 10, warnings[:3]
    assert helped(log) > 0  # the pages that do not warn were shared
