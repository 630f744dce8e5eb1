"""`policy import FILE --document ID`: an imported document joins a library — in a library, in a project of one
document that becomes a library (its old URLs kept), and in a fresh project."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.support.importing import FIXTURES, build_without_pdfs, new_project
from tests.support.project import copy_project, run_policy

MARKDOWN = FIXTURES / "privacy-policy.md"


def _git(project: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=Legal", "-c", "user.email=legal@example.org", *args], cwd=project,
                   check=True, capture_output=True)


def _library(project: Path) -> dict:
    return yaml.safe_load((project / "policy" / "library.yaml").read_text(encoding="utf-8"))


def test_a_single_document_project_becomes_a_library_and_keeps_its_urls(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "p").init_git()
    project.commit("Privacy 1.0")
    plain = run_policy(project.path, "import", str(MARKDOWN), "--document", "northwind")
    assert plain.returncode == 1 and "--existing-as privacy" in plain.stderr and "Traceback" not in plain.stderr
    assert not (project.policy / "northwind").exists() and not (project.policy / "library.yaml").exists()
    done = run_policy(project.path, "import", str(MARKDOWN), "--document", "northwind", "--existing-as", "privacy",
                      check=True)
    assert "pages are under /northwind/" in done.stdout
    assert _library(project.path) | {"title": None} == {"title": None, "documents": ["privacy", "northwind"],
                                                          "formerly_single": "privacy"}
    assert (project.policy / "privacy/policy.yaml").read_text().startswith(
        "# yaml-language-server: $schema=../schema/policy.schema.json")
    assert (project.policy / "northwind/sections").is_dir() and not (project.policy / "northwind/schema").exists()
    section = next((project.policy / "northwind/sections").glob("*.yaml")).read_text()
    assert section.startswith("# yaml-language-server: $schema=../../schema/section.schema.json")
    run_policy(project.path, "check", check=True)
    _git(project.path, "add", "-A")
    _git(project.path, "commit", "-qm", "A library")
    run_policy(project.path, "build", check=True)
    site = project.path / "site"
    assert (site / "northwind/index.html").is_file() and (site / "privacy/versions/1.0/index.html").is_file()
    assert "privacy/versions/1.0/" in (site / "versions/1.0/index.html").read_text()  # the old URL answers


def test_a_document_joins_a_library_and_a_second_import_needs_force(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    first = run_policy(project, "import", str(MARKDOWN), "--document", "privacy", check=True)
    assert "Traceback" not in first.stderr
    assert _library(project)["documents"] == ["privacy"] and not (project / "policy/policy.yaml").exists()
    run_policy(project, "import", str(MARKDOWN), "--document", "archive", check=True)
    assert _library(project)["documents"] == ["privacy", "archive"]
    again = run_policy(project, "import", str(MARKDOWN), "--document", "archive")
    assert again.returncode == 1 and "--force" in again.stderr
    run_policy(project, "import", str(MARKDOWN), "--document", "archive", "--force", check=True)
    assert _library(project)["documents"] == ["privacy", "archive"]
    no_id = run_policy(project, "import", str(MARKDOWN))
    assert no_id.returncode == 1 and "--document ID" in no_id.stderr
    bad = run_policy(project, "import", str(MARKDOWN), "--document", "Cookie Policy")
    assert bad.returncode == 1 and "lowercase letters" in bad.stderr
    run_policy(project, "check", check=True)
    build_without_pdfs(project)
    assert (project / "site/archive/index.html").is_file() and (project / "site/index.html").is_file()
