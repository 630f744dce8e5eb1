"""Helpers of the notify tests: a real aiosmtpd server on 127.0.0.1 that records (and can misbehave: refuse,
drop, swallow, hang), the environment of a notify run on SQLite or PostgreSQL, subscribers, a published 1.1, the
ledger's rows, names as an attacker types them. A pytest plugin (tests/conftest.py): its fixtures need no import."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from policy_site.bench.local import free_port
from tests.support.pg import BACKENDS, rows
from tests.support.project import SUBSCRIBED, Project

NAMES = {"ann@example.org": "Ann Example", "zoe@example.org": "Zoë Ærøskøbing", "yamada@example.jp": "山田太郎",
         "bob@example.org": "", "eve@example.net": 'Eve "the tester", Jr.'}
MESSAGE_ID = re.compile(r"^<policy-(\d+(?:\.\d+)+)-[0-9a-f]{16}@privacy-policy\.synergycabinet\.example>$")
EXPECTED_HEADERS = {"to", "date", "message-id", "list-unsubscribe", "from", "subject", "list-id", "list-archive",
                    "precedence", "auto-submitted", "mime-version", "content-type", "list-unsubscribe-post"}

# names as an attacker types them: encoded words (q and b) that hold CR LF, and every kind of line break
PHISH = ("=?utf-8?q?Support=0D=0AReply-To=3A_refunds=40evil.example=0D=0AContent-Type=3A_text/html=0D=0A=0D=0A"
         "<a_href=3Dhttps://evil.example>Your_account_is_locked</a>?=")
HOSTILE_NAMES = [
    PHISH,
    "=?utf-8?b?U3VwcG9ydA0KQmNjOiB4QGV2aWwuZXhhbXBsZQ==?=",  # b: 'Support\r\nBcc: x@evil.example'
    "=?iso-8859-1?q?x=0ABcc:_x@evil.example?= tail",
    "Ann =?utf-8?Q?=0D=0A?= Example",
    "Ann\r\nBcc: x@evil.example",
    "Ann\nBcc: x@evil.example",
    "Ann\rBcc: x@evil.example",
    "Ann\u0085Bcc: x@evil.example",  # NEL
    "Ann\u2028Bcc: x@evil.example",
    "Ann\u2029Bcc: x@evil.example",
    "Ann\tBcc",
    "Ann\x00Bcc",
]


class Recorder:
    """An SMTP handler that records every message and can refuse, slow down, drop, hang or swallow."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.rcpts: list[str] = []
        self.refuse: dict[str, str] = {}
        self.refuse_once: dict[str, str] = {}
        self.refuse_data: dict[str, str] = {}  # recipient → the reply to the end of DATA (message not kept)
        self.delay = 0.0
        self.hold: threading.Event | None = None  # the first DATA waits until the test sets it
        self.drop_at: int | None = None  # close the connection instead of accepting the nth DATA
        self.drop_mail_at: int | None = None  # close the connection on the nth MAIL command
        self.drop_rcpt: set[str] = set()  # close the connection on RCPT TO these recipients
        self.stop_at_rcpt: set[str] = set()  # …and stop listening: the server cannot be reached any more
        self.swallow: dict[str, str] = {}  # recipient → 'hang' or 'close': keep the message, then never reply
        self.mails = 0
        self.accept: Callable[[int], str] | None = None  # the reply to the nth message kept (1, 2 …): '250 OK'
        self.replies: list[str] = []  # the reply to each message kept, beside self.messages
        self.controller: Controller | None = None
        self.pipelining = False  # offer PIPELINING (RFC 2920) in the EHLO reply

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]] if self.pipelining else responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.mails += 1
        if self.drop_mail_at == self.mails:
            server.transport.close()
            return "421 closing"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpts.append(address.lower())
        if address.lower() in self.stop_at_rcpt and self.controller is not None:
            self.controller.server.close()
        if address.lower() in self.drop_rcpt | self.stop_at_rcpt:
            server.transport.close()
            return "421 closing"
        if address.lower() in self.refuse:
            return self.refuse[address.lower()]
        if address.lower() in self.refuse_once:
            return self.refuse_once.pop(address.lower())
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.drop_at is not None and len(self.messages) + 1 == self.drop_at:
            self.drop_at = None
            server.transport.close()
            return "421 closing"
        recipient = envelope.rcpt_tos[0].lower()
        if recipient in self.refuse_data:
            return self.refuse_data[recipient]
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        if self.swallow.get(recipient) == "hang":  # the message arrived, the reply never does (in time)
            await asyncio.sleep(3)
        elif self.swallow.get(recipient) == "close":
            server.transport.close()
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.hold is not None:  # a sender that is in the middle of a message until the test lets it finish
            hold, self.hold = self.hold, None
            await asyncio.get_running_loop().run_in_executor(None, hold.wait, 120)
        reply = self.accept(len(self.messages)) if self.accept else "250 OK"
        self.replies.append(reply)
        return reply

    def parsed(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(m[2], policy=email.policy.default) for m in self.messages]

    def to(self) -> list[str]:
        return [m[1][0].lower() for m in self.messages]


