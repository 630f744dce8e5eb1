"""`policy build` generating in a second process while the first loads MkDocs (cli/build_fork.py): the same site,
the same errors, the same notes as one process; the parent never loads the generator; a child that fails or
dies only costs the time, and one the parent no longer needs is stopped and reaped."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, Project
from policy_site.bench.sites import make_repo
from policy_site.cli.build_fork import fork_generation
from test_pagecache import assert_same_site

ONE = {"POLICY_BUILD_PROCESSES": "1"}
EPOCH = {"SOURCE_DATE_EPOCH": "1700000000"}
pytestmark = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="the second process needs two CPUs")

LOADED = """
import sys
from policy_site.cli import main
status = main(["build"])
print(status, *(name in sys.modules for name in ("git", "markdown_it", "feedgen", "policy_site.site.generate")))
"""


def loaded_by_build(repo: Path, env: dict[str, str]) -> str:
    """What a build prints, then which generator libraries its (first) process had loaded."""
    result = subprocess.run([sys.executable, "-c", LOADED], cwd=repo, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "scripts"), **EPOCH, **env})
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.splitlines()[-1]


def test_two_processes_build_the_site_one_would_and_the_first_never_loads_the_generator(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", 3)
    assert loaded_by_build(repo, {}) == "0 False False False False"
    shutil.copytree(repo / "site", tmp_path / "two")
    shutil.rmtree(repo / ".cache")
    shutil.rmtree(repo / "site")
    assert loaded_by_build(repo, ONE) == "0 True True True True"
    assert_same_site(tmp_path / "two", repo / "site")
    # a warm build too: the child reuses what the cold one generated
    assert loaded_by_build(repo, {}) == "0 False False False False"
    assert_same_site(tmp_path / "two", repo / "site")


def test_a_mistake_in_the_policy_reads_the_same_and_nothing_is_written(git_project: Project) -> None:
    section = git_project.policy / "sections" / "protecting-information.yaml"
    section.write_text(section.read_text(encoding="utf-8") + "\n  broken: [\n", encoding="utf-8")
    results = [git_project.run("build", env=env) for env in ({}, ONE)]
    assert results[0].returncode == results[1].returncode == 1
    assert results[0].stderr == results[1].stderr
    assert results[0].stderr.startswith("policy build: error: policy/sections/protecting-information.yaml:10:3: ")
    assert results[0].stderr.endswith("\n1 problem found; nothing was written.\n"), results[0].stderr
    assert not (git_project.path / "site").exists() and not (git_project.path / ".cache" / "pages").exists()


def test_a_broken_mkdocs_yml_stops_the_child_before_it_generates(git_project: Project) -> None:
    config = git_project.path / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8") + "\nsite_url: [unclosed\n", encoding="utf-8")
    results = [git_project.run("build", env=env) for env in ({}, ONE)]
    assert results[0].returncode == results[1].returncode == 1
    assert results[0].stderr == results[1].stderr
    assert results[0].stderr.startswith("policy build: error: mkdocs.yml: ") and "Traceback" not in results[0].stderr
    assert not (git_project.path / ".cache" / "pages").exists()  # the child never got the settings
    assert not (git_project.path / "site").exists()


def test_the_notes_of_the_child_are_printed_once(git_project: Project) -> None:
    git_project.run("build", check=True)
    (git_project.path / ".cache/history/parsed.json").write_text("{damaged", encoding="utf-8")
    result = git_project.run("build", check=True)
    assert result.stderr.count("the parse cache") == 1, result.stderr
    assert "rebuilding it" in result.stderr


def summary(settings: object) -> object:
    print("policy: note: made in the child", file=sys.stderr)
    return {"settings": settings, "pid": os.getpid()}


def reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_the_summary_and_notes_come_from_the_child(capfd: pytest.CaptureFixture[str]) -> None:
    generation = fork_generation(lambda: None, summary)
    assert generation is not None
    result = generation.result({"a": Path("/x")})
    assert result["settings"] == {"a": Path("/x")} and result["pid"] != os.getpid()
    assert capfd.readouterr().err == "policy: note: made in the child\n"
    assert reaped(generation.pid)


def crash(settings: object) -> object:
    os._exit(3)


def fail(settings: object) -> object:
    print("policy: note: never shown", file=sys.stderr)
    raise RuntimeError("the parent generates again")


def fail_to_import() -> None:
    raise ImportError("no generator")


@pytest.mark.parametrize(("prepare", "generate"), [(lambda: None, crash), (lambda: None, fail),
                                                   (fail_to_import, summary)])
def test_a_child_that_fails_or_dies_gives_nothing(prepare, generate, capfd: pytest.CaptureFixture[str]) -> None:
    generation = fork_generation(prepare, generate)
    assert generation is not None
    assert generation.result({"settings": 1}) is None
    assert capfd.readouterr().err == ""
    assert reaped(generation.pid)


def test_settings_that_cannot_be_sent_or_a_parent_that_fails_first_stop_the_child() -> None:
    generation = fork_generation(lambda: None, summary)
    assert generation is not None
    assert generation.result(lambda: None) is None  # a lambda cannot be pickled
    assert reaped(generation.pid)
    generation = fork_generation(lambda: None, summary)
    assert generation is not None
    generation.cancel()
    assert reaped(generation.pid)
    generation.cancel()  # twice: nothing left to stop


def test_a_project_with_a_translation_still_leaves_the_generator_to_the_child(git_project: Project) -> None:
    git_project.run("translate", "de", check=True)
    git_project.commit("A German translation")
    assert loaded_by_build(git_project.path, {}) == "0 False False False False"
    two = (git_project.path / "site/index.html").read_text(encoding="utf-8")
    assert 'hreflang="de"' in two and "Deutsch" in two  # Material's language switcher
    shutil.rmtree(git_project.path / "site")
    shutil.rmtree(git_project.path / ".cache")
    assert loaded_by_build(git_project.path, ONE) == "0 True True True True"
    assert (git_project.path / "site/index.html").read_text(encoding="utf-8") == two
