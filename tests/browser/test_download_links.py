"""The downloads' links in a real browser: the changes page links its Word redline (.docx), the compare page links
the .docx of a consecutive pair and tells the command for any other, the home, version and changes pages link
their PDFs, and each link fetches its file (the demo site in headless Chromium; axe checks these pages with their
links in test_browser.py)."""

from __future__ import annotations

import pytest

from tests.support.browser import Site, goto, new_context

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


def test_home_version_and_changes_pages_link_their_pdfs(chromium, site: Site) -> None:
    context = new_context(chromium, site, viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        for path, text, target in (("", "This version as PDF", f"versions/{site.current}/policy-{site.current}.pdf"),
                                   ("versions/2.0/", "This version as PDF", "versions/2.0/policy-2.0.pdf"),
                                   ("changes/2.0/", "These changes as PDF", "changes/2.0/policy-2.0-changes.pdf")):
            goto(page, site, path)
            link = page.get_by_role("link", name=text)
            assert link.count() == 1, (path, text)
            href = link.evaluate("a => a.href")
            assert href == site.url(target), (path, href)
            assert fetched(page, href).startswith(b"%PDF-"), href
    finally:
        context.close()
