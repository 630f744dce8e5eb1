"""Helpers for the real-browser tests (tests/browser/test_browser.py): demo site, local server, Chromium, page watching.

Chromium is Debian's /usr/bin/chromium driven by Playwright (no browser download). When it is missing or
cannot start, the browser tests are skipped with the reason — except in CI (`CI` set, e.g. CI=true) or with
POLICY_REQUIRE_BROWSER=1, where they fail instead, so a broken CI image cannot pass by skipping.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support.project import ROOT, output_dir, run_policy

CHROMIUM = Path(os.environ.get("POLICY_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SCREENSHOTS = "screenshots"  # under test-output/ (git-ignored)


def browser_required() -> bool:
    """True in CI (CI set to anything but empty/0/false) or with POLICY_REQUIRE_BROWSER=1."""
    ci = os.environ.get("CI", "").strip().lower()
    return ci not in ("", "0", "false", "no") or os.environ.get("POLICY_REQUIRE_BROWSER", "").strip() == "1"


def no_browser(reason: str) -> None:
    """Fail (CI / POLICY_REQUIRE_BROWSER=1) or skip with the reason."""
    if browser_required():
        pytest.fail(f"browser tests required (CI or POLICY_REQUIRE_BROWSER=1) but {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason} (set CI=true or POLICY_REQUIRE_BROWSER=1 to make this fail)")


# --- the demo site, served on 127.0.0.1 ---------------------------------------------------------------------

@dataclass
class Site:
    root: Path          # the built site/ folder
    base: str           # http://127.0.0.1:PORT/
    versions: dict      # site/versions.json

    @property
    def origin(self) -> str:
        return self.base.rstrip("/")

    def url(self, path: str) -> str:
        return self.base + path.lstrip("/")

    @property
    def current(self) -> str:
        return self.versions["current"]

    def entry(self, version: str) -> dict:
        return next(v for v in self.versions["versions"] if v["version"] == version)

    def has_compare(self) -> bool:
        return (self.root / "compare" / "index.html").is_file()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - http.server's signature
        pass


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`policy demo` built once per test run (versions 1.0, 1.1, 2.0, 2.1 and upcoming 3.0): under pytest-xdist the
    workers share it (the first one builds it in the run's temp folder, under a lock; the others wait and read it)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the run's folder, above each worker's own
    target = base / "browser-demo" / "demo"
    site = target / "site"
    target.parent.mkdir(exist_ok=True)
    with open(base / "browser-demo.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (site / "index.html").is_file():
            shutil.rmtree(target, ignore_errors=True)  # a build cut short by a worker that crashed
            run_policy(ROOT, "demo", str(target), check=True)
    assert (site / "index.html").is_file(), f"policy demo built no site in {site}"
    return site


@contextmanager
def serve(root: Path, port: int = 0) -> Iterator[Site]:
    """A built site served by http.server on 127.0.0.1, on this port (0: a free one)."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="browser-test-site", daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield Site(root, f"http://{host}:{port}/", json.loads((root / "versions.json").read_text(encoding="utf-8")))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def site(demo_site: Path):
    """The demo site served by http.server on a free port of 127.0.0.1."""
    with serve(demo_site) as served:
        yield served


# --- Chromium ---------------------------------------------------------------------------------------------

_SHARED: dict = {"users": 0}  # one Playwright per process: test modules that import `chromium` share it


