"""`policy notify` against a real aiosmtpd server on 127.0.0.1: content, headers, ledger, retries, crashes."""

from __future__ import annotations

import email
import email.policy
import io
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from policy_site.bench.local import free_port
from policy_site.errors import UserError
from policy_site.notify.ledger import Ledger, Outcome
from policy_site.notify.run import Progress, RateLimit, SharedRate
from policy_site.notify.smtp_settings import RECONNECT_DELAYS, SMTPConfig, smtp_config
from policy_site.notify.store import SubscriberStore
from policy_site.notify.transport import REPLY_LIMIT, DeliveryError, Outgoing, SMTPTransport, ledger_reply
from tests.support.notify import (
    EXPECTED_HEADERS,
    MESSAGE_ID,
    NAMES,
    Recorder,
    add_paragraph,
    both,
    ledger,
    publish_1_1,
    replies,
    subscribe,
)
from tests.support.pg import rows
from tests.support.project import ROOT, SUBSCRIBED, Project

pytestmark = pytest.mark.long


def test_every_subscriber_gets_one_correct_multipart_message(git_project: Project, smtp: Recorder,
                                                             env: dict[str, str]) -> None:
    subscribe(git_project, env)
    result = git_project.run("notify", env=env, check=True)
    assert "version 1.0 announced to 5 subscribers" in result.stdout
    assert "5 sent, 0 failed, 0 deferred via smtp://127.0.0.1" in result.stdout
    assert sorted(smtp.to()) == sorted(NAMES)
    ids = set()
    for (mail_from, rcpts, _raw), msg in zip(smtp.messages, smtp.parsed()):
        assert mail_from == "privacy@synergycabinet.example" and len(rcpts) == 1
        assert not msg.defects
        assert {k.lower() for k in msg.keys()} <= EXPECTED_HEADERS
        to = msg["To"].addresses
        assert len(to) == 1 and to[0].addr_spec == rcpts[0] and to[0].display_name == NAMES[rcpts[0]]
        assert msg["Subject"] == "SynergyCabinet: Privacy and company Policy for Customer 1.0 — takes effect 25 November 2026" or \
            msg["Subject"] == "SynergyCabinet: Privacy and company Policy for Customer 1.0 — took effect 25 November 2026"
        assert MESSAGE_ID.match(msg["Message-ID"]) and rcpts[0].split("@")[0] not in msg["Message-ID"]
        ids.add(msg["Message-ID"])
        assert msg["List-Id"] == "SynergyCabinet privacy policy <privacy-policy.synergycabinet.example>"
        assert msg["List-Unsubscribe"] == "<mailto:privacy@synergycabinet.example?subject=unsubscribe>"
        assert "List-Unsubscribe-Post" not in msg  # one-click needs an https URL (none configured here)
        assert email.utils.parsedate_to_datetime(msg["Date"]).tzinfo is not None
        assert msg.get_content_type() == "multipart/alternative"
        text, markup = msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()
        for body in (text, markup):
            assert "https://privacy.synergycabinet.example/changes/1.0/" in body
            assert "https://privacy.synergycabinet.example/versions/1.0/" in body
            assert "First published version of the SynergyCabinet privacy policy." in body
            assert "unsubscribe" in body
        assert "<p" not in text and "<p" in markup
    assert len(ids) == 5
    again = git_project.run("notify", env=env, check=True)
    assert "nothing to send" in again.stdout and len(smtp.messages) == 5
    status = git_project.run("notify", "--status", env=env, check=True).stdout
    assert re.search(r"^1\.0 .* 5 +5 +0 +0 +0 +0$", status, re.M)


@both
def test_new_version_lists_changed_sections_and_reaches_only_current_subscribers(
        git_project: Project, smtp: Recorder, env: dict[str, str]) -> None:
    subscribe(git_project, env, {"ann@example.org": "Ann"})
    git_project.run("notify", env=env, check=True)
    git_project.run("subscribers", "add", "--subscribed", SUBSCRIBED, "late@example.org", env=env, check=True)
    assert "nothing to send" in git_project.run("notify", env=env, check=True).stdout  # no old notices
    publish_1_1(git_project, title="Retitled section")
    result = git_project.run("notify", env=env, check=True)
    assert "version 1.1 announced to 2 subscribers" in result.stdout
    assert sorted(smtp.to()) == ["ann@example.org", "ann@example.org", "late@example.org"]
    latest = smtp.parsed()[-1]
    assert latest["Subject"].startswith("SynergyCabinet: Privacy and company Policy for Customer 1.1 — ")
    text = latest.get_body(("plain",)).get_content()
    assert "Clearer wording about cookies." in text
    assert re.search(r"\* (\d+\. )?Retitled section \(renamed, text changed\)", text)
    assert "What changed: 1 of 14 sections changed (1 modified, 1 renamed); 13 unchanged." in text and "/changes/1.1/" in text, text


