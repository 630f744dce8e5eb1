"""The delivery ledger: which version was announced to whom, with which text, and what happened to each message.

A version is *announced* once: its delivery rows are created in one transaction for the subscribers
active at that moment (later subscribers do not get old notices), and the announcement records the
content_hash of the text announced and the commit that published it, so that a rewritten history can be
noticed (rewrites.py). Each row is one (version, subscriber) message with a fixed Message-ID and a status:

    pending    waiting to be sent; after a temporary failure attempts > 0 and next_attempt_at is the backoff
    sending    handed to the transport, outcome not yet recorded: the process died meanwhile; re-sent,
               same Message-ID, by the next run (the one duplicate a crash can cause)
    sent       accepted by the mail server (or written to the outbox)
    failed     refused with a 5xx reply, or still not delivered after the maximum number of attempts
    cancelled  the subscriber was removed, or the version left the history, before it was sent

A temporary failure counts an attempt and waits for a later run: a 4xx reply, a connection lost before the
message was handed over, and a connection lost or timed out after the whole message was sent ("outcome
unknown": the server may have accepted it, so it is never sent again in the same run). Only a message that
never reached the mail server because the server could not be reached at all goes back to pending without
counting an attempt ('requeue').

Every change is committed at once (the caller commits the outcome of one message together with the
'sending' mark of the next, so at most one row is ever 'sending'). An outcome never changes a row that is
no longer open (sent, failed or cancelled meanwhile).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..errors import UserError
from .database import open_read_only
from .files import database_failure, os_failure

OPEN = ("pending", "sending")


@contextmanager
def notify_lock(db_path: Path) -> Iterator[None]:
    """One notify at a time: a non-blocking flock on DB.lock (released when the process ends, however)."""
    lock_path = db_path.with_name(db_path.name + ".lock")
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise os_failure("cannot create the notify lock", lock_path, exc) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(f"another policy notify is running (lock {lock_path})") from None
        yield
    finally:
        os.close(fd)


_clock: list = [0, ""]


def stamp(offset: float = 0.0) -> str:
    """Now (+ offset seconds) in UTC, as the ledger stores times; computed once per second."""
    second = int(time.time())
    if offset:
        return (datetime.fromtimestamp(second, UTC) + timedelta(seconds=offset)).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
    if _clock[0] != second:
        _clock[:] = [second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")]
    return _clock[1]


def cancel_subscriber(conn: sqlite3.Connection, subscriber_id: int) -> int:
    """Cancel a removed subscriber's undelivered notices (inside the caller's transaction)."""
    return conn.execute("UPDATE deliveries SET status = 'cancelled', updated_at = strftime('%Y-%m-%dT%H:%M:%SZ') "
                        "WHERE subscriber_id = ? AND status IN ('pending', 'sending')", (subscriber_id,)).rowcount


def forget_subscriber(conn: sqlite3.Connection, subscriber_id: int) -> None:
    conn.execute("DELETE FROM deliveries WHERE subscriber_id = ?", (subscriber_id,))


@dataclass(frozen=True)
class Due:
    """One message to send now."""

    seq: int
    version: str
    subscriber_id: int
    email: str
    name: str
    uid: str
    status: str
    attempts: int
    message_id: str


@dataclass(frozen=True)
class Outcome:
    """What happened to one message: 'sent', 'deferred' (a temporary failure, an attempt counted: retried by a
    later run after next_attempt_at), 'failed', or 'requeue' (it never reached the server, which could not be
    reached at all: back to pending, no attempt counted)."""

    row: Due
    result: str
    error: str | None = None
    next_attempt_at: str | None = None


@dataclass(frozen=True)
class AnnouncedText:
    """The text a version was announced with: content_hash and publishing commit (None: not recorded)."""

    content_hash: str | None
    commit: str | None
    vanished_at: str | None = None


def _short(commit: str | None) -> str:
    return commit[:10] if commit else "(unknown)"


@dataclass(frozen=True)
class Audience:
    """Who a notice is for: the subscribers of its document ('' in a single-document project: everybody) who
    asked for its kind of change ('material' reaches everybody; 'minor' only those who asked for every change)."""

    document: str = ""
    kind: str = "material"

    def sql(self) -> tuple[str, tuple]:
        clauses, values = [], []
        if self.document:
            clauses.append("(documents = '*' OR instr(documents, ?) > 0)")
            values.append(f",{self.document},")
        if self.kind != "material":
            clauses.append("changes = 'all'")
        return "".join(f" AND {c}" for c in clauses), tuple(values)


class Ledger:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    # --- announcements ------------------------------------------------------------------------------------
    def announced(self) -> dict[str, int]:
        """Announced versions → their recipients count."""
        return {r[0]: r[1] for r in self.conn.execute("SELECT version, recipients FROM announcements")}

    def announce(self, version: str, message_id: Callable[[str], str], now: str, note: str | None = None,
                 recipients: bool = True, text: tuple[str, str | None] | None = None,
                 audience: Audience | None = None) -> int:
        """Record a version as announced, with its text (content_hash, publishing commit) and one pending row per
        active subscriber who asked for it (audience; none when not recipients). Returns the number of rows; 0
        without change if it was already announced."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            if self.conn.execute("SELECT 1 FROM announcements WHERE version = ?", (version,)).fetchone():
                self.conn.execute("ROLLBACK")
                return 0
            where, values = (audience or Audience()).sql()
            active = self.conn.execute(f"SELECT id, email_key FROM subscribers WHERE status = 'active'{where} "
                                       "ORDER BY id", values).fetchall() if recipients else []
            content_hash, commit = text or (None, None)
            self.conn.execute("INSERT INTO announcements (version, announced_at, recipients, note, content_hash, "
                              "commit_sha) VALUES (?, ?, ?, ?, ?, ?)",
                              (version, now, len(active), note, content_hash, commit))
            self.conn.executemany("INSERT INTO deliveries (version, subscriber_id, message_id, updated_at) "
                                  "VALUES (?, ?, ?, ?)", ((version, r[0], message_id(r[1]), now) for r in active))
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")
        return len(active)

    def texts(self) -> dict[str, AnnouncedText]:
        """Announced versions → the text they were announced with (hash and commit; None before schema 2)."""
        return {r[0]: AnnouncedText(r[1], r[2], r[3]) for r in self.conn.execute(
            "SELECT version, content_hash, commit_sha, vanished_at FROM announcements ORDER BY seq")}

    def set_text(self, version: str, content_hash: str, commit: str | None, now: str,
                 accepted_from: AnnouncedText | None = None) -> None:
        """Record the text of an announced version: once for versions announced before schema 2, or when a
        rewritten text is accepted (accepted_from: the text it replaces, kept in the rewrites table)."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.execute("UPDATE announcements SET content_hash = ?, commit_sha = ?, vanished_at = NULL "
                              "WHERE version = ?", (content_hash, commit, version))
            if accepted_from is not None:
                self.conn.execute("INSERT INTO rewrites (version, accepted_at, old_hash, old_commit, new_hash, "
                                  "new_commit) VALUES (?, ?, ?, ?, ?, ?)", (version, now, accepted_from.content_hash,
                                                                           accepted_from.commit, content_hash, commit))
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def cancel_vanished(self, version: str, now: str) -> int:
        """The version is no longer in the history: mark it, cancel its open rows with a note. Returns how many."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.execute("UPDATE announcements SET vanished_at = ? WHERE version = ?", (now, version))
            count = self.conn.execute(
                "UPDATE deliveries SET status = 'cancelled', last_error = ?, updated_at = ? "
                "WHERE version = ? AND status IN ('pending', 'sending')",
                (f"cancelled: version {version} no longer in history", now, version)).rowcount
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")
        return count

    def returned(self, version: str) -> None:
        """A version marked vanished is in the history again."""
        self.conn.execute("UPDATE announcements SET vanished_at = NULL WHERE version = ?", (version,))

    def cancel_inactive(self) -> int:
        """Cancel open rows of subscribers who are no longer active (defence in depth; remove does it too)."""
        self.conn.execute("BEGIN IMMEDIATE")
        count = self.conn.execute(
            "UPDATE deliveries SET status = 'cancelled', updated_at = strftime('%Y-%m-%dT%H:%M:%SZ') "
            "WHERE status IN ('pending', 'sending') AND subscriber_id IN "
            "(SELECT id FROM subscribers WHERE status != 'active')").rowcount
        self.conn.execute("COMMIT")
        return count

    def close_settled(self, now: str) -> None:
        """Close the announcements with no open row left: later runs no longer look at their rows."""
        self.conn.execute("UPDATE announcements SET closed_at = ? WHERE closed_at IS NULL AND NOT EXISTS "
                          "(SELECT 1 FROM deliveries d WHERE d.version = announcements.version "
                          "AND d.status IN ('pending', 'sending'))", (now,))

    # --- what to send -------------------------------------------------------------------------------------
    # Open rows are found by scanning the primary key (version, subscriber_id) of the announcements that
    # are not closed yet, rather than through an index on status, which every status change would update.
    _OPEN = "SELECT version FROM announcements WHERE closed_at IS NULL"
    _DUE = ("SELECT a.seq, d.version, d.subscriber_id, s.email, s.name, s.uid, d.status, d.attempts, d.message_id "
            "FROM deliveries d JOIN announcements a ON a.version = d.version "
            "JOIN subscribers s ON s.id = d.subscriber_id "
            "WHERE d.status IN ('pending', 'sending') AND s.status = 'active' "
            "AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= ?) ")

    def due(self, now: str, batch: int = 2000) -> Iterator[Due]:
        """Rows to send now, version by version in announcement order, read in batches (keyset pagination)."""
        versions = [r[0] for r in self.conn.execute(self._OPEN + " ORDER BY seq")]
        for version in versions:
            last = -1
            while True:
                rows = self.conn.execute(self._DUE + "AND d.version = ? AND d.subscriber_id > ? "
                                         "ORDER BY d.subscriber_id LIMIT ?", (now, version, last, batch)).fetchall()
                yield from (Due(*tuple(r)) for r in rows)
                if len(rows) < batch:
                    break
                last = rows[-1][2]

    def count_due(self, now: str) -> int:
        return self.conn.execute(f"SELECT COUNT(*) FROM ({self._DUE} AND d.version IN ({self._OPEN}))",
                                 (now,)).fetchone()[0]

    def waiting(self, now: str) -> tuple[int, str | None]:
        """Rows deferred to a later run: how many, and the earliest time one becomes due."""
        row = self.conn.execute("SELECT COUNT(*), MIN(next_attempt_at) FROM deliveries "
                                f"WHERE version IN ({self._OPEN}) AND status = 'pending' AND next_attempt_at > ?",
                                (now,)).fetchone()
        return row[0], row[1]

    # --- recording ----------------------------------------------------------------------------------------
    def record(self, outcome: Outcome | None, start: Due | None, now: str) -> bool:
        """Commit the outcome of the last message and the 'sending' mark of the next, in one transaction.
        False when the next row is no longer open (its subscriber was removed meanwhile): skip it."""
        if outcome is None and start is None:
            return False
        claimed = False
        self.conn.execute("BEGIN")
        try:
            if outcome is not None:
                self._apply(outcome, now)
            if start is not None:
                claimed = self.conn.execute(
                    "UPDATE deliveries SET status = 'sending', updated_at = ? WHERE version = ? AND subscriber_id = ? "
                    "AND status IN ('pending', 'sending')", (now, start.version, start.subscriber_id)).rowcount == 1
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")
        return claimed

    def _apply(self, outcome: Outcome, now: str) -> None:
        row = outcome.row
        key = (row.version, row.subscriber_id)
        where = " WHERE version = ? AND subscriber_id = ? AND status IN ('pending', 'sending')"
        if outcome.result == "sent":
            self.conn.execute("UPDATE deliveries SET status = 'sent', attempts = attempts + 1, sent_at = ?, "
                              "updated_at = ?, next_attempt_at = NULL" + where, (now, now, *key))
        elif outcome.result in ("deferred", "failed"):
            status = "pending" if outcome.result == "deferred" else "failed"
            self.conn.execute("UPDATE deliveries SET status = ?, attempts = attempts + 1, last_error = ?, "
                              "next_attempt_at = ?, updated_at = ?" + where,
                              (status, outcome.error, outcome.next_attempt_at, now, *key))
        elif outcome.result == "requeue":
            self.conn.execute("UPDATE deliveries SET status = 'pending', last_error = ?, updated_at = ?" + where,
                              (outcome.error, now, *key))
        else:
            raise ValueError(f"unknown outcome {outcome.result!r}")

    # --- reporting ----------------------------------------------------------------------------------------
    def report(self) -> list[dict[str, object]]:
        """Per announced version: when, to how many, and the count of rows in each status."""
        out = []
        for a in self.conn.execute("SELECT version, announced_at, recipients, note, vanished_at FROM announcements "
                                   "ORDER BY seq").fetchall():
            counts = dict(self.conn.execute("SELECT status, COUNT(*) FROM deliveries WHERE version = ? "
                                            "GROUP BY status", (a[0],)).fetchall())
            notes = [a[3]] if a[3] else []
            if a[4]:
                notes.append(f"cancelled: version {a[0]} no longer in history")
            notes.extend(f"rewrite accepted {r[0]}: commit {_short(r[1])} → {_short(r[2])}" for r in self.conn.execute(
                "SELECT accepted_at, old_commit, new_commit FROM rewrites WHERE version = ? ORDER BY seq", (a[0],)))
            out.append({"version": a[0], "announced_at": a[1], "recipients": a[2], "note": "; ".join(notes), **counts})
        return out

    def report_lines(self) -> list[str]:
        report = self.report()
        if not report:
            return ["no version announced yet"]
        columns = ("sent", "pending", "sending", "failed", "cancelled")
        lines = [f"{'version':<9} {'announced':<21} {'recipients':>10} " + " ".join(f"{c:>9}" for c in columns)]
        for r in report:
            note = f"  ({r['note']})" if r["note"] else ""
            lines.append(f"{r['version']:<9} {r['announced_at']:<21} {r['recipients']:>10} "
                         + " ".join(f"{r.get(c, 0):>9}" for c in columns) + note)
        return lines


def announced_hashes(db_path: Path) -> dict[str, tuple[str, str | None]]:
    """Announced version → (content_hash, publishing commit) of the text it was announced with, read-only.

    Empty when the database does not exist or predates schema 2; versions announced before schema 2 appear
    once `policy notify` has run with it. For other code (the build) that must refuse to change announced text.
    """
    conn = open_read_only(db_path)
    if conn is None:
        return {}
    try:
        if "content_hash" not in {r[1] for r in conn.execute("PRAGMA table_info(announcements)")}:
            return {}
        return {r[0]: (r[1], r[2]) for r in conn.execute(
            "SELECT version, content_hash, commit_sha FROM announcements WHERE content_hash IS NOT NULL")}
    except sqlite3.Error as exc:
        raise database_failure(db_path, exc) from None
    finally:
        conn.close()
