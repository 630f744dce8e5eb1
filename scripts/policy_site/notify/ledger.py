"""The delivery ledger: which version was announced to whom, with which text, and what happened to each message.

A version is *announced* once: its delivery rows are created in one transaction for the subscribers
active at that moment (later subscribers do not get old notices), and the announcement records the
content_hash of the text announced and the commit that published it, so that a rewritten history can be
noticed (rewrites.py). Each row is one (version, subscriber) message with a fixed Message-ID and a status:

    pending    waiting to be sent; after a temporary failure attempts > 0 and next_attempt_at is the backoff
    sending    handed to the transport, outcome not yet recorded: the process died meanwhile; re-sent,
               same Message-ID, by the next run (the one duplicate a crash can cause). On PostgreSQL: claimed
               by a worker (claimed_by, a lease; handed_at once handed over), claims.py
    sent       accepted by the mail server (or written to the outbox); server_reply keeps the server's reply to
               the end of DATA ("250 2.0.0 Ok: queued as 4F2C1", transport.ledger_reply), NULL for the outbox
               and for rows sent before SQLite schema 5 / PostgreSQL schema 4
    failed     refused with a 5xx reply, or still not delivered after the maximum number of attempts
    cancelled  the subscriber was removed, or the version left the history, before it was sent

A temporary failure counts an attempt and waits for a later run: a 4xx reply, a connection lost before the
message was handed over, and a connection lost or timed out after the whole message was sent ("outcome
unknown": the server may have accepted it, so it is never sent again in the same run). Only a message that
never reached the mail server because the server could not be reached at all goes back to pending without
counting an attempt ('requeue').

Every change is committed at once (the caller commits the outcome of one message together with the
'sending' mark of the next, so at most one row per worker is ever being handed over). An outcome never changes a
row that is no longer open (sent, failed or cancelled meanwhile). Which rows a worker may send, and how a row
whose sender died is recovered, is claims.py's protocol: on SQLite one notify at a time reads the open rows; on
PostgreSQL several workers claim batches with leases. A version is announced once, whoever tries: the
announcement's unique version decides, and a second announcer sees 0 rows.

The SQL here is the one both databases run (backend.py); times are UTC text from `stamp()`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .backend import Database, Location, open_read_only
from .claims import DEFAULT_LEASE, DUE_ROWS, OPEN_VERSIONS, Due, LeasedClaims, SerialClaims, read_due
from .database import notify_lock

__all__ = ["AnnouncedText", "Audience", "Due", "Ledger", "Outcome", "announced_hashes",
           "cancel_subscriber", "forget_subscriber", "notify_lock", "stamp"]

OPEN = ("pending", "sending")
ANNOUNCE_BATCH = 5000  # subscribers read (and delivery rows written) at a time when a version is announced


_clock: list = [0, ""]


def ledger_time(moment: datetime) -> str:
    """A moment as the ledger stores times: UTC, to the second (2026-01-31T12:00:00Z)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stamp(offset: float = 0.0) -> str:
    """Now (+ offset seconds) in UTC, as the ledger stores times; computed once per second."""
    second = int(time.time())
    if offset:
        return ledger_time(datetime.fromtimestamp(second, UTC) + timedelta(seconds=offset))
    if _clock[0] != second:
        _clock[:] = [second, ledger_time(datetime.fromtimestamp(second, UTC))]
    return _clock[1]


def cancel_subscriber(db: Database, subscriber_id: int) -> int:
    """Cancel a removed subscriber's undelivered notices (inside the caller's transaction)."""
    return db.execute("UPDATE deliveries SET status = 'cancelled', updated_at = ? "
                      "WHERE subscriber_id = ? AND status IN ('pending', 'sending')", (stamp(), subscriber_id)).rowcount


def forget_subscriber(db: Database, subscriber_id: int) -> None:
    db.execute("DELETE FROM deliveries WHERE subscriber_id = ?", (subscriber_id,))


