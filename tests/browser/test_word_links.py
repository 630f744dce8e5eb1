"""The Word redline's links in a real browser: the changes page links its .docx, the compare page links the .docx
of a consecutive pair and tells the command for any other, and each link fetches a Word file (the demo site in
headless Chromium; axe checks these pages in test_browser.py)."""

from __future__ import annotations

import pytest

from browser_support import Site, goto, new_context

pytestmark = pytest.mark.browser


def fetched(page, href: str) -> bytes:
    response = page.request.get(href)
    assert response.status == 200, href
    return response.body()


def test_changes_and_compare_pages_link_the_word_redline(chromium, site: Site) -> None:
    context = new_context(chromium, site, viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        goto(page, site, "changes/2.0/")
        link = page.locator(".policy-download a")
        assert link.count() == 1
        assert "from version 1.1 to version 2.0 as tracked changes (.docx)" in (link.text_content() or "")
        href = link.evaluate("a => a.href")
        assert href == site.url("changes/2.0/redline-1.1-to-2.0.docx")
        assert fetched(page, href).startswith(b"PK\x03\x04")
        goto(page, site, "changes/1.0/")
        assert page.locator(".policy-download").count() == 0  # the first version: nothing to compare with

        goto(page, site, "compare/?from=1.1&to=2.0")
        page.wait_for_selector("#compare-result[data-state=done]", state="attached")
        word = page.locator("#compare-word a")
        assert word.evaluate("a => a.href") == href
        goto(page, site, "compare/?from=1.0&to=2.0")
        page.wait_for_selector("#compare-result[data-state=done]", state="attached")
        assert page.locator("#compare-word a").count() == 0
        assert "policy diff 1.0 2.0 --format docx -o redline.docx" in (page.text_content("#compare-word") or "")
        page.select_option("#compare-from", "1.1")  # the selection changes: the link follows it
        page.click(".policy-compare__form button")
        page.wait_for_function("document.getElementById('compare-status').textContent.includes('from version 1.1')")
        assert page.locator("#compare-word a").evaluate("a => a.href") == href
    finally:
        context.close()