def test_first_run_skips_superseded_versions_and_includes_upcoming(project: Project, smtp: Recorder,
                                                                  env: dict[str, str]) -> None:
    project.init_git()
    project.meta(effective="2020-01-01")
    project.commit("1.0")
    project.meta(version="1.1", effective="2020-06-01", summary="In force now.")
    add_paragraph(project, "A paragraph of version 1.1.")
    project.commit("1.1")
    project.meta(version="1.2", effective="2099-01-01", summary="Coming later.")
    add_paragraph(project, "A paragraph of version 1.2.")
    project.commit("1.2")
    project.meta(version="1.3", effective="2099-01-01", summary="Layout only.")
    project.commit("1.3")
    subscribe(project, env, {"ann@example.org": "Ann"})
    result = project.run("notify", env=env, check=True)
    assert "version 1.0 superseded before notices started; not announced" in result.stdout
    assert "version 1.3 is editorial (its text reads as before); not announced" in result.stdout
    assert "version 1.1 announced to 1 subscriber" in result.stdout
    assert "version 1.2 announced to 1 subscriber" in result.stdout
    subjects = [m["Subject"] for m in smtp.parsed()]
    assert subjects == ["SynergyCabinet: Privacy and company Policy for Customer 1.1 — took effect 1 June 2020",
                        "SynergyCabinet: Privacy and company Policy for Customer 1.2 — takes effect 1 January 2099"]
    upcoming = smtp.parsed()[1].get_body(("plain",)).get_content()
    assert "It takes effect on 1 January 2099. Until then, version 1.1 stays in force." in upcoming


@both
def test_451_is_retried_next_run_and_550_never(git_project: Project, smtp: Recorder, env: dict[str, str]) -> None:
    subscribe(git_project, env)
    smtp.accept = lambda n: f"250 2.0.0 Ok: queued as Q{n:03d}"
    smtp.refuse = {"zoe@example.org": "451 4.7.1 Greylisted, try again later",
                   "bob@example.org": "550 5.1.1 <bob@example.org>: mailbox unavailable"}
    result = git_project.run("notify", env=env, check=True)
    assert "3 sent, 1 failed, 1 deferred" in result.stdout
    assert "b***@example.org  550 5.1.1 <b***@example.org>: mailbox unavailable" in result.stderr
    assert "bob@example.org" not in result.stdout + result.stderr
    rows = {r[1]: r[2:] for r in ledger(env)}
    assert rows["zoe@example.org"][:2] == ("pending", 1) and rows["zoe@example.org"][2].startswith("451")
    assert rows["bob@example.org"][:2] == ("failed", 1)
    smtp.refuse = {}
    second = git_project.run("notify", env=env, check=True)
    assert "1 sent, 0 failed, 0 deferred" in second.stdout
    assert smtp.to().count("zoe@example.org") == 1 and "bob@example.org" not in smtp.to()
    assert smtp.rcpts.count("bob@example.org") == 1  # the 550 was never retried
    # each sent message keeps the server's reply to it (zoe's: the second run's), the refused one none
    answered = {m[1][0].lower(): reply for m, reply in zip(smtp.messages, smtp.replies, strict=True)}
    assert replies(env) == {**answered, "bob@example.org": None} and len(set(answered.values())) == 4
    assert "nothing to send" in git_project.run("notify", env=env, check=True).stdout
    assert smtp.rcpts.count("bob@example.org") == 1


@both
def test_several_connections_with_pipelining_send_each_notice_once(git_project: Project, smtp: Recorder,
                                                                    env: dict[str, str]) -> None:
    """--connections 3 to a server that offers PIPELINING: the same outcomes as one connection (a 451 deferred, a
    550 failed, the rest sent once each), and every row recorded."""
    subscribe(git_project, env)
    smtp.pipelining = True
    smtp.refuse = {"zoe@example.org": "451 4.7.1 Greylisted, try again later",
                   "bob@example.org": "550 5.1.1 <bob@example.org>: mailbox unavailable"}
    result = git_project.run("notify", "--connections", "3", env=env, check=True)
    assert "3 sent, 1 failed, 1 deferred" in result.stdout and "(3 connections)" in result.stdout
    assert sorted(smtp.to()) == sorted(set(NAMES) - {"zoe@example.org", "bob@example.org"})
    states = {r[1]: r[2:4] for r in ledger(env)}
    assert states["zoe@example.org"] == ("pending", 1) and states["bob@example.org"] == ("failed", 1)
    assert sum(state == ("sent", 1) for state in states.values()) == 3
    smtp.refuse = {}
    assert "1 sent, 0 failed, 0 deferred" in git_project.run("notify", "--connections", "3", env=env,
                                                              check=True).stdout
    assert sorted(smtp.to()) == sorted(set(NAMES) - {"bob@example.org"})


