"""Which files are policy files: one rule (source/files.py) for the working tree and for git history.

Real git repositories in temp dirs: dotfiles are ignored by both readers, sub-folders and other files in
sections/ are errors in both, symbolic links are refused in both without reading their target, and
`policy check` fails when HEAD would not publish the version it holds.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from policy_site.errors import Problem
from policy_site.history.cache import ParseCache
from policy_site.history.versions import read_history
from tests.support.project import Project

NOW = {"SOURCE_DATE_EPOCH": "1798761600"}  # 2027-01-01
S = "sections/protecting-information.yaml"


def bump(project: Project, version: str, sentence: str = "A new sentence.") -> None:
    section = project.read(S)
    section["body"].append(f"{sentence} ({version})")
    project.write(S, section)
    project.meta(version=version, summary=f"Version {version}.")


def published(project: Project) -> list[str]:
    result = project.run("versions", "--json", check=True)
    return [v["version"] for v in json.loads(result.stdout)]


# --- dotfiles: ignored by both readers -----------------------------------------------------------------------

def test_dotfile_in_sections_is_ignored_and_the_version_publishes(git_project: Project) -> None:
    (git_project.policy / "sections/.gitkeep").write_bytes(b"")
    (git_project.policy / "sections/.DS_Store").write_bytes(b"\x00\x01binary")
    bump(git_project, "1.1")
    assert git_project.run("check").returncode == 0
    git_project.commit("1.1 with dotfiles in sections/")
    assert git_project.run("check").returncode == 0
    result = git_project.run("build", check=True, env=NOW)
    assert "skipped" not in result.stderr
    versions = json.loads((git_project.path / "site/versions.json").read_text())
    assert [v["version"] for v in versions["versions"]] == ["1.1", "1.0"]


def test_dotfile_in_the_first_commit(project: Project) -> None:
    project.init_git()
    (project.policy / "sections/.gitkeep").write_bytes(b"")
    project.commit("First commit, with a .gitkeep")
    project.run("build", check=True, env=NOW)
    assert published(project) == ["1.0"]


# --- sub-folders and other files in sections/: errors in both readers ----------------------------------------

def test_subfolder_of_sections_is_an_error_in_both_readers(git_project: Project) -> None:
    (git_project.policy / "sections/extra").mkdir()
    (git_project.policy / "sections/extra/notes.yaml").write_text("id: notes\n")
    bump(git_project, "1.1")
    result = git_project.run("check")
    assert result.returncode == 1
    assert ("policy/sections/extra/notes.yaml:1:1: section files must be directly in sections/, not in a "
            "sub-folder") in result.stderr
    commit = git_project.commit("1.1 with a sub-folder")[:10]
    versions = git_project.run("versions")
    assert versions.returncode == 0
    assert f"commit {commit}" in versions.stderr and "sub-folder" in versions.stderr  # skipped, and why
    assert published(git_project) == ["1.0"]


def test_other_file_in_sections_is_an_error_in_both_readers(git_project: Project) -> None:
    (git_project.policy / "sections/notes.txt").write_text("Notes")
    bump(git_project, "1.1")
    result = git_project.run("check")
    assert result.returncode == 1 and "policy/sections/notes.txt:1:1: section files must be named" in result.stderr
    commit = git_project.commit("1.1 with notes.txt")[:10]
    assert f"commit {commit}" in git_project.run("versions").stderr
    assert published(git_project) == ["1.0"]


def test_nothing_published_names_why(project: Project) -> None:
    project.init_git()
    (project.policy / "sections/notes.txt").write_text("Notes")
    commit = project.commit("First commit, with a stray file")[:10]
    (project.policy / "sections/notes.txt").unlink()  # fixed in the working tree, not committed
    result = project.run("build")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "nothing is published: no commit on HEAD holds a valid policy under policy/" in result.stderr
    assert f"commit {commit}" in result.stderr and "section files must be named <id>.yaml" in result.stderr
    check = project.run("check")
    assert check.returncode == 0 and "nothing is published yet" in check.stderr


# --- HEAD must publish what it holds ---------------------------------------------------------------------------

def test_check_fails_when_head_would_not_publish_its_version(git_project: Project) -> None:
    """Whatever the reason: here a cache entry recorded by an older build says HEAD's policy is unreadable."""
    bump(git_project, "1.1")
    commit = git_project.commit("1.1")[:10]
    cache_dir = git_project.path / ".cache/history"
    assert git_project.run("check").returncode == 0
    tip = read_history(git_project.policy, cache_dir=cache_dir).tip
    assert tip is not None
    (cache_dir / "parsed.json").unlink()  # the check saved it; an entry once written is never rewritten by save()
    cache = ParseCache(cache_dir)
    cache.entries[tip.key] = (None, [Problem("policy/policy.yaml", 1, 1, "recorded as unreadable")])
    cache.dirty = True
    cache.save()
    result = git_project.run("check")
    assert result.returncode == 1
    assert (f"policy/policy.yaml:3:10: HEAD (commit {commit}" in result.stderr
            and "holds version 1.1, but building the site would not publish it: policy/policy.yaml:1:1: recorded "
                "as unreadable" in result.stderr), result.stderr
    bump(git_project, "1.2")  # uncommitted edits are a draft: judged against what is published
    assert git_project.run("check").returncode == 0


