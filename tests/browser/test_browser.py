"""Real-browser and accessibility tests: the demo site (`policy demo`) in headless Chromium.

One demo build, one local http.server on 127.0.0.1 and one Chromium per session (tests/support/browser.py).
Screenshots go to test-output/screenshots/ (git-ignored), one printed line each (run with -s to see them).
Missing Chromium: skipped locally, a failure in CI (CI=true) or with POLICY_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from policy_site.site.dates import readable
from tests.support.browser import (
    CONTRAST_JS,
    OVERFLOW_JS,
    Site,
    Watch,
    goto,
    new_context,
    open_page,
    screenshot,
    settle,
    slug,
)
from tests.support.diff import documents, load_cases, realistic
from tests.support.project import ROOT

try:
    from playwright.sync_api import expect
except ImportError:  # the `chromium` fixture skips or fails with the reason
    expect = None

pytestmark = [pytest.mark.browser, pytest.mark.long]

ARCHIVED = "1.1"      # superseded, amended after publication, has "Compare with current"
CHANGES = "2.0"       # added, moved and modified sections, insertions and deletions
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}

# The pages every check looks at: (path, what it is)
PAGES = [
    ("", "home: the version in force, upcoming-change notice"),
    ("versions/", "archive: the wide versions table"),
    (f"versions/{ARCHIVED}/", f"version {ARCHIVED}: archived, with its amendment redline"),
    (f"changes/{CHANGES}/", f"what changed in {CHANGES}: change list and redline"),
]
COMPARE = ("compare/?from=1.0&to=2.1", "compare page: 1.0 against 2.1")


def page_params():
    """The pages above and /compare/ (skipped while it is not built)."""
    return [pytest.param(path, what, id=slug(path)) for path, what in PAGES] + [pytest.param(*COMPARE, id="compare")]


def need_compare(site: Site, path: str) -> None:
    if path.startswith("compare/"):
        assert site.has_compare(), "/compare/ was not built"


def wait_for_compare(page) -> None:
    page.wait_for_function("(document.getElementById('compare-result')?.textContent || '').trim().length > 0")


def visit_each(page, site: Site) -> Iterator[tuple[str, str]]:
    """Go to each page of page_params() in turn (the compare page once its result is shown): (path, what)."""
    for param in page_params():
        path, what = param.values
        need_compare(site, path)
        goto(page, site, path)
        if path.startswith("compare/"):
            wait_for_compare(page)
        yield path, what


def fail_on(problems: list[str], where: str) -> None:
    assert not problems, f"{where}:\n  " + "\n  ".join(problems)


# --- 1. every page loads cleanly and stays on 127.0.0.1 ---------------------------------------------------

def test_pages_load_without_errors_or_offsite_requests(chromium, site: Site):
    paths = ["", "versions/", "follow/", "404.html"]
    for entry in site.versions["versions"]:
        paths += [f"versions/{entry['version']}/", f"changes/{entry['version']}/"]
    paths.append(COMPARE[0])
    watch = Watch(site.origin)
    context = new_context(chromium, site, viewport=DESKTOP)
    try:
        page = context.new_page()
        watch.attach(page)
        for path in paths:
            if path == "404.html":  # the not-found page as a reader meets it: a 404 from the server
                page.goto(site.url("no-such-page/"))
                page.goto(site.url("404.html"))
                settle(page, network_idle=True)
            else:  # this test is about the pages' requests: wait until the late ones (search index) are done
                goto(page, site, path, network_idle=True)
            if path.startswith("compare/"):
                wait_for_compare(page)
    finally:
        context.close()
    problems = watch.report()
    problems = [p for p in problems if "no-such-page/" not in p]  # the deliberate 404 above
    fail_on(problems, f"{len(paths)} pages")


# --- 2. a reader clicks from the current version to an old version's changes ------------------------------

def test_reader_goes_current_archive_version_changes(chromium, site: Site):
    watch = Watch(site.origin)
    context = new_context(chromium, site, viewport=DESKTOP)
    try:
        page = open_page(context, site, "", watch)
        expect(page.locator("h1")).to_contain_text(site.versions["title"])
        expect(page.locator(".policy-meta").first).to_contain_text(f"Version {site.current}")

        page.locator(".md-tabs").get_by_role("link", name="All versions", exact=True).click()
        expect(page).to_have_url(site.url("versions/"))
        expect(page.locator("h1")).to_contain_text("All versions")

        page.locator(".policy-archive").get_by_role("link", name=ARCHIVED, exact=True).click()
        expect(page).to_have_url(site.url(f"versions/{ARCHIVED}/"))
        expect(page.locator(".policy-meta").first).to_contain_text(f"Version {ARCHIVED}")
        expect(page.locator(".admonition-title").first).to_have_text("Archived")

        page.get_by_role("link", name=f"What changed in {ARCHIVED}", exact=True).click()
        expect(page).to_have_url(site.url(f"changes/{ARCHIVED}/"))
        expect(page.locator("h1")).to_contain_text(f"What changed in version {ARCHIVED}")
        expect(page.locator(".policy-change-list li").first).to_be_visible()
        assert page.locator(".md-typeset ins, .md-typeset del").count() > 0, "the changes page shows no redline"
    finally:
        context.close()
    problems = watch.report()
    fail_on(problems, "current → archive → version → changes")


def test_version_page_compare_with_current(chromium, site: Site, request):
    watch = Watch(site.origin)
    context = new_context(chromium, site, viewport=DESKTOP)
    try:
        page = open_page(context, site, f"versions/{ARCHIVED}/", watch)
        with page.expect_navigation() as navigation:
            page.get_by_role("link", name="Compare with current", exact=True).click()
        response = navigation.value
        assert response is not None and response.ok, f"{page.url} -> HTTP {response and response.status}"
        wait_for_compare(page)  # the link names only the archived version; compare.js adds the current one
        assert re.fullmatch(re.escape(site.url("compare/")) + rf"\?from={re.escape(ARCHIVED)}&to="
                            + re.escape(site.current), page.url), page.url
        assert page.locator("#compare-result").inner_text().strip()
        screenshot(page, "compare-from-version-link", f"/compare/?from={ARCHIVED}&to={site.current} reached by "
                   f"the 'Compare with current' link of version {ARCHIVED}, light, {DESKTOP['width']} px, full page")
    finally:
        context.close()
    problems = watch.report()
    fail_on(problems, "version → compare")


# --- 3. the redline is readable: labelled for screen readers, enough contrast ---------------------------------

@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_redline_is_labelled_and_has_contrast(chromium, site: Site, scheme: str):
    paths = [f"changes/{e['version']}/" for e in site.versions["versions"]] + [f"versions/{ARCHIVED}/"]
    context = new_context(chromium, site, viewport=DESKTOP, color_scheme=scheme)
    marks: dict[str, list[dict]] = {}
    try:
        page = context.new_page()
        for path in paths:
            goto(page, site, path)
            marks[path] = page.evaluate(CONTRAST_JS, ".md-typeset ins, .md-typeset del")
            if path == f"changes/{CHANGES}/":
                page.locator("#redline").scroll_into_view_if_needed()
                screenshot(page, f"redline-{scheme}-changes-{CHANGES}",
                           f"/changes/{CHANGES}/ redline in the {scheme} scheme, {DESKTOP['width']}x"
                           f"{DESKTOP['height']} viewport scrolled to 'Redline'", full_page=False)
    finally:
        context.close()
    found = [m for items in marks.values() for m in items]
    assert {m["tag"] for m in marks[f"changes/{CHANGES}/"]} == {"ins", "del"}, marks[f"changes/{CHANGES}/"]
    assert any(m["tag"] == "ins" for m in marks[f"versions/{ARCHIVED}/"]), "the amendment shows no redline"
    problems = []
    for path, items in marks.items():
        for m in items:
            word = {"ins": "inserted", "del": "deleted"}[m["tag"]]
            where = f"/{path} <{m['tag']}> {m['text']!r}"
            if not (m["label"] or "").startswith(f"[{word}"):
                problems.append(f"{where}: no visually-hidden '{word}' label (found {m['label']!r})")
            elif not m["labelVisuallyHidden"]:
                problems.append(f"{where}: the '{word}' label is not visually hidden (or hidden from screen readers)")
            if m["ratio"] < 4.5:
                problems.append(f"{where}: contrast {m['ratio']}:1 ({m['color']} on {m['background']}) < 4.5:1")
    fail_on(problems, f"{len(found)} <ins>/<del> in the {scheme} scheme")
    ratios = sorted({(m["tag"], m["color"], m["background"], m["ratio"]) for m in found})
    print(f"\nredline colours ({scheme}): " + "; ".join(f"<{t}> {c} on {b} = {r}:1" for t, c, b, r in ratios))


# --- 4. axe-core: no serious or critical violation, light and dark ---------------------------------------------

@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_no_serious_or_critical_violations(chromium, site: Site, scheme: str):
    """axe on each page of page_params() in this scheme: one context, the pages one after the other, every
    page's violations collected (each named by page and scheme) before the test fails."""
    from axe_playwright_python.sync_playwright import Axe

    context = new_context(chromium, site, viewport=DESKTOP, color_scheme=scheme)
    details: list[str] = []
    try:
        page = context.new_page()
        for path, what in visit_each(page, site):
            palette = page.evaluate("document.body.getAttribute('data-md-color-scheme')")
            assert palette == {"light": "default", "dark": "slate"}[scheme], f"/{path}: palette {palette!r}"
            results = Axe().run(page).response
            serious = [v for v in results["violations"] if v.get("impact") in ("serious", "critical")]
            others = [f"{v['id']} ({v.get('impact')})" for v in results["violations"] if v not in serious]
            screenshot(page, f"{scheme}-{slug(path)}",
                       f"/{path} — {what}; {scheme} scheme (data-md-color-scheme={palette}), {DESKTOP['width']} px, "
                       f"full page; axe: {len(serious)} serious/critical"
                       + (f", minor/moderate: {', '.join(others)}" if others else ""))
            details += [f"/{path} ({scheme}): {v['id']} ({v['impact']}): {v['help']} — " + "; ".join(
                f"{node['target']}: {node.get('failureSummary', '').splitlines()[-1].strip()}"
                for node in v["nodes"][:4]) for v in serious]
    finally:
        context.close()
    fail_on(details, f"axe on {len(page_params())} pages ({scheme})")


