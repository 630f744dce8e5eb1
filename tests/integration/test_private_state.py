"""The subscribers database and the outbox are never inside the site, the generated pages or the policy folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.project import SUBSCRIBED, Project


def configure(project: Project, **options: str) -> None:
    """Set mkdocs.yml's site_dir (top level) and policy plugin options."""
    config = project.path / "mkdocs.yml"
    text = config.read_text()
    if "site_dir" in options:
        text = text.replace("docs_dir: policy\n", f"docs_dir: policy\nsite_dir: {options.pop('site_dir')}\n")
    extra = "".join(f"      {key}: {value}\n" for key, value in options.items())
    config.write_text(text.replace("      list_id:", extra + "      list_id:"))


def refused(result, verb: str, *fragments: str) -> None:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    line = result.stderr.strip()
    assert "\n" not in line and line.startswith(f"policy {verb}: error: "), line
    for fragment in fragments:
        assert fragment in line, line


def test_database_in_a_renamed_site_dir_is_refused_everywhere_and_build_deletes_nothing(git_project: Project) -> None:
    configure(git_project, site_dir="public", subscribers_db="public/subs.sqlite3")
    public = git_project.path / "public"
    public.mkdir()
    database = public / "subs.sqlite3"
    database.write_bytes(b"precious")
    (public / "index.html").write_text("old site")
    for args in (("subscribers", "add", "--subscribed", SUBSCRIBED, "ann@example.org"), ("subscribers", "list"), ("subscribers", "count"),
                 ("subscribers", "export"), ("subscribers", "remove", "ann@example.org"), ("notify",),
                 ("notify", "--status"), ("notify", "--dry-run")):
        refused(git_project.run(*args), args[0], "the subscribers database would be inside site_dir",
                f"({database})", "set subscribers_db in mkdocs.yml to a file outside it")
    build = git_project.run("build")
    refused(build, "build", "the subscribers database would be inside site_dir", f"({database})")
    assert database.read_bytes() == b"precious" and (public / "index.html").read_text() == "old site"


def test_environment_database_through_a_symlink_or_dotdot_is_refused(git_project: Project, tmp_path: Path) -> None:
    configure(git_project, site_dir="public")
    (git_project.path / "public").mkdir()
    os.symlink(git_project.path / "public", git_project.path / "data")
    for configured in (git_project.path / "data" / "subs.sqlite3",
                       git_project.path / ".cache" / ".." / "public" / "subs.sqlite3"):
        env = {"POLICY_SUBSCRIBERS_DB": str(configured)}
        result = git_project.run("subscribers", "add", "--subscribed", SUBSCRIBED, "ann@example.org", env=env)
        refused(result, "subscribers", "would be inside site_dir", str(git_project.path / "public" / "subs.sqlite3"),
                "set POLICY_SUBSCRIBERS_DB to a file outside it")
        refused(git_project.run("build", env=env), "build", "would be inside site_dir")
    assert not list((git_project.path / "public").iterdir())
    fine = {"POLICY_SUBSCRIBERS_DB": str(tmp_path / "elsewhere" / "subs.sqlite3")}
    assert git_project.run("subscribers", "add", "--subscribed", SUBSCRIBED, "ann@example.org", env=fine).returncode == 0


@pytest.mark.parametrize("database, where", [
    (".cache/pages/subs.sqlite3", "inside pages_dir"),
    ("policy/subs.sqlite3", "inside the policy folder"),
    ("site/subs.sqlite3", "inside site_dir"),
])
def test_database_in_pages_or_policy_or_default_site_is_refused(project: Project, database: str, where: str) -> None:
    configure(project, subscribers_db=database)
    refused(project.run("subscribers", "add", "--subscribed", SUBSCRIBED, "ann@example.org"), "subscribers", where)
    assert not (project.path / database).exists()


def test_outbox_inside_the_site_is_refused_by_notify_and_build(git_project: Project, tmp_path: Path) -> None:
    configure(git_project, site_dir="public", outbox_dir="public/mail")
    env = {"POLICY_SUBSCRIBERS_DB": str(tmp_path / "subs.sqlite3")}
    assert git_project.run("subscribers", "add", "--subscribed", SUBSCRIBED, "ann@example.org", env=env).returncode == 0  # no outbox involved
    outbox = git_project.path / "public" / "mail"
    refused(git_project.run("notify", env=env), "notify", "the email outbox would be inside site_dir", f"({outbox})",
            "set outbox_dir in mkdocs.yml to a folder outside it")
    assert not outbox.exists()
    refused(git_project.run("build", env=env), "build", "the email outbox would be inside site_dir")


def test_site_dir_given_to_build_is_checked_too(git_project: Project, tmp_path: Path) -> None:
    env = {"POLICY_SUBSCRIBERS_DB": str(tmp_path / "out" / "subs.sqlite3")}
    refused(git_project.run("build", "--site-dir", str(tmp_path / "out"), env=env), "build", "inside site_dir")
    assert git_project.run("build", env=env).returncode == 0
