"""Change feeds: Atom, RSS 2.0, JSON Feed 1.1 and per-section Atom, built from a real git history by the real CLI."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import feedparser
import jsonschema

from tests.support.project import Project

SITE_URL = "https://privacy.synergycabinet.example/"
A = "{http://www.w3.org/2005/Atom}"
RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|\+00:00)$")
FEEDS = ("atom.xml", "rss.xml", "feed.json")
TEXT = {"type": "string", "minLength": 1}
URL = {"type": "string", "pattern": "^https://"}
DATE = {"type": "string", "pattern": RFC3339_UTC.pattern}
# The JSON Feed 1.1 fields this site promises (https://jsonfeed.org/version/1.1); feedparser 6.0 reads no JSON
JSON_FEED_SCHEMA = {
    "type": "object",
    "required": ["version", "title", "home_page_url", "feed_url", "description", "authors", "items"],
    "properties": {
        "version": {"const": "https://jsonfeed.org/version/1.1"},
        "title": TEXT, "home_page_url": URL, "feed_url": URL, "description": TEXT, "icon": URL, "favicon": URL,
        "authors": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["name"], "properties": {"name": TEXT, "url": TEXT}}},
        "items": {"type": "array", "items": {
            "type": "object",
            "required": ["id", "url", "title", "content_html", "date_published", "date_modified"],
            "properties": {"id": TEXT, "url": URL, "title": TEXT, "content_html": TEXT, "summary": TEXT,
                           "date_published": DATE, "date_modified": DATE}}},
    },
}


def stamp(*ymd: int) -> int:
    return int(datetime(*ymd, tzinfo=UTC).timestamp())


T_11, T_20, T_AMEND = stamp(2027, 1, 5), stamp(2027, 1, 20), stamp(2027, 1, 25)
EPOCH = {"SOURCE_DATE_EPOCH": str(stamp(2027, 2, 1))}  # after 1.0 and 1.1 take effect, before 2.0


def rfc3339(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def publish_11(p: Project) -> None:
    """1.1: one paragraph edited in protecting-information, privacy-settlement-terms retitled."""
    section = p.read("sections/protecting-information.yaml")
    section["body"][0] = section["body"][0].replace("security protection system", "modern encryption system")
    p.write("sections/protecting-information.yaml", section)
    terms = p.read("sections/privacy-settlement-terms.yaml")
    terms["title"] = "Key terms of our privacy settlement:"
    p.write("sections/privacy-settlement-terms.yaml", terms)
    p.meta(version="1.1", effective="2027-01-15", summary="Encryption described; settlement terms retitled.")
    p.commit("Publish 1.1", when=T_11)


def publish_20(p: Project) -> None:
    """2.0, upcoming: a paragraph added to accessing-personal-information, effective in the future."""
    section = p.read("sections/accessing-personal-information.yaml")
    section["body"].append("Requests for access are answered within thirty days.")
    p.write("sections/accessing-personal-information.yaml", section)
    p.meta(version="2.0", effective="2027-06-01", summary="Access requests answered within thirty days.")
    p.commit("Publish 2.0", when=T_20)


def build(p: Project, env: dict | None = None) -> Path:
    p.run("build", check=True, env=env or EPOCH)
    return p.path / "site"


def history(p: Project) -> Path:
    publish_11(p)
    publish_20(p)
    return build(p)


def parse(site: Path, name: str) -> feedparser.FeedParserDict:
    """feedparser's reading of an XML feed (no bozo error); for feed.json, the JSON after schema validation."""
    if name.endswith(".json"):
        data = json.loads((site / name).read_text(encoding="utf-8"))
        jsonschema.validate(data, JSON_FEED_SCHEMA)
        return feedparser.FeedParserDict(data)
    parsed = feedparser.parse((site / name).read_bytes())
    assert not parsed.bozo, f"{name}: {parsed.get('bozo_exception')}"
    return parsed


def atom_tree(site: Path, name: str = "atom.xml") -> ET.Element:
    return ET.fromstring((site / name).read_bytes())