def _start_chromium():
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        no_browser(f"{CHROMIUM} is missing (install Debian's chromium: make chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        no_browser(f"playwright is not installed ({exc}); pip install -e '.[test]'")
    from playwright.sync_api import expect
    expect.set_options(timeout=60_000)  # expect() waits for what it checks; 5 s is too short on a busy machine
    manager = sync_playwright()
    playwright = manager.start()
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
    except Exception as exc:  # noqa: BLE001 - any launch failure means: no browser
        manager.__exit__(None, None, None)
        no_browser(f"{CHROMIUM} did not start: {str(exc).splitlines()[0] if str(exc) else exc!r}")
    _SHARED.update(manager=manager, browser=browser)


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the whole session (Playwright driving Debian's /usr/bin/chromium).

    A pytest plugin's fixture (tests/conftest.py): every test module shares the one browser (two sync
    Playwrights cannot run at once).
    """
    if "browser" not in _SHARED:
        _start_chromium()
    _SHARED["users"] += 1
    try:
        yield _SHARED["browser"]
    finally:
        _SHARED["users"] -= 1
        if _SHARED["users"] == 0:
            browser, manager = _SHARED.pop("browser"), _SHARED.pop("manager")
            browser.close()
            manager.__exit__(None, None, None)


# --- watching a page: console errors, page errors, failed and off-site requests ------------------------------

def is_local(url: str, origin: str) -> bool:
    """Served by the test server (or not a network request at all: data:, blob:, about:)."""
    return urlsplit(url).scheme in ("data", "blob", "about") or url == origin or url.startswith(origin + "/")


@dataclass
class Watch:
    """Everything pages did wrong while a test looked at them."""
    origin: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    offsite: list[tuple[str, str]] = field(default_factory=list)   # (url, from page); the context aborts them

    def attach(self, page) -> None:
        def on_console(msg) -> None:
            if msg.type == "error":
                location = (msg.location or {}).get("url") or page.url
                self.console_errors.append(f"{msg.text} [{location}]")

        def on_request(request) -> None:
            if not is_local(request.url, self.origin):
                self.offsite.append((request.url, f"{request.resource_type} from {page.url}"))

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.page_errors.append(f"{exc} [{page.url}]"))
        def on_failed(request) -> None:
            if is_local(request.url, self.origin) and "ERR_ABORTED" in str(request.failure):
                return  # cancelled by the page itself (a prefetch cut short by navigating away), not a failure
            self.failed_requests.append(f"{request.method} {request.url}: {request.failure}")

        page.on("requestfailed", on_failed)
        page.on("request", on_request)

    def report(self) -> list[str]:
        """Every off-site request, failed request, console error and page error seen."""
        items = ([("off-site request", f"{url} ({how})") for url, how in self.offsite]
                 + [("failed request", x) for x in self.failed_requests]
                 + [("console error", x) for x in self.console_errors]
                 + [("page error", x) for x in self.page_errors])
        return [f"{kind}: {text}" for kind, text in items]


def new_context(browser, site: Site, **options):
    """A fresh browser context; requests leaving the test server are aborted (the watcher still records them)."""
    context = browser.new_context(**options)
    context.set_default_timeout(60_000)  # a wait for what the test checks; long only on a busy machine
    context.route(lambda url: not is_local(url, site.origin), lambda route: route.abort())
    return context


def open_page(context, site: Site, path: str, watch: Watch) -> object:
    page = context.new_page()
    watch.attach(page)
    goto(page, site, path)
    return page


def goto(page, site: Site, path: str, network_idle: bool = False) -> None:
    response = page.goto(site.url(path), wait_until="load")
    assert response is not None and response.ok, f"GET {site.url(path)} -> {response and response.status}"
    settle(page, network_idle)


def settle(page, network_idle: bool = False) -> None:
    """Wait until Material's JavaScript has run (palette applied); with network_idle, also until the network has
    been quiet for 500 ms (the search index and worker fetched) — only for a test about the page's requests."""
    if network_idle:
        page.wait_for_load_state("networkidle")
    page.wait_for_function("document.body && document.body.hasAttribute('data-md-color-scheme')")


# --- screenshots ---------------------------------------------------------------------------------------------

def screenshot(page, name: str, description: str, full_page: bool = True) -> Path:
    """Save a PNG under test-output/screenshots/ and print one line describing it."""
    path = output_dir(SCREENSHOTS) / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page, animations="disabled")
    print(f"\nscreenshot {path.relative_to(ROOT)}: {description}", end="")
    return path


def slug(path: str) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", path.strip("/").lower()).strip("-") or "home"


# --- colour contrast, computed in the page ---------------------------------------------------------------------

# For each element matching the selector: its computed text colour and the colour actually behind it (the
# element's and its ancestors' background colours composited, white page at the bottom), and the WCAG ratio.
CONTRAST_JS = r"""
(selector) => {
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const over = (top, under) => {
    const a = top.a + under.a * (1 - top.a);
    if (a === 0) return {r: 0, g: 0, b: 0, a: 0};
    const mix = (k) => (top[k] * top.a + under[k] * under.a * (1 - top.a)) / a;
    return {r: mix('r'), g: mix('g'), b: mix('b'), a};
  };
  const lum = (c) => {
    const ch = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * ch(c.r) + 0.7152 * ch(c.g) + 0.0722 * ch(c.b);
  };
  const background = (el) => {
    const layers = [];
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c && c.a > 0) layers.push(c);
      if (c && c.a >= 1) break;
    }
    let bg = {r: 255, g: 255, b: 255, a: 1};
    for (const layer of layers.reverse()) bg = over(layer, bg);
    return bg;
  };
  const hex = (c) => '#' + [c.r, c.g, c.b].map((v) => Math.round(v).toString(16).padStart(2, '0')).join('');
  return [...document.querySelectorAll(selector)].map((el) => {
    const style = getComputedStyle(el);
    const bg = background(el);
    const fg = over(parse(style.color), bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const hidden = el.querySelector('.visually-hidden');
    const hs = hidden ? getComputedStyle(hidden) : null;
    const rect = hidden ? hidden.getBoundingClientRect() : null;
    return {
      tag: el.tagName.toLowerCase(), text: el.textContent.trim().slice(0, 80),
      color: hex(fg), background: hex(bg), ratio: Math.round(((hi + 0.05) / (lo + 0.05)) * 100) / 100,
      label: hidden ? hidden.textContent : null,
      labelVisuallyHidden: !!hs && hs.display !== 'none' && hs.visibility !== 'hidden' &&
        rect.width <= 1 && rect.height <= 1 && (hs.position === 'absolute' || hs.position === 'fixed'),
    };
  });
}
"""

# Elements wider than the viewport that are not inside a horizontally scrollable container: why a page scrolls.
OVERFLOW_JS = r"""
() => {
  const width = document.documentElement.clientWidth;
  const scrolls = (el) => {
    for (let n = el.parentElement; n && n !== document.body; n = n.parentElement) {
      const s = getComputedStyle(n).overflowX;
      if (s === 'auto' || s === 'scroll' || s === 'hidden' || s === 'clip') return true;
    }
    return false;
  };
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width && r.right > width + 0.5 && !scrolls(el)) {
      out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : ''} right=${Math.round(r.right)}`);
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, clientWidth: width, culprits: out.slice(0, 15)};
}
"""
