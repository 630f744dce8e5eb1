"""Which worker sends which delivery row, and what happens to a row whose sender died while it was being sent.

One interface, two protocols; the Ledger picks by its database (backend.Database.concurrent):

SerialClaims — SQLite: one `policy notify` at a time (the lock file beside the database, database.notify_lock)
    due       the open rows, read in batches (keyset over version, subscriber_id); nothing is marked yet
    mark      just before a message is handed over, its row becomes 'sending' (in the transaction that commits
              the previous message's outcome); not sent when the row is no longer open (cancelled meanwhile)
    recovery  a row still 'sending' belongs to a run that died: the next run sends it again, same Message-ID

LeasedClaims — PostgreSQL: several workers at once, on one machine or many
    due       claims a batch of due rows in one statement — SELECT … FOR UPDATE SKIP LOCKED, so workers never
              wait for nor take each other's rows — marking them 'sending' with the worker's id (claimed_by) and
              a lease (claimed_until: the server's now() + lease seconds), then yields them
    mark      handed_at is set just before the message is handed over, only while the row is still this worker's
              claim (else it is not sent), in one statement with the previous outcome: a data-modifying WITH
    renewal   the lease of all of a worker's claims is extended once a third of it has passed (at a mark)
    outcome   recorded as for SQLite (ledger.py), the claim cleared with it
    expiry    before it claims, a worker returns claims whose lease ran out (their worker died or hung) to
              'pending': one never handed over as it was; one handed over — the mail server may have the
              message — counting an attempt, last_error "outcome unknown: …", due at once. That re-send is the one
              duplicate a crash can cause, and it carries the same Message-ID
    release   a worker that stops (done, interrupted, mail server gone) returns its remaining claims the same way
              at once, instead of leaving them to the lease

Commits. Each message costs one statement of its own (its hand-over mark, with the previous message's outcome),
sent without waiting while the mail server answers MAIL and RCPT, and looked at before DATA. It commits
asynchronously (synchronous_commit off for the worker's session): the database server has executed it before the
message goes, so a killed *worker* still re-sends at most the one message in flight; only a crash of the *database
server* itself (power, kernel, `pg_ctl -m immediate`) can lose the marks and outcomes committed since the last
claim — each claim of a batch is a synchronous commit, which flushes everything before it — so such a crash may
re-send up to CLAIM_BATCH + 1 messages per worker (with their Message-IDs), where waiting for the disk at every
message would make a worker 2-3× slower. POLICY_NOTIFY_SYNCHRONOUS_COMMIT=on makes every statement wait for the
disk again (≤ 1 duplicate per worker on a database crash too).

A lease must outlast the longest hand-over of one message (SMTP timeouts and reconnects: about two minutes at
the default 30 s timeout); the default is 300 s (POLICY_NOTIFY_LEASE_SECONDS).
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

from .backend import Database

DEFAULT_LEASE = 300.0
CLAIM_BATCH = 50

OPEN_VERSIONS = "SELECT version FROM announcements WHERE closed_at IS NULL"
DUE_ROWS = ("SELECT a.seq, d.version, d.subscriber_id, s.email, s.name, s.uid, d.status, d.attempts, d.message_id, "
            "s.language "
            "FROM deliveries d JOIN announcements a ON a.version = d.version "
            "JOIN subscribers s ON s.id = d.subscriber_id "
            "WHERE d.status IN ('pending', 'sending') AND s.status = 'active' "
            "AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= ?) ")


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
    language: str | None = None  # the language the subscriber chose (None: the original's)


def read_due(db: Database, now: str, batch: int) -> Iterator[Due]:
    """The due rows, version by version in announcement order, read in batches (keyset pagination); no claim."""
    versions = [r[0] for r in db.execute(OPEN_VERSIONS + " ORDER BY seq")]
    for version in versions:
        last = -1
        while True:
            rows = db.execute(DUE_ROWS + "AND d.version = ? AND d.subscriber_id > ? "
                              "ORDER BY d.subscriber_id LIMIT ?", (now, version, last, batch)).fetchall()
            yield from (Due(*tuple(r)) for r in rows)
            if len(rows) < batch:
                break
            last = rows[-1][2]


def worker_id() -> str:
    """host:pid:random — unique across machines and restarts, readable in the ledger."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


class SerialClaims:
    """SQLite: rows are read, not claimed; the 'sending' mark is made just before each hand-over."""

    settle = ""  # nothing to clear when an outcome is recorded
    open_rows = "d.status IN ('pending', 'sending')"

    def __init__(self, db: Database) -> None:
        self.db = db

    def due(self, now: str, batch: int) -> Iterator[Due]:
        return read_due(self.db, now, batch)

    def mark(self, row: Due, now: str) -> tuple[str, tuple]:
        """The statement of the 'sending' mark: it changes one row while the row is open."""
        return ("UPDATE deliveries SET status = 'sending', updated_at = ? WHERE version = ? AND subscriber_id = ? "
                "AND status IN ('pending', 'sending')", (now, row.version, row.subscriber_id))

    def begin(self, durable: bool = False) -> None:
        pass  # SQLite in WAL mode with synchronous=NORMAL: a commit is already not flushed to the disk at once

    def expire(self, now: str) -> int:
        return 0  # a 'sending' row is simply sent again by the next run (one notify at a time)

    def release(self, now: str) -> None:
        pass


