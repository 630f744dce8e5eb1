"""Kinds of change (material, minor, editorial) and notice periods: `policy check` counts the days, the changes
page and the feeds name the kind."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from tests.support.project import SUBSCRIBED, Project


def _epoch(day: str) -> str:
    """SOURCE_DATE_EPOCH for noon UTC of a day: the product's 'today'."""
    return str(int(datetime.fromisoformat(f"{day}T12:00:00+00:00").timestamp()))


def _options(project: Project, **options: object) -> None:
    config = project.path / "mkdocs.yml"
    lines = "".join(f"      {name}: {json.dumps(value)}\n" for name, value in options.items())
    config.write_text(config.read_text().replace("      feed_limit: 50\n", f"      feed_limit: 50\n{lines}"))


def _bump(project: Project, version: str, effective: str, change: str | None = None, edit: str = "") -> None:
    project.meta(version=version, effective=effective, summary=f"Version {version}.", **({"change": change}
                                                                                       if change else {}))
    section = project.read("sections/protecting-information.yaml")
    section["body"][0] = section["body"][0] + (edit or f" Revised in {version}.")
    project.write("sections/protecting-information.yaml", section)


@pytest.fixture
def noticed(git_project: Project) -> Project:
    """The seed (1.0, committed 2026-11-21) with a 30-day notice period for material changes."""
    _options(git_project, notice_days=30)
    git_project.commit("notice period")
    return git_project


def test_material_change_effective_too_soon_fails_with_the_field_position(noticed: Project) -> None:
    _bump(noticed, "2.0", "2026-12-10")
    result = noticed.run("check", env={"SOURCE_DATE_EPOCH": _epoch("2026-12-01")})
    assert result.returncode == 1
    line = next(x for x in result.stderr.splitlines() if "notice_days" in x)
    assert "policy/policy.yaml:4:12: version 2.0 is a material change" in line
    assert "effective 2026-12-10 is 9 days from today" in line and "use 2026-12-31 or later" in line
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("change", ["minor", "editorial"])
def test_minor_and_editorial_changes_need_no_notice(noticed: Project, change: str) -> None:
    _bump(noticed, "2.0", "2026-12-02", change)
    assert noticed.run("check", env={"SOURCE_DATE_EPOCH": _epoch("2026-12-01")}).returncode == 0


def test_enough_notice_passes_and_the_period_is_per_document(noticed: Project) -> None:
    _bump(noticed, "2.0", "2026-12-31")
    assert noticed.run("check", env={"SOURCE_DATE_EPOCH": _epoch("2026-12-01")}).returncode == 0
    _bump(noticed, "2.0", "2026-12-20")
    config = noticed.path / "mkdocs.yml"
    config.write_text(config.read_text().replace("notice_days: 30", 'notice_days: {"*": 14}'))
    assert noticed.run("check", env={"SOURCE_DATE_EPOCH": _epoch("2026-12-01")}).returncode == 0
    config.write_text(config.read_text().replace('notice_days: {"*": 14}', "notice_days: soon"))
    wrong = noticed.run("check")
    assert wrong.returncode == 1 and "notice_days" in wrong.stderr and "Traceback" not in wrong.stderr


def test_committed_version_counts_from_its_commit_and_a_pull_request_from_today(noticed: Project) -> None:
    _bump(noticed, "2.0", "2026-12-25")
    noticed.commit("Version 2.0", when=int(_epoch("2026-11-24")))  # published 2026-11-24: 31 days of notice
    assert noticed.run("check", env={"SOURCE_DATE_EPOCH": _epoch("2026-11-30")}).returncode == 0
    late = noticed.run("check", "--pull-request", env={"SOURCE_DATE_EPOCH": _epoch("2026-11-30")})
    assert late.returncode == 1 and "25 days from today, as the pull request publishes it" in late.stderr
    from_env = noticed.run("check", env={"SOURCE_DATE_EPOCH": _epoch("2026-11-30"),
                                         "GITHUB_EVENT_NAME": "pull_request"})
    assert from_env.returncode == 1


def test_a_published_mistake_is_reported_within_its_notice_period_only(noticed: Project) -> None:
    _bump(noticed, "2.0", "2026-11-20")  # retroactive: before its own publication
    noticed.commit("Version 2.0", when=int(_epoch("2026-11-24")))
    soon = noticed.run("check", env={"SOURCE_DATE_EPOCH": _epoch("2026-11-30")})
    assert soon.returncode == 1 and "is -4 days from its publication on 2026-11-24" in soon.stderr
    assert noticed.run("check", env={"SOURCE_DATE_EPOCH": _epoch("2027-01-10")}).returncode == 0


