"""`policy build` generating in a second process while the first loads MkDocs (cli/build_fork.py): the same site,
the same errors, the same notes as one process; the parent never loads the generator; a child that fails or
dies only costs the time, and one the parent no longer needs is stopped and reaped."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from policy_site.bench.synthetic import make_repo
from policy_site.cli.build_fork import Then, fork_generation
from policy_site.errors import UserError
from policy_site.pipes import BesideFailed, Claims, call_beside
from tests.support.project import ROOT, Project
from tests.support.site import assert_same_site

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


def test_a_library_written_by_two_processes_is_the_site_one_process_writes(tmp_path: Path) -> None:
    """The child shares the writing with a process it forks (the translation, the library's pages and the
    documents, each taken by whichever is free): the same site as one process, cold and after a new version."""
    from tests.support.library import document, small_library
    p = small_library(tmp_path / "lib")
    document(p, "cookies", "Cookie policy", "1.0", {"cookies-we-use": ["Only the session cookie."]})
    library = p.policy / "library.yaml"
    library.write_text(library.read_text(encoding="utf-8").replace("- terms", "- terms\n- cookies"),
                       encoding="utf-8")
    p.commit("Cookies 1.0")
    for step in ("cold", "warm"):
        if step == "warm":
            document(p, "terms", "Terms of service", "1.1", {"liability": ["We are liable as the law says.",
                                                                           "Terms 1.1 adds this."]})
            p.commit("Terms 1.1")
        assert loaded_by_build(p.path, {}) == "0 False False False False"
        shutil.copytree(p.path / "site", tmp_path / f"two-{step}")
        one = tmp_path / f"one-{step}"  # the same commit, built cold by one process
        subprocess.run(["git", "clone", "-q", str(p.path), str(one)], check=True)
        assert loaded_by_build(one, ONE) == "0 True True True True"
        assert_same_site(tmp_path / f"two-{step}", one / "site")
    assert (p.path / "site/de/privacy/translation.json").is_file() and (p.path / "site/cookies/atom.xml").is_file()


def test_a_mistake_found_while_writing_reads_the_same(tmp_path: Path) -> None:
    """A translation naming a version never published is found after the documents' pages are written, by
    whichever process writes the translations: the error is the one a single process gives."""
    from tests.support.library import small_library
    p = small_library(tmp_path / "lib")
    meta = p.policy / "privacy/translations/de/policy.yaml"
    meta.write_text(meta.read_text(encoding="utf-8").replace("source_version: '1.0'", "source_version: '9.0'")
                    .replace('source_version: "1.0"', 'source_version: "9.0"'), encoding="utf-8")
    assert "9.0" in meta.read_text(encoding="utf-8")
    p.commit("A translation of a version that never was")
    results = []
    for env in ({}, ONE):
        shutil.rmtree(p.path / ".cache", ignore_errors=True)
        results.append(p.run("build", env=env))
    assert results[0].returncode == results[1].returncode == 1
    assert results[0].stderr == results[1].stderr
    assert "translations/de/policy.yaml" in results[0].stderr and "Traceback" not in results[0].stderr


def later(settings: object) -> object:
    """A generation that sends its summary, then saves (writes a file) and notes it."""
    def then() -> None:
        Path(settings["file"]).write_text("saved", encoding="utf-8")  # type: ignore[index]
        print("policy: note: saved after the summary", file=sys.stderr)
    print("policy: note: made in the child", file=sys.stderr)
    return Then({"pid": os.getpid()}, then)


def test_what_the_child_does_after_its_summary_is_waited_for(tmp_path: Path,
                                                            capfd: pytest.CaptureFixture[str]) -> None:
    generation = fork_generation(lambda: None, later)
    assert generation is not None
    result = generation.result({"file": str(tmp_path / "saved")})
    assert result["pid"] != os.getpid() and capfd.readouterr().err == "policy: note: made in the child\n"
    generation.close()
    assert (tmp_path / "saved").read_text(encoding="utf-8") == "saved"
    assert capfd.readouterr().err == "policy: note: saved after the summary\n"
    assert reaped(generation.pid)
    generation.close()  # twice: nothing left to wait for


def numbers_taken(claims: Claims) -> list[int]:
    taken = []
    for number in claims:
        taken.append(number)
        time.sleep(0.001)  # the other process takes some meanwhile
    return taken


def test_two_processes_share_the_claims_each_taken_once() -> None:
    claims = Claims(200)
    waiting = call_beside(lambda: numbers_taken(claims))
    mine = numbers_taken(claims)
    claims.close()
    theirs = waiting()
    assert sorted(mine + theirs) == list(range(200)) and mine and theirs


def test_what_runs_beside_sends_back_its_result_its_error_or_that_it_died(capfd: pytest.CaptureFixture[str]) -> None:
    def noted() -> int:
        print("policy: note: from beside", file=sys.stderr)
        return 42
    assert call_beside(noted)() == 42 and capfd.readouterr().err == "policy: note: from beside\n"
    with pytest.raises(UserError, match="a user mistake"):
        call_beside(lambda: (_ for _ in ()).throw(UserError("a user mistake")))()
    with pytest.raises(BesideFailed):
        call_beside(lambda: os._exit(3))()
    with pytest.raises(TypeError, match="pickle"):
        call_beside(lambda: threading.Lock())()  # a result that cannot be sent: why, raised here
    with pytest.raises(BesideFailed):  # nor can its exception
        call_beside(lambda: (_ for _ in ()).throw(RuntimeError(threading.Lock())))()


def generated_tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_shared_writing_writes_what_one_process_writes_even_when_it_cannot_fork(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from policy_site.site.generate import generate_site
    from policy_site.site.mkdocs.plugin import load_settings
    from tests.support.library import small_library
    p = small_library(tmp_path / "lib")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    found = []
    for beside, fork in ((False, True), (True, True), (True, False)):
        if not fork:
            monkeypatch.setattr(os, "fork", lambda: (_ for _ in ()).throw(OSError("no more processes")))
        shutil.rmtree(p.path / ".cache", ignore_errors=True)
        site = generate_site(load_settings(p.path / "mkdocs.yml"), beside=beside)
        assert site.files is not None and len(site.files.made) == len(set(site.files.made))
        found.append((generated_tree(site.pages_dir), site.languages, site.files.rendered, sorted(site.files.new)))
    assert found[0] == found[1] == found[2] and found[0][1] == ["de"]
