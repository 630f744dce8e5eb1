"""`policy check` from the command line: passes on the repo, lists every mistake with file:line, no traceback."""

from __future__ import annotations

from tests.support.project import ROOT, Project, run_policy


def test_check_passes_on_the_repository() -> None:
    result = run_policy(ROOT, "check")
    assert result.returncode == 0, result.stderr
    assert "policy check: OK" in result.stdout


def test_check_reports_every_mistake_and_touches_nothing(git_project: Project) -> None:
    git_project.run("build", check=True)
    site_before = sorted(p.stat().st_mtime_ns for p in (git_project.path / "site").rglob("*"))
    git_project.write_text("policy.yaml", (git_project.policy / "policy.yaml").read_text()
                           .replace('version: "1.0"', 'version: "one"').replace("effective: 2026-11-25",
                                                                                 "effective: 2026-02-30"))
    section = git_project.policy / "sections/protecting-information.yaml"
    section.write_text(section.read_text() + "colour: blue\n")
    result = git_project.run("check")
    assert result.returncode == 1
    out = result.stderr
    assert "policy/policy.yaml:3:10: malformed version 'one'" in out
    assert "policy/policy.yaml:4:12: effective date '2026-02-30' is an impossible date" in out
    assert "policy/sections/protecting-information.yaml:" in out and "unknown field 'colour'" in out
    assert "3 problems found" in out
    assert "Traceback" not in out + result.stdout
    assert sorted(p.stat().st_mtime_ns for p in (git_project.path / "site").rglob("*")) == site_before


def test_check_on_non_utf8_file(git_project: Project) -> None:
    (git_project.policy / "sections/protecting-information.yaml").write_bytes(b"id: x\ntitle: caf\xe9\n")
    result = git_project.run("check")
    assert result.returncode == 1
    assert "policy/sections/protecting-information.yaml:2:" in result.stderr and "not UTF-8" in result.stderr


def test_every_verb_reads_mkdocs_yml_through_mkdocs(git_project: Project) -> None:
    """!ENV tags (and MkDocs' own validation) apply to check, versions and notify as they do to build."""
    config = git_project.path / "mkdocs.yml"
    config.write_text(config.read_text().replace("site_url: https://privacy.synergycabinet.example/",
                                                 "site_url: !ENV [POLICY_TEST_SITE_URL, 'https://fallback.example/']"))
    env = {"POLICY_TEST_SITE_URL": "https://policies.example.net/"}
    listed = git_project.run("versions", "--json", env=env, check=True)
    assert '"url": "https://policies.example.net/versions/1.0/"' in listed.stdout
    assert "https://fallback.example/versions/1.0/" in git_project.run("versions", "--json", check=True).stdout
    assert git_project.run("check", env=env, check=True).returncode == 0
    config.write_text(config.read_text().replace("feed_limit: 50", "feed_limit: many"))
    wrong = git_project.run("check")
    assert wrong.returncode == 1 and "feed_limit" in wrong.stderr and "Traceback" not in wrong.stderr