# --- 5. a 375 px phone: nothing scrolls sideways ----------------------------------------------------------------

def test_no_sideways_scroll_at_375px(chromium, site: Site):
    """Each page of page_params() on a 375 px phone, one after the other in one context; every page that scrolls
    sideways is named before the test fails."""
    context = new_context(chromium, site, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=1)
    problems: list[str] = []
    try:
        page = context.new_page()
        for path, what in visit_each(page, site):
            layout = page.evaluate(OVERFLOW_JS)
            screenshot(page, f"phone375-{slug(path)}",
                       f"/{path} — {what}; {PHONE['width']} px phone, light, full page; page scrollWidth "
                       f"{layout['scrollWidth']} / clientWidth {layout['clientWidth']}")
            if layout["clientWidth"] != PHONE["width"]:
                problems.append(f"/{path}: clientWidth {layout['clientWidth']} ≠ {PHONE['width']}: {layout}")
            if layout["scrollWidth"] > layout["clientWidth"]:
                problems.append(f"/{path} scrolls sideways at {PHONE['width']} px: {layout}")
    finally:
        context.close()
    fail_on(problems, f"{len(page_params())} pages at {PHONE['width']} px")


# --- 6. the new block shapes on the page: a table, a nested list and an address, axe-clean at both widths -------

