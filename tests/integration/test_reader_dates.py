"""Dates as readers read them (site/dates.py): "1 December 2026" on pages, in feeds' text and in notice emails,
"1. Dezember 2026" on a German translation's page or in a German document; ISO where machines read them
(<time datetime>, versions.json, feed timestamps, `policy versions`, `policy diff --format json`)."""

from __future__ import annotations

import email
import email.policy
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import feedparser
import pytest

from policy_site.site import dates
from tests.support.project import SUBSCRIBED, Project

EPOCH = {"SOURCE_DATE_EPOCH": "1798761600"}  # 2027-01-01: 1.0 (2026-11-25) and 1.1 (2026-12-01) both in force once
ISO_TEXT = re.compile(r">\s*20\d\d-\d\d-\d\d")  # an ISO date shown as text (not inside an attribute)


def test_long_dates_per_language() -> None:
    day = date(2026, 5, 4)
    assert dates.readable(day, "en") == "4 May 2026"
    assert dates.readable(day, "de") == "4. Mai 2026"
    assert dates.readable(day, "fr") == "4 mai 2026"
    assert dates.readable(day, "en-US") == "May 4, 2026"
    assert dates.readable(day, "pt-BR") == dates.readable(day, "pt_BR") == "4 de maio de 2026"
    assert dates.readable(datetime(2026, 5, 4, 23, 30, tzinfo=UTC), "en") == "4 May 2026"
    assert dates.readable("2026-05-04T10:00:00Z", "de") == "4. Mai 2026"
    assert dates.readable(None, "en") == "" and dates.readable("not a date", "en") == "not a date"


@pytest.mark.parametrize("language", ["xx", "zz-QQ", "", None, "tlh-Latn-x", "../etc"])
def test_a_language_babel_does_not_know_is_english(language: str | None) -> None:
    assert dates.readable(date(2026, 5, 4), language) == "4 May 2026"


def test_time_element_keeps_the_iso_form() -> None:
    assert dates.time_html(date(2026, 5, 4), "de") == '<time datetime="2026-05-04">4. Mai 2026</time>'
    assert dates.time_html(date(2026, 5, 4), "de", marked=True) == \
        '<time datetime="2026-05-04" lang="de">4. Mai 2026</time>'
    assert dates.time_html(datetime(2026, 5, 4, 10, tzinfo=UTC), "en") == \
        '<time datetime="2026-05-04T10:00:00Z">4 May 2026</time>'
    assert dates.time_html(None, "en") == "" and dates.time_html("<b>", "en") == "&lt;b&gt;"


def publish_1_1(p: Project) -> None:
    """1.1 effective 2026-12-01: a new paragraph in the first section."""
    p.meta(version="1.1", effective="2026-12-01", summary="Clearer wording about cookies.")
    section = "sections/" + sorted(f.name for f in (p.policy / "sections").glob("*.yaml"))[0]
    data = p.read(section)
    data["body"] = list(data["body"]) + ["A new paragraph about how long we keep your data."]
    p.write(section, data)
    p.commit("Publish 1.1")


@pytest.fixture
def built(git_project: Project) -> Project:
    """Versions 1.0 (2026-11-25) and 1.1 (2026-12-01) with a German translation, built."""
    publish_1_1(git_project)
    git_project.run("translate", "de", check=True)
    git_project.commit("A German translation")
    git_project.run("build", check=True, env=EPOCH)
    return git_project


def page(p: Project, path: str) -> str:
    html = (p.path / "site" / path / "index.html").read_text(encoding="utf-8")
    return html.split('<article', 1)[1].split("</article>", 1)[0]  # the page's own content, not the theme's


def test_pages_show_readable_dates_in_time_elements(built: Project) -> None:
    archive = page(built, "versions")
    assert '<time datetime="2026-11-25">25 November 2026</time> – <time datetime="2026-12-01">1 December 2026</time>' \
        in archive  # 1.0's time in force
    assert '<td><time datetime="2026-12-01">1 December 2026</time> – </td>' in archive  # 1.1 in force since
    assert not ISO_TEXT.search(archive), ISO_TEXT.findall(archive)
    old = page(built, "versions/1.0")
    assert ('in force from <time datetime="2026-11-25">25 November 2026</time> to '
            '<time datetime="2026-12-01">1 December 2026</time>') in old
    assert "effective <time" in page(built, "")
    changes = page(built, "changes/1.1")
    assert 'effective <time datetime="2026-12-01">1 December 2026</time>' in changes
    assert re.search(r'published <time datetime="2026-11-2\dT[0-9:]+Z">2\d November 2026</time>', changes)
    assert "25 November 2026" in changes and "Effective date" in changes  # the meta change, both dates readable
    for path in ("", "versions", "versions/1.0", "versions/1.1", "changes/1.1", "changes", "follow", "compare"):
        text = page(built, path)
        assert not ISO_TEXT.search(text), (path, ISO_TEXT.findall(text))
    assert '"2026-12-01": "1 December 2026"' in page(built, "compare")  # compare.js shows dates as the site does
    css = (built.path / "site/assets/policy.css").read_text(encoding="utf-8")
    assert re.search(r"\.md-typeset time \{[^}]*white-space: nowrap", css)  # a date never wraps inside itself


