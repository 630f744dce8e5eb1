"""The subscription service for the tests: a real `policy subscriptions serve` process on 127.0.0.1, a real SMTP
server (aiosmtpd) receiving its confirmation mails and the notices, and an HTTP client.

    project_for_service(path)   a small library (privacy with a German translation, terms) in a real git repository,
                                subscriptions_url set
    Mailbox                     an aiosmtpd handler keeping every message; wait() for the ones to an address
    start_service(...)          the service as a subprocess, its stdout and stderr in files; ready when /healthz is
    Visitor                     a browser-like HTTP client: cookies, forms, an Origin on every POST
    mailbox, service            module fixtures: the SMTP server, the service on SQLite (deploy: on PostgreSQL too)
    db, subscriber, add, …      the store as the tests see it; assert_no_address_in_logs

Behind a reverse proxy. The service of tests/service/test_service.py has `subscriptions_url: https://subscribe.example.test/`
(what production looks like: https links in the mails, Secure cookies, HSTS) and believes 127.0.0.1 as its proxy
(POLICY_TRUSTED_PROXIES). The Visitor plays browser and TLS-terminating proxy at once: it maps the public
https URLs to http://127.0.0.1:PORT/, adds X-Forwarded-Proto: https and X-Forwarded-For: its own client address
(so each test is its own client for the per-client rate limit), and keeps the cookies itself (httpx would not send
a Secure cookie over plain http).
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
import yaml
from aiosmtpd.controller import Controller

from policy_site.bench.local import free_port, stop
from tests.support.library import small_library
from tests.support.pg import rows
from tests.support.project import ROOT, SUBSCRIBED, Project

SECRET = "test-secret-for-the-subscription-service"
PUBLIC = "https://subscribe.example.test/"
SITE_ORIGIN = "https://privacy.synergycabinet.example"


# --- the project --------------------------------------------------------------------------------------------

def set_subscriptions_url(project: Project, url: str | None) -> None:
    """subscriptions_url in the project's mkdocs.yml (policy plugin), replaced or removed."""
    config = project.path / "mkdocs.yml"
    text = re.sub(r"^      subscriptions_url: .*\n", "", config.read_text(encoding="utf-8"), flags=re.M)
    if url:
        text = re.sub(r"^(      list_id: .*\n)", rf"\1      subscriptions_url: {url}\n", text, count=1, flags=re.M)
    config.write_text(text, encoding="utf-8")


def project_for_service(path: Path, url: str = PUBLIC) -> Project:
    """library.small_library (privacy with a German translation, terms) with subscriptions_url set."""
    project = small_library(path)
    set_subscriptions_url(project, url)
    return project


def publish_privacy(project: Project, version: str = "1.1") -> None:
    """A new paragraph in privacy, published now as `version` (a material change: the default kind)."""
    meta_file = project.policy / "privacy" / "policy.yaml"
    meta = yaml.safe_load(meta_file.read_text(encoding="utf-8"))
    meta.update(version=version, summary="How long we keep your data.")
    meta["effective"] = str(meta["effective"])
    meta_file.write_text(yaml.safe_dump(meta, sort_keys=False, allow_unicode=True), encoding="utf-8")
    section_file = sorted((project.policy / "privacy" / "sections").glob("*.yaml"))[0]
    section = yaml.safe_load(section_file.read_text(encoding="utf-8"))
    section["body"] = list(section["body"]) + [f"A new paragraph of version {version} about how long we keep data."]
    section_file.write_text(yaml.safe_dump(section, sort_keys=False, allow_unicode=True), encoding="utf-8")
    project.commit(f"Publish privacy {version}", when=int(time.time()))  # now: after the tests' readers subscribed


# --- the SMTP server --------------------------------------------------------------------------------------------

class Mailbox:
    """An aiosmtpd handler that keeps every message (or refuses the recipients of `refuse`); wait() blocks until
    the ones wanted have arrived."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, EmailMessage]] = []  # (recipient, message)
        self.refuse: dict[str, str] = {}  # recipient → the reply to its RCPT TO
        self.changed = threading.Condition()
        self.controller: Controller | None = None
        self.port = 0

    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options) -> str:
        reply = self.refuse.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.changed:
            self.messages.extend((rcpt.lower(), parsed) for rcpt in envelope.rcpt_tos)
            self.changed.notify_all()
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self.changed:
            return [m for rcpt, m in self.messages if rcpt == address.lower()]

    def wait(self, address: str, count: int = 1, timeout: float = 60.0) -> list[EmailMessage]:
        """The messages to address once there are `count` of them (AssertionError after timeout seconds)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while len(found := [m for rcpt, m in self.messages if rcpt == address.lower()]) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{count} message(s) to {address} expected, {len(found)} arrived"
                self.changed.wait(left)
            return found

    def start(self) -> Mailbox:
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())
        self.controller.start()
        self.port = self.controller.port
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None, "no text/plain part"
    return body.get_content()


