"""Versions from git history, on real temporary repositories: the publishing rules and their edge cases."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.project import FIDELITY, SEED, Project, copy_project

NOW = {"SOURCE_DATE_EPOCH": "1798761600"}  # 2027-01-01T00:00:00Z


def edit_section(project: Project, name: str, change) -> None:
    data = project.read(f"sections/{name}.yaml")
    change(data)
    project.write(f"sections/{name}.yaml", data)


def page(project: Project, path: str) -> str:
    return (project.path / "site" / path / "index.html").read_text(encoding="utf-8")


@pytest.fixture
def story(git_project: Project) -> Project:
    """The acceptance history: 1.0 seed; 1.1; 2.0; an unbumped edit; broken YAML; 2.1 in the future."""
    p = git_project
    # 1.1: edit one paragraph, retitle a section
    edit_section(p, "protecting-information", lambda d: d["body"].__setitem__(
        3, "We provide all kinds of data protection management and it is audited every year."))
    edit_section(p, "accessing-personal-information", lambda d: d.__setitem__("title", "Who can access personal information?"))
    p.meta(version="1.1", effective="2026-12-01", summary="Clarified data protection; retitled the access section.")
    p.commit("Policy 1.1")
    # 2.0: add a section, remove a bullet, move a section
    p.write("sections/data-retention.yaml", {"id": "data-retention", "title": "How long we keep data",
                                             "body": ["We keep account data for two years after the last login."]})

    def drop_bullet(d: dict) -> None:
        records = next(b["section"] for b in d["body"] if isinstance(b, dict) and b.get("section", {}).get("id") == "website-server-records")
        bullets = next(b for b in records["body"] if isinstance(b, dict) and "bullets" in b)
        bullets["bullets"].pop(1)
    edit_section(p, "privacy-settlement-terms", drop_bullet)
    meta = p.read("policy.yaml")
    order = meta["sections"]
    order.remove("rectification-and-cancellation")
    order.insert(0, "rectification-and-cancellation")
    order.insert(3, "data-retention")
    p.meta(version="2.0", effective="2026-12-10", sections=order, summary="Added data retention; reordered.")
    p.commit("Policy 2.0")
    # an unbumped edit
    edit_section(p, "data-retention", lambda d: d["body"].__setitem__(0, "We keep account data for three years after the last login."))
    p.commit("Fix retention period (forgot to bump)")
    # a commit with broken YAML
    (p.policy / "sections/data-retention.yaml").write_text("id: data-retention\ntitle: [broken\n")
    p.commit("Broken YAML")
    # 2.1 in the future (fixes the YAML too)
    edit_section(p, "personal-information-protection", lambda d: d["body"].append("A new sentence in 2.1."))
    p.write("sections/data-retention.yaml", {"id": "data-retention", "title": "How long we keep data",
                                             "body": ["We keep account data for three years after the last login."]})
    p.meta(version="2.1", effective="2027-06-01", summary="A sentence added, effective mid-2027.")
    p.commit("Policy 2.1")
    return p


def test_acceptance_story_pages(story: Project) -> None:
    result = story.run("build", check=True, env=NOW)
    assert "invalid policy and was skipped" in result.stderr and "Broken YAML" in result.stderr

    versions = json.loads((story.path / "site/versions.json").read_text())
    assert [v["version"] for v in versions["versions"]] == ["2.1", "2.0", "1.1", "1.0"]
    assert versions["current"] == "2.0"
    status = {v["version"]: v["status"] for v in versions["versions"]}
    assert status == {"2.1": "upcoming", "2.0": "current", "1.1": "superseded", "1.0": "superseded"}
    v20 = next(v for v in versions["versions"] if v["version"] == "2.0")
    assert v20["amendments"] and v20["amendments"][0]["sections"] == ["data-retention"]
    assert v20["url"] == "https://privacy.synergycabinet.example/versions/2.0/"

    home = page(story, "")
    assert "Version 2.0 · effective" in home
    assert "Upcoming change" in home and "2027-06-01" in home and "changes/2.1/" in home
    assert home.count("policy-notice--upcoming") == 1 and "compare/?from=2.0&amp;to=2.1" in home
    assert "A new sentence in 2.1." not in home

    archive = page(story, "versions")
    assert archive.index(">2.1<") < archive.index(">2.0<") < archive.index(">1.1<") < archive.index(">1.0<")
    assert "upcoming" in archive and "current" in archive

    v10 = page(story, "versions/1.0")
    assert "Archived" in v10 and 'content="noindex"' in v10
    fidelity = subprocess.run([sys.executable, str(FIDELITY), str(SEED), str(story.path / "site/versions/1.0/index.html")],
                              capture_output=True, text=True)
    assert fidelity.stdout.strip().endswith("133/133 sentences found"), fidelity.stdout

    v20_page = page(story, "versions/2.0")
    assert "two years" in v20_page  # the published text stays
    assert "Amended on" in v20_page and "three" in v20_page  # the amendment is shown, not hidden

    c11 = page(story, "changes/1.1")
    assert "renamed" in c11 and "Who can access personal information?" in c11 and "modified" in c11
    assert "<ins>" in c11 and "<del>" in c11 and "visually-hidden" in c11
    c20 = page(story, "changes/2.0")
    assert "added" in c20 and "How long we keep data" in c20
    assert "moved" in c20 and "rectification-and-cancellation" in c20
    assert "website-server-records" in c20  # the removed bullet modifies that subsection
    assert "sections changed (" in c20 and " unchanged." in c20
    c21 = page(story, "changes/2.1")
    assert "Upcoming" in c21 and "A new sentence in 2.1." in c21

    search = (story.path / "site/search/search_index.json").read_text()
    assert "versions/1.0/" not in search and "changes/2.0/" in search

    assert json.loads((story.path / "site/versions/1.0/policy.json").read_text())["policy"]["version"] == "1.0"


def test_one_insertion_moves_nothing(story: Project) -> None:
    result = story.run("diff", "1.1", "2.0", "--format", "json", check=True)
    changes = {s["id"]: s["kinds"] for s in json.loads(result.stdout)["sections"]}
    assert changes["data-retention"] == ["added"]
    assert changes["rectification-and-cancellation"] == ["moved"]
    assert changes["website-server-records"] == ["modified"]
    assert set(changes) == {"data-retention", "rectification-and-cancellation", "website-server-records"}


def test_check_reports_unbumped_edit(story: Project) -> None:
    story.git("reset", "-q", "--hard", "HEAD~2")  # back to the unbumped edit of 2.0
    result = story.run("check")
    assert result.returncode == 1
    assert "policy/policy.yaml:3:10: the text of version 2.0 changed after it was published" in result.stderr
    assert '"2.1"' in result.stderr


def test_identical_bytes_with_source_date_epoch(story: Project, tmp_path) -> None:
    story.run("build", "--site-dir", str(tmp_path / "a"), check=True, env=NOW)
    story.run("build", "--site-dir", str(tmp_path / "b"), check=True, env=NOW)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b
    different = [f for f in files_a if (tmp_path / "a" / f).read_bytes() != (tmp_path / "b" / f).read_bytes()]
    assert different == []


def test_version_going_backwards_publishes_nothing(git_project: Project) -> None:
    p = git_project
    p.meta(version="2.0", summary="Two")
    p.commit("2.0")
    edit_section(p, "protecting-information", lambda d: d["body"].append("Added under a lower number."))
    p.meta(version="1.5", summary="Backwards")
    p.commit("1.5 by mistake")
    result = p.run("versions")
    assert result.returncode == 0
    assert "1.5" not in result.stdout.split("warning")[0].split("\n", 1)[1]
    assert "sets version 1.5, which is not above the published 2.0" in result.stderr
    assert "2.0" in result.stdout and "amended 1x" in result.stdout
    check = p.run("check")
    assert check.returncode == 1 and "version 1.5 goes backwards" in check.stderr


def test_repeated_version_is_an_amendment(git_project: Project) -> None:
    p = git_project
    p.meta(version="1.1", summary="One one")
    p.commit("1.1")
    p.meta(version="1.0", summary="Back to one")
    p.commit("1.0 again")
    result = p.run("versions", "--json", check=True)
    versions = json.loads(result.stdout)
    assert [v["version"] for v in versions] == ["1.1", "1.0"]
    assert versions[0]["amendments"]


def test_file_renamed_in_git_keeps_identity(git_project: Project) -> None:
    p = git_project
    p.git("mv", "policy/sections/protecting-information.yaml", "policy/sections/protection.yaml")
    p.meta(version="1.1", summary="File renamed only")
    p.commit("Rename the file")
    result = p.run("diff", "1.0", "1.1", "--format", "json", check=True)
    assert json.loads(result.stdout)["sections"] == []


def test_section_split_into_new_file(git_project: Project) -> None:
    p = git_project
    section = p.read("sections/protecting-information.yaml")
    moved_out = section["body"][2:]
    section["body"] = section["body"][:2]
    p.write("sections/protecting-information.yaml", section)
    p.write("sections/virus-protection.yaml", {"id": "virus-protection", "title": "Virus protection", "body": moved_out})
    meta = p.read("policy.yaml")
    meta["sections"].insert(2, "virus-protection")
    p.meta(version="1.1", sections=meta["sections"], summary="Split")
    p.commit("Split a section")
    result = p.run("diff", "1.0", "1.1", "--format", "json", check=True)
    kinds = {s["id"]: s["kinds"] for s in json.loads(result.stdout)["sections"]}
    assert kinds == {"protecting-information": ["modified"], "virus-protection": ["added"]}


def test_deleted_section(git_project: Project) -> None:
    p = git_project
    (p.policy / "sections/protecting-information.yaml").unlink()
    meta = p.read("policy.yaml")
    meta["sections"].remove("protecting-information")
    p.meta(version="1.1", sections=meta["sections"], summary="Removed")
    p.commit("Remove a section")
    p.run("build", check=True, env=NOW)
    result = p.run("diff", "1.0", "1.1", check=True)
    assert "removed" in result.stdout and "protecting-information" in result.stdout
    assert "removed" in page(p, "changes/1.1")


def test_only_first_parent_history_publishes(git_project: Project) -> None:
    p = git_project
    p.git("checkout", "-q", "-b", "feature")
    p.meta(version="1.1", summary="Work in progress")
    p.commit("1.1 on a branch")
    p.meta(version="1.2", summary="Ready")
    p.commit("1.2 on a branch")
    p.git("checkout", "-q", "main")
    p.git("merge", "-q", "--no-ff", "feature", "-m", "Merge feature", GIT_AUTHOR_DATE="@1796000000 +0000",
          GIT_COMMITTER_DATE="@1796000000 +0000")
    versions = json.loads(p.run("versions", "--json", check=True).stdout)
    assert [v["version"] for v in versions] == ["1.2", "1.0"]
    assert versions[0]["commit"] == p.git("rev-parse", "HEAD")


def test_shallow_clone_needs_full_history(git_project: Project, tmp_path) -> None:
    p = git_project
    p.meta(version="1.1", summary="Second")
    p.commit("1.1")
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{p.path}", str(clone)], check=True)
    shallow = Project(clone)
    result = shallow.run("build")
    assert result.returncode == 1
    assert "shallow" in result.stderr and "fetch-depth: 0" in result.stderr and "Traceback" not in result.stderr
    assert not (clone / "site").exists()
    result = shallow.run("build", "--allow-shallow", check=True, env=NOW)
    assert "history incomplete" in result.stderr
    assert "History incomplete" in page(shallow, "")


def test_no_git_builds_working_tree(tmp_path) -> None:
    p = copy_project(tmp_path / "plain")
    result = p.run("build", check=True, env=NOW)
    assert "without history" in result.stderr
    assert "Version 1.0" in page(p, "")
