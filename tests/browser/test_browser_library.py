"""A library of documents with a translation in real headless Chromium: the library page, a translated page with
Material's language switcher and its stale-section notice; no console errors or off-site requests; axe clean
(no serious or critical violation) at 1280 px and at 375 px, where nothing scrolls sideways."""

from __future__ import annotations

import pytest

from tests.support.browser import (
    OVERFLOW_JS,
    Watch,
    goto,
    new_context,
    screenshot,
    serve,
)
from tests.support.library import make_library

pytestmark = pytest.mark.browser
PAGES = [("", "the library"), ("de/privacy/", "the German translation, a stale and a missing section"),
         ("terms/", "a document of the library"), ("privacy/changes/1.2/", "a document's changes page")]


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory):
    project = make_library(tmp_path_factory.mktemp("browser-library") / "lib")
    with serve(project.path / "site") as site:
        yield site


@pytest.mark.parametrize("width", [1280, 375])
def test_library_pages_are_accessible(chromium, library, width: int):
    """Each page of PAGES at this width, one after the other in one context; every page's problems are
    collected (each named by page) before the test fails."""
    from axe_playwright_python.sync_playwright import Axe
    watch = Watch(library.origin)
    context = new_context(chromium, library, viewport={"width": width, "height": 900})
    problems: list[str] = []
    try:
        page = context.new_page()
        watch.attach(page)
        for path, what in PAGES:
            # the watcher's checks: wait until the page's late requests (search index) have been answered too
            goto(page, library, path, network_idle=True)
            results = Axe().run(page).response
            problems += [f"/{path}: {v['id']}: {v['help']} ({[n['target'] for n in v['nodes'][:3]]})"
                         for v in results["violations"] if v.get("impact") in ("serious", "critical")]
            overflow = page.evaluate(OVERFLOW_JS)
            screenshot(page, f"library-{width}-{path.strip('/').replace('/', '-') or 'home'}",
                       f"/{path} — {what}, {width} px")
            if width == 375 and overflow["scrollWidth"] > overflow["clientWidth"]:
                problems.append(f"/{path} scrolls sideways at 375 px: {overflow}")
    finally:
        context.close()
    problems += watch.report()  # each names its page
    assert not problems, problems


def test_the_language_switcher_and_the_stale_notice(chromium, library):
    context = new_context(chromium, library, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        goto(page, library, "privacy/")
        links = page.eval_on_selector_all(".md-select__link", "els => els.map(e => [e.hreflang, e.href])")
        assert ["de", library.url("de/")] in links and ["en", library.url("")] in links
        goto(page, library, "de/privacy/")
        assert page.get_attribute("h1", "lang") == "de"
        notice = page.locator(".admonition", has_text="Translation out of date")
        assert notice.count() == 1 and "compare 1.1 with 1.2" in notice.inner_text()
        assert page.locator('#protecting-information[lang="en"]').count() == 1
        assert page.locator('#personal-information-protection[lang="de"]').count() == 1
        notice.locator("a", has_text="compare").click()
        page.wait_for_url("**/privacy/compare/?from=1.1&to=1.2")
    finally:
        context.close()