@pytest.fixture
def smtp():
    handler = Recorder()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    handler.controller = controller
    yield handler
    controller.stop()


@pytest.fixture
def env(request: pytest.FixtureRequest, tmp_path: Path, smtp: Recorder) -> dict[str, str]:
    """The environment of a notify run: SQLite by default; parametrise with BACKENDS (indirect) for both."""
    base = {"POLICY_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}", "POLICY_SUBSCRIBERS_DB": str(tmp_path / "subs.db"),
            "POLICY_NOTIFY_BACKOFF_SECONDS": "0"}
    if getattr(request, "param", "sqlite") == "postgresql":
        base["POLICY_DATABASE_URL"] = request.getfixturevalue("pg_url")
    return base


both = pytest.mark.parametrize("env", BACKENDS, indirect=True)  # the scenario on SQLite and on PostgreSQL


def subscribe(project: Project, env: dict[str, str], names: dict[str, str] = NAMES) -> None:
    csv_file = project.path.parent / "subscribers.csv"
    csv_file.write_text("email,name,subscribed\n" + "".join(f'{a},"{n.replace(chr(34), chr(34) * 2)}",{SUBSCRIBED}\n'
                                                           for a, n in names.items()), encoding="utf-8")
    project.run("subscribers", "import", str(csv_file), env=env, check=True)


def publish_1_1(project: Project, summary: str = "Clearer wording about cookies.", title: str | None = None) -> None:
    project.meta(version="1.1", summary=summary)
    section = "sections/" + sorted(p.name for p in (project.policy / "sections").glob("*.yaml"))[0]
    data = project.read(section)
    if title is not None:
        data["title"] = title
    data["body"] = list(data["body"]) + ["A new paragraph about how long we keep your data."]
    project.write(section, data)
    project.commit("Publish 1.1")


def add_paragraph(project: Project, text: str) -> None:
    section = "sections/" + sorted(p.name for p in (project.policy / "sections").glob("*.yaml"))[0]
    data = project.read(section)
    data["body"] = list(data["body"]) + [text]
    project.write(section, data)


def replies(env: dict[str, str], version: str = "1.0") -> dict[str, str | None]:
    """Address → the server's reply the ledger keeps for its message of version (None: none recorded)."""
    return {r[0]: r[1] for r in rows(env, "SELECT s.email, d.server_reply FROM deliveries d JOIN subscribers s "
                                          "ON s.id = d.subscriber_id WHERE d.version = ?", (version,))}


def ledger(env: dict[str, str]) -> list[tuple]:
    return [tuple(r) for r in rows(env, "SELECT d.version, s.email, d.status, d.attempts, d.last_error FROM deliveries d "
                                        "JOIN subscribers s ON s.id = d.subscriber_id ORDER BY d.version, s.email")]


@both


def head(project: Project) -> str:
    return project.git("rev-parse", "HEAD")


def force_push_other_1_1(project: Project) -> str:
    """Replace the published 1.1 by another 1.1 (what a force-push does to the built branch)."""
    project.git("reset", "-q", "--hard", "HEAD~1")
    publish_1_1(project, summary="A different text, published under the same number.")
    return head(project)