def seed_time(p: Project) -> int:
    return int(p.git("log", "--reverse", "--format=%ct", "--", "policy").splitlines()[0])


def test_atom_has_rfc4287_elements_newest_first(git_project: Project) -> None:
    site = history(git_project)
    root = atom_tree(site)
    for tag in ("id", "title", "updated", "author/" + A + "name", "subtitle"):
        assert (root.findtext(A + tag) or "").strip(), tag
    links = {l.get("rel"): l.get("href") for l in root.findall(A + "link")}
    assert links == {"self": SITE_URL + "atom.xml", "alternate": SITE_URL}
    entries = root.findall(A + "entry")
    assert [e.findtext(A + "id") for e in entries] == [SITE_URL + f"changes/{v}/" for v in ("2.0", "1.1", "1.0")]
    assert [e.findtext(A + "title") for e in entries] == [
        "SynergyCabinet: Privacy and company Policy for Customer 2.0 — takes effect 1 June 2027", "SynergyCabinet: Privacy and company Policy for Customer 1.1 — takes effect 15 January 2027",
        "SynergyCabinet: Privacy and company Policy for Customer 1.0 — takes effect 25 November 2026"]
    for entry, ts in zip(entries, (T_20, T_11, seed_time(git_project))):
        assert entry.findtext(A + "published") == rfc3339(ts) == entry.findtext(A + "updated")
        assert entry.find(A + "content").get("type") == "html"
        assert entry.find(A + "link").get("href") == entry.findtext(A + "id")
        for tag in ("published", "updated"):
            assert RFC3339_UTC.match(entry.findtext(A + tag))
    assert root.findtext(A + "updated") == rfc3339(T_20)  # newest entry, not the build clock
    parsed = parse(site, "atom.xml")
    assert parsed.version == "atom10" and len(parsed.entries) == 3
    assert parsed.feed.author_detail.name == "SynergyCabinet"


def test_rss_has_required_elements(git_project: Project) -> None:
    site = history(git_project)
    channel = ET.fromstring((site / "rss.xml").read_bytes()).find("channel")
    assert channel.findtext("title") and channel.findtext("description")
    assert channel.findtext("link") == SITE_URL
    assert channel.find(A + "link").get("href") == SITE_URL + "rss.xml"
    assert parsedate_to_datetime(channel.findtext("lastBuildDate")).timestamp() == T_20
    items = channel.findall("item")
    assert [i.findtext("guid") for i in items] == [SITE_URL + f"changes/{v}/" for v in ("2.0", "1.1", "1.0")]
    for item, ts in zip(items, (T_20, T_11)):
        assert item.findtext("title") and item.findtext("description") and item.findtext("link")
        assert parsedate_to_datetime(item.findtext("pubDate")).timestamp() == ts
    parsed = parse(site, "rss.xml")
    assert parsed.version == "rss20" and parsed.entries[1].title == "SynergyCabinet: Privacy and company Policy for Customer 1.1 — takes effect 15 January 2027"


def test_json_feed_1_1_fields(git_project: Project) -> None:
    site = history(git_project)
    data = json.loads((site / "feed.json").read_text(encoding="utf-8"))
    assert data["version"] == "https://jsonfeed.org/version/1.1"
    assert data["title"] and data["home_page_url"] == SITE_URL and data["feed_url"] == SITE_URL + "feed.json"
    assert data["authors"] == [{"name": "SynergyCabinet", "url": "mailto:privacy@synergycabinet.example"}]
    assert [i["id"] for i in data["items"]] == [SITE_URL + f"changes/{v}/" for v in ("2.0", "1.1", "1.0")]
    for item in data["items"]:
        for key in ("id", "url", "title", "content_html", "date_published", "date_modified"):
            assert isinstance(item[key], str) and item[key], key
        assert RFC3339_UTC.match(item["date_published"]) and RFC3339_UTC.match(item["date_modified"])
    assert data["items"][0]["date_published"] == "2027-01-20T00:00:00Z"
    assert data["items"][1]["summary"] == "Encryption described; settlement terms retitled."
    assert parse(site, "feed.json")["items"] == data["items"]


