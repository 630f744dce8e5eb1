"""A saved web page → its main content: `<main>`, `[role=main]` or `<article>` (the one with the most words),
else the body without its navigation, header, footer and sidebars. Inside it, scripts, styles, forms,
navigation, sidebars, dialogs and cookie banners are removed; every one that held words is named, so nothing
is dropped silently. Also the page's own address (`<base>`, canonical link, `og:url`, or the "saved from"
comment browsers write), for turning its links into site paths.

Parsed with BeautifulSoup over html5lib: the tree a browser builds, however broken the page, with source
line numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bs4 import BeautifulSoup, Comment, Tag

SILENT = ("script", "style", "noscript", "template", "link", "meta", "head")
CHROME = {"nav": "navigation", "aside": "sidebar", "form": "form", "button": "button", "select": "form field",
          "input": "form field", "textarea": "form field", "dialog": "dialog", "iframe": "embedded frame",
          "object": "embedded object", "embed": "embedded object", "video": "video", "audio": "audio",
          "canvas": "canvas", "svg": "drawing", "map": "image map"}
PAGE_CHROME = ("header", "footer")
_BANNER = re.compile(r"cookie|consent|gdpr|onetrust|cookiebot|\bcmp\b|\bcc-", re.IGNORECASE)
_POPUP = re.compile(r"banner|notice|bar\b|popup|pop-up|modal|dialog|overlay|prompt|consent|\bcmp\b|onetrust|"
                    r"cookiebot|\bcc-", re.IGNORECASE)
BANNER_TAGS = ("div", "section", "aside", "dialog", "form", "footer", "header")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_SAVED_FROM = re.compile(r"saved from url=\(\d+\)(\S+)")


@dataclass
class Page:
    main: Tag
    title: str | None  # <title>
    base: str | None  # the page's own address
    dropped: list[tuple[int, str]]  # (line, what) of what was removed from the main content, with words
    chosen: str  # which element was taken as the main content, and where


def parse(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html5lib")


def words(tag: Tag) -> list[str]:
    return tag.get_text(" ", strip=True).split()


def line_of(tag: Tag) -> int:
    return int(getattr(tag, "sourceline", None) or 0)


def _attributes(tag: Tag) -> str:
    values = [tag.get("id"), tag.get("aria-label"), tag.get("data-nosnippet")] + list(tag.get("class") or [])
    return " ".join(str(v) for v in values if v)


def _is_hidden(tag: Tag) -> bool:
    return tag.has_attr("hidden") or str(tag.get("aria-hidden", "")).lower() == "true" \
        or bool(_HIDDEN_STYLE.search(str(tag.get("style", ""))))


def _is_banner(tag: Tag) -> bool:
    """A cookie or consent banner (not the policy's own section about cookies: that one has headings)."""
    role = str(tag.get("role", "")).lower()
    if role in ("dialog", "alertdialog") or str(tag.get("aria-modal", "")).lower() == "true":
        return True
    attributes = _attributes(tag)
    return tag.name in BANNER_TAGS and bool(_BANNER.search(attributes)) and bool(_POPUP.search(attributes)) \
        and tag.find(["h1", "h2", "h3", "table"]) is None and len(words(tag)) < 150


def _shown(tag: Tag) -> str:
    text = " ".join(words(tag))
    return text if len(text) <= 60 else text[:57].rstrip() + "…"


def _main(soup: BeautifulSoup) -> tuple[Tag, str]:
    for selector, what in (("main", "<main>"), ("[role=main]", "[role=main]"), ("article", "<article>")):
        found = [t for t in soup.select(selector) if words(t)]
        if found:
            return max(found, key=lambda t: len(words(t))), what
    return soup.body or soup, "<body>"


def _base(soup: BeautifulSoup) -> str | None:
    for tag, attribute in ((soup.find("base", href=True), "href"), (soup.find("link", rel="canonical"), "href"),
                           (soup.find("meta", property="og:url"), "content")):
        if isinstance(tag, Tag) and str(tag.get(attribute, "")).startswith(("http://", "https://", "/")):
            return str(tag[attribute])
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        match = _SAVED_FROM.search(str(comment))
        if match:
            return match.group(1)
    return None


def main_content(soup: BeautifulSoup) -> Page:
    """The page's main content, cleaned; what was cut from it (with words) is listed in Page.dropped."""
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    base = _base(soup)
    main, what = _main(soup)
    dropped: list[tuple[int, str]] = []
    for tag in main.find_all(SILENT):
        tag.decompose()
    for comment in main.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in list(main.find_all(True)):
        if tag.decomposed or tag.parent is None:
            continue
        if _is_hidden(tag):
            tag.decompose()  # invisible on the page: not part of what a reader sees
        elif tag.name in CHROME or _is_banner(tag):
            kind = "cookie banner" if tag.name not in CHROME and _BANNER.search(_attributes(tag)) else \
                CHROME.get(tag.name, "dialog")
            if words(tag):
                dropped.append((line_of(tag), f"{kind} dropped: '{_shown(tag)}'"))
            tag.decompose()
        elif main.name == "body" and tag.name in PAGE_CHROME and tag.parent is main:
            if words(tag):
                dropped.append((line_of(tag), f"page {tag.name} dropped: '{_shown(tag)}'"))
            tag.decompose()
    chosen = f"{what} at line {line_of(main)}" if line_of(main) else what
    return Page(main, title, base, dropped, chosen)