SHAPES_JS = r"""() => {
  const article = document.querySelector("article");
  const table = article.querySelector("table");
  const nested = [...article.querySelectorAll("li > ol, li > ul")].find(
    list => list.textContent.includes("block only third-party cookies"));
  const address = [...article.querySelectorAll("p")].find(p => p.querySelectorAll("br").length >= 3);
  return {table: table ? table.querySelectorAll("tbody tr").length : 0,
          caption: table && table.caption ? table.caption.textContent.trim() : "",
          rowHeaders: table ? table.querySelectorAll("tbody th[scope=row]").length : 0,
          nested: nested ? nested.children.length : 0,
          nestedIn: nested ? nested.parentElement.closest("ul, ol").tagName : "",
          address: address ? address.innerText.split("\n").map(s => s.trim()).filter(Boolean) : []};
}"""


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "375px"])
def test_table_nested_list_and_address_render_and_pass_axe(chromium, site: Site, viewport: dict):
    """At 375 px axe runs here; at 1280 px the same axe check of / (light, 1280 px, same rules) is made by
    test_axe_no_serious_or_critical_violations[light], so it is not run twice on the same page."""
    from axe_playwright_python.sync_playwright import Axe

    phone = viewport is PHONE
    context = new_context(chromium, site, viewport=viewport, is_mobile=phone, has_touch=phone)
    try:
        page = context.new_page()
        goto(page, site, "")
        shapes = page.evaluate(SHAPES_JS)
        results = Axe().run(page).response if phone else {"violations": []}
        screenshot(page, f"shapes-{viewport['width']}", f"/ — a table, a nested list and an address; "
                   f"{viewport['width']} px")
    finally:
        context.close()
    assert shapes["table"] == 3 and shapes["rowHeaders"] == 3, shapes
    assert shapes["caption"] == "Cookies on synergycabinet.example", shapes
    assert shapes["nested"] == 3 and shapes["nestedIn"] == "UL", shapes  # numbered inside a bullet
    assert shapes["address"] == ["SynergyCabinet Privacy Team", "PO Box 1234", "London EC1A 1AA",
                                 "United Kingdom"], shapes
    serious = [f"{v['id']} ({v['impact']}): {v['help']}" for v in results["violations"]
               if v.get("impact") in ("serious", "critical")]
    fail_on(serious, f"axe on / at {viewport['width']} px")