@dataclass(frozen=True)
class Outcome:
    """What happened to one message: 'sent', 'deferred' (a temporary failure, an attempt counted: retried by a
    later run after next_attempt_at), 'failed', or 'requeue' (it never reached the server, which could not be
    reached at all: back to pending, no attempt counted)."""

    row: Due
    result: str
    error: str | None = None
    next_attempt_at: str | None = None
    reply: str | None = None  # 'sent': the server's reply to the end of DATA (None: the outbox)


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
    asked for its kind of change ('material' reaches everybody; 'minor' only those who asked for every change) and,
    with since, who subscribed before the version was published (a new subscriber is not sent old news)."""

    document: str = ""
    kind: str = "material"
    since: str | None = None  # only subscribers who were subscribed by then (the version's publication; ledger time)

    def sql(self, position: str = "instr") -> tuple[str, tuple]:
        """The WHERE clauses (each starting with AND) and their values; position: the database's substring
        function (backend.Database.position)."""
        clauses, values = [], []
        if self.document:
            clauses.append(f"(documents = '*' OR {position}(documents, ?) > 0)")
            values.append(f",{self.document},")
        if self.kind != "material":
            clauses.append("changes = 'all'")
        if self.since:
            clauses.append("created_at <= ?")
            values.append(self.since)
        return "".join(f" AND {c}" for c in clauses), tuple(values)


class Ledger:
    """The announcements and delivery rows of one database (see the module docstring); `conn` is the
    backend.Database (store.conn). worker and lease: this worker's claims on PostgreSQL (claims.py)."""

    def __init__(self, conn: Database, worker: str | None = None, lease: float = DEFAULT_LEASE) -> None:
        self.conn = self.db = conn
        self.claims = LeasedClaims(conn, worker, lease) if conn.concurrent else SerialClaims(conn)

    # --- announcements ------------------------------------------------------------------------------------
    def announced(self) -> dict[str, int]:
        """Announced versions → their recipients count."""
        return {r[0]: r[1] for r in self.db.execute("SELECT version, recipients FROM announcements")}

    def announce(self, version: str, message_id: Callable[[str], str], now: str, note: str | None = None,
                 recipients: bool = True, text: tuple[str, str | None] | None = None,
                 audience: Audience | None = None) -> int:
        """Record a version as announced, with its text (content_hash, publishing commit) and one pending row per
        active subscriber who asked for it (audience; none when not recipients). Returns the number of rows; 0
        without change if it was already announced."""
        return self.announce_once(version, message_id, now, note, recipients, text, audience) or 0

    def announce_once(self, version: str, message_id: Callable[[str], str], now: str, note: str | None = None,
                      recipients: bool = True, text: tuple[str, str | None] | None = None,
                      audience: Audience | None = None) -> int | None:
        """announce(), but None when the version was announced already (by this or another worker): the unique
        version of the announcements decides who announces, so two workers at once never both do."""
        with self.db.transaction():
            content_hash, commit = text or (None, None)
            inserted = self.db.execute(
                "INSERT INTO announcements (version, announced_at, recipients, note, content_hash, commit_sha) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (version) DO NOTHING RETURNING seq",
                (version, now, 0, note, content_hash, commit)).fetchall()
            if not inserted:
                return None  # the transaction commits nothing
            count = 0
            for batch in self.audience_batches(audience or Audience()) if recipients else ():
                rows = [(version, r[0], message_id(r[1]), now) for r in batch]
                self._insert_deliveries(rows)
                count += len(rows)
            if count:
                self.db.execute("UPDATE announcements SET recipients = ? WHERE version = ?", (count, version))
        return count

    def audience_batches(self, audience: Audience, batch: int = ANNOUNCE_BATCH) -> Iterator[list]:
        """The (id, email_key) of the active subscribers an audience holds, in batches by id (keyset pagination:
        a campaign never holds every address at once)."""
        where, values = audience.sql(self.db.position)
        last = -1
        while True:
            rows = self.db.execute(f"SELECT id, email_key FROM subscribers WHERE status = 'active'{where} "
                                   "AND id > ? ORDER BY id LIMIT ?", (*values, last, batch)).fetchall()
            if rows:
                yield rows
            if len(rows) < batch:
                return
            last = rows[-1][0]

    def _insert_deliveries(self, rows: list[tuple]) -> None:
        copy = getattr(self.db, "copy_rows", None)  # PostgreSQL: COPY, several times faster than INSERTs
        if copy is not None:
            copy("deliveries", ("version", "subscriber_id", "message_id", "updated_at"), rows)
        else:
            self.db.executemany("INSERT INTO deliveries (version, subscriber_id, message_id, updated_at) "
                                "VALUES (?, ?, ?, ?)", rows)

    def texts(self) -> dict[str, AnnouncedText]:
        """Announced versions → the text they were announced with (hash and commit; None before schema 2)."""
        return {r[0]: AnnouncedText(r[1], r[2], r[3]) for r in self.db.execute(
            "SELECT version, content_hash, commit_sha, vanished_at FROM announcements ORDER BY seq")}

    def set_text(self, version: str, content_hash: str, commit: str | None, now: str,
                 accepted_from: AnnouncedText | None = None) -> None:
        """Record the text of an announced version: once for versions announced before schema 2, or when a
        rewritten text is accepted (accepted_from: the text it replaces, kept in the rewrites table)."""
        with self.db.transaction():
            self.db.execute("UPDATE announcements SET content_hash = ?, commit_sha = ?, vanished_at = NULL "
                            "WHERE version = ?", (content_hash, commit, version))
            if accepted_from is not None:
                self.db.execute("INSERT INTO rewrites (version, accepted_at, old_hash, old_commit, new_hash, "
                                "new_commit) VALUES (?, ?, ?, ?, ?, ?)", (version, now, accepted_from.content_hash,
                                                                         accepted_from.commit, content_hash, commit))

    def cancel_vanished(self, version: str, now: str) -> int:
        """The version is no longer in the history: mark it, cancel its open rows with a note. Returns how many."""
        with self.db.transaction():
            self.db.execute("UPDATE announcements SET vanished_at = ? WHERE version = ?", (now, version))
            return self.db.execute(
                "UPDATE deliveries SET status = 'cancelled', last_error = ?, updated_at = ? "
                "WHERE version = ? AND status IN ('pending', 'sending')",
                (f"cancelled: version {version} no longer in history", now, version)).rowcount

    def returned(self, version: str) -> None:
        """A version marked vanished is in the history again."""
        self.db.execute("UPDATE announcements SET vanished_at = NULL WHERE version = ?", (version,))

    def cancel_inactive(self) -> int:
        """Cancel open rows of subscribers who are no longer active (defence in depth; remove does it too)."""
        with self.db.transaction():
            return self.db.execute(
                "UPDATE deliveries SET status = 'cancelled', updated_at = ? "
                "WHERE status IN ('pending', 'sending') AND subscriber_id IN "
                "(SELECT id FROM subscribers WHERE status != 'active')", (stamp(),)).rowcount

    def close_settled(self, now: str) -> None:
        """Close the announcements with no open row left: later runs no longer look at their rows."""
        self.db.execute("UPDATE announcements SET closed_at = ? WHERE closed_at IS NULL AND NOT EXISTS "
                        "(SELECT 1 FROM deliveries d WHERE d.version = announcements.version "
                        "AND d.status IN ('pending', 'sending'))", (now,))

    # --- what to send -------------------------------------------------------------------------------------
    # On SQLite, open rows are found by scanning the primary key (version, subscriber_id) of the announcements
    # that are not closed yet, rather than through an index on status, which every status change would update;
    # PostgreSQL claims them through a partial index of the pending rows (pg_schema.py).
    def due(self, now: str, batch: int = 2000, claim: bool = True) -> Iterator[Due]:
        """Rows to send now, version by version in announcement order (claims.py: read in batches; on PostgreSQL
        claimed for this worker). claim=False only reads them (a dry run)."""
        return self.claims.due(now, batch) if claim else read_due(self.db, now, batch)

    def count_due(self, now: str) -> int:
        return self.db.execute(f"SELECT COUNT(*) FROM ({DUE_ROWS} AND {self.claims.open_rows} "
                               f"AND d.version IN ({OPEN_VERSIONS})) due", (now,)).fetchone()[0]

    def expire_claims(self, now: str) -> int:
        """Return the claims of workers that stopped (their lease ran out) to pending; how many (claims.py)."""
        return self.claims.expire(now)

    def release_claims(self, now: str) -> None:
        """Return this worker's remaining claims to pending (claims.py); nothing to do on SQLite."""
        self.claims.release(now)

    def waiting(self, now: str) -> tuple[int, str | None]:
        """Rows deferred to a later run: how many, and the earliest time one becomes due."""
        row = self.db.execute("SELECT COUNT(*), MIN(next_attempt_at) FROM deliveries "
                              f"WHERE version IN ({OPEN_VERSIONS}) AND status = 'pending' AND next_attempt_at > ?",
                              (now,)).fetchone()
        return row[0], row[1]

    # --- recording ----------------------------------------------------------------------------------------
    def record(self, outcome: Outcome | None, start: Due | None, now: str) -> bool:
        """Commit the outcome of the last message and the 'sending' mark of the next, in one transaction.
        False when the next row is no longer open (its subscriber was removed meanwhile, or on PostgreSQL its
        claim is no longer this worker's): skip it."""
        statements = [self._outcome(outcome, now)] if outcome is not None else []
        if start is not None:
            statements.append(self.claims.mark(start, now))
        if not statements:
            return False
        if self.db.concurrent:  # PostgreSQL: one statement (a data-modifying WITH), one round trip, atomic
            sql, values = _one_statement(statements)
            return self.db.execute(sql, values).rowcount == 1 and start is not None
        with self.db.transaction():
            results = [self.db.execute(sql, values).rowcount for sql, values in statements]
        return start is not None and results[-1] == 1

    def record_later(self, outcome: Outcome | None, start: Due, now: str) -> Callable[[], bool]:
        """record(outcome, start), but on PostgreSQL sent without waiting (postgres.PostgresDatabase.send): the
        function returned waits for the commit and says whether `start` may be sent. SQLite: recorded at once."""
        send = getattr(self.db, "send", None)
        if send is None:
            claimed = self.record(outcome, start, now)
            return lambda: claimed
        statements = [self._outcome(outcome, now)] if outcome is not None else []
        statements.append(self.claims.mark(start, now))
        result = send(*_one_statement(statements))
        return lambda: result() == 1

    def _outcome(self, outcome: Outcome, now: str) -> tuple[str, tuple]:
        """The statement recording one outcome; it changes the row only while it is open."""
        row = outcome.row
        key = (row.version, row.subscriber_id)
        where = " WHERE version = ? AND subscriber_id = ? AND status IN ('pending', 'sending')"
        settle = self.claims.settle
        if outcome.result == "sent":
            return ("UPDATE deliveries SET status = 'sent', attempts = attempts + 1, sent_at = ?, "
                    f"updated_at = ?, next_attempt_at = NULL, server_reply = ?{settle}" + where,
                    (now, now, outcome.reply, *key))
        if outcome.result in ("deferred", "failed"):
            status = "pending" if outcome.result == "deferred" else "failed"
            return ("UPDATE deliveries SET status = ?, attempts = attempts + 1, last_error = ?, "
                    f"next_attempt_at = ?, updated_at = ?{settle}" + where,
                    (status, outcome.error, outcome.next_attempt_at, now, *key))
        if outcome.result == "requeue":
            return (f"UPDATE deliveries SET status = 'pending', last_error = ?, updated_at = ?{settle}" + where,
                    (outcome.error, now, *key))
        raise ValueError(f"unknown outcome {outcome.result!r}")

    # --- reporting ----------------------------------------------------------------------------------------
    def report(self) -> list[dict[str, object]]:
        """Per announced version: when, to how many, and the count of rows in each status."""
        out = []
        for a in self.db.execute("SELECT version, announced_at, recipients, note, vanished_at FROM announcements "
                                 "ORDER BY seq").fetchall():
            counts = {r[0]: r[1] for r in self.db.execute("SELECT status, COUNT(*) FROM deliveries WHERE version = ? "
                                                          "GROUP BY status", (a[0],)).fetchall()}
            notes = [a[3]] if a[3] else []
            if a[4]:
                notes.append(f"cancelled: version {a[0]} no longer in history")
            notes.extend(f"rewrite accepted {r[0]}: commit {_short(r[1])} → {_short(r[2])}" for r in self.db.execute(
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


def _one_statement(statements: list[tuple[str, tuple]]) -> tuple[str, tuple]:
    """PostgreSQL: several updates as one statement (each but the last a data-modifying WITH); the last one's rows."""
    (sql, values), *rest = reversed(statements)
    for other, more in rest:
        sql, values = f"WITH outcome AS ({other} RETURNING 1) {sql}", (*more, *values)
    return sql, values


def announced_hashes(location: Location) -> dict[str, tuple[str, str | None]]:
    """Announced version → (content_hash, publishing commit) of the text it was announced with, read-only.

    Empty when the database does not exist or predates schema 2; versions announced before schema 2 appear
    once `policy notify` has run with it. For other code (the build) that must refuse to change announced text.
    location: the SQLite file's path or a postgresql:// URL (backend.py).
    """
    db = open_read_only(location)
    if db is None:
        return {}
    try:
        if "content_hash" not in db.columns("announcements"):
            return {}
        return {r[0]: (r[1], r[2]) for r in db.execute(
            "SELECT version, content_hash, commit_sha FROM announcements WHERE content_hash IS NOT NULL")}
    except db.errors as exc:
        raise db.failure(exc) from None
    finally:
        db.close()