def test_backoff_and_max_attempts(git_project: Project, smtp: Recorder, env: dict[str, str]) -> None:
    subscribe(git_project, env, {"ann@example.org": "Ann", "zoe@example.org": "Zoë"})
    smtp.refuse = {"zoe@example.org": "452 4.2.2 Mailbox full"}
    slow = {**env, "POLICY_NOTIFY_BACKOFF_SECONDS": "3600"}
    git_project.run("notify", env=slow, check=True)
    waiting = git_project.run("notify", env=slow, check=True).stdout
    assert "nothing to send; 1 deferred, next attempt after" in waiting
    assert smtp.rcpts.count("zoe@example.org") == 1  # not retried before its time
    with sqlite3.connect(env["POLICY_SUBSCRIBERS_DB"]) as conn:
        conn.execute("UPDATE deliveries SET next_attempt_at = '2000-01-01T00:00:00Z'")
    result = git_project.run("notify", "--max-attempts", "2", env=env, check=True)
    assert "0 sent, 1 failed, 0 deferred" in result.stdout
    assert [r[2:4] for r in ledger(env) if r[1] == "zoe@example.org"] == [("failed", 2)]


@both
def test_removed_subscriber_is_cancelled(git_project: Project, smtp: Recorder, env: dict[str, str]) -> None:
    subscribe(git_project, env, {"ann@example.org": "Ann", "zoe@example.org": "Zoë"})
    smtp.refuse = {"zoe@example.org": "451 later"}
    git_project.run("notify", env=env, check=True)
    removed = git_project.run("subscribers", "remove", "zoe@example.org", env=env, check=True)
    assert "1 undelivered notice cancelled" in removed.stdout
    smtp.refuse = {}
    assert "nothing to send" in git_project.run("notify", env=env, check=True).stdout
    assert [r[2] for r in ledger(env) if r[1] == "zoe@example.org"] == ["cancelled"]