# --- symbolic links: refused in both readers, their target never read -------------------------------------------

def test_symlink_to_a_system_file_is_refused_without_reading_it(git_project: Project) -> None:
    link = git_project.policy / "sections/passwd.yaml"
    link.symlink_to("/etc/passwd")
    result = git_project.run("check")
    assert result.returncode == 1
    assert "policy/sections/passwd.yaml:1:1: this file is a symbolic link" in result.stderr
    assert "root:" not in result.stderr + result.stdout


def test_symlinks_anywhere_are_refused(git_project: Project, tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # opening it would block forever: the test would time out if a target were read
    (git_project.policy / "sections/fifo.yaml").symlink_to(fifo)
    (git_project.policy / "sections/etc").symlink_to("/etc")
    (git_project.policy / "sections/inside.yaml").symlink_to("protecting-information.yaml")
    os.mkfifo(git_project.policy / "sections/pipe.yaml")
    result = git_project.run("check")
    assert result.returncode == 1
    for name in ("fifo.yaml", "etc", "inside.yaml"):
        assert f"policy/sections/{name}:1:1: this file is a symbolic link" in result.stderr, name
    assert "policy/sections/pipe.yaml:1:1: this is not a regular file" in result.stderr


def test_symlinked_policy_yaml_and_sections_folder_are_refused(git_project: Project, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    (git_project.policy / "sections").rename(elsewhere)
    (git_project.policy / "sections").symlink_to(elsewhere)
    result = git_project.run("check")
    assert result.returncode == 1 and "policy/sections:1:1: this file is a symbolic link" in result.stderr
    (git_project.policy / "sections").unlink()
    elsewhere.rename(git_project.policy / "sections")
    (git_project.policy / "policy.yaml").rename(tmp_path / "policy.yaml")
    (git_project.policy / "policy.yaml").symlink_to(tmp_path / "policy.yaml")
    result = git_project.run("check")
    assert result.returncode == 1 and "policy/policy.yaml:1:1: this file is a symbolic link" in result.stderr


def test_symlink_in_history_is_refused_from_its_git_mode(git_project: Project) -> None:
    (git_project.policy / "sections/passwd.yaml").symlink_to("/etc/passwd")
    bump(git_project, "1.1")
    commit = git_project.commit("1.1 with a link to /etc/passwd")[:10]
    assert git_project.git("ls-files", "-s", "policy/sections/passwd.yaml").startswith("120000")
    (git_project.policy / "sections/passwd.yaml").unlink()
    bump(git_project, "1.2")
    git_project.commit("1.2 without the link")
    result = git_project.run("build", check=True, env=NOW)
    assert f"commit {commit}" in result.stderr and "policy/sections/passwd.yaml:1:1: this file is a symbolic link" \
        in result.stderr
    assert "root:" not in result.stderr
    assert published(git_project) == ["1.2", "1.0"]