def test_entry_content_lists_sections_redline_and_links(git_project: Project) -> None:
    site = history(git_project)
    entry = json.loads((site / "feed.json").read_text(encoding="utf-8"))["items"][1]
    html = entry["content_html"]
    assert "Encryption described; settlement terms retitled." in html
    assert "<strong>modified</strong>: 2. How does SynergyCabinet protect information?" in html
    assert "<strong>renamed</strong>: Key terms of our privacy settlement:" in html
    assert "(was “Some important terms related to our privacy settlement:”)" in html
    assert re.search(r"<del>.*security protection.*</del> <ins>.*modern encryption.*</ins>", html)
    assert len(html) < 3000  # an excerpt, not the whole section
    assert f'href="{SITE_URL}changes/1.1/"' in html and f'href="{SITE_URL}versions/1.1/"' in html
    atom = parse(site, "atom.xml").entries[1].content[0].value
    assert "modern encryption" in atom and "<strong>renamed</strong>" in atom
    rss = ET.fromstring((site / "rss.xml").read_bytes()).findall("channel/item")[1]
    assert "modern encryption" in rss.findtext("{http://purl.org/rss/1.0/modules/content/}encoded")


def test_section_feeds_list_only_versions_that_changed_the_section(git_project: Project) -> None:
    site = history(git_project)
    ids = {p.parent.name for p in (site / "sections").glob("*/atom.xml")}
    assert {"protecting-information", "privacy-settlement-terms", "cookies", "information-sharing"} <= ids
    expected = {"protecting-information": ["1.1", "1.0"], "privacy-settlement-terms": ["1.1", "1.0"],
                "accessing-personal-information": ["2.0", "1.0"], "cookies": ["1.0"]}
    for section_id, versions in expected.items():
        name = f"sections/{section_id}/atom.xml"
        parsed = parse(site, name)
        root = atom_tree(site, name)
        assert [e.findtext(A + "id") for e in root.findall(A + "entry")] == [
            f"{SITE_URL}changes/{v}/#change-{section_id}" for v in versions]
        assert parsed.feed.links[0].href == SITE_URL + name and root.findtext(A + "author/" + A + "name")
    accessing = parse(site, "sections/accessing-personal-information/atom.xml").entries[0].content[0].value
    assert "thirty days" in accessing and "protect information" not in accessing


def test_old_entries_keep_ids_and_dates_after_a_new_version(git_project: Project) -> None:
    publish_11(git_project)
    site = build(git_project)

    def snapshot() -> dict:
        atom = {e.findtext(A + "id"): (e.findtext(A + "published"), e.findtext(A + "updated"))
                for e in atom_tree(site).findall(A + "entry")}
        rss = {i.findtext("guid"): i.findtext("pubDate")
               for i in ET.fromstring((site / "rss.xml").read_bytes()).findall("channel/item")}
        items = json.loads((site / "feed.json").read_text(encoding="utf-8"))["items"]
        return {"atom": atom, "rss": rss, "json": {i["id"]: (i["date_published"], i["date_modified"]) for i in items},
                "section": [e.findtext(A + "id") for e in atom_tree(site, "sections/cookies/atom.xml")
                            .findall(A + "entry")]}

    before = snapshot()
    publish_20(git_project)
    build(git_project)
    after = snapshot()
    for kind in ("atom", "rss", "json"):
        assert len(after[kind]) == 3 and list(after[kind])[0] == SITE_URL + "changes/2.0/"
        assert {k: after[kind][k] for k in before[kind]} == before[kind]
    assert after["section"] == before["section"]


def test_amendment_moves_updated_but_not_published(git_project: Project) -> None:
    publish_11(git_project)
    section = git_project.read("sections/protecting-information.yaml")
    section["body"][1] += " Access is logged."
    git_project.write("sections/protecting-information.yaml", section)
    git_project.commit("Fix a sentence without a version bump", when=T_AMEND)
    site = build(git_project)
    entry = atom_tree(site).findall(A + "entry")[0]
    assert entry.findtext(A + "id") == SITE_URL + "changes/1.1/"
    assert entry.findtext(A + "published") == rfc3339(T_11)
    assert entry.findtext(A + "updated") == rfc3339(T_AMEND) == atom_tree(site).findtext(A + "updated")
    assert "Amended after publication" in entry.findtext(A + "content")


