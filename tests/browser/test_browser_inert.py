"""Every YAML value is inert text in a real browser: markup in the title, summary, a section title and the
organisation name shows as the literal characters in <title>, the header, the page body and search results,
on / and /versions/<v>/; no dialog fires and no element is injected.

The site is built from a real git repository in a temp dir and served on 127.0.0.1; Chromium as in
tests/support/browser.py (skipped locally without it, a failure in CI).
"""

from __future__ import annotations

import functools
import html
import json
import re
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support.browser import Site, _QuietHandler, new_context, settle
from tests.support.project import Project, copy_project

pytestmark = pytest.mark.browser

NOW = {"SOURCE_DATE_EPOCH": "1798761600"}  # 2027-01-01
TITLE = "Privacy <img src=x onerror=alert('title')> & &amp; <b>bold</b> policy"
SUMMARY = "Summary <img src=x onerror=alert('summary')> &amp; <script>alert('s')</script>"
SECTION = "Terms <img src=x onerror=alert('section')> &amp; <i>it</i>"
ORGANISATION = "Org <img src=x onerror=alert('org')> &amp;"
SECTION_FILE = "sections/privacy-settlement-terms.yaml"

# Elements a payload above would create, and a flag any executed payload would set.
INJECTED_JS = """() => ({
  images: document.querySelectorAll('img[src="x"], [onerror]').length,
  bold: [...document.querySelectorAll('b, i')].filter((e) => /^(bold|it)$/.test(e.textContent)).length,
  scripts: [...document.scripts].filter((s) => /alert\\(/.test(s.textContent)).length,
})"""


def hostile_project(path: Path) -> Project:
    p = copy_project(path)
    p.init_git()
    p.meta(title=TITLE, summary=SUMMARY, organisation={"name": ORGANISATION, "contact": "privacy@example.org"})
    terms = p.read(SECTION_FILE)
    terms["title"] = SECTION
    p.write(SECTION_FILE, terms)
    p.commit("1.0 with markup in every kind of value")
    p.meta(version="1.1", effective="2026-12-01")
    p.commit("1.1")
    return p


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory):
    project = hostile_project(tmp_path_factory.mktemp("inert") / "project")
    project.run("build", check=True, env=NOW)
    root = project.path / "site"
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield Site(root, f"http://{host}:{port}/", json.loads((root / "versions.json").read_text("utf-8")))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def open_watched(context, site: Site, path: str, dialogs: list[str]):
    page = context.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    response = page.goto(site.url(path), wait_until="load")
    assert response is not None and response.ok, path
    settle(page)
    return page


@pytest.mark.parametrize("path, title", [pytest.param("", TITLE, id="home"),
                                         pytest.param("versions/1.0/", f"Version 1.0 — {TITLE}", id="version-1.0")])
def test_markup_in_yaml_is_literal_text_in_the_browser(chromium, hostile_site: Site, path: str, title: str):
    dialogs: list[str] = []
    context = new_context(chromium, hostile_site)
    try:
        page = open_watched(context, hostile_site, path, dialogs)
        assert page.evaluate("document.title") == f"{title} - SynergyCabinet privacy policy"
        topic = page.locator(".md-header__topic[data-md-component=header-topic]").inner_text()
        assert topic.strip() == title
        assert page.locator("article h1").first.inner_text().strip().removesuffix("¶").strip() == TITLE
        headings = [h.strip().removesuffix("¶").strip() for h in page.locator("article h2").all_inner_texts()]
        assert any(h.endswith(SECTION) for h in headings), headings
        contents = page.locator(".policy-contents").inner_text()
        assert SECTION in contents
        toc = page.locator(".md-sidebar--secondary").inner_text()
        assert SECTION in toc
        assert "&amp;amp;" not in page.locator("body").inner_text()
        assert page.evaluate(INJECTED_JS) == {"images": 0, "bold": 0, "scripts": 0}
        page.wait_for_timeout(300)  # an onerror handler would have fired by now
    finally:
        context.close()
    assert dialogs == []


def test_summary_is_literal_on_archive_and_changes_pages(chromium, hostile_site: Site):
    dialogs: list[str] = []
    context = new_context(chromium, hostile_site)
    try:
        for path in ("versions/", "changes/1.0/"):
            page = open_watched(context, hostile_site, path, dialogs)
            assert SUMMARY in page.locator("article").inner_text(), path
            assert page.evaluate(INJECTED_JS) == {"images": 0, "bold": 0, "scripts": 0}, path
    finally:
        context.close()
    assert dialogs == []


def test_search_results_show_the_literal_text(chromium, hostile_site: Site):
    index = json.loads((hostile_site.root / "search/search_index.json").read_text("utf-8"))
    raw = json.dumps(index, ensure_ascii=False)
    assert "<img" not in raw and "<b>bold" not in raw and "<script>alert" not in raw
    titles = {html.unescape(doc["title"]) for doc in index["docs"]}  # Material renders them as HTML
    assert TITLE in titles and any(t.endswith(SECTION) for t in titles), titles
    assert not any("&amp;amp;" in t or re.search(r"&(lt|gt);", t) for t in titles)

    dialogs: list[str] = []
    context = new_context(chromium, hostile_site)
    try:
        page = open_watched(context, hostile_site, "", dialogs)
        for query, expected in (("privacy", TITLE), ("terms", SECTION)):
            box = page.locator("input.md-search__input")
            box.focus()
            box.fill("")
            box.press_sequentially(query, delay=20)  # Material searches on key events
            results = page.locator(".md-search-result__item")
            results.first.wait_for()
            text = " ".join(results.all_inner_texts())
            assert expected in text, (query, text)
            assert page.evaluate(INJECTED_JS) == {"images": 0, "bold": 0, "scripts": 0}, query
        page.wait_for_timeout(300)
    finally:
        context.close()
    assert dialogs == []


def test_feeds_and_json_carry_the_text_as_data(hostile_site: Site):
    """JSON holds the text as data (never rendered as HTML); the HTML inside feeds holds it escaped."""
    versions = json.loads((hostile_site.root / "versions.json").read_text("utf-8"))
    assert versions["title"] == TITLE and versions["versions"][0]["summary"] == SUMMARY
    policy = json.loads((hostile_site.root / "versions/1.0/policy.json").read_text("utf-8"))["policy"]
    assert policy["title"] == TITLE and policy["summary"] == SUMMARY
    assert policy["organisation"]["name"] == ORGANISATION
    assert policy["sections"][4]["title"] == SECTION
    feed = json.loads((hostile_site.root / "feed.json").read_text("utf-8"))
    assert feed["authors"][0]["name"] == ORGANISATION
    for item in feed["items"]:
        assert "<img" not in item["content_html"] and "&lt;img src=x" in item["content_html"]
    for name in ("atom.xml", "rss.xml"):
        raw = (hostile_site.root / name).read_bytes()
        assert b"<img" not in raw and b"<script" not in raw and b"<b>bold" not in raw, name
