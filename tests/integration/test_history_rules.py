"""Publishing rules that read the whole history, on real git repositories in temp dirs: a commit that cannot be
read is skipped (never a crash, never forever), version numbers compare by value, effective dates go forward.
"""

from __future__ import annotations

import inspect
import json
import sys

import pytest
import yaml

from policy_site.history.versions import read_history
from tests.support.project import SUBSCRIBED, Project

NOW = {"SOURCE_DATE_EPOCH": "1798761600"}  # 2027-01-01
S = "sections/protecting-information.yaml"


def bump(project: Project, version: str, **meta) -> None:
    section = project.read(S)
    section["body"].append(f"A sentence added in {version}.")
    project.write(S, section)
    project.meta(version=version, summary=f"Version {version}.", **meta)


def versions_json(project: Project) -> list[dict]:
    return json.loads(project.run("versions", "--json", check=True).stdout)


# --- a poisoned commit is skipped, and the site recovers at the next good one -------------------------------------

def test_recursive_alias_commit_is_skipped_and_a_later_fix_publishes(git_project: Project) -> None:
    p = git_project
    original = (p.policy / S).read_text()
    bump(p, "1.1")
    p.write_text(S, original.replace("body:", "body: &b [*b]\nignored:", 1))
    poisoned = p.commit("1.1 with a recursive alias")[:10]
    assert p.run("check").returncode == 1
    p.write_text(S, original)
    bump(p, "1.2")
    p.commit("1.2 fixes the file")
    for verb in (("check",), ("build",), ("versions",)):
        result = p.run(*verb, env=NOW)
        assert result.returncode == 0, (verb, result.stderr)
        assert "Traceback" not in result.stderr and "RecursionError" not in result.stderr
        assert f"commit {poisoned}" in result.stderr and "was skipped" in result.stderr, verb
    assert [v["version"] for v in versions_json(p)] == ["1.2", "1.0"]
    p.run("subscribers", "add", "--subscribed", SUBSCRIBED, "reader@example.org", check=True)
    notify = p.run("notify", "--dry-run", env=NOW)
    assert notify.returncode == 0 and "Traceback" not in notify.stderr, notify.stderr


def deep_section(levels: int) -> dict:
    inner: dict = {"id": f"level-{levels}", "title": "Deepest", "body": ["Text."]}
    for i in range(levels - 1, 0, -1):
        inner = {"id": f"level-{i}", "title": f"Level {i}", "body": ["Text.", {"section": inner}]}
    return inner


def test_any_exception_while_parsing_a_commit_skips_that_commit(git_project: Project) -> None:
    """A genuine RecursionError inside the parser of one commit (the recursion limit lowered just below what its
    16 nested subsections need, well above what git needs): that commit is skipped with a warning naming it."""
    p = git_project
    section = p.read(S)
    section["body"].append({"section": deep_section(16)})
    p.write(S, section)
    p.meta(version="1.1", summary="Deeply nested")
    deep = p.commit("1.1, deeply nested")[:10]
    bump(p, "1.2")
    p.write(S, p.read(S) | {"body": p.read(S)["body"][:4] + ["Flat again."]})
    p.commit("1.2, flat")
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 30)
    try:
        history = read_history(p.policy)
    finally:
        sys.setrecursionlimit(limit)
    assert [v.version for v in history.versions] == ["1.0", "1.2"]
    warning = next(w for w in history.warnings if f"commit {deep}" in w)
    assert "was skipped" in warning and "could not be read (RecursionError" in warning
    assert yaml.safe_load((p.policy / "policy.yaml").read_text())["version"] == "1.2"


# --- version numbers compare by value: 1.0 = 1.00 = 1.0.0 ----------------------------------------------------------

def test_new_text_under_the_same_number_in_another_spelling_fails_check(git_project: Project) -> None:
    p = git_project
    for spelling in ("1.0.0", "1.00"):
        bump(p, spelling)
        result = p.run("check")
        assert result.returncode == 1
        assert (f"policy/policy.yaml:3:10: version {spelling} is the same number as the published 1.0; use a number "
                f"above 1.0") in result.stderr, result.stderr
    p.meta(version="1.0.0")
    p.commit("New text as 1.0.0 (check was ignored)")
    result = p.run("build", check=True, env=NOW)
    assert "writes version 1.0 as 1.0.0, the same number" in result.stderr
    versions = versions_json(p)
    assert [v["version"] for v in versions] == ["1.0"] and len(versions[0]["amendments"]) == 1
    assert versions[0]["url"].endswith("/versions/1.0/")
    assert "Amended on" in (p.path / "site/versions/1.0/index.html").read_text()


