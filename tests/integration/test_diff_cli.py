"""`policy diff` and `policy versions`: an editor's unpublished change, every output format, clear errors."""

from __future__ import annotations

import json

import yaml

from tests.support.project import ROOT, Project


def edit_paragraph(p: Project) -> None:
    section = p.read("sections/protecting-information.yaml")
    section["body"][0] = section["body"][0].replace("security protection system", "audited security system")
    p.write("sections/protecting-information.yaml", section)


def test_default_is_last_published_to_working_tree(git_project: Project) -> None:
    edit_paragraph(git_project)
    result = git_project.run("diff", check=True)
    assert "Policy changes from version 1.0 to the working tree" in result.stdout
    assert "modified" in result.stdout and "[protecting-information]" in result.stdout
    assert "some {+audited+} security [-protection-] system" in result.stdout


def test_markdown_for_a_pull_request_comment(git_project: Project) -> None:
    edit_paragraph(git_project)
    git_project.meta(version="1.1", summary="Audited *security* | pipes")
    out = git_project.run("diff", "--format", "markdown", check=True).stdout
    assert out.startswith("### SynergyCabinet: Privacy and company Policy for Customer: version 1.0 → the working tree")
    assert "| Section | Change |" in out and "(`protecting-information`) | modified |" in out
    assert "Audited \\*security\\* \\| pipes" in out
    assert "<ins>" in out and "<details>" in out


def test_html_and_json_formats(git_project: Project) -> None:
    edit_paragraph(git_project)
    html = git_project.run("diff", "--format", "html", check=True).stdout
    assert "<del>" in html and "<ins>" in html
    data = json.loads(git_project.run("diff", "--format", "json", check=True).stdout)
    assert data["from"] == "1.0" and data["sections"][0]["kinds"] == ["modified"]


def test_unknown_version_is_a_clear_error(git_project: Project) -> None:
    result = git_project.run("diff", "9.9", "1.0")
    assert result.returncode == 1
    assert "no published version '9.9'; published: 1.0" in result.stderr and "Traceback" not in result.stderr


def test_versions_lists_newest_first(git_project: Project) -> None:
    git_project.meta(version="1.1", summary="Second")
    git_project.commit("1.1")
    out = git_project.run("versions", check=True).stdout.splitlines()
    assert out[1].startswith("1.1") and out[2].startswith("1.0")
    data = json.loads(git_project.run("versions", "--json", check=True).stdout)
    assert [v["version"] for v in data] == ["1.1", "1.0"]


def test_workflow_fetches_full_history_and_runs_the_verbs() -> None:
    workflow = yaml.safe_load((ROOT / ".github/workflows/policy.yml").read_text())
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    assert all(s["with"]["fetch-depth"] == 0 for s in steps if s.get("uses", "").startswith("actions/checkout"))
    commands = " ".join(s.get("run", "") for s in steps)
    for command in ("policy check", "policy diff --format markdown", "policy build", "policy notify"):
        assert command in commands
