"""The SQLite file of the subscribers and the delivery ledger: opening it, its schema and the schema's upgrades.

The schema version is SQLite's `user_version`:

    0  a new, empty file: the current schema is created at once
    1  meta, subscribers, announcements, deliveries
    2  what exactly was announced: announcements.content_hash (content_hash of the published text) and
       .commit_sha (the publishing commit), .vanished_at (the version left the history); the rewrites table
       (each rewritten text accepted with `policy notify --accept-rewrite`)
    3  what each subscriber asked for: subscribers.documents ('*' or ',privacy,terms,'), .changes ('material':
       material changes only, 'all': every change), .language (a translation's code, or NULL), .confirmed_at
       (when the address confirmed, for subscriptions made through the service); pending_subscriptions (a
       subscription waiting for its confirmation: the sha256 of the emailed token, when it expires)
    4  pending_subscriptions.used_at (when its link confirmed it: a used link is told apart from a forged one, and
       the row still counts towards the per-address limit of confirmation mails) and an index by address and time
    5  deliveries.server_reply: the mail server's reply to the end of DATA of a sent message ("250 2.0.0 Ok:
       queued as 4F2C1"; NULL for the outbox, and for messages sent before)

connect() upgrades an older file in place, step by step, in one IMMEDIATE transaction that re-reads the version
first (two processes upgrading at once are harmless); a file written by a newer version of this tool is refused.
A new file is created readable by its owner only. Every SQLite or file-system failure while opening becomes one
UserError line (database_failure / files.os_failure); `open_read_only` never writes at all.

This module is the SQLite backend of backend.py (the only module that imports sqlite3): SQLiteDatabase wraps a
connection, `database_failure` turns SQLite's errors into one line, and `notify_lock` keeps to one `policy
notify` at a time (SQLite serialises writers; several workers are PostgreSQL's job).
"""

from __future__ import annotations

import fcntl
import os
import secrets
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import UserError
from .backend import Database
from .files import os_failure, warn_if_committable

SCHEMA_VERSION = 5

_REWRITES = """CREATE TABLE IF NOT EXISTS rewrites (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    version TEXT NOT NULL REFERENCES announcements(version),
    accepted_at TEXT NOT NULL,
    old_hash TEXT,
    old_commit TEXT,
    new_hash TEXT NOT NULL,
    new_commit TEXT
)"""

_PENDING = """CREATE TABLE IF NOT EXISTS pending_subscriptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    documents TEXT NOT NULL DEFAULT '*',
    changes TEXT NOT NULL DEFAULT 'material' CHECK (changes IN ('material', 'all')),
    language TEXT,
    token_hash TEXT NOT NULL UNIQUE,  -- sha256 of the token in the confirmation email (never the token)
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT                      -- when the link was used to confirm (NULL: not yet)
)"""
_PENDING_INDEX = "CREATE INDEX IF NOT EXISTS pending_by_address ON pending_subscriptions(email_key, created_at)"
_PREFERENCES = ("documents TEXT NOT NULL DEFAULT '*'",
                "changes TEXT NOT NULL DEFAULT 'material' CHECK (changes IN ('material', 'all'))",
                "language TEXT", "confirmed_at TEXT")

