"""Subscribers of the email notices: address and name validation, and the SQLite store they live in.

Addresses are normalised on the way in: surrounding space removed, the domain lower-cased and converted
to its ASCII (IDNA) form, the part before the @ kept as typed. Two addresses that differ only in case are
the same subscriber (the unique key is the lower-cased address). Names are one line of printable text.
A removed subscriber is kept (status 'removed', name cleared) so that a later import does not silently
subscribe them again; `erase` deletes every trace of one address.
"""

from __future__ import annotations

import csv
import io
import os
import re
import secrets
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from email.headerregistry import Address
from pathlib import Path
from typing import Iterable, Iterator, Mapping

from . import ledger
from .errors import UserError

ENV_DB = "POLICY_SUBSCRIBERS_DB"
SCHEMA_VERSION = 1
MAX_NAME = 200
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL = re.compile(rf"^{_ATEXT}(?:\.{_ATEXT})*\Z")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\Z")
_ANY_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w.-]+\.[\w-]+")

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


class InvalidAddress(ValueError):
    """An address or name that cannot be stored; the message says why."""


def now_text() -> str:
    return ledger.stamp()


def mask(address: str) -> str:
    """An address as logs show it: z***@example.org."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}" if local else "***"


def mask_text(text: str) -> str:
    """Text with every email address in it masked (server replies often quote the recipient)."""
    return _ANY_ADDRESS.sub(lambda m: mask(m.group(0)), text)


def _ascii_domain(domain: str) -> str:
    domain = domain.rstrip(".")
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidAddress(f"'{domain}' is not a valid domain name") from None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise InvalidAddress(f"'{domain}' is not a valid domain name (like example.org)")
    if len(ascii_domain) > 253:
        raise InvalidAddress("the domain name is too long")
    return ascii_domain


def normalise_address(raw: str) -> str:
    """The stored form of an email address, or InvalidAddress saying what is wrong with it."""
    text = raw.strip()
    if not text:
        raise InvalidAddress("empty address")
    if _CONTROL.search(text):
        raise InvalidAddress("line breaks and control characters are not allowed in an address")
    if any(c in text for c in " <>,;\"()"):
        raise InvalidAddress(f"'{text}' is not a bare address; write it like name@example.org")
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise InvalidAddress(f"'{text}' is not an email address (like name@example.org)")
    if not local.isascii():
        raise InvalidAddress("characters outside ASCII before the @ are not supported")
    if len(local) > 64 or not _LOCAL.match(local):
        raise InvalidAddress(f"'{local}' is not valid before the @")
    address = f"{local}@{_ascii_domain(domain)}"
    if len(address) > 254:
        raise InvalidAddress("the address is too long")
    try:  # the email package must read it back unchanged: it is what will build the To header
        parsed = Address(addr_spec=address)
    except (ValueError, IndexError) as exc:
        raise InvalidAddress(f"'{text}' is not a valid address: {exc}") from None
    if parsed.addr_spec != address:
        raise InvalidAddress(f"'{text}' is not a valid address")
    return address


def normalise_name(raw: str | None) -> str:
    """One line of printable text (inner runs of spaces collapsed), or InvalidAddress."""
    if raw is None:
        return ""
    if _CONTROL.search(raw):
        raise InvalidAddress("line breaks and control characters are not allowed in a name")
    name = " ".join(raw.split())
    if len(name) > MAX_NAME:
        raise InvalidAddress(f"the name is longer than {MAX_NAME} characters")
    return name


def parse_csv(data: bytes | str, filename: str) -> tuple[list[tuple[str, str, str | None]], list[str]]:
    """(address, name, subscribed) rows of a CSV file, and every bad row as 'FILE:LINE: message'.

    The first row is a header when it has no @ in its first cell: then the columns named email (or
    address), name and subscribed (the date of consent, kept on import) are used and any others ignored,
    so an `export` reads back. Without a header the columns are email, name. Blank rows are skipped;
    addresses repeated in the file are merged (first spelling, last name given).
    """
    rows: dict[str, tuple[str, str, str | None]] = {}
    problems: list[str] = []
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        return [], [f"{filename}:{line}: not UTF-8 (save the file as UTF-8 CSV)"]
    reader = csv.reader(io.StringIO(text, newline=""))
    email_col, name_col, since_col, first, line = 0, 1, -1, True, 1
    try:
        for record in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue
            if first and "@" not in record[0]:
                first = False
                header = [cell.strip().lower() for cell in record]
                email_col = next((header.index(n) for n in ("email", "address", "e-mail") if n in header), -1)
                name_col = header.index("name") if "name" in header else -1
                since_col = header.index("subscribed") if "subscribed" in header else -1
                if email_col < 0:
                    problems.append(f"{filename}:{start}: the header row has no 'email' column")
                    return [], problems
                continue
            first = False
            try:
                email = normalise_address(record[email_col] if email_col < len(record) else "")
                name = normalise_name(record[name_col] if 0 <= name_col < len(record) else "")
                since = record[since_col].strip() if 0 <= since_col < len(record) else ""
                if since and not _TIMESTAMP.match(since):
                    raise InvalidAddress(f"subscribed must be a time like 2026-01-31T12:00:00Z, not '{since}'")
            except InvalidAddress as exc:
                problems.append(f"{filename}:{start}: {exc}")
                continue
            previous = rows.get(email.lower())
            rows[email.lower()] = (previous[0], name or previous[1], previous[2]) if previous else \
                (email, name, since or None)
    except csv.Error as exc:
        problems.append(f"{filename}:{line}: not valid CSV: {exc}")
    return list(rows.values()), problems


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


def database_path(settings, environ: Mapping[str, str] = os.environ) -> Path:
    """POLICY_SUBSCRIBERS_DB, else the subscribers_db option; never inside the generated site."""
    configured = environ.get(ENV_DB)
    path = (Path(configured) if configured else settings.path("subscribers_db")).expanduser().resolve()
    for name, folder in (("site/", settings.root / "site"), ("pages_dir", settings.pages_dir)):
        if path.is_relative_to(folder.resolve()):
            raise UserError(f"the subscribers database {path} is inside {name}, which is published; "
                            f"keep it outside (default: .cache/subscribers.sqlite3)")
    return path


def warn_if_committable(path: Path) -> None:
    """Addresses must never reach git: warn when a new database or outbox is in a work tree, not ignored."""
    try:
        result = subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=path.parent if path.parent.is_dir()
                                else None, capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return
    if result.returncode == 1:  # 0: ignored; 128: not a git work tree
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