ARCHIVE_JS = r"""() => {
  const table = document.querySelector('.policy-archive table');
  let scroller = table.parentElement;
  while (scroller && !['auto', 'scroll'].includes(getComputedStyle(scroller).overflowX)) scroller = scroller.parentElement;
  const box = document.querySelector('.policy-archive');
  const summaries = [...table.querySelectorAll('tbody td:nth-child(4)')].map((td) => td.getBoundingClientRect().width);
  return {scrollerIsRegion: scroller === box, scroller: scroller && scroller.className,
          role: box.getAttribute('role'), label: box.getAttribute('aria-label'), tabindex: box.getAttribute('tabindex'),
          scrollWidth: box.scrollWidth, clientWidth: box.clientWidth, scrollLeft: box.scrollLeft,
          summaryWidth: Math.round(Math.min(...summaries))};
}"""


@pytest.mark.parametrize("width", [PHONE["width"], DESKTOP["width"]])
def test_archive_table_scrolls_in_its_own_region(chromium, site: Site, width: int):
    """The wide archive table scrolls inside the labelled, focusable .policy-archive region, and only there."""
    phone = width == PHONE["width"]
    context = new_context(chromium, site, viewport=PHONE if phone else DESKTOP, is_mobile=phone, has_touch=phone)
    try:
        page = context.new_page()
        goto(page, site, "versions/")
        before = after = page.evaluate(ARCHIVE_JS)
        if phone:  # a keyboard user tabs to the region and scrolls it with the arrow keys
            page.locator(".policy-archive").focus()
            for _ in range(6):
                page.keyboard.press("ArrowRight")
            page.wait_for_function("document.querySelector('.policy-archive').scrollLeft >= 100")
            after = page.evaluate(ARCHIVE_JS)
            screenshot(page, "phone375-versions-table-scrolled",
                       f"/versions/ at {width} px, the archive table scrolled sideways with the keyboard inside its "
                       f"own region ({after['scrollWidth']} px in {after['clientWidth']} px, scrollLeft "
                       f"{after['scrollLeft']}), page still {PHONE['width']} px wide; viewport only", full_page=False)
    finally:
        context.close()
    assert before["scrollerIsRegion"], f"the table scrolls in {before['scroller']!r}, not in .policy-archive: {before}"
    assert (before["role"], before["tabindex"]) == ("region", "0") and before["label"], before
    assert before["summaryWidth"] >= 150, f"summary column squeezed at {width} px: {before}"
    if phone:
        assert before["scrollWidth"] > before["clientWidth"], f"expected a table wider than {width} px: {before}"
        assert after["scrollLeft"] >= 100, f"the focused archive region does not scroll with the arrow keys: {after}"
    else:
        assert before["scrollWidth"] <= before["clientWidth"], f"stray sideways scroll at {width} px: {before}"