# the current schema, for a new file
SCHEMA = ("""CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
          """CREATE TABLE IF NOT EXISTS subscribers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,                 -- random public id, used in unsubscribe tokens
    email TEXT NOT NULL,
    email_key TEXT NOT NULL UNIQUE,           -- lower-cased address: case-insensitive duplicates merge
    name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'removed')),
    created_at TEXT NOT NULL,
    removed_at TEXT,
    documents TEXT NOT NULL DEFAULT '*',      -- '*' (every document) or ',privacy,terms,'
    changes TEXT NOT NULL DEFAULT 'material' CHECK (changes IN ('material', 'all')),
    language TEXT,                            -- a translation's language, or NULL for the original's
    confirmed_at TEXT                         -- when the address confirmed its subscription (double opt-in)
)""",
          """CREATE TABLE IF NOT EXISTS announcements (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    version TEXT NOT NULL UNIQUE,
    announced_at TEXT NOT NULL,
    recipients INTEGER NOT NULL,
    note TEXT,
    closed_at TEXT,                 -- set once no row of this version is pending or sending any more
    content_hash TEXT,              -- content_hash() of the text announced (NULL: announced before schema 2)
    commit_sha TEXT,                -- the commit that published it
    vanished_at TEXT                -- when the version was found missing from the history
)""",
          """CREATE TABLE IF NOT EXISTS deliveries (
    version TEXT NOT NULL REFERENCES announcements(version),
    subscriber_id INTEGER NOT NULL REFERENCES subscribers(id),
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    message_id TEXT NOT NULL,
    last_error TEXT,
    next_attempt_at TEXT,
    updated_at TEXT NOT NULL,
    sent_at TEXT,
    server_reply TEXT,              -- the mail server's reply to the end of DATA (NULL: outbox, or before schema 5)
    PRIMARY KEY (version, subscriber_id)
) WITHOUT ROWID""",
          """CREATE INDEX IF NOT EXISTS deliveries_subscriber ON deliveries(subscriber_id)""",
          _REWRITES, _PENDING, _PENDING_INDEX)


def _upgrade_1_to_2(conn: sqlite3.Connection) -> None:
    for column in ("content_hash", "commit_sha", "vanished_at"):
        conn.execute(f"ALTER TABLE announcements ADD COLUMN {column} TEXT")
    conn.execute(_REWRITES)


def _upgrade_2_to_3(conn: sqlite3.Connection) -> None:
    for column in _PREFERENCES:
        conn.execute(f"ALTER TABLE subscribers ADD COLUMN {column}")
    conn.execute(_PENDING)


def _upgrade_3_to_4(conn: sqlite3.Connection) -> None:
    if "used_at" not in {r[1] for r in conn.execute("PRAGMA table_info(pending_subscriptions)")}:
        conn.execute("ALTER TABLE pending_subscriptions ADD COLUMN used_at TEXT")  # (2 → 3 made it already)
    conn.execute(_PENDING_INDEX)


def _upgrade_4_to_5(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE deliveries ADD COLUMN server_reply TEXT")


# UPGRADES[n] turns schema n into schema n + 1
UPGRADES: dict[int, Callable[[sqlite3.Connection], None]] = {1: _upgrade_1_to_2, 2: _upgrade_2_to_3,
                                                             3: _upgrade_3_to_4, 4: _upgrade_4_to_5}


def _version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def _newer(path: Path, version: int) -> UserError:
    return UserError(f"the subscribers database was made by a newer version of this tool (schema {version}, this "
                     f"one knows {SCHEMA_VERSION}) ({path}); upgrade policy-site")


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = _version(conn)  # again, under the write lock: another process may have upgraded meanwhile
        if version > SCHEMA_VERSION:
            raise _newer(path, version)
        if version == 0 and conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'announcements'").fetchone():
            version = 1  # a first-release file whose version was never stamped
        if version == 0:
            for statement in SCHEMA:
                conn.execute(statement)
        for step in range(version or SCHEMA_VERSION, SCHEMA_VERSION):
            UPGRADES[step](conn)
        conn.execute("INSERT OR IGNORE INTO meta VALUES ('message_id_key', ?)", (secrets.token_hex(32),))
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def connect(path: Path) -> sqlite3.Connection:
    """The database with its pragmas, created (mode 0600) or upgraded to the current schema; UserError if unusable."""
    created = False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() and not path.is_symlink():
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600))
            created = True
    except OSError as exc:
        raise os_failure("cannot create the subscribers database", path, exc) from None
    conn: sqlite3.Connection | None = None
    try:
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=10.0)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        version = _version(conn)
        if version > SCHEMA_VERSION:
            raise _newer(path, version)
        if version < SCHEMA_VERSION:
            _migrate(conn, path)
        conn.execute("SELECT COUNT(*) FROM subscribers").fetchone()  # a damaged file shows here, not mid-run
    except (sqlite3.Error, UserError) as exc:
        if conn is not None:
            conn.close()
        if created:  # nothing half-made: a file this call created and could not set up is removed again
            for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                leftover.unlink(missing_ok=True)
        if isinstance(exc, UserError):
            raise
        raise database_failure(path, exc) from None
    if created:
        warn_if_committable(path)
    return conn


def open_read_only(path: Path) -> sqlite3.Connection | None:
    """The database opened read-only (never created, upgraded or written), or None when there is no file."""
    if not path.is_file():
        return None
    try:
        conn = sqlite3.connect(path.as_uri() + "?mode=ro", uri=True, timeout=10.0)
        conn.row_factory = sqlite3.Row
        version = _version(conn)
    except sqlite3.Error as exc:
        raise database_failure(path, exc) from None
    if version > SCHEMA_VERSION:
        conn.close()
        raise _newer(path, version)
    return conn


class SQLiteDatabase(Database):
    """The SQLite file behind backend.Database: one notify at a time, BEGIN IMMEDIATE transactions."""

    kind = "sqlite"
    concurrent = False
    position = "instr"
    errors = (sqlite3.Error,)

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.raw, self.path, self.where = conn, path, str(path)
        self.execute = conn.execute  # type: ignore  # the hot path: no extra call

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.raw.executemany(sql, rows)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.raw.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.raw.execute("ROLLBACK")
            raise
        self.raw.execute("COMMIT")

    def columns(self, table: str) -> set[str]:
        return {r[1] for r in self.raw.execute(f"PRAGMA table_info({table})")}

    def close(self) -> None:
        self.raw.close()

    def failure(self, exc: BaseException) -> UserError:
        return database_failure(self.path, exc) if isinstance(exc, sqlite3.Error) else UserError(str(exc))


def open_sqlite(path: Path) -> SQLiteDatabase:
    return SQLiteDatabase(connect(path), path)


def open_sqlite_read_only(path: Path) -> SQLiteDatabase | None:
    conn = open_read_only(path)
    return SQLiteDatabase(conn, path) if conn is not None else None


def database_failure(path: Path, exc: sqlite3.Error) -> UserError:
    """A SQLite error of the subscribers database as one line saying what to do."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF  # the primary result code
    if code in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT) or "not a database" in str(exc) \
            or "malformed" in str(exc):
        reason, todo = ("is damaged or not a subscribers database",
                        "restore it from a backup, or set POLICY_SUBSCRIBERS_DB / subscribers_db to another file")
    elif code == sqlite3.SQLITE_CANTOPEN and path.is_dir():
        reason, todo = "is a folder, not a database file", "remove the folder or choose another database path"
    elif code in (sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM, sqlite3.SQLITE_AUTH) \
            and _read_only(path.parent):
        reason, todo = "cannot be opened for writing: the file system is read-only", "make it writable or move the file"
    elif code in (sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM, sqlite3.SQLITE_AUTH):
        reason, todo = ("cannot be opened for reading and writing: permission denied",
                        "let this user read and write the file and its folder (or run as their owner)")
    elif code == sqlite3.SQLITE_FULL or code == sqlite3.SQLITE_IOERR and _nearly_full(path.parent):
        reason, todo = "cannot be written: the disk is full", "free some space and run it again"
    elif code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        reason, todo = "is locked by another program", "run it again when that program is done"
    elif code == sqlite3.SQLITE_IOERR:
        reason, todo = f"cannot be read or written: {exc}", "check the disk and run it again"
    else:
        reason, todo = f"cannot be used ({exc})", "check the file, or restore it from a backup"
    return UserError(f"the subscribers database {reason} ({path}); {todo}")


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _nearly_full(folder: Path) -> bool:
    """SQLite reports some writes on a full disk as an I/O error: tell them apart by the free space."""
    try:
        stat = os.statvfs(folder)
    except OSError:
        return False
    return stat.f_bavail * stat.f_frsize < 256 * 1024


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