def test_respelling_the_published_number_alone_fails_check(git_project: Project) -> None:
    git_project.meta(version="1.0.0")
    result = git_project.run("check")
    assert result.returncode == 1
    assert 'version 1.0.0 is the same number as the published 1.0: write it as "1.0", as published' in result.stderr


def test_an_older_number_in_another_spelling_is_already_published(git_project: Project) -> None:
    bump(git_project, "2.0")
    git_project.commit("2.0")
    bump(git_project, "1.00")
    result = git_project.run("check")
    assert result.returncode == 1
    assert "version 1.00 is the same number as the published 1.0; use a number above 2.0" in result.stderr


def test_published_urls_keep_the_spelling_of_the_publishing_commit(git_project: Project) -> None:
    p = git_project
    bump(p, "2.00")
    p.commit("2.00")
    bump(p, "2.0")
    p.commit("2.0: an amendment of 2.00")
    bump(p, "2.10")
    p.commit("2.10, after 2.9 would be")
    versions = versions_json(p)
    assert [v["version"] for v in versions] == ["2.10", "2.00", "1.0"]
    assert versions[1]["url"].endswith("/versions/2.00/") and len(versions[1]["amendments"]) == 1
    diff = p.run("diff", "1.0.0", "2", "--format", "json")
    assert diff.returncode == 1 and "no published version '2'" in diff.stderr
    diff = json.loads(p.run("diff", "1.0.0", "2.0.0", "--format", "json", check=True).stdout)
    assert (diff["from"], diff["to"]) == ("1.0", "2.00")


@pytest.mark.parametrize("version, message", [
    pytest.param("01.0", 'malformed version \'01.0\': numbers in a version do not start with 0, which makes them '
                         'ambiguous (did you mean "1.0"?)', id="01.0"),
    pytest.param("1.01", 'did you mean "1.1"?', id="1.01"),
    pytest.param("1.1234567890", "each number has at most 9 digits", id="ten digits"),
    pytest.param("1." + "9" * 5000, "each number has at most 9 digits", id="5000 digits"),
])
def test_malformed_versions_get_a_hint(git_project: Project, version: str, message: str) -> None:
    git_project.meta(version=version)
    result = git_project.run("check")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert message in result.stderr and "policy/policy.yaml:3:10: malformed version" in result.stderr, result.stderr
    git_project.commit(f"version {version[:12]}")
    versions = git_project.run("versions")
    assert versions.returncode == 0 and "was skipped" in versions.stderr and "Traceback" not in versions.stderr


# --- effective dates go forward ----------------------------------------------------------------------------------------

def test_effective_date_before_the_published_one_fails_check(git_project: Project) -> None:
    bump(git_project, "1.1", effective="2020-01-01")
    result = git_project.run("check")
    assert result.returncode == 1
    assert ("policy/policy.yaml:4:12: effective date 2020-01-01 is before 2026-11-25, when the published version 1.0 "
            "takes effect") in result.stderr, result.stderr
    bump(git_project, "1.1", effective="2026-11-25")  # the same day is fine
    assert git_project.run("check").returncode == 0


def test_backwards_effective_date_in_history_is_published_and_warned(git_project: Project) -> None:
    p = git_project
    bump(p, "1.1", effective="2020-01-01")
    commit = p.commit("1.1, effective in the past")[:10]
    result = p.run("build", check=True, env=NOW)
    assert f"commit {commit}" in result.stderr and "effective 2020-01-01, before 2026-11-25" in result.stderr
    versions = json.loads((p.path / "site/versions.json").read_text())["versions"]
    assert [v["version"] for v in versions] == ["1.1", "1.0"]
    for v in versions:
        assert v["in_force_to"] is None or v["in_force_to"] >= v["effective"], v
    archive = (p.path / "site/versions/index.html").read_text()
    shown = '<time datetime="2026-11-25">25 November 2026</time>'  # site/dates.py
    assert f'{shown} – <time datetime="2020-01-01">' not in archive and f"{shown} – {shown}" in archive
