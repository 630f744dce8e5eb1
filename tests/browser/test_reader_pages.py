"""What a reader sees (issue 21): one notice for all upcoming versions, moves told by their new neighbour,
upcoming sections by their title on the follow page, one table of contents, bordered redline tables, a
deletion and an insertion never glued together, and sentences apart in the HTML notice.

One repository built once (`reader`): the seed as 1.0 (in force); 1.1 (upcoming) moves a section and adds
one with a table and an address; 1.2 (upcoming, later) edits a table cell and a line of the address. The
browser checks run in real headless Chromium (tests/support/browser.py) and wait for what they look at.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from policy_site.diff.comment import as_markdown
from policy_site.diff.redline import redline
from policy_site.diff.redline_render import redline_html, redline_text
from policy_site.diff.sections import Place, diff_policies, diff_to_data, move_text
from policy_site.source import inline
from tests.support.browser import Site, goto, new_context, screenshot, serve
from tests.support.diff import load_cases, policy_from_plain
from tests.support.project import ROOT, SUBSCRIBED, Project, copy_project

try:
    from playwright.sync_api import expect
except ImportError:  # the `chromium` fixture skips or fails with the reason
    expect = None

BUILT_AT = {"SOURCE_DATE_EPOCH": "1796083200"}  # 2026-12-01T00:00:00Z: 1.0 in force, 1.1 and 1.2 upcoming
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}
CONTACT = "contact-us"
CONTACT_TITLE = "How to reach us & <who> answers"  # YAML text with HTML in it: shown as text everywhere
ADDRESS_1 = "SynergyCabinet Ltd\\\n42 High Street\\\nLondon EC1A 1AA"
ADDRESS_2 = "SynergyCabinet Ltd\\\nUnit 7, 42 High Street\\\nLondon EC1A 1AA"


def _contact(address: str, hours: str) -> dict:
    return {"id": CONTACT, "title": CONTACT_TITLE,
            "body": ["Write to us or call us:", address,
                     {"table": {"caption": "Ways to reach us", "row_headers": True,
                                "header": ["Channel", "Address", "Hours"],
                                "rows": [["Email", "privacy@synergycabinet.example", "Any time"],
                                         ["Telephone", "+44 20 7946 0000", hours]]}}]}


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Project:
    p = copy_project(tmp_path_factory.mktemp("reader") / "repo").init_git()
    p.commit("Publish the privacy policy, version 1.0")
    data = p.read("policy.yaml")
    order = data["sections"]
    order.remove("personal-information-protection")
    order.insert(order.index("accessing-personal-information") + 1, "personal-information-protection")
    order.append(CONTACT)
    p.write("policy.yaml", data)
    p.write(f"sections/{CONTACT}.yaml", _contact(ADDRESS_1, "9:00–17:00"))
    p.meta(version="1.1", effective="2027-03-01", summary="How to reach us; protection after access.")
    p.commit("Policy 1.1")
    p.write(f"sections/{CONTACT}.yaml", _contact(ADDRESS_2, "8:00–18:00"))
    p.meta(version="1.2", effective="2027-06-01", summary="We moved; longer telephone hours.")
    p.commit("Policy 1.2")
    p.run("build", check=True, env=BUILT_AT)
    return p


def page(p: Project, path: str) -> str:
    return (p.path / "site" / path / "index.html").read_text(encoding="utf-8")


class _Text(HTMLParser):
    """The text of an HTML document as a reader sees it: whitespace collapsed, <br> a line break."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("style", "script", "title", "head"):
            self.skip += 1
        elif tag in ("p", "li", "br", "div", "h2", "hr", "ul"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "title", "head"):
            self.skip -= 1
        elif tag in ("p", "li", "div", "h2", "ul"):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)

    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self.parts).split("\n"))
        return "\n".join(line for line in lines if line)


def html_text(markup: str) -> str:
    parser = _Text()
    parser.feed(markup)
    return parser.text()


def _notice(markup: str) -> str:
    """The upcoming-changes notice of a page (there must be exactly one)."""
    found = re.findall(r'<div class="admonition info policy-notice policy-notice--upcoming">.*?\n</div>', markup, re.S)
    assert len(found) == 1, f"{len(found)} upcoming notices"
    return found[0]


