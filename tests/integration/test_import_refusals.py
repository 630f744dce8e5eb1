"""`policy import` refuses user mistakes with one clear line, exit status 1, no traceback and nothing written."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.importing import FIXTURES, new_project
from tests.support.project import run_policy

MARKDOWN = FIXTURES / "privacy-policy.md"
GIT_OPTIONS = ["--organisation", "N", "--contact", "n@example.org", "--site-url", "https://p.example.org/",
               "--package", "policy-site==0.1.0"]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _refused(cwd: Path, *args: str) -> str:
    result = run_policy(cwd, "import", *args)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("policy import: error: "), result.stderr
    return lines[0]


def test_a_policy_already_there_needs_force(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    (project / "policy" / "sections" / "who-we-are.yaml").write_text(
        (project / "policy" / "sections" / "who-we-are.yaml").read_text() + "  - Our own words.\n")
    before = _snapshot(project)
    line = _refused(project, str(MARKDOWN))
    assert "already holds a policy" in line and "--force" in line and "nothing was written" in line
    assert _snapshot(project) == before and not list(project.glob(".policy-import-*"))
    result = run_policy(project, "import", "--force", str(MARKDOWN), check=True)
    assert "Northwind Outfitters Privacy Policy" in result.stdout
    assert not (project / "policy" / "sections" / "who-we-are.yaml").read_text().endswith("Our own words.\n")
    assert (project / "policy" / "schema" / "policy.schema.json").read_bytes() == \
        before["policy/schema/policy.schema.json"]  # schema/ kept
    assert not (project / "policy" / "sections" / "your-rights.yaml").exists() or "Data protection law" in \
        (project / "policy" / "sections" / "your-rights.yaml").read_text()
    run_policy(project, "check", check=True)


@pytest.mark.parametrize("name, content, expected", [
    ("policy.pdf", b"%PDF-1.4", "unknown file type '.pdf'"),
    ("notes.txt", b"text", "unknown file type '.txt'"),
    ("old.doc", b"\xd0\xcf\x11\xe0", "save it as .docx"),
    ("fake.docx", b"not a zip", "not a Word .docx file"),
    ("missing.md", None, "no such file"),
])
def test_files_that_cannot_be_imported(tmp_path: Path, name: str, content: bytes | None, expected: str) -> None:
    project = new_project(tmp_path)
    if content is not None:
        (tmp_path / name).write_bytes(content)
    before = _snapshot(project)
    line = _refused(project, str(tmp_path / name))
    assert expected in line and name in line
    assert _snapshot(project) == before


def test_a_folder_that_is_not_a_repository(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    line = _refused(tmp_path, "--git", str(tmp_path / "plain"), "--path", "privacy.md", "--into", "new", *GIT_OPTIONS)
    assert "is not a git repository" in line
    assert not (tmp_path / "new").exists()
    line = _refused(tmp_path, "--git", str(tmp_path / "nowhere"), "--path", "privacy.md", "--into", "new",
                    *GIT_OPTIONS)
    assert "no such folder" in line and not (tmp_path / "new").exists()


def _repository(path: Path) -> Path:
    path.mkdir()
    env = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@example.org",
           "GIT_COMMITTER_NAME": "A", "GIT_COMMITTER_EMAIL": "a@example.org", "PATH": "/usr/bin:/bin"}
    (path / "privacy.md").write_text("# Policy\n\n## Data\n\nWe keep little.\n")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "first"]):
        subprocess.run(["git", *args], cwd=path, check=True, env=env, capture_output=True)
    return path


def test_a_path_never_present(tmp_path: Path) -> None:
    repo = _repository(tmp_path / "source")
    line = _refused(tmp_path, "--git", str(repo), "--path", "policy/privacy.md", "--into", "new", *GIT_OPTIONS)
    assert "policy/privacy.md is not in HEAD" in line and not (tmp_path / "new").exists()
    line = _refused(tmp_path, "--git", str(repo), "--path", "privacy.md", "--ref", "nope", "--into", "new",
                    *GIT_OPTIONS)
    assert "no commit 'nope'" in line and not (tmp_path / "new").exists()
    line = _refused(tmp_path, "--git", str(repo), "--path", "privacy.pdf", "--into", "new", *GIT_OPTIONS)
    assert "unknown file type" in line


def test_wrong_combinations_and_a_folder_in_use(tmp_path: Path) -> None:
    repo = _repository(tmp_path / "source")
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "file").write_text("mine")
    assert "is not empty" in _refused(tmp_path, "--git", str(repo), "--path", "privacy.md", "--into", "used",
                                      *GIT_OPTIONS)
    assert (tmp_path / "used" / "file").read_text() == "mine"
    assert "--into DIR" in _refused(tmp_path, "--git", str(repo), "--path", "privacy.md", *GIT_OPTIONS)
    assert "not both" in _refused(tmp_path, str(MARKDOWN), "--git", str(repo), "--path", "privacy.md", "--into", "x",
                                  *GIT_OPTIONS)
    assert "go with --git" in _refused(tmp_path, str(MARKDOWN), "--into", "x")
    assert "give the file to import" in _refused(tmp_path)
    assert "--site-url must be" in _refused(tmp_path, "--git", str(repo), "--path", "privacy.md", "--into", "new",
                                            "--organisation", "N", "--contact", "n@example.org", "--site-url", "nope")
    assert not (tmp_path / "new").exists()


def test_outside_a_project(tmp_path: Path) -> None:
    line = _refused(tmp_path, str(MARKDOWN))
    assert "mkdocs.yml: not found" in line