def test_a_translated_page_writes_dates_in_its_own_language(built: Project) -> None:
    german = page(built, "de")
    assert '<time datetime="2026-12-01" lang="de">1. Dezember 2026</time>' in german
    assert "December" not in german and not ISO_TEXT.search(german)


def test_machine_readable_outputs_stay_iso(built: Project) -> None:
    site = built.path / "site"
    versions = json.loads((site / "versions.json").read_text(encoding="utf-8"))
    assert {v["version"]: v["effective"] for v in versions["versions"]} == {"1.0": "2026-11-25", "1.1": "2026-12-01"}
    assert "November" not in (site / "versions.json").read_text(encoding="utf-8")
    assert json.loads((site / "versions/1.1/policy.json").read_text(encoding="utf-8"))["effective"] == "2026-12-01"
    listed = built.run("versions", check=True).stdout
    assert "2026-12-01" in listed and "December" not in listed
    diff = built.run("diff", "1.0", "1.1", "--format", "json", check=True).stdout
    assert "2026-12-01" in diff and "December" not in diff


def test_feeds_read_dates_in_their_text_and_keep_iso_timestamps(built: Project) -> None:
    site = built.path / "site"
    for name in ("atom.xml", "rss.xml"):
        parsed = feedparser.parse((site / name).read_bytes())
        assert not parsed.bozo
        titles = [e.title for e in parsed.entries]
        assert titles == ["SynergyCabinet: Privacy and company Policy for Customer 1.1 — takes effect 1 December 2026",
                          "SynergyCabinet: Privacy and company Policy for Customer 1.0 — takes effect 25 November 2026"], titles
        newest = parsed.entries[0]
        content = newest.content[0].value if name == "atom.xml" else newest.description
        if name == "atom.xml":
            assert '<time datetime="2026-12-01">1 December 2026</time>' in content
            assert "25 November 2026" in content  # the effective date's change, in the entry's list
    atom = (site / "atom.xml").read_text(encoding="utf-8")
    assert re.search(r"<updated>2026-11-2\dT[0-9:]+(Z|\+00:00)</updated>", atom)
    assert re.search(r"<published>2026-11-2\dT[0-9:]+(Z|\+00:00)</published>", atom)
    feed = json.loads((site / "feed.json").read_text(encoding="utf-8"))
    item = feed["items"][0]
    assert item["title"] == "SynergyCabinet: Privacy and company Policy for Customer 1.1 — takes effect 1 December 2026"
    assert '<time datetime="2026-12-01">1 December 2026</time>' in item["content_html"]
    assert re.fullmatch(r"2026-11-2\dT[0-9:]+Z", item["date_published"])
    section = feedparser.parse((site / "sections" / next(iter(_section_ids(site))) / "atom.xml").read_bytes())
    assert all(re.search(r"takes effect \d+ \w+ 2026$", e.title) for e in section.entries)


def _section_ids(site: Path) -> list[str]:
    return sorted(p.name for p in (site / "sections").iterdir() if (p / "atom.xml").is_file())


def test_notice_email_reads_the_date_in_its_subject_and_bodies(built: Project, tmp_path: Path) -> None:
    env = {"POLICY_SUBSCRIBERS_DB": str(tmp_path / "subs.db"), **EPOCH}
    built.run("subscribers", "add", "--subscribed", SUBSCRIBED, "ann@example.org", env=env, check=True)
    result = built.run("notify", env=env, check=True)
    files = sorted((built.path / ".cache/outbox").rglob("*.eml"))
    assert files, result.stdout
    msg = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert msg["Subject"] == "SynergyCabinet: Privacy and company Policy for Customer 1.1 — took effect 1 December 2026"
    raw_head = files[0].read_bytes().split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert "December" not in raw_head.replace("Subject:", "\0").split("\0")[0]  # the other headers: as before
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "It took effect on 1 December 2026." in text and not ISO_TEXT.search(text.replace("\n", " "))
    assert 'on <strong><time datetime="2026-12-01">1 December 2026</time></strong>' in html
    assert not ISO_TEXT.search(html)


def test_a_document_in_german_writes_its_dates_in_german(git_project: Project) -> None:
    config = git_project.path / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "  - policy:\n", "  - policy:\n      controlling_language: de\n"), encoding="utf-8")
    publish_1_1(git_project)
    git_project.run("build", check=True, env=EPOCH)
    archive = page(git_project, "versions")
    assert '<time datetime="2026-11-25">25. November 2026</time> – <time datetime="2026-12-01">1. Dezember 2026</time>' \
        in archive
    assert 'lang="de"' not in archive  # the document's own language: no mark needed
    feed = json.loads((git_project.path / "site/feed.json").read_text(encoding="utf-8"))
    assert feed["items"][0]["title"].endswith("takes effect 1. Dezember 2026")