_RETURN = ("UPDATE deliveries SET status = 'pending', claimed_by = NULL, claimed_until = NULL, handed_at = NULL, "
           "updated_at = ?, attempts = attempts + CASE WHEN handed_at IS NULL THEN 0 ELSE 1 END, "
           "next_attempt_at = CASE WHEN handed_at IS NULL THEN next_attempt_at END, "
           "last_error = CASE WHEN handed_at IS NULL THEN last_error ELSE ? END WHERE status = 'sending' AND ")


class LeasedClaims:
    """PostgreSQL: batches claimed with FOR UPDATE SKIP LOCKED under a lease (see the module docstring)."""

    settle = ", claimed_by = NULL, claimed_until = NULL, handed_at = NULL"
    open_rows = "d.status = 'pending'"

    def __init__(self, db: Database, worker: str | None = None, lease: float = DEFAULT_LEASE,
                 batch: int = CLAIM_BATCH) -> None:
        self.db, self.worker, self.lease, self.batch = db, worker or worker_id(), lease, batch
        self.renewed = time.monotonic()

    def due(self, now: str, batch: int) -> Iterator[Due]:
        versions = [r[0] for r in self.db.execute(OPEN_VERSIONS + " ORDER BY seq")]
        cursors = dict.fromkeys(versions, -1)
        for version in versions:
            while True:
                if self.expire(now):  # a dead worker's rows are due again, wherever the cursors are
                    cursors = dict.fromkeys(versions, -1)
                rows = self._claim(version, cursors[version], now)
                yield from rows
                if len(rows) < self.batch:
                    break
                cursors[version] = rows[-1].subscriber_id

    def begin(self, durable: bool = False) -> None:
        """Before the first message: this connection's per-message statements (the hand-over marks and outcomes)
        commit asynchronously — the database server has them at once, whatever happens to this worker, and flushes
        them to disk within ~3 × wal_writer_delay; every claim of a batch (and the release) is a synchronous commit,
        which flushes everything before it (see the module docstring). durable: every statement waits for the
        disk, as the database is configured (POLICY_NOTIFY_SYNCHRONOUS_COMMIT=on)."""
        if not durable:
            self.db.execute("SET synchronous_commit = off")

    def _claim(self, version: str, after: int, now: str) -> list[Due]:
        self.renewed = time.monotonic()
        with self.db.transaction():
            self.db.execute("SET LOCAL synchronous_commit = on")
            rows = self._claim_rows(version, after, now)
        return sorted((Due(*tuple(r)) for r in rows), key=lambda due: due.subscriber_id)

    def _claim_rows(self, version: str, after: int, now: str) -> list:
        return self.db.execute(
            "WITH picked AS (SELECT d.version, d.subscriber_id FROM deliveries d "
            "JOIN subscribers s ON s.id = d.subscriber_id "
            "WHERE d.version = ? AND d.subscriber_id > ? AND d.status = 'pending' AND s.status = 'active' "
            "AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= ?) "
            "ORDER BY d.subscriber_id LIMIT ? FOR UPDATE OF d SKIP LOCKED) "
            "UPDATE deliveries d SET status = 'sending', claimed_by = ?, "
            "claimed_until = now() + ? * interval '1 second', handed_at = NULL, updated_at = ? "
            "FROM picked, subscribers s, announcements a "
            "WHERE d.version = picked.version AND d.subscriber_id = picked.subscriber_id "
            "AND s.id = d.subscriber_id AND a.version = d.version "
            "RETURNING a.seq, d.version, d.subscriber_id, s.email, s.name, s.uid, 'pending', d.attempts, d.message_id, "
            "s.language",
            (version, after, now, self.batch, self.worker, self.lease, now)).fetchall()

    def mark(self, row: Due, now: str) -> tuple[str, tuple]:
        """The statement of the hand-over mark: it changes one row while it is this worker's claim (and first,
        when a third of the lease has passed, the lease of every claim is renewed)."""
        if time.monotonic() - self.renewed > self.lease / 3:
            self.renewed = time.monotonic()
            # rows another connection of this worker is changing just now are skipped, never waited for (two
            # connections locking the same rows in different orders would deadlock); the next renewal takes them
            self.db.execute("UPDATE deliveries SET claimed_until = now() + ? * interval '1 second' "
                            "WHERE (version, subscriber_id) IN (SELECT version, subscriber_id FROM deliveries "
                            "WHERE status = 'sending' AND claimed_by = ? FOR UPDATE SKIP LOCKED)",
                            (self.lease, self.worker))
        return ("UPDATE deliveries SET handed_at = ?, updated_at = ? WHERE version = ? AND subscriber_id = ? "
                "AND status = 'sending' AND claimed_by = ?", (now, now, row.version, row.subscriber_id, self.worker))

    def expire(self, now: str) -> int:
        """Claims whose lease ran out back to pending (see the module docstring); how many."""
        return self.db.execute(
            _RETURN + "(claimed_until IS NULL OR claimed_until < now())",
            (now, "outcome unknown: the worker that was sending it stopped (its claim expired); sent again with "
                  "the same Message-ID")).rowcount

    def release(self, now: str) -> None:
        """This worker's remaining claims back to pending at once (a synchronous commit: every outcome recorded
        before it is on disk when it returns)."""
        with self.db.transaction():
            self.db.execute("SET LOCAL synchronous_commit = on")
            self.db.execute(_RETURN + "claimed_by = ?",
                            (now, "outcome unknown: the run stopped while it was being sent", self.worker))
        self.db.execute("RESET synchronous_commit")