@both
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_killed_run_resumes_with_at_most_the_in_flight_message_repeated(
        git_project: Project, smtp: Recorder, env: dict[str, str], how: signal.Signals) -> None:
    addresses = {f"reader{i:02d}@example.org": f"Reader {i}" for i in range(12)}
    env = {**env, "POLICY_NOTIFY_LEASE_SECONDS": "2"}  # PostgreSQL: a killed worker's claims wait for this
    subscribe(git_project, env, addresses)
    smtp.delay = 0.15
    process = subprocess.Popen([sys.executable, "-m", "policy_site", "notify"], cwd=git_project.path,
                               env={**os.environ, "PYTHONPATH": str(ROOT / "scripts"), **env},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(smtp.messages) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(how)
    err = process.communicate()[1].decode()
    if how == signal.SIGTERM:
        assert process.returncode == 130 and "policy notify: interrupted" in err and "Traceback" not in err
    killed_after = len(smtp.messages)
    assert 4 <= killed_after < 12
    smtp.delay = 0
    if "POLICY_DATABASE_URL" in env:  # killed: its claims wait for the lease; stopped: it returned them
        claimed = rows(env, "SELECT COUNT(*) FROM deliveries WHERE status = 'sending' AND claimed_by IS NOT NULL")
        assert (claimed[0][0] > 0) == (how == signal.SIGKILL)
        time.sleep(2.1 if how == signal.SIGKILL else 0)
    result = git_project.run("notify", env=env, check=True)
    assert "sent" in result.stdout
    received = smtp.to()
    assert sorted(set(received)) == sorted(addresses)
    repeated = [a for a in set(received) if received.count(a) > 1]
    assert len(repeated) <= 1 and all(received.count(a) == 2 for a in repeated)
    for address in repeated:
        ids = {m["Message-ID"] for m, to in zip(smtp.parsed(), received) if to == address}
        assert len(ids) == 1  # the repeat carries the same Message-ID, so clients show it once
    assert {r[2] for r in ledger(env)} == {"sent"}


def test_second_notify_while_one_runs_exits_clearly(git_project: Project, smtp: Recorder,
                                                    env: dict[str, str]) -> None:
    subscribe(git_project, env, {f"r{i}@example.org": "" for i in range(6)})
    held = smtp.hold = threading.Event()  # the first run stays in the middle of its first message
    process = subprocess.Popen([sys.executable, "-m", "policy_site", "notify"], cwd=git_project.path,
                               env={**os.environ, "PYTHONPATH": str(ROOT / "scripts"), **env},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not smtp.messages and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)
    try:
        second = git_project.run("notify", env=env)
    finally:
        held.set()
    out, _err = process.communicate(timeout=120)
    assert second.returncode == 1
    assert "policy notify: error: another policy notify is running (lock " in second.stderr
    assert "Traceback" not in second.stderr
    assert process.returncode == 0 and "6 sent" in out and len(smtp.messages) == 6


@both
def test_connection_lost_after_the_final_dot_is_not_resent_in_the_run(git_project: Project, smtp: Recorder,
                                                                       env: dict[str, str]) -> None:
    subscribe(git_project, env)
    smtp.drop_at = 3  # the server closes the connection after the 3rd message's final dot, without a reply
    result = git_project.run("notify", env=env, check=True)
    assert "4 sent, 0 failed, 1 deferred (1 with outcome unknown: lost after sending) via" in result.stdout
    assert len(smtp.rcpts) == 5 and len(smtp.messages) == 4  # not re-sent; the connection re-opened for the rest
    [lost] = [r for r in ledger(env) if r[2] == "pending"]
    assert lost[3] == 1 and lost[4].startswith("outcome unknown: the connection to smtp://127.0.0.1")
    assert "1 sent, 0 failed, 0 deferred" in git_project.run("notify", env=env, check=True).stdout
    assert sorted(smtp.to()) == sorted(NAMES)


def test_stale_connection_at_mail_is_reopened_without_counting(git_project: Project, smtp: Recorder,
                                                               env: dict[str, str]) -> None:
    subscribe(git_project, env)
    smtp.drop_mail_at = 3  # e.g. the server closed an idle connection: nothing was handed over yet
    result = git_project.run("notify", env=env, check=True)
    assert "5 sent, 0 failed, 0 deferred" in result.stdout and sorted(smtp.to()) == sorted(NAMES)
    assert {r[2:4] for r in ledger(env)} == {("sent", 1)}


@pytest.mark.parametrize("how", ["hang", "close"])
def test_lost_after_data_is_retried_by_later_runs_only(git_project: Project, smtp: Recorder, env: dict[str, str],
                                                       how: str) -> None:
    """A server takes one recipient's message, then hangs past the client's timeout (or closes the socket)."""
    addresses = {f"r{i}@example.org": f"Reader {i}" for i in range(5)}
    subscribe(git_project, env, addresses)
    victim = "r1@example.org"
    smtp.swallow = {victim: how}
    env = {**env, "POLICY_SMTP_URL": env["POLICY_SMTP_URL"] + "?timeout=1"}
    slow = {**env, "POLICY_NOTIFY_BACKOFF_SECONDS": "3600"}
    first = git_project.run("notify", "--max-attempts", "3", env=slow)
    assert first.returncode == 0 and "Traceback" not in first.stderr
    assert "4 sent, 0 failed, 1 deferred (1 with outcome unknown" in first.stdout
    assert sorted(smtp.to()) == sorted(addresses)  # one copy each: the lost one was not sent again
    assert "nothing to send; 1 deferred, next attempt after" in git_project.run("notify", env=slow).stdout  # backoff
    with sqlite3.connect(env["POLICY_SUBSCRIBERS_DB"]) as conn:
        later = conn.execute("SELECT next_attempt_at, strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+3500 seconds') "
                             "FROM deliveries WHERE status = 'pending'").fetchone()
        assert later[0] > later[1]
        conn.execute("UPDATE deliveries SET next_attempt_at = '2000-01-01T00:00:00Z'")
    for run in (2, 3):
        result = git_project.run("notify", "--max-attempts", "3", env=env)
        assert result.returncode == 0 and "Traceback" not in result.stderr
        assert smtp.to().count(victim) == run  # at most one copy per run that lost it
        row = {r[1]: r for r in ledger(env)}[victim]
        assert row[2:4] == ("pending" if run < 3 else "failed", run) and row[4].startswith("outcome unknown")
    assert "0 sent, 1 failed, 0 deferred (1 with outcome unknown" in result.stdout
    assert "failed   1.0  r***@example.org  outcome unknown" in result.stderr and victim not in result.stderr
    assert all(smtp.to().count(a) == 1 for a in addresses if a != victim)
    assert "nothing to send" in git_project.run("notify", env=env).stdout and smtp.to().count(victim) == 3


def test_connection_dropped_at_rcpt_counts_an_attempt_and_the_run_goes_on(git_project: Project, smtp: Recorder,
                                                                          env: dict[str, str]) -> None:
    addresses = {f"r{i}@example.org": "" for i in range(5)}
    subscribe(git_project, env, addresses)
    smtp.drop_rcpt = {"r1@example.org"}
    result = git_project.run("notify", "--max-attempts", "2", env=env)
    assert result.returncode == 0 and "4 sent, 0 failed, 1 deferred via" in result.stdout
    assert smtp.rcpts.count("r1@example.org") == 2  # tried once more on a new connection, then left for later
    assert sorted(smtp.to()) == sorted(a for a in addresses if a != "r1@example.org")
    row = {r[1]: r for r in ledger(env)}["r1@example.org"]
    assert row[2:4] == ("pending", 1) and "lost at RCPT" in row[4]
    second = git_project.run("notify", "--max-attempts", "2", env=env)
    assert second.returncode == 0 and "0 sent, 1 failed, 0 deferred" in second.stdout
    assert {r[1]: r for r in ledger(env)}["r1@example.org"][2:4] == ("failed", 2)
    assert "nothing to send" in git_project.run("notify", env=env).stdout
    assert smtp.rcpts.count("r1@example.org") == 4 and len(smtp.messages) == 4


@both
def test_server_gone_mid_run_stops_with_75_and_loses_nothing(git_project: Project, smtp: Recorder,
                                                             env: dict[str, str]) -> None:
    addresses = {f"r{i}@example.org": "" for i in range(5)}
    env = {**env, "POLICY_SMTP_RECONNECT_DELAYS": "0,0.05,0.1"}  # three attempts each time, as by default, sooner
    subscribe(git_project, env, addresses)
    smtp.stop_at_rcpt = {"r2@example.org"}  # drops the connection and stops listening
    result = git_project.run("notify", env=env)
    assert result.returncode == 75 and "Traceback" not in result.stderr
    assert "policy notify: stopped: connection to smtp://127.0.0.1" in result.stderr
    assert "2 sent, 0 failed, 1 deferred" in result.stdout
    rows = {r[1]: r[2:] for r in ledger(env)}
    assert {a: r[:2] for a, r in rows.items()} == {  # the recipient whose RCPT broke the connection: an attempt
        "r0@example.org": ("sent", 1), "r1@example.org": ("sent", 1), "r2@example.org": ("pending", 1),
        "r3@example.org": ("pending", 0), "r4@example.org": ("pending", 0)}  # the rest: untouched, nothing lost
    assert rows["r2@example.org"][2].endswith("it could not be re-opened")
    again = Controller(smtp, hostname="127.0.0.1", port=free_port())
    again.start()
    smtp.stop_at_rcpt = set()
    try:
        result = git_project.run("notify", env={**env, "POLICY_SMTP_URL": f"smtp://127.0.0.1:{again.port}"})
    finally:
        again.stop()
    assert result.returncode == 0 and "3 sent" in result.stdout
    assert sorted(smtp.to()) == sorted(addresses)


@pytest.mark.parametrize("reply, status", [("452 4.2.2 Mailbox full", "pending"), ("554 5.6.0 Rejected", "failed")])
def test_replies_at_the_end_of_data(git_project: Project, smtp: Recorder, env: dict[str, str], reply: str,
                                    status: str) -> None:
    subscribe(git_project, env, {"ann@example.org": "Ann", "zoe@example.org": "Zoë"})
    smtp.refuse_data = {"zoe@example.org": reply}
    result = git_project.run("notify", env=env, check=True)
    assert ("1 sent, 0 failed, 1 deferred" if status == "pending" else "1 sent, 1 failed, 0 deferred") in result.stdout
    row = {r[1]: r for r in ledger(env)}["zoe@example.org"]
    assert row[2:4] == (status, 1) and row[4] == reply
    smtp.refuse_data = {}
    git_project.run("notify", env=env, check=True)
    assert smtp.to().count("zoe@example.org") == (1 if status == "pending" else 0)


@both
def test_dry_run_renders_and_counts_but_sends_nothing(git_project: Project, smtp: Recorder,
                                                      env: dict[str, str]) -> None:
    subscribe(git_project, env)
    result = git_project.run("notify", "--dry-run", env=env, check=True)
    assert "dry run — 5 messages rendered and would be sent (1.0: 5); nothing sent, nothing recorded" in result.stdout
    assert not smtp.messages and not smtp.rcpts and ledger(env) == []
    assert "5 sent" in git_project.run("notify", env=env, check=True).stdout


def test_outbox_is_the_default(git_project: Project, tmp_path: Path) -> None:
    env = {"POLICY_SUBSCRIBERS_DB": str(tmp_path / "subs.db")}
    subscribe(git_project, env)
    result = git_project.run("notify", env=env, check=True)
    outbox = git_project.path / ".cache" / "outbox" / "1.0"
    assert f"5 sent, 0 failed, 0 deferred via outbox {outbox.parent}" in result.stdout
    files = sorted(outbox.glob("*.eml"))
    assert len(files) == 5 and not list(outbox.glob(".tmp-*"))
    messages = [email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files]
    assert sorted(m["To"].addresses[0].addr_spec for m in messages) == sorted(NAMES)
    for path, msg in zip(files, messages):
        assert path.name == msg["Message-ID"].strip("<>") + ".eml"
        assert msg.get_content_type() == "multipart/alternative"
    assert {r[2] for r in ledger(env)} == {"sent"}
    assert set(replies(env).values()) == {None}  # no server, no reply
    assert "nothing to send" in git_project.run("notify", env=env, check=True).stdout


def test_unsubscribe_link_and_one_click(git_project: Project, smtp: Recorder, env: dict[str, str]) -> None:
    config = git_project.path / "mkdocs.yml"
    config.write_text(config.read_text().replace(
        "      list_id:", "      unsubscribe_url: https://privacy.synergycabinet.example/unsubscribe\n      list_id:"))
    subscribe(git_project, env, {"zoe@example.org": "Zoë"})
    missing = git_project.run("notify", env=env)
    assert missing.returncode == 1 and "POLICY_UNSUBSCRIBE_SECRET" in missing.stderr and not smtp.messages
    env = {**env, "POLICY_UNSUBSCRIBE_SECRET": "correct horse battery staple"}
    git_project.run("notify", env=env, check=True)
    msg = smtp.parsed()[0]
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    match = re.fullmatch(r"<mailto:privacy@synergycabinet\.example\?subject=unsubscribe>, "
                         r"<(https://privacy\.synergycabinet\.example/unsubscribe\?"
                         r"token=([0-9a-f]{16}\.[0-9a-f]{32}))>",
                         str(msg["List-Unsubscribe"]))
    assert match, msg["List-Unsubscribe"]
    url, token = match.groups()
    assert url in msg.get_body(("plain",)).get_content()
    assert f'href="{url}"' in msg.get_body(("html",)).get_content()
    forged = git_project.run("subscribers", "remove", "--token", token[:-1] + ("1" if token[-1] == "0" else "0"),
                             env=env)  # one hex digit changed (always a different one)
    assert forged.returncode == 1 and "not valid" in forged.stderr
    assert "removed z***@example.org" in git_project.run("subscribers", "remove", "--token", token, env=env,
                                                         check=True).stdout


def _assert_no_injected_headers(smtp: Recorder) -> None:
    for (_from, rcpts, raw), msg in zip(smtp.messages, smtp.parsed()):
        assert len(rcpts) == 1 and not msg.defects
        assert {k.lower() for k in msg.keys()} <= EXPECTED_HEADERS
        for part in msg.walk():
            assert "bcc" not in {k.lower() for k in part.keys()}
        assert b"\nBcc:" not in raw and b"evil" not in raw.split(b"\r\n\r\n", 1)[0]


def test_header_injection_from_yaml_never_adds_a_header(git_project: Project, smtp: Recorder,
                                                        env: dict[str, str]) -> None:
    subscribe(git_project, env, {"ann@example.org": "Ann"})
    publish_1_1(git_project, summary="Update\r\nBcc: x@evil.example\r\n\r\nInjected body",
                title="Title\r\nBcc: y@evil.example")
    result = git_project.run("notify", env=env)
    assert "Traceback" not in result.stderr
    if result.returncode == 0:  # the loader accepted the text: it must arrive as text, on one line
        assert smtp.messages
        _assert_no_injected_headers(smtp)
        text = smtp.parsed()[-1].get_body(("plain",)).get_content()
        assert "Update Bcc: x@evil.example Injected body" in text
    else:
        assert not smtp.messages


CONFIG_INJECTIONS = [  # option of mkdocs.yml, its hostile value, what the one-line error says
    ("list_id", '"evil.example\\r\\nBcc: x@evil.example"', "list_id in mkdocs.yml"),
    ("email_from", '"Privacy <privacy@synergycabinet.example>\\r\\nBcc: x@evil.example"', "email_from in mkdocs.yml"),
    ("email_from", '"not an address"', "email_from in mkdocs.yml must be one address"),
]


def test_header_injection_from_config_fails_cleanly(git_project: Project, smtp: Recorder, env: dict[str, str]) -> None:
    """Each hostile value in turn, in the same project and store (the configuration put back between them)."""
    config = git_project.path / "mkdocs.yml"
    original = config.read_text()
    subscribe(git_project, env, {"ann@example.org": "Ann"})
    for option, value, message in CONFIG_INJECTIONS:
        config.write_text(re.sub(rf"^      {option}: .*$", f"      {option}: {value}", original, flags=re.M))
        result = git_project.run("notify", env=env)
        assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr, option
        assert not smtp.messages and ledger(env) == []


def test_site_name_with_line_breaks_is_one_line_in_list_id(git_project: Project, smtp: Recorder,
                                                          env: dict[str, str]) -> None:
    config = git_project.path / "mkdocs.yml"
    config.write_text(config.read_text().replace("site_name: SynergyCabinet privacy policy",
                                                 'site_name: "Policy\\r\\nBcc: x@evil.example <x>"'))
    subscribe(git_project, env, {"ann@example.org": "Ann"})
    git_project.run("notify", env=env, check=True)
    assert smtp.parsed()[0]["List-Id"] == '"Policy Bcc: x@evil.example x" <privacy-policy.synergycabinet.example>'
    assert len(smtp.parsed()[0].keys()) == len(set(k.lower() for k in smtp.parsed()[0].keys()))


def test_no_subscriber_address_in_the_site(git_project: Project, env: dict[str, str]) -> None:
    subscribe(git_project, env)
    git_project.run("notify", env={k: v for k, v in env.items() if k != "POLICY_SMTP_URL"}, check=True)
    git_project.run("build", env=env, check=True)
    site = git_project.path / "site"
    files = [p for p in site.rglob("*") if p.is_file()]
    assert len(files) > 10
    for path in files:
        data = path.read_bytes().lower()
        for address in NAMES:
            assert address.encode() not in data and address.split("@")[0].encode() + b"@" not in data, path


def test_smtp_password_is_never_echoed(git_project: Project, tmp_path: Path) -> None:
    env = {"POLICY_SUBSCRIBERS_DB": str(tmp_path / "subs.db"),
           "POLICY_SMTP_URL": "smtp://mailer:s3cret-Pa55@mail.example.org:25"}
    subscribe(git_project, env, {"ann@example.org": "Ann"})
    result = git_project.run("notify", env=env)
    assert result.returncode == 1 and "refusing to send the SMTP password unencrypted" in result.stderr
    assert "s3cret" not in result.stdout + result.stderr
    down = {**env, "POLICY_SMTP_URL": f"smtp://mailer:s3cret-Pa55@127.0.0.1:{free_port()}"}
    result = git_project.run("notify", env=down)
    assert result.returncode == 75 and "cannot connect to smtp://127.0.0.1" in result.stderr
    assert "s3cret" not in result.stdout + result.stderr
    assert [r[2] for r in ledger(env)] == ["pending"]  # left for the next run, no attempt counted


# --- in-process: transport and helpers ------------------------------------------------------------------

def test_smtp_url_parsing() -> None:
    assert smtp_config({}) is None
    c = smtp_config({"POLICY_SMTP_URL": "smtp://127.0.0.1:2525"})
    assert (c.host, c.port, c.tls, c.user) == ("127.0.0.1", 2525, "none", None)
    c = smtp_config({"POLICY_SMTP_URL": "smtp://mail.example.org:587?starttls=1", "POLICY_SMTP_USER": "u",
                     "POLICY_SMTP_PASSWORD": "p@ss"})
    assert (c.tls, c.user, c.password) == ("starttls", "u", "p@ss") and "p@ss" not in c.describe()
    c = smtp_config({"POLICY_SMTP_URL": "smtps://u%40x:p%2Fw@mail.example.org"})
    assert (c.port, c.tls, c.user, c.password) == (465, "implicit", "u@x", "p/w")
    for bad in ("http://x", "smtp://", "smtp://h?verify=0", "smtps://h?starttls=1"):
        with pytest.raises(UserError):
            smtp_config({"POLICY_SMTP_URL": bad})
    assert smtp_config({"POLICY_SMTP_URL": "smtp://h"}).reconnect == RECONNECT_DELAYS == (0.0, 1.0, 3.0)
    assert smtp_config({"POLICY_SMTP_URL": "smtp://h", "POLICY_SMTP_RECONNECT_DELAYS": "0, 0.5"}).reconnect == (0, 0.5)
    for bad in ("soon", "1,-1", ",", "nan", "inf", "0,86400"):
        with pytest.raises(UserError, match="POLICY_SMTP_RECONNECT_DELAYS"):
            smtp_config({"POLICY_SMTP_URL": "smtp://h", "POLICY_SMTP_RECONNECT_DELAYS": bad})


def test_transport_maps_replies(smtp: Recorder) -> None:
    smtp.refuse = {"t@example.org": "451 4.3.0 later", "p@example.org": "550 5.1.1 no"}
    transport = SMTPTransport(SMTPConfig("127.0.0.1", smtp.port, "none", None, None, 10), "client.example")
    data = b"Subject: x\r\n\r\nbody\r\n"
    with pytest.raises(DeliveryError) as temporary:
        transport.send(Outgoing("1.0", "s@example.org", "t@example.org", "<a@b>", data))
    assert temporary.value.code == 451 and not temporary.value.permanent
    with pytest.raises(DeliveryError) as permanent:
        transport.send(Outgoing("1.0", "s@example.org", "p@example.org", "<a@b>", data))
    assert permanent.value.permanent
    assert transport.reply is None  # refused: no reply kept
    smtp.accept = lambda n: f"250 2.0.0 Ok: queued as X{n}\x1b[31m \x07" + "q" * REPLY_LIMIT
    transport.send(Outgoing("1.0", "s@example.org", "ok@example.org", "<a@b>", data))
    reply = transport.reply
    assert reply is not None and reply.startswith("250 2.0.0 Ok: queued as X1\ufffd[31m \ufffd") and \
        len(reply) == REPLY_LIMIT and reply.endswith("q…")
    smtp.accept = None
    smtp.refuse_once = {"busy@example.org": "421 4.7.0 too many messages on this connection"}
    transport.send(Outgoing("1.0", "s@example.org", "busy@example.org", "<a@b>", data))  # reconnects, resends
    calls: list[str] = []
    assert transport.send(Outgoing("1.0", "s@example.org", "vetoed@example.org", "<a@b>", data),
                          lambda: calls.append("veto") is not None) is False  # vetoed after MAIL: nothing sent
    assert transport.reply is None  # the last send kept nothing
    assert transport.send(Outgoing("1.0", "s@example.org", "last@example.org", "<a@b>", data),
                          lambda: not calls.append("go")) is True
    assert transport.reply == "250 OK"
    transport.close()
    assert calls == ["veto", "go"]
    assert smtp.to() == ["ok@example.org", "busy@example.org", "last@example.org"]


def test_ledger_reply_is_one_bounded_line_of_printable_text() -> None:
    assert ledger_reply(250, b"2.0.0 Ok: queued as 4F2C1") == "250 2.0.0 Ok: queued as 4F2C1"
    assert ledger_reply(250, b"first line\nsecond\tline \xff") == "250 first line second line \ufffd"
    assert ledger_reply(250, "queued \u202eevil\u200b\x00") == "250 queued \ufffdevil\ufffd\ufffd"
    assert len(ledger_reply(250, "x" * 10_000)) == REPLY_LIMIT


def test_ledger_never_sends_a_row_cancelled_during_the_run(store_location: Path | str) -> None:
    store = SubscriberStore(store_location)
    store.import_rows([("a@example.org", "", None), ("b@example.org", "", None)])
    book = Ledger(store.conn)
    assert book.announce("1.0", lambda key: f"<policy-1.0-{'0' * 16}@x.example>", "2026-01-01T00:00:00Z") == 2
    first, second = book.due("2030-01-01T00:00:00Z")  # read before the removal, like a batch mid-run
    store.remove(store.get("b@example.org"))
    assert book.record(None, first, "2026-01-01T00:00:01Z") is True
    assert book.record(Outcome(first, "sent"), second, "2026-01-01T00:00:02Z") is False
    assert dict(store.conn.execute("SELECT subscriber_id, status FROM deliveries").fetchall()) == \
        {first.subscriber_id: "sent", second.subscriber_id: "cancelled"}
    assert book.announce("1.0", lambda key: "", "2026-01-01T00:00:03Z") == 0  # announced once only


def test_render_refuses_tampered_ledger_values(project: Project) -> None:
    """The fast path writes a few header values directly: each is checked again, a trailing newline included."""

    from policy_site.notify.message import Notice, mail_settings
    from policy_site.site.generate import load_model
    from policy_site.site.mkdocs.plugin import load_settings
    settings = load_settings(project.path / "mkdocs.yml")
    settings = settings.with_options(unsubscribe_url="https://privacy.example/u?list=1")
    mail = mail_settings(settings, {"POLICY_UNSUBSCRIBE_SECRET": "0123456789abcdef0123"})
    notice = Notice(settings, mail, load_model(settings).latest, b"k" * 32)
    good = notice.message_id("ann@example.org")
    msg = notice.message("ann@example.org", "Zoë Ærøskøbing", "0123456789abcdef")
    assert msg["To"].addresses[0].display_name == "Zoë Ærøskøbing" and msg["Message-ID"] == good
    assert "https://privacy.example/u?list=1&token=0123456789abcdef." in str(msg["List-Unsubscribe"])
    for address, uid, message_id in (("ann@example.org", "0123456789abcdef", good + "\n"),
                                     ("ann@example.org", "0123456789abcdef", good[:-1] + ">\r\nBcc: x@evil.example"),
                                     ("ann@example.org\r\nBcc: x@evil.example", "0123456789abcdef", good),
                                     ("ann@example.org", "0123456789abcdef\n", good)):
        with pytest.raises(UserError, match="malformed"):
            notice.render(address, "Ann", uid, message_id)


def test_rate_limit_spaces_messages() -> None:
    limiter = RateLimit(50.0)
    started = time.monotonic()
    for _ in range(6):
        limiter.wait()
    assert time.monotonic() - started >= 0.09  # 6 messages at 50/s: 5 intervals of 20 ms
    assert RateLimit(None).wait_needed() == 0.0


def test_the_rate_is_shared_by_every_worker_of_a_postgresql_database(pg_url: str) -> None:
    """Two workers' send slots, booked in the database, never overlap: together they keep to --rate."""
    stores = [SubscriberStore(pg_url), SubscriberStore(pg_url)]
    try:
        paces = [SharedRate(store.conn, 40.0) for store in stores]  # blocks of 10 slots, 25 ms apart
        for _ in range(3):
            for pace in paces:
                pace._book()
        # the database's clock decides; on this machine's monotonic clock the blocks follow each other
        booked = sorted(slot for pace in paces for slot in pace.slots)
        assert len(booked) == 20
        starts = sorted(pace.slots[0] for pace in paces)
        assert starts[1] - starts[0] >= 10 * 0.025 - 0.01  # the second block begins after the first one ends
    finally:
        for store in stores:
            store.close()


def test_progress_is_plain_lines_when_not_a_terminal() -> None:
    class Counts:
        sent, failed, deferred = 0, 0, 0

        @property
        def done(self) -> int:
            return self.sent + self.failed + self.deferred

    stream, counts = io.StringIO(), Counts()
    progress = Progress(5, stream, every=2)
    for _ in range(5):
        counts.sent += 1
        progress.update(counts)
    progress.close()
    lines = stream.getvalue().splitlines()
    assert [line.split(", ")[0:3] for line in lines] == [["policy notify: 2/5 (sent 2", "failed 0", "deferred 0)"],
                                                       ["policy notify: 4/5 (sent 4", "failed 0", "deferred 0)"]]
    assert all(re.search(r", \d+/s, ETA (\d+:\d\d:\d\d|unknown)$", line) for line in lines), lines
    assert "@" not in stream.getvalue()
