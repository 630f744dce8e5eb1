"""The subscription service in real headless Chromium (Debian's, driven by Playwright), next to the built static
site: subscribe on the site's follow page (a cross-origin form post), the confirmation mail at a real SMTP server,
the confirm link opened in the browser and its button pressed, then preferences and unsubscribing — and the
service's own form (whose posts carry Origin: null under its no-referrer policy, and a CSRF token). axe-core: no
serious or critical violation on the subscribe, confirm, preferences and unsubscribe pages; no console error (a
CSP violation would be one), no request leaving the two local servers."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from policy_site.bench.local import free_port
from policy_site.notify.message import unsubscribe_token
from tests.support.browser import Site, Watch, screenshot, serve, settle
from tests.support.pg import rows
from tests.support.project import SUBSCRIBED
from tests.support.service import SECRET, Mailbox, Service, confirm_link, project_for_service, start_service

pytestmark = pytest.mark.browser


@dataclass
class Stack:
    site: Site
    service: Service
    mailbox: Mailbox

    def subscriber(self, email: str) -> tuple | None:
        found = rows(self.service.env, "SELECT status, documents, changes, language, confirmed_at FROM subscribers "
                                       "WHERE email_key = ?", (email,))
        return tuple(found[0]) if found else None


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory):
    """The library site (site_url http://127.0.0.1:P1/) built with subscriptions_url http://127.0.0.1:P2/ and served
    on P1; the service on P2 (plain http on this machine: no proxy, no Secure cookie); a real SMTP server."""
    root = tmp_path_factory.mktemp("service-browser")
    site_port, service_port = free_port(), free_port()
    public = f"http://127.0.0.1:{service_port}/"
    project = project_for_service(root / "project", url=public)
    config = project.path / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "site_url: https://privacy.synergycabinet.example/", f"site_url: http://127.0.0.1:{site_port}/"))
    project.run("build", check=True)
    mailbox = Mailbox().start()
    env = {"POLICY_SMTP_URL": mailbox.url, "POLICY_SUBSCRIBERS_DB": str(root / "subscribers.sqlite3")}
    service = start_service(project, env, root / "logs", port=service_port, public=public)
    try:
        with serve(project.path / "site", site_port) as site:
            yield Stack(site, service, mailbox)
    finally:
        service.stop()
        mailbox.stop()


def new_context(browser, stack: Stack):
    """A browser context where only the site and the service answer (anything else is aborted and recorded)."""
    allowed = (stack.site.origin + "/", stack.service.local)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    context.route(lambda url: not url.startswith(allowed), lambda route: route.abort())
    return context


def axe(page, name: str, what: str) -> list[str]:
    """axe-core's serious and critical violations of the page (and a screenshot of it)."""
    from axe_playwright_python.sync_playwright import Axe
    results = Axe().run(page).response
    screenshot(page, f"service-{name}", what)
    return [f"{name}: {v['id']} ({v['impact']}): {v['help']} {[n['target'] for n in v['nodes'][:3]]}"
            for v in results["violations"] if v.get("impact") in ("serious", "critical")]


def problems(watch: Watch, stack: Stack) -> list[str]:
    return [p for p in watch.report() if not p.startswith("off-site request: " + stack.service.local)]


def test_subscribe_on_the_follow_page_confirm_choose_and_unsubscribe(chromium, stack: Stack) -> None:
    email = "zoe-browser@example.org"
    watch = Watch(stack.site.origin)
    context = new_context(chromium, stack)
    found: list[str] = []
    try:
        page = context.new_page()
        watch.attach(page)
        page.goto(stack.site.url("privacy/follow/"), wait_until="load")
        settle(page)
        form = page.locator("form.policy-subscribe")
        assert form.get_attribute("action") == stack.service.local + "subscribe"
        form.locator("#subscribe-email").fill(email)
        form.locator("#subscribe-name").fill("Zoë <Example>")
        form.locator("#subscribe-changes-all").check()
        form.locator("#subscribe-language").select_option("de")
        with page.expect_navigation():
            form.get_by_role("button", name="Subscribe").click()
        assert page.url == stack.service.local + "subscribe"
        assert page.locator("h1").inner_text() == "Check your inbox"
        found += axe(page, "check-your-inbox", "the answer to a subscription (the same for every address)")

        mail = stack.mailbox.wait(email)[0]
        page.goto(confirm_link(mail, stack.service.public), wait_until="load")
        assert page.locator("h1").inner_text() == "Confirm your subscription"
        assert "Zoë <Example>" in page.locator("main").inner_text()
        found += axe(page, "confirm", "the confirmation page: what will be subscribed, and a button")
        assert stack.subscriber(email) is None  # opening the link changed nothing

        with page.expect_navigation():
            page.get_by_role("button", name="Confirm my subscription").click()
        assert page.locator("h1").inner_text() == "You are subscribed"
        assert stack.subscriber(email)[:4] == ("active", ",privacy,", "all", "de")

        with page.expect_navigation():
            page.get_by_role("link", name="Change what you receive").click()
        assert page.locator("h1").inner_text() == "Your subscription"
        assert page.locator("#subscribe-document-privacy").is_checked()
        assert page.locator("#subscribe-language").input_value() == "de"
        found += axe(page, "preferences", "the preferences page: documents, kinds of change, language, unsubscribe")
        page.locator("#subscribe-document-terms").check()
        page.locator("#subscribe-changes-material").check()
        with page.expect_navigation():
            page.get_by_role("button", name="Save my choices").click()
        assert page.get_by_role("status").inner_text() == "Your choices are saved."
        assert stack.subscriber(email)[:4] == ("active", ",privacy,terms,", "material", "de")

        with page.expect_navigation():
            page.get_by_role("button", name="Unsubscribe from every notice").click()
        assert page.locator("h1").inner_text() == "You are unsubscribed"
        assert stack.subscriber(email)[0] == "removed"
    finally:
        context.close()
    assert not found, found
    assert not problems(watch, stack), problems(watch, stack)


def test_the_service_s_own_form_and_the_unsubscribe_page(chromium, stack: Stack) -> None:
    email, leaving = "ann-browser@example.org", "leaving-browser@example.org"
    stack.service.project.run("subscribers", "add", "--subscribed", SUBSCRIBED, leaving, env=stack.service.env, check=True)
    uid = rows(stack.service.env, "SELECT uid FROM subscribers WHERE email_key = ?", (leaving,))[0][0]
    watch = Watch(stack.service.local.rstrip("/"))
    context = new_context(chromium, stack)
    found: list[str] = []
    try:
        page = context.new_page()
        watch.attach(page)
        page.goto(stack.service.local + "subscribe?documents=terms", wait_until="load")
        assert page.locator("#subscribe-document-terms").is_checked()
        assert not page.locator("#subscribe-document-all").is_checked()
        found += axe(page, "subscribe", "the service's own subscribe form")
        page.locator("#subscribe-email").fill(email)
        with page.expect_navigation():
            page.get_by_role("button", name="Subscribe").click()
        assert page.locator("h1").inner_text() == "Check your inbox"  # its post: Origin null, a CSRF token
        page.goto(confirm_link(stack.mailbox.wait(email)[0], stack.service.public), wait_until="load")
        with page.expect_navigation():
            page.get_by_role("button", name="Confirm my subscription").click()
        assert page.locator("h1").inner_text() == "You are subscribed"
        assert stack.subscriber(email)[:3] == ("active", ",terms,", "material")

        token = unsubscribe_token(SECRET.encode(), uid, leaving)
        page.goto(f"{stack.service.local}unsubscribe?token={token}", wait_until="load")
        assert page.locator("h1").inner_text() == "Unsubscribe" and leaving in page.locator("main").inner_text()
        found += axe(page, "unsubscribe", "the unsubscribe page of a notice's link: a button")
        assert stack.subscriber(leaving)[0] == "active"
        with page.expect_navigation():
            page.get_by_role("button", name="Unsubscribe").click()
        assert page.locator("h1").inner_text() == "You are unsubscribed"
        assert stack.subscriber(leaving)[0] == "removed"
    finally:
        context.close()
    assert not found, found
    assert not watch.report(), watch.report()
    logs = stack.service.logs()
    assert "Traceback" not in logs and not any(a in logs for a in (email, leaving, "zoe-browser@"))