# --- 6. print: no navigation, a print header naming version, date and address ---------------------------------

@pytest.mark.parametrize("path, version", [pytest.param("", None, id="home"),
                                           pytest.param(f"versions/{ARCHIVED}/", ARCHIVED, id=f"version-{ARCHIVED}")])
def test_print_hides_navigation_and_shows_header(chromium, site: Site, path: str, version: str | None):
    version = version or site.current
    entry = site.entry(version)
    site_url = entry["url"].split("versions/")[0]
    address = site_url if path == "" else entry["url"]
    context = new_context(chromium, site, viewport=DESKTOP)
    try:
        page = context.new_page()
        goto(page, site, path)
        expect(page.locator(".md-header")).to_be_visible()
        expect(page.locator(".policy-print-header")).to_be_hidden()
        page.emulate_media(media="print")
        for selector in (".md-header", ".md-tabs", ".md-sidebar--primary", ".md-sidebar--secondary", ".md-footer",
                         ".policy-follow"):
            expect(page.locator(selector)).to_be_hidden()
        header = page.locator(".policy-print-header")
        expect(header).to_be_visible()
        text = header.inner_text()
        screenshot(page, f"print-{slug(path)}", f"/{path} in print emulation: no header, tabs, sidebars or footer; "
                   f"print header {text!r}")
    finally:
        context.close()
    assert f"Version {version}" in text, text
    assert f"effective {readable(entry['effective'], 'en')}" in text, text  # site/dates.py: "25 November 2026"
    assert address in text, text


# --- compare in the browser = policy diff -------------------------------------------------------------------

def test_compare_page_matches_policy_diff_for_every_pair(chromium, site: Site, demo_site: Path):
    """The JavaScript diff finds the same section changes, metadata changes and unchanged count as Python.

    Python's side is what `policy diff OLD NEW --format json` prints (cli/history_verbs.py: render_diff's json,
    diff_to_data of diff_policies), computed in-process over the demo repository's history, read once; the
    verb itself runs as a process in the tests of `policy diff` (test_reader_pages.py, tests/integration)."""
    versions = [v["version"] for v in site.versions["versions"]]
    python_diff = demo_diff(demo_site.parent)
    watch = Watch(site.origin)
    context = new_context(chromium, site, viewport=DESKTOP)
    try:
        page = context.new_page()
        watch.attach(page)
        for n, (old, new) in enumerate(itertools.permutations(versions, 2)):
            # the compare result is what is checked: wait for it, not for the page's network to idle (goto)
            if n == 0:  # the first pair from the address, the others picked in the page's form (no reload)
                response = page.goto(site.url(f"compare/?from={old}&to={new}"), wait_until="load")
                assert response is not None and response.ok, f"{old} → {new}: {response and response.status}"
            else:
                page.select_option("#compare-from", old)
                page.select_option("#compare-to", new)
                page.click(".policy-compare__form button")
            page.wait_for_function("([a, b]) => document.getElementById('compare-status').textContent === "
                                   "`Showing the changes from version ${a} to version ${b}.`", arg=[old, new])
            wait_for_compare(page)
            assert page.url == site.url(f"compare/?from={old}&to={new}"), page.url
            browser = page.evaluate("JSON.stringify(window.policyCompare)")
            browser = json.loads(browser)
            python = python_diff(old, new)
            pair = f"{old} → {new}"
            assert [s["id"] for s in browser["sections"]] == [s["id"] for s in python["sections"]], pair
            assert browser == python, pair  # every field: kinds, places, context, redline spans and pieces
    finally:
        context.close()
    fail_on(watch.report(), "compare pages")


