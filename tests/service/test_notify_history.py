"""`policy notify` against a rewritten history: real git repositories, force-pushes simulated by `git reset --hard`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from policy_site.notify.campaign import NOT_RECORDED, read_campaign
from policy_site.notify.database import SCHEMA_VERSION
from policy_site.notify.ledger import announced_hashes
from policy_site.source.loader import load_policy
from policy_site.source.model import content_hash
from tests.support.notify import Recorder, both, force_push_other_1_1, head, ledger, publish_1_1, subscribe
from tests.support.pg import location
from tests.support.pg import rows as query_rows
from tests.support.project import Project


def text_hash(project: Project) -> str:
    return content_hash(load_policy(project.policy))


@both
def test_rewritten_announced_version_stops_notify_until_accepted(git_project: Project, smtp: Recorder,
                                                                 env: dict[str, str]) -> None:
    subscribe(git_project, env, {"ann@example.org": "Ann"})
    git_project.run("notify", env=env, check=True)
    first_1_0 = (text_hash(git_project), head(git_project))
    publish_1_1(git_project)
    announced = (text_hash(git_project), head(git_project))
    git_project.run("notify", env=env, check=True)
    assert announced_hashes(location(env)) == {"1.0": first_1_0, "1.1": announced}
    sent = len(smtp.messages)
    rows = ledger(env)

    rewritten = force_push_other_1_1(git_project)
    for args in (("notify",), ("notify", "--dry-run")):
        result = git_project.run(*args, env=env)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        line = result.stderr.strip()
        assert "\n" not in line and line.startswith("policy notify: error: the history was rewritten")
        assert f"version 1.1 was announced with the text of commit {announced[1][:10]}" in line
        assert f"(commit {rewritten[:10]})" in line and "`policy notify --accept-rewrite 1.1`" in line
    assert len(smtp.messages) == sent and ledger(env) == rows
    assert announced_hashes(location(env))["1.1"] == announced

    accepted = git_project.run("notify", "--accept-rewrite", "1.1", env=env, check=True)
    assert (f"policy notify: version 1.1: rewritten text accepted (commit {announced[1][:10]} → {rewritten[:10]}); "
            f"not announced again") in accepted.stdout
    assert "nothing to send" in accepted.stdout and len(smtp.messages) == sent  # not announced again
    assert announced_hashes(location(env))["1.1"] == (text_hash(git_project), rewritten)
    assert [tuple(r) for r in query_rows(env, "SELECT version, old_commit, new_commit FROM rewrites")] == \
        [("1.1", announced[1], rewritten)]
    assert "nothing to send" in git_project.run("notify", env=env, check=True).stdout
    status = git_project.run("notify", "--status", env=env, check=True).stdout
    assert "rewrite accepted" in status and f"{announced[1][:10]} → {rewritten[:10]}" in status
    again = git_project.run("notify", "--accept-rewrite", "1.1", env=env, check=True)
    assert "version 1.1: its text is unchanged; no rewrite to accept" in again.stdout


def test_same_text_under_a_new_commit_is_not_a_rewrite(git_project: Project, smtp: Recorder,
                                                       env: dict[str, str]) -> None:
    subscribe(git_project, env, {"ann@example.org": "Ann"})
    publish_1_1(git_project)
    git_project.run("notify", env=env, check=True)
    before = announced_hashes(Path(env["POLICY_SUBSCRIBERS_DB"]))
    git_project.git("reset", "-q", "--hard", "HEAD~1")
    publish_1_1(git_project)  # the same text, committed again a day later: another commit id
    assert "nothing to send" in git_project.run("notify", env=env, check=True).stdout
    assert announced_hashes(Path(env["POLICY_SUBSCRIBERS_DB"])) == before  # the announced commit is kept


def test_unknown_version_to_accept_is_refused(git_project: Project, smtp: Recorder, env: dict[str, str]) -> None:
    subscribe(git_project, env, {"ann@example.org": "Ann"})
    git_project.run("notify", env=env, check=True)
    result = git_project.run("notify", "--accept-rewrite", "9.9", env=env)
    assert result.returncode == 1 and "version 9.9 was never announced" in result.stderr


@both
def test_vanished_version_cancels_its_undelivered_notices(git_project: Project, smtp: Recorder,
                                                          env: dict[str, str]) -> None:
    subscribe(git_project, env, {"ann@example.org": "Ann", "zoe@example.org": "Zoë"})
    git_project.run("notify", env=env, check=True)
    publish_1_1(git_project)
    smtp.refuse = {"zoe@example.org": "451 4.7.1 later"}
    git_project.run("notify", env=env, check=True)
    git_project.git("reset", "-q", "--hard", "HEAD~1")  # 1.1 is gone from the history
    smtp.refuse = {}
    result = git_project.run("notify", env=env, check=True)
    assert "policy notify: version 1.1 is no longer in the history; 1 undelivered notice cancelled" in result.stdout
    assert "nothing to send" in result.stdout
    rows = {(r[0], r[1]): r[2:] for r in ledger(env)}
    assert rows[("1.1", "zoe@example.org")][0] == "cancelled"
    assert rows[("1.1", "zoe@example.org")][2] == "cancelled: version 1.1 no longer in history"
    assert rows[("1.1", "ann@example.org")][0] == "sent"
    status = git_project.run("notify", "--status", env=env, check=True).stdout
    assert "(cancelled: version 1.1 no longer in history)" in status
    assert "no longer in the history" not in git_project.run("notify", env=env, check=True).stdout  # said once
    assert smtp.to().count("zoe@example.org") == 1  # 1.0 only


V1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE subscribers (id INTEGER PRIMARY KEY AUTOINCREMENT, uid TEXT NOT NULL UNIQUE, email TEXT NOT NULL,
    email_key TEXT NOT NULL UNIQUE, name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'removed')), created_at TEXT NOT NULL,
    removed_at TEXT);
CREATE TABLE announcements (seq INTEGER PRIMARY KEY AUTOINCREMENT, version TEXT NOT NULL UNIQUE,
    announced_at TEXT NOT NULL, recipients INTEGER NOT NULL, note TEXT, closed_at TEXT);
CREATE TABLE deliveries (version TEXT NOT NULL REFERENCES announcements(version),
    subscriber_id INTEGER NOT NULL REFERENCES subscribers(id), status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0, message_id TEXT NOT NULL, last_error TEXT, next_attempt_at TEXT,
    updated_at TEXT NOT NULL, sent_at TEXT, PRIMARY KEY (version, subscriber_id)) WITHOUT ROWID;
CREATE INDEX deliveries_subscriber ON deliveries(subscriber_id);
INSERT INTO meta VALUES ('message_id_key', '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff');
INSERT INTO subscribers VALUES (1, '0123456789abcdef', 'ann@example.org', 'ann@example.org', 'Ann', 'active',
    '2026-01-01T00:00:00Z', NULL);
INSERT INTO announcements VALUES (1, '1.0', '2026-01-02T00:00:00Z', 1, NULL, '2026-01-02T00:00:01Z');
INSERT INTO deliveries VALUES ('1.0', 1, 'sent', 1, '<policy-1.0-0000000000000000@x.example>', NULL, NULL,
    '2026-01-02T00:00:01Z', '2026-01-02T00:00:01Z');
PRAGMA user_version = 1;
"""


