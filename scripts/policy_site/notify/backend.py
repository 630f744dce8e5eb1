"""The seam between the store's SQL and the database that runs it: SQLite on one machine, PostgreSQL on several.

A *location* is a path (the SQLite file: `subscribers_db`, POLICY_SUBSCRIBERS_DB) or a `postgresql://` URL
(POLICY_DATABASE_URL). `open_database(location)` gives a Database, the one interface store.py, ledger.py,
claims.py and everything above them use; the drivers (sqlite3, psycopg) are imported by their backend module
only (database.py, postgres.py).

The SQL above this seam is written once, in the subset both databases share:

    placeholders      `?` (PostgreSQL's backend rewrites them to psycopg's `%s`)
    upserts           INSERT … ON CONFLICT (…) DO NOTHING [RETURNING …]
    times             passed in as UTC text, 'YYYY-MM-DDTHH:MM:SSZ' (ledger.stamp), and read back in that same
                      form (PostgreSQL stores timestamptz and its backend formats them on the way out); no date
                      functions in shared SQL
    rows              index and column-name access (row[0], row["email"])
    transactions      `with db.transaction():` — SQLite's BEGIN IMMEDIATE (the write lock at once), PostgreSQL's
                      BEGIN; everything else runs in autocommit

What differs is stated by each backend: `position` (the substring function, instr or strpos), `concurrent`
(False: one notify at a time, by a lock file — True: several workers, rows claimed with leases, claims.py),
`errors` (the driver's exception classes) and `failure(exc)` (one line saying what to do). Schemas and their
migrations are each backend's own (database.py: SQLite's user_version; pg_schema.py: a schema_version table).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from ..errors import UserError

Location = Path | str
SCHEMES = ("postgresql://", "postgres://")


class DatabaseUnreachable(UserError):
    """The database server cannot be reached (down, refused, timed out, connection lost): worth a later try.
    `policy notify` exits 75 for it, like an unreachable mail server."""


class Database:
    """One open database. Subclasses: database.SQLiteDatabase, postgres.PostgresDatabase."""

    kind: ClassVar[str]
    concurrent: ClassVar[bool]
    position: ClassVar[str]  # SQL function giving the position of a substring: instr(text, part) / strpos(…)
    errors: tuple[type[BaseException], ...]
    where: str  # how messages name it: the file's path, or the URL with its password masked

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement; a cursor (fetchone, fetchall, iteration, rowcount)."""
        raise NotImplementedError

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        raise NotImplementedError

    def transaction(self) -> AbstractContextManager[None]:
        """Commit on success, roll back on any exception; writes are serialised from the first statement."""
        raise NotImplementedError

    def columns(self, table: str) -> set[str]:
        """The names of the table's columns (empty when there is no such table)."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def failure(self, exc: BaseException) -> UserError:
        """A driver error as one line: what happened, where, what to do."""
        raise NotImplementedError


def is_url(location: Location) -> bool:
    return isinstance(location, str) and location.startswith(SCHEMES)


def mask_url(url: str) -> str:
    """The URL with its password (in the authority or as ?password=) replaced by ***."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
    except ValueError:
        return re.sub(r"//[^@/]*@", "//***@", url)
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        netloc = f"{userinfo}@{host}"
    query = re.sub(r"(?i)(^|&)(password)=[^&]*", r"\1\2=***", parts.query)
    return parts._replace(netloc=netloc, query=query).geturl()


def open_database(location: Location) -> Database:
    """The database at location, created or upgraded to the current schema; a one-line UserError if unusable."""
    if is_url(location):
        from .postgres import connect as connect_postgres
        return connect_postgres(str(location))
    from .database import open_sqlite
    return open_sqlite(Path(location))


def open_read_only(location: Location) -> Database | None:
    """The database for reading only (never created, upgraded or written), or None when there is none yet."""
    if is_url(location):
        from .postgres import connect_read_only
        return connect_read_only(str(location))
    from .database import open_sqlite_read_only
    return open_sqlite_read_only(Path(location))