# --- 1. one notice for every upcoming version ---------------------------------------------------------------

def test_one_upcoming_notice_lists_every_upcoming_version(reader: Project) -> None:
    home = page(reader, "")
    assert home.count("policy-notice--upcoming") == 1
    notice = _notice(home)
    text = html_text(notice)
    assert text.splitlines() == [
        "Upcoming changes", "2 new versions are published and take effect later:",
        "Version 1.1 takes effect on 1 March 2027 (what changes in 1.1)",
        "Version 1.2 takes effect on 1 June 2027 (what changes in 1.2)",
        "Compare the text in force today (version 1.0) with version 1.2, the last of them."], text
    for version in ("1.1", "1.2"):
        assert f'href="versions/{version}/"' in notice and f'href="changes/{version}/"' in notice
    assert 'href="compare/?from=1.0&amp;to=1.2"' in notice


def test_one_upcoming_version_reads_in_the_singular(demo_site: Path) -> None:
    versions = json.loads((demo_site / "versions.json").read_text(encoding="utf-8"))
    coming = [v["version"] for v in versions["versions"] if v["status"] == "upcoming"]
    assert len(coming) == 1
    notice = _notice((demo_site / "index.html").read_text(encoding="utf-8"))
    text = html_text(notice)
    assert text.startswith(f"Upcoming change\nVersion {coming[0]} takes effect on "), text
    assert f"Compare the text in force today (version {versions['current']}) with version {coming[0]}." in text
    assert "the last of them" not in text and "versions are" not in text
    assert f'href="compare/?from={versions["current"]}&amp;to={coming[0]}"' in notice


# --- 2. a move is told by the section's new neighbour and parent ----------------------------------------------

def test_a_move_names_its_new_neighbour_and_keeps_the_json_fields(reader: Project) -> None:
    data = json.loads(reader.run("diff", "1.0", "1.1", "--format", "json", check=True).stdout)
    moved = [s for s in data["sections"] if "moved" in s["kinds"]]
    assert [s["id"] for s in moved] == ["personal-information-protection"]
    move = moved[0]
    assert move["move"] == "Moved: now after “2. How can the personal information be accessed?”."
    assert move["old_place"] == {"parent": None, "parent_label": None, "position": 1, "siblings": 5,
                                 "after": None, "after_label": None}
    assert move["new_place"] == {"parent": None, "parent_label": None, "position": 3, "siblings": 6,
                                 "after": "accessing-personal-information",
                                 "after_label": "2. How can the personal information be accessed?"}
    for key in ("id", "kinds", "old_title", "new_title", "old_number", "new_number", "context", "redline"):
        assert key in move
    text = reader.run("diff", "1.0", "1.1", check=True).stdout
    assert "Moved: now after “2. How can the personal information be accessed?”." in text
    assert "position" not in text
    assert "Moved: now after “2. How can the personal information be accessed?”." in page(reader, "changes/1.1")


def _place(parent: str | None, position: int, siblings: int, after: str | None) -> Place:
    return Place(parent, f"1. {parent}" if parent else None, position, siblings, after, after)


@pytest.mark.parametrize("old, new, said", [
    (_place(None, 4, 4, "C"), _place(None, 1, 4, None), "Moved: now the first section."),
    (_place(None, 1, 4, None), _place(None, 3, 4, "B"), "Moved: now after “B”."),
    (_place("P", 3, 3, "B"), _place("P", 1, 3, None), "Moved: now the first section under “1. P”."),
    (_place("P", 1, 3, None), _place("Q", 2, 2, "A"), "Moved: now under “1. Q”, after “A”."),
    (_place("P", 1, 3, None), _place("Q", 1, 2, None), "Moved: now the first section under “1. Q”."),
    (_place("P", 1, 3, None), _place("Q", 1, 1, None), "Moved: now the only section under “1. Q”."),
    (_place("P", 2, 3, "A"), _place(None, 2, 5, "1. P"), "Moved: now at the top level, after “1. P”."),
    (_place("P", 2, 3, "A"), _place(None, 1, 5, None), "Moved: now the first section at the top level."),
])
def test_move_text(old: Place, new: Place, said: str) -> None:
    assert move_text(old, new) == said