def confirm_link(message: EmailMessage, public: str = PUBLIC) -> str:
    found = re.search(re.escape(public) + r"confirm\?token=[A-Za-z0-9_-]+", text_of(message))
    assert found, text_of(message)
    return found.group(0)


# --- the service ------------------------------------------------------------------------------------------------

@dataclass
class Service:
    process: subprocess.Popen
    port: int
    public: str  # subscriptions_url, ending in '/'
    project: Project
    env: dict[str, str]  # the environment it runs with (and `policy notify` may run with)
    logs_dir: Path
    addresses: set[str] = field(default_factory=set)  # every address a test used: none may appear in the logs

    def address(self, name: str) -> str:
        """name@example.org, remembered for assert_no_address_in_logs."""
        self.addresses.add(f"{name}@example.org")
        return f"{name}@example.org"

    @property
    def local(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def to_local(self, url: str) -> str:
        """A public URL (or a path relative to the service) as the URL the service listens on."""
        if url.startswith(self.public):
            return self.local + url[len(self.public):]
        assert "://" not in url, f"{url} is not the service's"
        return self.local + url.lstrip("/")

    def logs(self) -> str:
        """Everything the service wrote to its stdout and its stderr so far."""
        return "".join((self.logs_dir / name).read_text(encoding="utf-8", errors="replace")
                       for name in ("stdout.txt", "stderr.txt"))

    def visitor(self, client: str = "198.51.100.1", **options) -> Visitor:
        return Visitor(self, client, **options)

    def stop(self) -> None:
        stop(self.process)


def start_service(project: Project, env: dict[str, str], logs_dir: Path, port: int | None = None,
                  public: str = PUBLIC, timeout: float = 120.0) -> Service:
    """`policy subscriptions serve --host 127.0.0.1 --port PORT` in the project, ready (its /healthz answers)."""
    port = port or free_port()
    logs_dir.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, "PYTHONPATH": str(ROOT / "scripts"), "POLICY_UNSUBSCRIBE_SECRET": SECRET, **env}
    with open(logs_dir / "stdout.txt", "wb") as out, open(logs_dir / "stderr.txt", "wb") as err:
        process = subprocess.Popen([sys.executable, "-m", "policy_site", "subscriptions", "serve", "--host",
                                    "127.0.0.1", "--port", str(port)], cwd=project.path, env=full_env,
                                   stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    service = Service(process, port, public, project, env, logs_dir)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise AssertionError(f"the service exited ({process.returncode}):\n{service.logs()}")
        try:
            if httpx.get(service.local + "healthz", timeout=2).status_code == 200:
                return service
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            service.stop()
            raise AssertionError(f"the service did not answer /healthz within {timeout} s:\n{service.logs()}")
        time.sleep(0.1)


# --- a visitor ------------------------------------------------------------------------------------------------

class _Forms(HTMLParser):
    """The forms of a page: their action and their named inputs (hidden ones, checked boxes, selected options)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "fields": {}})
        elif tag == "input" and self.forms and "name" in a:
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.forms[-1]["fields"].setdefault(a["name"], []).append(a.get("value", ""))
        elif tag == "select" and self.forms:
            self.select = a.get("name")
        elif tag == "option" and self.select and "selected" in a:
            self.forms[-1]["fields"].setdefault(self.select, []).append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None


def forms(page: str) -> list[dict]:
    """[{'action': …, 'fields': {name: [values]}}] of every form of an HTML page."""
    parser = _Forms()
    parser.feed(page)
    return parser.forms


def form(page: str, action: str) -> dict[str, list[str]]:
    """The fields of the page's form posting to `action`."""
    found = [f["fields"] for f in forms(page) if f["action"] == action]
    assert found, f"no form posting to {action!r} in:\n{page}"
    return found[0]


@dataclass
class Visitor:
    """A browser (cookies, an Origin on every POST) behind the test's reverse proxy (X-Forwarded-*)."""

    service: Service
    client: str  # the address the proxy says the request came from
    origin: str | None = None  # the Origin its POSTs carry; None: the service's own
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, url: str, data: dict | list | None = None, headers: dict[str, str] | None = None,
                content: bytes | None = None, cookies: bool = True) -> httpx.Response:
        sent = {"X-Forwarded-For": self.client, "X-Forwarded-Proto": urlsplit(self.service.public).scheme}
        if cookies and self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method == "POST":
            public = urlsplit(self.service.public)
            sent["Origin"] = self.origin or f"{public.scheme}://{public.netloc}"
        sent.update(headers or {})
        sent = {k: v for k, v in sent.items() if v is not None}
        if data is not None:  # a form, its fields in order (a repeated field: several pairs)
            content = urlencode(list(data.items()) if isinstance(data, dict) else data).encode("ascii")
            sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
        response = httpx.request(method, self.service.to_local(url), content=content, headers=sent,
                                 timeout=15, follow_redirects=False)
        for header in response.headers.get_list("set-cookie"):
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            self.cookies.update({k: m.value for k, m in jar.items()})
        return response

    def get(self, url: str, **options) -> httpx.Response:
        return self.request("GET", url, **options)

    def post(self, url: str, data: dict | list | None = None, **options) -> httpx.Response:
        return self.request("POST", url, data, **options)

    def submit(self, page: str, action: str, changes: dict | None = None, **options) -> httpx.Response:
        """Post the page's form to action, with some fields changed (a list value: a repeated field)."""
        fields = form(page, action)
        fields.update({k: v if isinstance(v, list) else [v] for k, v in (changes or {}).items()})
        pairs = [(k, v) for k, values in fields.items() for v in values]
        return self.post(action, pairs, **options)

    def subscribe(self, address: str, name: str = "", **choices) -> httpx.Response:
        """Open the form, fill it in, send it."""
        page = self.get("subscribe")
        assert page.status_code == 200, page.text
        return self.submit(page.text, "subscribe", {"email": address, "name": name, **choices})


