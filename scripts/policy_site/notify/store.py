"""The subscribers of the email notices and the store they live in (with the delivery ledger).

The store is a SQLite file (one machine) or a PostgreSQL database (several), opened through backend.py; each
backend keeps its own schema and upgrades (database.py, pg_schema.py). This module reads and changes
subscribers, in SQL both run.

Two addresses that differ only in case are the same subscriber (the unique key is the lower-cased
address). A removed subscriber is kept (status 'removed', name cleared) so that a later import does not silently
subscribe them again; `erase` deletes every trace of one address.

Each subscriber has Preferences: which documents ('*' or ',privacy,terms,'), which kinds of change ('material' or
'all') and a language (a translation's code, or None for the original's); `confirmed_at` records when the address
confirmed its subscription through the subscription service (the consent; None for addresses an editor added).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import ledger
from .addresses import CHANGES, CsvRow, normalise_address, normalise_name
from .backend import Database, Location, is_url, open_database

IMPORT_BATCH = 1000  # addresses looked up (and new subscribers inserted) at a time by an import
_LOOK_UP = object()  # upsert(found=…): not looked up by the caller
_INSERT = ("INSERT INTO subscribers (uid, email, email_key, name, created_at, documents, changes, language, "
           "confirmed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def now_text() -> str:
    return ledger.stamp()


@dataclass(frozen=True)
class Preferences:
    """What one subscriber asked for: documents ('*': every document, or ',privacy,terms,'), kinds of change
    ('material': material changes only, 'all': minor ones too) and language (None: the original's)."""

    documents: str = "*"
    changes: str = "material"
    language: str | None = None

    def __post_init__(self) -> None:
        if self.changes not in CHANGES:
            raise ValueError(f"changes must be one of {', '.join(CHANGES)}, not {self.changes!r}")

    @classmethod
    def of(cls, documents: Iterable[str] | None = None, changes: str = "material",
           language: str | None = None) -> Preferences:
        """From a list of document ids (None, empty, or holding '*' or 'all': every document)."""
        chosen = sorted(set(documents or ()))
        every = not chosen or "*" in chosen or "all" in chosen
        return cls("*" if every else "," + ",".join(chosen) + ",", changes, language or None)

    @property
    def document_ids(self) -> list[str]:
        """The documents chosen, [] for every document."""
        return [] if self.documents == "*" else [d for d in self.documents.split(",") if d]

    def describe(self) -> str:
        return self.documents if self.documents == "*" else ",".join(self.document_ids)


@dataclass(frozen=True)
class Subscriber:
    id: int
    uid: str
    email: str
    name: str
    status: str
    created_at: str
    removed_at: str | None
    preferences: Preferences = Preferences()
    confirmed_at: str | None = None

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
    if not row:
        return None
    return Subscriber(row["id"], row["uid"], row["email"], row["name"], row["status"], row["created_at"],
                      row["removed_at"], Preferences(row["documents"], row["changes"], row["language"]),
                      row["confirmed_at"])


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

    def upsert(self, email: str, name: str, reactivate: bool, now: str, preferences: Preferences | None = None,
               confirmed_at: str | None = None, found: Any = _LOOK_UP, added: list | None = None) -> str:
        """Inside the caller's transaction: 'added', 'updated', 'reactivated', 'unchanged' or 'skipped' (removed,
        not reactivated). preferences None: kept as they are (the defaults for a new subscriber); confirmed_at:
        recorded when given. found: the subscriber's row when the caller looked it up already (None: no such row);
        added: a list the row of a new subscriber is appended to, for the caller to insert (else inserted now)."""
        row = self.conn.execute("SELECT * FROM subscribers WHERE email_key = ?", (email.lower(),)).fetchone() \
            if found is _LOOK_UP else found
        prefs = preferences or (Preferences(row["documents"], row["changes"], row["language"]) if row else
                                Preferences())
        values = (prefs.documents, prefs.changes, prefs.language)
        if row is None:
            new = (secrets.token_hex(8), email, email.lower(), name, now, *values, confirmed_at)
            if added is not None:
                added.append(new)
            else:
                self.conn.execute(_INSERT, new)
            return "added"
        confirmed = confirmed_at or row["confirmed_at"]
        if row["status"] == "removed":
            if not reactivate:
                return "skipped"
            self.conn.execute("UPDATE subscribers SET status = 'active', removed_at = NULL, name = ?, email = ?, "
                              "created_at = ?, documents = ?, changes = ?, language = ?, confirmed_at = ? "
                              "WHERE id = ?", (name, email, now, *values, confirmed_at, row["id"]))
            return "reactivated"
        new_name = name or row["name"]
        if (new_name, *values, confirmed) == (row["name"], row["documents"], row["changes"], row["language"],
                                              row["confirmed_at"]):
            return "unchanged"
        self.conn.execute("UPDATE subscribers SET name = ?, documents = ?, changes = ?, language = ?, "
                          "confirmed_at = ? WHERE id = ?", (new_name, *values, confirmed, row["id"]))
        return "updated"

    def add(self, address: str, name: str | None = None, preferences: Preferences | None = None,
            subscribed: str | None = None) -> tuple[Subscriber, str]:
        """Subscribe (or re-subscribe) one address; raises InvalidAddress. preferences None: kept (or defaults);
        subscribed: when the reader subscribed (ledger time; default now)."""
        email, clean = normalise_address(address), normalise_name(name)
        with transaction(self.conn):
            outcome = self.upsert(email, clean, reactivate=True, now=subscribed or now_text(), preferences=preferences)
        subscriber = self.get(email)
        assert subscriber is not None
        return subscriber, outcome

    def set_preferences(self, subscriber: Subscriber, preferences: Preferences) -> None:
        """Change what an active subscriber receives."""
        self.conn.execute("UPDATE subscribers SET documents = ?, changes = ?, language = ? WHERE id = ?",
                          (preferences.documents, preferences.changes, preferences.language, subscriber.id))

    def import_rows(self, rows: Iterable[CsvRow | tuple]) -> ImportResult:
        """Validated rows (address, name, subscribed and, when the file has them, documents, changes, language and
        confirmed) in one transaction; removed subscribers stay removed."""
        result = ImportResult()
        now = now_text()
        with transaction(self.conn):
            for chunk in _chunks(map(lambda r: r if isinstance(r, CsvRow) else CsvRow(*r), rows), IMPORT_BATCH):
                self._import_chunk(chunk, now, result)
        return result

    def _import_chunk(self, chunk: list[CsvRow], now: str, result: ImportResult) -> None:
        """One batch of an import: the existing rows looked up in one query, the new ones inserted at once."""
        keys = sorted({row.email.lower() for row in chunk})
        existing = {r["email_key"]: r for r in self.conn.execute(
            f"SELECT * FROM subscribers WHERE email_key IN ({', '.join('?' * len(keys))})", keys).fetchall()}
        added: list[tuple] = []
        done: set[str] = set()
        for row in chunk:
            key = row.email.lower()
            found: Any = existing.get(key)
            if key in done:  # the same address again in this batch: its first row in place, then looked up
                if added:
                    self.conn.executemany(_INSERT, added)
                added, found = [], _LOOK_UP
            done.add(key)
            given = row.documents is not None or row.changes is not None or row.language is not None
            preferences = Preferences(row.documents or "*", row.changes or "material", row.language or None) \
                if given else None
            outcome = self.upsert(row.email, row.name, reactivate=False, now=row.subscribed or now,
                                  preferences=preferences, confirmed_at=row.confirmed, found=found, added=added)
            if outcome == "added":
                result.added += 1
            elif outcome == "skipped":
                result.skipped_removed += 1
            elif outcome == "updated":
                result.updated += 1
            else:
                result.unchanged += 1
        if added:
            self.conn.executemany(_INSERT, added)

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

    def audience(self, audience: ledger.Audience, batch: int = 5000) -> Iterator[Subscriber]:
        """The active subscribers a notice for this document and kind of change goes to, read in batches by id
        (keyset pagination: never every address at once)."""
        where, values = audience.sql(self.db.position)
        last = -1
        while True:
            rows = self.conn.execute(f"SELECT * FROM subscribers WHERE status = 'active'{where} AND id > ? "
                                     "ORDER BY id LIMIT ?", (*values, last, batch)).fetchall()
            yield from (s for s in map(_row, rows) if s is not None)
            if len(rows) < batch:
                return
            last = rows[-1]["id"]

    def subscribers(self, include_removed: bool = False) -> list[Subscriber]:
        where = "" if include_removed else "WHERE status = 'active'"
        rows = self.conn.execute(f"SELECT * FROM subscribers {where} ORDER BY email_key").fetchall()
        return [s for s in map(_row, rows) if s is not None]

    def counts(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT status, COUNT(*) FROM subscribers GROUP BY status").fetchall()
        counts = {"active": 0, "removed": 0}
        counts.update({r[0]: r[1] for r in rows})
        return counts