# --- 3. the follow page names a section of an upcoming version by its title -------------------------------------

def test_follow_page_names_upcoming_sections_by_title(reader: Project) -> None:
    follow = page(reader, "follow")
    link = re.search(rf'<li><a href="../sections/{CONTACT}/atom.xml">(.*?)</a> \((.*?)\)</li>', follow)
    assert link, "no feed link for the upcoming section"
    assert link.group(1) == "5. How to reach us &amp; &lt;who&gt; answers"  # its title, escaped
    assert html_text(link.group(2)) == "new in version 1.1, from 1 March 2027"
    assert f">{CONTACT}<" not in follow


# --- 6. a deletion and the insertion after it never run together --------------------------------------------

def test_a_replaced_line_start_is_apart_in_html_and_text() -> None:
    blocks = redline([("p", inline.words(ADDRESS_1))], [("p", inline.words(ADDRESS_2))])
    html = str(redline_html(blocks, labels=False))
    assert "<br><del>42</del> <ins>Unit 7, 42</ins> High Street" in html, html
    assert "[-42-] {+Unit 7, 42+} High Street" in redline_text(blocks)
    labelled = html_text(str(redline_html(blocks)))
    assert "[deleted: 42] [inserted: Unit 7, 42] High Street" in labelled


def test_deletion_and_insertion_are_apart_on_the_site_and_in_policy_diff(reader: Project) -> None:
    changes = page(reader, "changes/1.2")
    assert re.search(r"<del>(<span[^>]*>\[deleted: </span>)?42(<span[^>]*>\]</span>)?</del> <ins>", changes)
    assert re.search(r"</del><ins>", changes) is None
    text = reader.run("diff", "1.1", "1.2", check=True).stdout
    assert "[-42-] {+Unit 7, 42+}" in text and "-]{+" not in text
    comment = reader.run("diff", "1.1", "1.2", "--format", "markdown", check=True).stdout
    assert "<del>42</del> <ins>Unit 7, 42</ins>" in comment and "</del><ins>" not in comment
    feed = (reader.path / "site/atom.xml").read_text(encoding="utf-8")
    assert "&lt;/del&gt;&lt;ins&gt;" not in feed and "</del><ins>" not in feed


def test_pull_request_comment_keeps_them_apart_too() -> None:
    case = next(c for _, c in load_cases() if c["name"].startswith("address: a line starts with new words"))
    comment = as_markdown(diff_policies(policy_from_plain(case["old"]), policy_from_plain(case["new"])),
                          "version 1.0", "version 2.0", None)
    assert "<del>42</del> <ins>Unit 7, 42</ins>" in comment


# --- 7. the HTML notice keeps its sentences apart ---------------------------------------------------------------

def test_html_notice_has_a_space_between_its_sentences(git_project: Project, tmp_path: Path) -> None:
    env = {"POLICY_SUBSCRIBERS_DB": str(tmp_path / "subs.db")}
    git_project.run("subscribers", "add", "--subscribed", SUBSCRIBED, "ann@example.org", "--name", "Ann", env=env, check=True)
    git_project.meta(version="1.1", effective="2027-03-01", summary="Clearer wording.")
    git_project.commit("Policy 1.1")
    git_project.run("notify", env={**env, **BUILT_AT}, check=True)
    files = sorted((git_project.path / ".cache/outbox").rglob("*.eml"))
    assert files
    for path in files:
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        text = html_text(msg.get_body(("html",)).get_content())
        assert re.search(r"of “[^”]+”(, a \w+ change)?\. It (takes|took) effect on ", text), text
        assert not re.search(r"[a-z)][.!?][A-Z]", text), text  # no two sentences glued together anywhere


# --- the browser: notice, one table of contents, bordered redline tables, JS = Python ------------------------

@pytest.fixture(scope="module")
def reader_site(reader: Project):
    with serve(reader.path / "site") as served:
        yield served