# --- fixtures (a pytest plugin: tests/conftest.py; module scope: one of each per test module) and helpers --

@pytest.fixture(scope="module")
def mailbox():
    box = Mailbox().start()
    yield box
    box.stop()


def deploy(root: Path, mailbox: Mailbox, database_url: str | None = None) -> Service:
    project = project_for_service(root / "project")
    env = {"POLICY_SMTP_URL": mailbox.url, "POLICY_SUBSCRIBERS_DB": str(root / "subscribers.sqlite3"),
           "POLICY_TRUSTED_PROXIES": "127.0.0.1", "POLICY_NOTIFY_BACKOFF_SECONDS": "0",
           "POLICY_UNSUBSCRIBE_SECRET": SECRET}
    if database_url:
        env["POLICY_DATABASE_URL"] = database_url
    return start_service(project, env, root / "logs")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, mailbox: Mailbox):
    """The service on SQLite, for the whole module."""
    running = deploy(tmp_path_factory.mktemp("service-sqlite"), mailbox)
    yield running
    running.stop()


def db(service: Service, sql: str, params: tuple = ()) -> list[tuple]:
    return rows(service.env, sql, params)


def subscriber(service: Service, email: str) -> tuple | None:
    """(status, documents, changes, language, confirmed_at, name) of an address, or None."""
    found = db(service, "SELECT status, documents, changes, language, confirmed_at, name FROM subscribers "
                        "WHERE email_key = ?", (email.lower(),))
    if not found:
        return None
    return tuple(v.strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(v, datetime) else v for v in found[0])


def add(service: Service, email: str, *options: str) -> str:
    """`policy subscribers add`; the subscriber's uid."""
    service.project.run("subscribers", "add", "--subscribed", SUBSCRIBED, email, *options, env=service.env, check=True)
    return db(service, "SELECT uid FROM subscribers WHERE email_key = ?", (email.lower(),))[0][0]


def notify(service: Service) -> str:
    return service.project.run("notify", env=service.env, check=True).stdout


def without_volatile(response) -> tuple:
    """What a response tells: status, body and headers, but for its date and the cookie of a first visit."""
    headers = {k: v for k, v in response.headers.items() if k not in ("date", "set-cookie")}
    return response.status_code, response.text, headers


def assert_no_address_in_logs(service: Service) -> None:
    """None of the addresses the tests used (Service.address) in what the service printed; no traceback, no token."""
    logs = service.logs().lower()
    assert "traceback" not in logs, service.logs()
    leaked = sorted(a for a in service.addresses if a.lower() in logs or a.split("@")[0].lower() + "@" in logs)
    assert not leaked, f"addresses in the service's logs: {leaked}\n{service.logs()}"
    assert "token=" not in logs


def pending_count(service: Service, email: str) -> int:
    return db(service, "SELECT COUNT(*) FROM pending_subscriptions WHERE email_key = ?", (email.lower(),))[0][0]