def demo_diff(project: Path):
    """(old, new) -> `policy diff old new --format json`'s data, for the project's published versions."""
    from argparse import Namespace

    from policy_site.cli.project_args import document_history
    from policy_site.diff.formats import render_diff
    from policy_site.diff.sections import diff_policies

    _, history, _, _, _ = document_history(Namespace(config=str(project / "mkdocs.yml"), document=None))

    def diff(old: str, new: str) -> dict:
        a, b = history.find(old), history.find(new)
        assert a is not None and b is not None, (old, new)
        return json.loads(render_diff(diff_policies(a.policy, b.policy), "json", f"version {old}",
                                      f"version {new}", None))
    return diff


def _run_compare_js(chromium, docs: list[dict], pairs: list[tuple[int, int]]) -> list[dict]:
    """compare.js's diff of each (old, new) pair of policy.json documents (indexes into docs), run in a blank
    page; each document crosses into the page once however many pairs it is in."""
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.set_content("<!doctype html><title>compare.js</title>")
        page.add_script_tag(path=str(ROOT / "templates/assets/compare.js"))
        # as JSON text both ways: Playwright's own serialisation of megabytes of nested objects takes many seconds
        found = page.evaluate("(text) => { const [docs, pairs] = JSON.parse(text); return JSON.stringify("
                              "pairs.map(([a, b]) => window.policyDiff(docs[a], docs[b]))); }",
                              json.dumps([docs, [list(p) for p in pairs]]))
        return json.loads(found)
    finally:
        context.close()


def test_compare_js_matches_the_shared_fixtures(chromium):
    """tests/fixtures/diff/*.json: the same expected result from compare.js as from the Python diff."""
    cases = load_cases()
    docs = [doc for _, case in cases for doc in documents(case)]
    results = _run_compare_js(chromium, docs, [(2 * i, 2 * i + 1) for i in range(len(cases))])
    for (name, case), result in zip(cases, results, strict=True):
        assert result == case["expected"], name


def test_compare_js_matches_python_on_a_long_history(chromium):
    """Every consecutive pair of the 60-version realistic history, a big rewrite and 10 random pairs."""
    import random

    from policy_site.diff.sections import diff_policies, diff_to_data
    from policy_site.site.data import policy_document
    _, policies = realistic()
    rng = random.Random(5)
    pairs = [(i, i + 1) for i in range(len(policies) - 1)] + [(0, len(policies) - 1)]
    pairs += [tuple(sorted(rng.sample(range(len(policies)), 2))) for _ in range(10)]
    docs = [policy_document(p) for p in policies]
    results = _run_compare_js(chromium, docs, pairs)
    for (a, b), result in zip(pairs, results, strict=True):
        expected = diff_to_data(diff_policies(policies[a], policies[b]))
        assert result == expected, f"{policies[a].version} → {policies[b].version}"


def test_compare_names_an_unknown_version_instead_of_comparing_others(chromium, site: Site):
    need_compare(site, "compare/")
    context = new_context(chromium, site, viewport=DESKTOP)
    try:
        page = context.new_page()
        goto(page, site, "compare/?from=9.9&to=1.0")
        page.wait_for_selector("#compare-result[data-state]", state="attached")
        assert page.get_attribute("#compare-result", "data-state") == "unknown-version"
        status = page.text_content("#compare-status") or ""
        assert "There is no published version 9.9" in status and "1.0" in status
        assert not (page.text_content("#compare-result") or "").strip()
    finally:
        context.close()
