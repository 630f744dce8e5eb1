"""The subscribers of the email notices and the SQLite store they live in (with the delivery ledger).

Two addresses that differ only in case are the same subscriber (the unique key is the lower-cased
address). A removed subscriber is kept (status 'removed', name cleared) so that a later import does not silently
subscribe them again; `erase` deletes every trace of one address.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from ..history import git as gitcmd
from . import ledger
from .addresses import normalise_address, normalise_name

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS subscribers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,                 -- random public id, used in unsubscribe tokens
    email TEXT NOT NULL,
    email_key TEXT NOT NULL UNIQUE,           -- lower-cased address: case-insensitive duplicates merge
    name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'removed')),
    created_at TEXT NOT NULL,
    removed_at TEXT
);
"""


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


def warn_if_committable(path: Path) -> None:
    """Addresses must never reach git: warn when a new database or outbox is in a work tree, not ignored."""
    if gitcmd.is_ignored(path) is False:
        print(f"warning: {path} holds subscriber addresses and is not git-ignored; add it to .gitignore",
              file=sys.stderr)


def connect(path: Path) -> sqlite3.Connection:
    """The database with its pragmas and schema; created readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        warn_if_committable(path)
    try:
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=10.0)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise UserError(f"{path}: made by a newer version of this tool (schema {version})")
        conn.executescript(SCHEMA)
        ledger.ensure_schema(conn)
        conn.execute("INSERT OR IGNORE INTO meta VALUES ('message_id_key', ?)", (secrets.token_hex(32),))
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    except sqlite3.DatabaseError as exc:
        raise UserError(f"{path}: not a usable subscribers database: {exc}") from None
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _row(row: sqlite3.Row | None) -> Subscriber | None:
    return Subscriber(row["id"], row["uid"], row["email"], row["name"], row["status"], row["created_at"],
                      row["removed_at"]) if row else None


class SubscriberStore:
    """The subscribers table (and, through ledger.py, the delivery ledger) in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn = connect(path)

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

    def subscribers(self, include_removed: bool = False) -> list[Subscriber]:
        where = "" if include_removed else "WHERE status = 'active'"
        rows = self.conn.execute(f"SELECT * FROM subscribers {where} ORDER BY email_key").fetchall()
        return [s for s in map(_row, rows) if s is not None]

    def counts(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT status, COUNT(*) FROM subscribers GROUP BY status").fetchall()
        counts = {"active": 0, "removed": 0}
        counts.update({r[0]: r[1] for r in rows})
        return counts