def test_a_first_release_database_is_upgraded_in_place(git_project: Project, smtp: Recorder,
                                                       env: dict[str, str]) -> None:
    database = Path(env["POLICY_SUBSCRIBERS_DB"])
    with sqlite3.connect(database) as conn:
        conn.executescript(V1_SCHEMA)
    assert announced_hashes(database) == {}  # read-only: an old file is not upgraded by reading it
    old = read_campaign(database, "1.0")  # evidence of an old file, read as it is
    assert old is not None and old.content_hash is None and old.counts["sent"] == 1
    assert [(d["status"], d["reply"], d["reply_note"]) for d in old.deliveries] == [("sent", None, NOT_RECORDED)]
    with sqlite3.connect(database) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert "nothing to send" in git_project.run("notify", env=env, check=True).stdout
    with sqlite3.connect(database) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
        assert conn.execute("SELECT status, attempts, server_reply FROM deliveries").fetchall() == [("sent", 1, None)]
    # the text of 1.0 is recorded on the first run after the upgrade (trust on first use)
    assert announced_hashes(database) == {"1.0": (text_hash(git_project), head(git_project))}
    assert not smtp.messages
    publish_1_1(git_project)
    smtp.accept = lambda n: "250 2.0.0 Ok: queued as 4F2C1"
    assert "1 sent" in git_project.run("notify", env=env, check=True).stdout
    new = read_campaign(database, "1.1")
    assert new is not None and [(d["reply"], "reply_note" in d) for d in new.deliveries] == \
        [("250 2.0.0 Ok: queued as 4F2C1", False)]  # sent after the upgrade: the server's reply
    assert read_campaign(database, "1.0").deliveries[0]["reply_note"] == NOT_RECORDED  # type: ignore[union-attr]

    with sqlite3.connect(database) as conn:
        conn.execute("PRAGMA user_version = 99")
    result = git_project.run("notify", env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "made by a newer version of this tool (schema 99" in result.stderr


def test_announced_hashes_without_a_database_is_empty(tmp_path: Path) -> None:
    assert announced_hashes(tmp_path / "missing.sqlite3") == {}
    assert not (tmp_path / "missing.sqlite3").exists()


@both
def test_build_refuses_to_change_a_text_the_notices_announced(git_project: Project, smtp: Recorder,
                                                               env: dict[str, str]) -> None:
    """A fresh clone (no previous site/) still cannot publish other text under an announced number."""
    subscribe(git_project, env, {"ann@example.org": "Ann"})
    publish_1_1(git_project)
    git_project.run("notify", env=env, check=True)
    force_push_other_1_1(git_project)
    result = git_project.run("build", env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "1.1" in result.stderr and "the notices sent" in result.stderr, result.stderr
    assert not (git_project.path / "site").exists()
    accepted = git_project.run("build", "--accept-rewrite", "1.1", env=env)
    assert accepted.returncode == 0, accepted.stderr
    assert "Rewritten" in (git_project.path / "site/versions/1.1/index.html").read_text(encoding="utf-8")