def test_a_kind_carried_over_from_the_last_version_is_questioned(git_project: Project) -> None:
    _bump(git_project, "1.1", "2026-12-31", "editorial")
    git_project.commit("Version 1.1")
    _bump(git_project, "2.0", "2027-01-31")
    result = git_project.run("check", check=True)
    assert "version 2.0 is declared `change: editorial`, as version 1.1 was" in result.stdout + result.stderr


def test_unknown_kind_is_refused(git_project: Project) -> None:
    _bump(git_project, "2.0", "2026-12-31", "sweeping")
    result = git_project.run("check")
    assert result.returncode == 1
    assert "policy/policy.yaml:" in result.stderr and "change must be material, minor or editorial, not 'sweeping'" \
        in result.stderr


def test_changes_page_and_feeds_name_the_kind(git_project: Project) -> None:
    for version, change in (("1.1", "minor"), ("1.2", "editorial"), ("2.0", "material")):
        _bump(git_project, version, "2027-01-31", change)
        git_project.commit(f"Version {version}")
    git_project.run("build", check=True, env={"SOURCE_DATE_EPOCH": _epoch("2026-12-01")})
    site = git_project.path / "site"
    pages = {v: (site / "changes" / v / "index.html").read_text() for v in ("1.1", "1.2", "2.0")}
    assert "policy-kind--minor" in pages["1.1"] and "minor change" in pages["1.1"]
    assert "policy-kind--editorial" in pages["1.2"] and "declared an editorial change" in pages["1.2"]
    assert "policy-kind--material" in pages["2.0"]
    atom = (site / "atom.xml").read_text()
    for kind in ("minor", "editorial", "material"):
        assert f'term="{kind}"' in atom
    feed = json.loads((site / "feed.json").read_text())
    tags = {item["title"]: item["tags"] for item in feed["items"]}
    assert any(t == ["minor change"] for t in tags.values()) and any(t == ["editorial change"] for t in tags.values())
    listed = json.loads((site / "versions.json").read_text())
    kinds = {v["version"]: v.get("change") for v in listed["versions"]}
    assert kinds == {"1.0": "material", "1.1": "minor", "1.2": "editorial", "2.0": "material"}


def _outbox(project: Project) -> dict[str, list[str]]:
    """Each announcement's folder in the outbox → the subjects of its messages."""
    import email
    import email.policy
    root = project.path / ".cache" / "outbox"
    return {d.name: sorted(str(email.message_from_bytes(f.read_bytes(), policy=email.policy.default)["Subject"])
                           for f in d.glob("*.eml")) for d in sorted(root.iterdir())} if root.exists() else {}


def test_editorial_is_not_emailed_and_a_reminder_goes_once_before_a_material_change(git_project: Project) -> None:
    _options(git_project, reminder_days=7)
    git_project.commit("reminders")
    for address in ("ann@example.org", "bob@example.org"):
        git_project.run("subscribers", "add", "--subscribed", SUBSCRIBED, address, check=True)
    on = {day: {"SOURCE_DATE_EPOCH": _epoch(day)} for day in ("2026-12-01", "2027-01-20", "2027-01-26")}
    git_project.run("notify", check=True, env=on["2026-12-01"])  # 1.0 announced first
    _bump(git_project, "1.1", "2026-12-05", "editorial")
    git_project.commit("Version 1.1", when=int(_epoch("2026-12-01")))
    _bump(git_project, "2.0", "2027-01-31", "material")
    git_project.commit("Version 2.0", when=int(_epoch("2026-12-01")) + 60)
    first = git_project.run("notify", check=True, env=on["2026-12-01"])
    assert "1.1" in first.stdout and "editorial" in first.stdout
    sent = _outbox(git_project)
    assert set(sent) == {"1.0", "2.0"} and len(sent["2.0"]) == 2
    assert not any(s.startswith("Reminder") for s in sent["2.0"])
    assert "nothing to send" in git_project.run("notify", check=True, env=on["2027-01-20"]).stdout
    git_project.run("notify", check=True, env=on["2027-01-26"])
    sent = _outbox(git_project)
    assert set(sent) == {"1.0", "2.0", "2.0+reminder"}
    assert len(sent["2.0+reminder"]) == 2 and all(s.startswith("Reminder: ") for s in sent["2.0+reminder"])
    assert "nothing to send" in git_project.run("notify", check=True, env=on["2027-01-26"]).stdout
    status = git_project.run("notify", "--status", check=True).stdout
    assert "2.0+reminder" in status