def _axe_serious(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page).response
    return [f"{v['id']} ({v['impact']}): {v['help']}" for v in results["violations"]
            if v.get("impact") in ("serious", "critical")]


# Each table of contents on the page — Material's (right sidebar, or inside the navigation drawer) and ours
# (.policy-contents) — and whether a reader sees it: its first link, scrolled into view, is what is at its place.
TOCS_JS = r"""() => [...document.querySelectorAll('nav.md-nav--secondary, nav.policy-contents')].map((nav) => {
  const link = nav.querySelector('a[href^="#"]');
  let seen = false;
  if (link && nav.checkVisibility({visibilityProperty: true, opacityProperty: true})) {
    link.scrollIntoView({block: 'center'});
    const box = link.getClientRects()[0];
    const hit = box && document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    seen = !!hit && hit.closest('a') === link;
  }
  return {nav: nav.className, label: nav.getAttribute('aria-label'), seen};
})"""


def _tables_of_contents(page_, path: str, viewport: dict) -> list[str]:
    """What is wrong with the tables of contents of the page now open: exactly one seen (Material's on a
    desktop, ours on a phone); axe is run by the caller on the same load."""
    page_.wait_for_selector("nav.policy-contents", state="attached")
    tocs = page_.evaluate(TOCS_JS)
    phone = viewport is PHONE
    screenshot(page_, f"toc-{viewport['width']}-{path.strip('/').replace('/', '-') or 'home'}",
               f"/{path} at {viewport['width']} px: the one table of contents", full_page=False)
    seen = [t for t in tocs if t["seen"]]
    if len(seen) != 1:
        return [f"/{path} at {viewport['width']} px shows {len(seen)} tables of contents: {tocs}"]
    if seen[0]["nav"] != ("policy-contents" if phone else "md-nav md-nav--secondary"):
        return [f"/{path} at {viewport['width']} px shows the wrong table of contents: {tocs}"]
    return []


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "375px"])
def test_one_table_of_contents_and_the_upcoming_notice(chromium, reader_site: Site, viewport: dict) -> None:
    """At each width, one context: /versions/1.1/ and / each show one table of contents and are axe-clean;
    / shows one notice for both upcoming versions, does not scroll sideways, and its compare link works."""
    phone = viewport is PHONE
    context = new_context(chromium, reader_site, viewport=viewport, is_mobile=phone, has_touch=phone)
    problems: list[str] = []
    try:
        page_ = context.new_page()
        goto(page_, reader_site, "versions/1.1/")
        problems += _tables_of_contents(page_, "versions/1.1/", viewport)
        problems += [f"/versions/1.1/: {v}" for v in _axe_serious(page_)]

        goto(page_, reader_site, "")
        problems += _tables_of_contents(page_, "", viewport)
        notice = page_.locator(".policy-notice--upcoming")
        expect(notice).to_have_count(1)
        expect(notice).to_be_visible()
        expect(notice.locator(".admonition-title")).to_have_text("Upcoming changes")
        expect(notice.locator("li")).to_have_text([re.compile(r"^Version 1\.1 takes effect on 1 March 2027"),
                                                  re.compile(r"^Version 1\.2 takes effect on 1 June 2027")])
        compare = notice.locator("a.policy-upcoming__compare")
        expect(compare).to_have_attribute("href", "compare/?from=1.0&to=1.2")
        width = page_.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        problems += [f"/: {v}" for v in _axe_serious(page_)]
        notice.scroll_into_view_if_needed()
        screenshot(page_, f"upcoming-{viewport['width']}", f"/ at {viewport['width']} px: one notice for the two "
                   "upcoming versions", full_page=False)
        compare.click()
        page_.wait_for_selector("#compare-result[data-state=done]", state="attached")
        expect(page_.locator("#compare-heading")).to_have_text("Version 1.0 → version 1.2")
    finally:
        context.close()
    assert width[0] <= width[1], f"sideways scroll at {viewport['width']} px: {width}"
    assert not problems, problems


