"""What a new organisation's project says is true: PR comments as GitHub renders them, no change said as such,
the workflow's pinned tool, promises of notice only where the configuration keeps them, translations that are
not translated yet said so, and the organisation named. Real git repositories; GitHub's own renderer (cmark-gfm).
"""

from __future__ import annotations

import json
import re
import time
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import cmarkgfm
import pytest
import yaml

from tests.support.importing import ORGANISATION, new_project
from tests.support.project import Project, run_policy, without_pdfs


class _Structure(HTMLParser):
    """The elements of rendered HTML, and the text outside any table."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.depth = 0
        self.loose: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        self.tags.append(tag)
        self.depth += tag == "table"

    def handle_endtag(self, tag: str) -> None:
        self.depth -= tag == "table"

    def handle_data(self, data: str) -> None:
        if not self.depth:
            self.loose.append(data)


def github(markdown: str) -> _Structure:
    parsed = _Structure()
    parsed.feed(cmarkgfm.github_flavored_markdown_to_html(markdown, options=cmarkgfm.Options.CMARK_OPT_UNSAFE))
    return parsed


def _bump(project: Project, version: str, effective: date, **meta: str) -> None:
    project.meta(version=version, effective=effective.isoformat(), **meta)


def test_the_pr_comment_renders_on_github_as_tables_details_and_lists(git_project: Project) -> None:
    _bump(git_project, "2.0", date.today() + timedelta(days=40), summary="We explain | pipes & *stars*")
    section = git_project.read("sections/protecting-information.yaml")
    section["title"] = "Keeping your information safe"
    section["body"].append("A new paragraph about [encryption](https://example.org/crypto) @everyone.")
    git_project.write("sections/protecting-information.yaml", section)
    git_project.write("sections/data-we-share.yaml", {"id": "data-we-share", "title": "Data we share",
                                                      "body": [{"bullets": ["With carriers, to deliver.",
                                                                          "With banks | to get paid."]}]})
    meta = git_project.read("policy.yaml")
    meta["sections"] = [*meta["sections"], "data-we-share"]
    git_project.write("policy.yaml", meta)
    result = git_project.run("diff", "--format", "markdown")
    assert result.returncode == 0, result.stderr
    comment = result.stdout
    assert "- **effective date**" in comment  # the bullet that once swallowed the table
    parsed = github(comment)
    assert parsed.tags.count("table") == 1 and parsed.tags.count("tr") >= 3, comment
    assert parsed.tags.count("details") >= 2 and parsed.tags.count("summary") == parsed.tags.count("details")
    assert "li" in parsed.tags and "del" in parsed.tags and "ins" in parsed.tags
    loose = "".join(parsed.loose)
    assert "| Section |" not in loose and "| --- |" not in loose, loose  # no table left as text
    assert "@everyone" not in loose  # mentions stay inert


def test_no_change_says_so_and_gives_no_comment_body(git_project: Project) -> None:
    markdown = git_project.run("diff", "--format", "markdown")
    assert markdown.returncode == 0 and markdown.stdout == "", markdown.stdout
    assert "no change" in markdown.stderr and "compare/?from=1.0&to=1.0" not in markdown.stderr
    asked = git_project.run("diff", "--format", "markdown", "--always")
    assert asked.returncode == 0 and asked.stdout.startswith("No change:"), asked.stdout
    text = git_project.run("diff")
    assert text.returncode == 0 and "No change" in text.stdout and "Editorial" not in text.stdout
    assert json.loads(git_project.run("diff", "--format", "json").stdout)["sections"] == []  # JSON keeps its fields
    _bump(git_project, "1.1", date.today())  # a version bump alone is still an editorial version
    bumped = git_project.run("diff", "--format", "markdown")
    assert "Editorial version" in bumped.stdout


def test_init_pins_the_workflow_and_refuses_what_it_cannot_pin(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    workflow = (project / ".github/workflows/policy.yml").read_text(encoding="utf-8")
    assert workflow.count('run: pip install "policy-site==0.1.0"') == 2 and "vars.POLICY_SITE_PACKAGE" not in workflow
    yaml.safe_load(workflow)
    git = "policy-site @ git+https://github.com/acme/policy-site@0123456789abcdef0123456789abcdef01234567"
    pinned = run_policy(tmp_path, "init", "git-pinned", *ORGANISATION, "--site-url", "https://p.example/",
                        "--package", git, check=True)
    assert f"installs {git}" in pinned.stdout
    assert f'pip install "{git}"' in (tmp_path / "git-pinned/.github/workflows/policy.yml").read_text()
    # this checkout's editable install has no origin a runner can reach
    editable = run_policy(tmp_path, "init", "editable", *ORGANISATION, "--site-url", "https://p.example/")
    assert editable.returncode == 1 and "--package" in editable.stderr and "Traceback" not in editable.stderr
    assert not (tmp_path / "editable").exists()
    for bad, why in (("requests==2.0", "must install policy-site"), ('policy-site==0.1"; rm -rf /', "pip requirement"),
                     ("policy-site @ git+https://x.example/$(id)", "quoting"), ("policy-site==${{ secrets.X }}",
                                                                              "pip requirement")):
        refused = run_policy(tmp_path, "init", "bad", *ORGANISATION, "--site-url", "https://p.example/",
                             "--package", bad)
        assert refused.returncode == 1 and why in refused.stderr, (bad, refused.stderr)
        assert not (tmp_path / "bad").exists()


def test_a_new_project_names_its_organisation_and_promises_only_its_notice_period(tmp_path: Path) -> None:
    project = Project(new_project(tmp_path)).init_git()
    config = (project.path / "mkdocs.yml").read_text(encoding="utf-8")
    assert 'site_name: "Northwind Outfitters privacy policy"' in config and "notice_days: 30" in config
    config = without_pdfs(config)  # pages are checked here, not PDFs (test_pdf.py)
    (project.path / "mkdocs.yml").write_text(config, encoding="utf-8")
    project.commit("Publish 1.0")
    _bump(project, "2.0", date.today())  # material, effective at once: check refuses it (30 days' notice)
    refused = project.run("check")
    assert refused.returncode == 1 and "at least 30 days" in refused.stderr
    _bump(project, "2.0", date.today() + timedelta(days=30), summary="Longer notice")
    section = project.read("sections/your-rights.yaml")
    section["body"].append("You may also complain to the regulator.")
    project.write("sections/your-rights.yaml", section)
    assert project.run("check").returncode == 0
    project.commit("2.0", when=int(time.time()))
    project.run("build", check=True)
    site = project.path / "site"
    follow = (site / "follow/index.html").read_text(encoding="utf-8")
    assert "at least 30 days after it is published" in follow and "before it takes effect." not in follow.split(
        "at least 30 days")[0]
    changes = (site / "changes/2.0/index.html").read_text(encoding="utf-8")
    assert "emailed when it is published, 30 days before it takes effect" in changes
    assert "Northwind Outfitters privacy policy" in re.search(r"<title>(.*?)</title>", changes, re.S).group(1)
    # without notice_days and without a sender, no page promises mail or notice
    (project.path / "mkdocs.yml").write_text(re.sub(r"(?m)^\s+(notice_days|email_from): .*\n", "", config))
    project.run("build", check=True)
    for page in ("follow/index.html", "changes/2.0/index.html"):
        text = (site / page).read_text(encoding="utf-8")
        assert "emailed" not in text and "before it takes effect" not in text, page
    assert "sends no email notices" in (site / "follow/index.html").read_text(encoding="utf-8")


def test_a_translation_scaffold_is_untranslated_until_its_words_change(git_project: Project) -> None:
    git_project.run("translate", "de", check=True)
    status = git_project.run("translate", "--status", check=True).stdout
    assert "untranslated" in status and " current " not in status, status
    warnings = git_project.run("check").stderr
    assert "is untranslated" in warnings
    de = git_project.policy / "translations/de/sections"
    first = sorted(de.iterdir())[0]
    data = yaml.safe_load(first.read_text(encoding="utf-8"))
    data["title"] = "Übersetzt: " + data["title"]
    first.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    second = sorted(de.iterdir())[1]
    second.write_text(second.read_text(encoding="utf-8") + "translated: true\n", encoding="utf-8")
    git_project.commit("German, begun")
    git_project.run("build", check=True)
    listed = json.loads((git_project.path / "site/de/translation.json").read_text(encoding="utf-8"))
    statuses = {s["id"]: s["status"] for s in listed["sections"]}
    assert statuses[first.stem] == "current" and statuses[second.stem] == "current"
    assert {v for k, v in statuses.items() if k not in (first.stem, second.stem)} == {"untranslated"}
    page = (git_project.path / "site/de/index.html").read_text(encoding="utf-8")
    assert page.count("is not translated into German yet") == len(statuses) - 2
    bad = second.read_text(encoding="utf-8").replace("translated: true", "translated: maybe")
    second.write_text(bad, encoding="utf-8")
    refused = git_project.run("check")
    assert refused.returncode == 1 and f"{second.stem}.yaml" in refused.stderr and "translated must be" in \
        refused.stderr


@pytest.mark.parametrize(("organisation", "title", "named"), [
    ("Acme Widgets", "Privacy policy", "Acme Widgets privacy policy"),
    ("Acme Widgets", "Terms of Service", "Acme Widgets Terms of Service"),
    ("Acme Widgets", "Acme Widgets privacy notice", "Acme Widgets privacy notice"),
    ("ACME", "Cookie policy", "ACME cookie policy"),
])
def test_titles_name_the_organisation_once(organisation: str, title: str, named: str) -> None:
    from policy_site.source.naming import named_title
    assert named_title(organisation, title) == named


def test_the_package_spec_is_checked() -> None:
    from policy_site.cli.workflow_package import check_spec
    from policy_site.errors import UserError
    assert check_spec(" policy-site==1.2.3 ") == "policy-site==1.2.3"
    assert check_spec("Policy_Site>=0.1") == "Policy_Site>=0.1"
    for bad in ("policy-site\n==1", "policy-site @ file:///tmp/a b.whl", "`id`", ""):
        with pytest.raises(UserError):
            check_spec(bad)


def test_a_new_subscriber_is_sent_only_news_and_the_last_upcoming_version(git_project: Project, tmp_path: Path) -> None:
    """1.0 in force and 1.1, 1.2 upcoming, all published before `late` subscribed: `late` gets one notice, of 1.2
    (the text to come), not three; `early`, subscribed before all of them, gets each. A version published after
    `late` subscribed reaches them too."""
    from email import message_from_bytes
    from email import policy as email_policy

    from tests.support.project import SUBSCRIBED
    now = int(time.time())
    for version, days in (("1.1", 60), ("1.2", 90)):
        _bump(git_project, version, date.today() + timedelta(days=days), summary=f"Version {version}.")
        section = git_project.read("sections/protecting-information.yaml")
        section["body"].append(f"A paragraph of version {version}.")
        git_project.write("sections/protecting-information.yaml", section)
        git_project.commit(f"Publish {version}", when=now - 3600 * (3 if version == "1.1" else 2))
    env = {"POLICY_SUBSCRIBERS_DB": str(tmp_path / "subs.db"), "POLICY_UNSUBSCRIBE_SECRET": "a-secret-for-the-news"}
    git_project.run("subscribers", "add", "early@example.org", "--subscribed", SUBSCRIBED, env=env, check=True)
    git_project.run("subscribers", "add", "late@example.org", env=env, check=True)
    git_project.run("notify", env=env, check=True)

    def received(address: str) -> list[str]:
        found = []
        for path in sorted((git_project.path / ".cache/outbox").rglob("*.eml")):
            message = message_from_bytes(path.read_bytes(), policy=email_policy.default)
            if message["To"].addresses[0].addr_spec == address:
                found.append(str(message["Subject"]).split(" — ")[0].rsplit(" ", 1)[1])
        return sorted(found)

    assert received("late@example.org") == ["1.2"]
    assert received("early@example.org") == ["1.0", "1.1", "1.2"]
    _bump(git_project, "1.3", date.today() + timedelta(days=120), summary="Version 1.3.")
    section = git_project.read("sections/protecting-information.yaml")
    section["body"].append("A paragraph of version 1.3.")
    git_project.write("sections/protecting-information.yaml", section)
    git_project.commit("Publish 1.3", when=now + 60)
    git_project.run("notify", env=env, check=True)
    assert received("late@example.org") == ["1.2", "1.3"]
    bad = git_project.run("subscribers", "add", "x@example.org", "--subscribed", "yesterday", env=env)
    assert bad.returncode == 1 and "subscribed must be a time like" in bad.stderr and "Traceback" not in bad.stderr
