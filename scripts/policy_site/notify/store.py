"""The subscribers of the email notices and the store they live in (with the delivery ledger).

The store is a SQLite file (one machine) or a PostgreSQL database (several), opened through backend.py; each
backend keeps its own schema and upgrades (database.py, pg_schema.py). This module reads and changes
subscribers, in SQL both run.

Two addresses that differ only in case are the same subscriber (the unique key is the lower-cased
address). A removed subscriber is kept (status 'removed', name cleared) so that a later import does not silently
subscribe them again; `erase` deletes every trace of one address.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import ledger
from .addresses import normalise_address, normalise_name
from .backend import Database, Location, is_url, open_database


def now_text() -> str:
    return ledger.stamp()


@dataclass(frozen=True)
class Subscriber:
    id: int
    uid: str
    email: str
    name: str
    status: str
    created_at: str
    removed_at: str | None

    @property
    def key(self) -> str:
        return self.email.lower()


@dataclass
class ImportResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_removed: int = 0


@contextmanager
def transaction(db: Database) -> Iterator[Database]:
    with db.transaction():
        yield db


def _row(row) -> Subscriber | None:
    return Subscriber(row["id"], row["uid"], row["email"], row["name"], row["status"], row["created_at"],
                      row["removed_at"]) if row else None


class SubscriberStore:
    """The subscribers table (and, through ledger.py, the delivery ledger) in one database: location is the
    SQLite file's path or a postgresql:// URL. `conn` is the backend.Database (execute, transaction, errors)."""

    def __init__(self, location: Location) -> None:
        self.location = location if is_url(location) else Path(location)
        self.path = self.location if isinstance(self.location, Path) else None  # the SQLite file, if it is one
        self.conn = self.db = open_database(self.location)
        self.where = self.db.where  # how messages name it (a URL's password masked)

    def close(self) -> None:
        self.conn.close()

    def secret(self) -> bytes:
        """A random key made once per database: it keys the Message-IDs, so they never reveal an address."""
        return bytes.fromhex(self.conn.execute("SELECT value FROM meta WHERE key = 'message_id_key'").fetchone()[0])

    def get(self, address: str) -> Subscriber | None:
        key = normalise_address(address).lower()
        return _row(self.conn.execute("SELECT * FROM subscribers WHERE email_key = ?", (key,)).fetchone())

    def by_uid(self, uid: str) -> Subscriber | None:
        return _row(self.conn.execute("SELECT * FROM subscribers WHERE uid = ?", (uid,)).fetchone())

    def _upsert(self, email: str, name: str, reactivate: bool, now: str) -> str:
        """'added', 'updated', 'reactivated', 'unchanged' or 'skipped' (removed, not reactivated)."""
        row = self.conn.execute("SELECT * FROM subscribers WHERE email_key = ?", (email.lower(),)).fetchone()
        if row is None:
            self.conn.execute("INSERT INTO subscribers (uid, email, email_key, name, created_at) "
                              "VALUES (?, ?, ?, ?, ?)",
                              (secrets.token_hex(8), email, email.lower(), name, now))
            return "added"
        if row["status"] == "removed":
            if not reactivate:
                return "skipped"
            self.conn.execute("UPDATE subscribers SET status = 'active', removed_at = NULL, name = ?, email = ?, "
                              "created_at = ? WHERE id = ?", (name, email, now, row["id"]))
            return "reactivated"
        if name and name != row["name"]:
            self.conn.execute("UPDATE subscribers SET name = ? WHERE id = ?", (name, row["id"]))
            return "updated"
        return "unchanged"

    def add(self, address: str, name: str | None = None) -> tuple[Subscriber, str]:
        """Subscribe (or re-subscribe) one address; raises InvalidAddress."""
        email, clean = normalise_address(address), normalise_name(name)
        with transaction(self.conn):
            outcome = self._upsert(email, clean, reactivate=True, now=now_text())
        subscriber = self.get(email)
        assert subscriber is not None
        return subscriber, outcome

    def import_rows(self, rows: Iterable[tuple[str, str, str | None]]) -> ImportResult:
        """Validated (address, name, subscribed) rows in one transaction; removed subscribers stay removed."""
        result = ImportResult()
        now = now_text()
        with transaction(self.conn):
            for email, name, since in rows:
                outcome = self._upsert(email, name, reactivate=False, now=since or now)
                if outcome == "added":
                    result.added += 1
                elif outcome == "skipped":
                    result.skipped_removed += 1
                elif outcome == "updated":
                    result.updated += 1
                else:
                    result.unchanged += 1
        return result

    def remove(self, subscriber: Subscriber) -> int:
        """Unsubscribe: status 'removed', name cleared, undelivered notices cancelled. Returns how many."""
        with transaction(self.conn):
            self.conn.execute("UPDATE subscribers SET status = 'removed', removed_at = ?, name = '' WHERE id = ?",
                              (now_text(), subscriber.id))
            return ledger.cancel_subscriber(self.conn, subscriber.id)

    def erase(self, subscriber: Subscriber) -> None:
        """Delete the address and its delivery records entirely (a request to erase personal data)."""
        with transaction(self.conn):
            ledger.forget_subscriber(self.conn, subscriber.id)
            self.conn.execute("DELETE FROM subscribers WHERE id = ?", (subscriber.id,))

    def audience(self, audience: ledger.Audience) -> list[Subscriber]:
        """The active subscribers a notice for this document and kind of change goes to."""
        where, values = audience.sql()
        rows = self.conn.execute(f"SELECT * FROM subscribers WHERE status = 'active'{where} ORDER BY email_key",
                                 values).fetchall()
        return [s for s in map(_row, rows) if s is not None]

    def subscribers(self, include_removed: bool = False) -> list[Subscriber]:
        where = "" if include_removed else "WHERE status = 'active'"
        rows = self.conn.execute(f"SELECT * FROM subscribers {where} ORDER BY email_key").fetchall()
        return [s for s in map(_row, rows) if s is not None]

    def counts(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT status, COUNT(*) FROM subscribers GROUP BY status").fetchall()
        counts = {"active": 0, "removed": 0}
        counts.update({r[0]: r[1] for r in rows})
        return counts