BORDERS_JS = r"""(selector) => [...document.querySelectorAll(selector)].slice(0, 1).map((td) => {
  const s = getComputedStyle(td), t = getComputedStyle(td.closest('table'));
  return {cell: [s.borderTopWidth, s.borderTopStyle, s.borderTopColor, s.paddingLeft],
          table: [t.borderTopWidth, t.borderTopStyle, t.borderTopColor, t.borderLeftWidth, t.borderLeftStyle]};
})[0] || null"""


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_redlined_tables_have_the_borders_of_the_policy_tables(chromium, reader_site: Site, scheme: str) -> None:
    context = new_context(chromium, reader_site, viewport=DESKTOP, color_scheme=scheme)
    try:
        page_ = context.new_page()
        goto(page_, reader_site, "versions/1.2/")
        page_.wait_for_selector(".policy-table table td")
        own = page_.evaluate(BORDERS_JS, ".policy-table table:not(.redline-table) td")
        goto(page_, reader_site, "changes/1.2/")
        page_.wait_for_selector("table.redline-table td")
        changes = page_.evaluate(BORDERS_JS, "table.redline-table td")
        serious = _axe_serious(page_)
        page_.locator("table.redline-table").scroll_into_view_if_needed()
        screenshot(page_, f"redline-table-{scheme}", f"/changes/1.2/ ({scheme}): the redlined table, bordered",
                   full_page=False)
        goto(page_, reader_site, "compare/?from=1.1&to=1.2")
        page_.wait_for_selector("#compare-result[data-state=done] table.redline-table td")
        compared = page_.evaluate(BORDERS_JS, "#compare-result table.redline-table td")
    finally:
        context.close()
    assert own is not None and own["cell"][0] != "0px" and own["cell"][1] == "solid", own
    assert own["table"][0] != "0px" and own["table"][1] == "solid", own
    assert changes == own, f"redline table {changes} ≠ policy table {own}"
    assert compared == own, f"compare page's table {compared} ≠ policy table {own}"
    assert not serious, serious


@pytest.mark.browser
def test_compare_js_renders_redlines_as_python_does(chromium) -> None:
    """tests/fixtures/diff/*.json: each redline rendered by compare.js reads exactly as redline_render's HTML
    (the same words, marks and labels, and the same spaces: a deletion and its insertion apart), and its table
    cells are the same markup (a cell's paragraphs and lists rebuilt alike, item classes and notes included)."""
    pairs = []
    for name, case in load_cases():
        d = diff_policies(policy_from_plain(case["old"]), policy_from_plain(case["new"]))
        data = diff_to_data(d)
        pairs.append((name, [str(redline_html(d.introduction))] + [str(redline_html(c.redline)) for c in d.changed],
                      [data["introduction"]] + [s["redline"] for s in data["sections"]]))
    context = chromium.new_context()
    try:
        page_ = context.new_page()
        page_.set_content("<!doctype html><title>compare.js</title>")
        page_.add_script_tag(path=str(ROOT / "templates/assets/compare.js"))
        page_.wait_for_function("typeof window.policyRedline === 'function'")
        results = page_.evaluate("""(pairs) => pairs.map(([name, html, blocks]) => {
            const text = (node) => node.textContent.replace(/\\n/g, '');
            const cells = (node) => [...node.querySelectorAll('td, th')].map((c) => c.innerHTML);
            const box = document.createElement('div');
            return html.map((markup, i) => {
              box.innerHTML = markup;
              const js = window.policyRedline(blocks[i], {site: '/', anchors: '/v/'});
              return [text(box), text(js), cells(box), cells(js)];
            });
        })""", [list(p) for p in pairs])
    finally:
        context.close()
    checked = 0
    for (name, _, _), rendered in zip(pairs, results, strict=True):
        for python, js, python_cells, js_cells in rendered:
            assert js == python, name
            assert js_cells == python_cells, name
            checked += 1
    assert checked > 40
    added = next(r for (name, _, _), r in zip(pairs, results) if name.endswith("cell: an item added"))
    assert "<ul><li>your name</li><li class=\"redline-insert\"><ins>" in added[1][3][-1], added
    address = next(r for (name, _, _), r in zip(pairs, results) if "a line starts with new words" in name)
    assert "[deleted: 42] [inserted: Unit 7, 42] High Street" in address[1][1], address
