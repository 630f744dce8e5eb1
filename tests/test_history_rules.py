"""Publishing rules that read the whole history, on real git repositories in temp dirs: a commit that cannot be
read is skipped (never a crash, never forever), version numbers compare by value, effective dates go forward.
"""

from __future__ import annotations

import inspect
import json
import sys

import yaml

from conftest import Project
from policy_site.history.versions import read_history

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
    p.run("subscribers", "add", "reader@example.org", check=True)
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