def test_hostile_text_yields_valid_inert_feeds(git_project: Project) -> None:
    hostile = "a < b && c ]]> <script>alert(1)</script>"  # control characters: refused by the loader, see below
    terms = git_project.read("sections/privacy-settlement-terms.yaml")
    terms["title"] = "Terms " + hostile
    git_project.write("sections/privacy-settlement-terms.yaml", terms)
    git_project.meta(version="1.1", effective="2027-01-15", title="Policy " + hostile, summary="Summary " + hostile)
    git_project.commit("Hostile 1.1", when=T_11)
    site = build(git_project)
    names = [*FEEDS, "sections/privacy-settlement-terms/atom.xml"]
    for name in names:
        raw = (site / name).read_bytes()
        assert not re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]", raw), name
        assert b"<script" not in raw and b"]]>" not in raw, name
        parse(site, name)
    contents = [e.find(A + "content").text for e in atom_tree(site).findall(A + "entry")]
    items = json.loads((site / "feed.json").read_text(encoding="utf-8"))["items"]
    for html in (contents[0], items[0]["content_html"]):
        assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "a &lt; b &amp;&amp; c ]]&gt;" in html
    section = parse(site, "sections/privacy-settlement-terms/atom.xml")
    assert "Terms a < b && c ]]> <script>alert(1)</script>" in section.feed.title  # text, shown as text
    assert items[0]["summary"] == "Summary a < b && c ]]> <script>alert(1)</script>"


def test_control_characters_never_reach_a_feed(git_project: Project) -> None:
    from policy_site.site.feeds import clean
    assert clean("a\x01b\x0bc\x1fd\x7fe\tf\ng") == "abcde\tf\ng"
    git_project.meta(version="1.1", summary="Bell \x07 in the summary")
    result = git_project.run("build")
    assert result.returncode == 1 and "summary contains control character U+0007" in result.stderr


def test_builds_are_byte_identical_and_independent_of_build_time(git_project: Project) -> None:
    site = history(git_project)
    files = sorted(p.relative_to(site) for p in site.rglob("*") if p.name in FEEDS)
    assert len(files) > 10
    first = {f: (site / f).read_bytes() for f in files}
    build(git_project)
    assert {f: (site / f).read_bytes() for f in files} == first
    build(git_project, env={"SOURCE_DATE_EPOCH": str(stamp(2027, 3, 1))})
    assert {f: (site / f).read_bytes() for f in files} == first


def test_options_limit_title_icon_and_autodiscovery(git_project: Project) -> None:
    config = git_project.path / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    text = re.sub(r"feed_limit: \d+", "feed_limit: 2\n      feed_icon: assets/icon.png", text)
    text = re.sub(r"feed_title: .*", "feed_title: Policy news", text)
    config.write_text(text, encoding="utf-8")
    git_project.commit("Configure feeds")
    site = history(git_project)
    root = atom_tree(site)
    assert root.findtext(A + "title") == "Policy news"
    assert root.findtext(A + "icon") == SITE_URL + "assets/icon.png"
    assert len(root.findall(A + "entry")) == 2 and root.find(A + "entry").findtext(A + "id").endswith("/2.0/")
    data = json.loads((site / "feed.json").read_text(encoding="utf-8"))
    assert data["icon"] == SITE_URL + "assets/icon.png" and len(data["items"]) == 2
    assert len(parse(site, "rss.xml").entries) == 2
    assert parse(site, "sections/cookies/atom.xml").feed.title == "Policy news — section “Enable cookies:”"
    html = (site / "index.html").read_text(encoding="utf-8")
    for kind, name in (("application/atom+xml", "atom.xml"), ("application/rss+xml", "rss.xml"),
                       ("application/feed+json", "feed.json")):
        assert re.search(rf'<link rel="alternate" type="{re.escape(kind)}"[^>]*href="(\./|(\.\./)*){name}"', html)
    assert "Follow changes" in html
