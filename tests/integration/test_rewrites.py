"""Published text is anchored: every version record carries its content hash, and a build refuses to publish
other text under a version a previous build (or another source) announced — unless told to accept it.

Real git repositories in temp dirs; history is rewritten with `git reset --hard` and a new commit.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys

import pytest

from policy_site.errors import UserError
from policy_site.site.generate import generate_site
from policy_site.site.mkdocs.plugin import load_settings
from policy_site.source.model import content_hash, policy_to_data
from tests.support.project import Project

NOW = {"SOURCE_DATE_EPOCH": "1798761600"}  # 2027-01-01
S = "sections/protecting-information.yaml"


def publish(project: Project, version: str, sentence: str) -> str:
    section = project.read(S)
    section["body"].append(sentence)
    project.write(S, section)
    project.meta(version=version, summary=f"Version {version}.")
    return project.commit(f"Policy {version}")


@pytest.fixture
def rewritten(git_project: Project) -> tuple[Project, str, str]:
    """1.0 and 1.1 built; then history rewritten: 1.1 published again with other text. (old, new) commits."""
    old = publish(git_project, "1.1", "The sentence 1.1 was published with.")
    git_project.run("build", check=True, env=NOW)
    git_project.git("reset", "-q", "--hard", "HEAD~1")
    new = publish(git_project, "1.1", "Another sentence under the same number.")
    return git_project, old, new


def site_files(project: Project) -> dict:
    return {p: p.read_bytes() for p in (project.path / "site").rglob("*") if p.is_file()}


def test_every_version_record_has_its_content_hash(git_project: Project) -> None:
    publish(git_project, "1.1", "One more sentence.")
    git_project.run("build", check=True, env=NOW)
    versions = json.loads((git_project.path / "site/versions.json").read_text())["versions"]
    for record in versions:
        data = json.loads((git_project.path / f"site/versions/{record['version']}/policy.json").read_text())
        canonical = json.dumps(data["policy"], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        assert record["content_hash"] == hashlib.sha256(canonical.encode()).hexdigest()
        assert data["content_hash"] == record["content_hash"] and len(record["commit"]) == 40
        assert record["rewritten"] == []
    from policy_site.source.loader import load_policy
    policy = load_policy(git_project.policy)
    assert content_hash(policy) == versions[0]["content_hash"]
    assert policy_to_data(policy)["version"] == "1.1"


def test_a_rewritten_version_stops_the_build_and_writes_nothing(rewritten) -> None:
    project, old, new = rewritten
    before = site_files(project)
    result = project.run("build", env=NOW)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "published text was rewritten in git history" in result.stderr
    assert f"version 1.1: published in commit {old[:10]}" in result.stderr
    assert f"history now publishes it in commit {new[:10]} with other text" in result.stderr
    assert "--accept-rewrite 1.1" in result.stderr
    assert site_files(project) == before


def test_an_accepted_rewrite_builds_and_says_so(rewritten) -> None:
    project, old, new = rewritten
    project.run("build", "--accept-rewrite", "1.1.0", check=True, env=NOW)  # any spelling of the number
    for page in ("versions/1.1", "changes/1.1"):
        html = (project.path / "site" / page / "index.html").read_text()
        article = html[html.index('<article class="md-content__inner'):]
        assert '<p class="admonition-title">Rewritten</p>' in article, page
        assert f"<code>{old[:10]}</code>" in article and f"<code>{new[:10]}</code>" in article
        assert "changed after it was published" in article
        # the commit's date as readers read it (site/dates.py), its ISO time kept in <time datetime>
        assert re.search(r'of <time datetime="20\d\d-\d\d-\d\dT[0-9:]+Z">\d{1,2} [A-Z][a-z]+ 20\d\d</time>, after', article)
    assert "Rewritten" not in (project.path / "site/versions/1.0/index.html").read_text()
    record = json.loads((project.path / "site/versions.json").read_text())["versions"][0]
    assert record["version"] == "1.1" and record["rewritten"][0]["old_commit"] == old
    assert record["rewritten"][0]["new_commit"] == new
    project.run("build", check=True, env=NOW)  # later builds need no flag, and keep the notice
    assert "Rewritten" in (project.path / "site/versions/1.1/index.html").read_text()


def test_accept_rewrite_in_mkdocs_yml_for_a_plain_mkdocs_build(rewritten) -> None:
    project, _, new = rewritten
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q"], cwd=project.path, capture_output=True,
                            text=True, env={**NOW, "PATH": "/usr/bin:/bin"})
    assert result.returncode != 0 and "published text was rewritten" in result.stderr + result.stdout
    config = project.path / "mkdocs.yml"
    config.write_text(config.read_text().replace("      feed_limit: 50", "      feed_limit: 50\n"
                                                 "      accept_rewrite: ['1.1']"))
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q"], cwd=project.path, capture_output=True,
                            text=True, env={**NOW, "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert f"<code>{new[:10]}</code>" in (project.path / "site/versions/1.1/index.html").read_text()


def test_a_version_gone_from_history_stops_the_build(git_project: Project) -> None:
    publish(git_project, "1.1", "A sentence of 1.1.")
    git_project.run("build", check=True, env=NOW)
    git_project.git("reset", "-q", "--hard", "HEAD~1")
    result = git_project.run("build", env=NOW)
    assert result.returncode == 1 and "version 1.1: published in commit" in result.stderr
    assert "it is no longer in the history" in result.stderr
    git_project.run("build", "--accept-rewrite", "1.1", check=True, env=NOW)
    result = git_project.run("build", "--accept-rewrite", "1.0", env=NOW)
    assert result.returncode == 0 and "accept_rewrite 1.0: that version was not rewritten" in result.stderr


def test_another_source_of_announced_hashes(git_project: Project, monkeypatch) -> None:
    """The site layer takes more announcements (the notify ledger's, passed in by the command line)."""
    publish(git_project, "1.1", "A sentence of 1.1.")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", NOW["SOURCE_DATE_EPOCH"])
    settings = load_settings(git_project.path / "mkdocs.yml")
    generated = generate_site(settings)
    real = generated.model.entry("1.1").content_hash  # type: ignore[union-attr]
    generate_site(settings, [("the notify ledger", {"1.1": (real, "abc")})])
    with pytest.raises(UserError) as raised:
        generate_site(settings, [("the notify ledger", {"1.1": ("0" * 64, "0123456789abcdef")})])
    assert "version 1.1: published in commit 0123456789 (content 0000000000) according to the notify ledger" \
        in str(raised.value)
    accepting = settings.with_options(accept_rewrite=("1.1",))
    generated = generate_site(accepting, [("the notify ledger", {"1.1": ("0" * 64, "0123456789abcdef")})])
    assert generated.model.entry("1.1").rewrites[0]["old_content_hash"] == "0" * 64  # type: ignore[union-attr]


def test_an_unreadable_previous_versions_json_is_warned_about(git_project: Project) -> None:
    git_project.run("build", check=True, env=NOW)
    (git_project.path / "site/versions.json").write_text('{"versions": [')
    result = git_project.run("build", env=NOW)
    assert result.returncode == 0 and "versions.json cannot be read" in result.stderr
    assert "Traceback" not in result.stderr
