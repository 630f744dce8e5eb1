"""The PostgreSQL backend of backend.py (the only module that imports psycopg): POLICY_DATABASE_URL.

A connection is opened in autocommit, in the UTC time zone, with the schema brought up to date (pg_schema.py);
statements come with `?` placeholders and are rewritten once each to psycopg's `%s`. Rows allow index and
column-name access, like sqlite3.Row. Every timestamptz is read back as the ledger writes times, UTC text
'YYYY-MM-DDTHH:MM:SSZ', so the code above sees the same values from both databases.

Every psycopg error becomes one UserError line naming the database by its URL with the password masked, and
saying what to do: a wrong user or password, a database that does not exist, missing privileges, a full disk —
and DatabaseUnreachable (a server that is down, refuses, times out or drops the connection), which `policy
notify` reports with exit status 75, like an unreachable mail server.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.adapt import Loader
from psycopg.conninfo import conninfo_to_dict

from ..errors import UserError
from .backend import Database, DatabaseUnreachable, mask_url
from .pg_schema import SCHEMA_VERSION, NewerSchema, upgrade, version

_UNREACHABLE = ("connection refused", "timeout expired", "timed out", "could not connect", "failed to resolve host",
                "could not translate host name", "server closed the connection", "connection is lost",
                "consuming input failed", "network is unreachable", "no route to host", "connection reset",
                "the database system is starting up", "the database system is shutting down",
                "terminating connection", "sending query failed", "connection is closed", "the connection is closed")


class _Row(tuple):
    """A row: a tuple that also answers row["column"]."""

    __slots__ = ()
    _index: dict[str, int] = {}

    def __getitem__(self, key):
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


@functools.lru_cache(maxsize=256)
def _row_class(names: tuple[str, ...]) -> type[_Row]:
    return type("Row", (_Row,), {"__slots__": (), "_index": {n: i for i, n in enumerate(names)}})


def _rows(cursor: Any) -> Any:
    """psycopg row factory: _Row classes keyed by the result's column names."""
    description = cursor.description
    return _row_class(tuple(c.name for c in description)) if description else tuple


class _StampLoader(Loader):
    """timestamptz → 'YYYY-MM-DDTHH:MM:SSZ' (the session is in UTC, DateStyle ISO: '2026-01-31 12:00:00+00')."""

    def load(self, data: Any) -> str:
        text = bytes(data).decode()
        if len(text) >= 22 and text.endswith("+00") and text[10] == " ":
            return f"{text[:10]}T{text[11:19]}Z"
        return text  # 'infinity', or a year beyond 9999: as the server wrote it


@functools.lru_cache(maxsize=1024)
def _placeholders(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


class PostgresDatabase(Database):
    """A PostgreSQL database behind backend.Database: several workers at once (claims with leases)."""

    kind = "postgresql"
    concurrent = True
    position = "strpos"
    errors = (psycopg.Error,)

    def __init__(self, conn: psycopg.Connection, url: str) -> None:
        self.raw, self.url, self.where = conn, url, mask_url(url)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.raw.execute(_placeholders(sql), params) if params else self.raw.execute(sql)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self.raw.cursor() as cursor:
            cursor.executemany(_placeholders(sql), rows)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.raw.transaction():
            yield

    def columns(self, table: str) -> set[str]:
        return {r[0] for r in self.raw.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "AND table_schema = ANY (current_schemas(false))", (table,))}

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Many rows at once (COPY … FROM STDIN), inside the caller's transaction."""
        with self.raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def close(self) -> None:
        self.raw.close()

    def failure(self, exc: BaseException) -> UserError:
        return failure(self.url, exc)


def failure(url: str, exc: BaseException) -> UserError:
    """A psycopg error as one line: what happened, to which database (password masked), what to do."""
    where = mask_url(url)
    text = _reason(url, exc)
    lowered = str(exc).lower()
    state = getattr(exc, "sqlstate", None) or ""
    if isinstance(exc, NewerSchema):
        return UserError(f"the subscribers database was made by a newer version of this tool (schema {exc.version},"
                         f" this one knows {SCHEMA_VERSION}) ({where}); upgrade policy-site")
    if state in ("28P01", "28000") or "password authentication failed" in lowered or "no password" in lowered:
        return UserError(f"cannot log in to the subscribers database: the server refused the user name or password "
                         f"({where}); check the user and password in POLICY_DATABASE_URL")
    if state == "3D000" or ("database" in lowered and "does not exist" in lowered):
        return UserError(f"the subscribers database does not exist on the server ({where}); create it (createdb, or "
                         f"CREATE DATABASE) or fix the database name in POLICY_DATABASE_URL")
    if state == "42501":
        return UserError(f"the database user may not create or change the subscribers tables: {text} ({where}); "
                         f"grant it the privileges, or run `policy subscribers count` once as the database's owner")
    if state.startswith("53"):
        return UserError(f"the database server is out of resources: {text} ({where}); free some space or "
                         f"connections on the server and run it again")
    if state.startswith(("08", "57P")) or any(s in lowered for s in _UNREACHABLE) or (
            isinstance(exc, psycopg.OperationalError) and not state):
        return DatabaseUnreachable(f"cannot reach the database server: {text} ({where}); check that it is running and "
                                   f"the host and port in POLICY_DATABASE_URL, then run it again")
    if isinstance(exc, psycopg.ProgrammingError) and not state:
        return UserError(f"POLICY_DATABASE_URL is not a valid PostgreSQL URL: {text} ({where}); write it like "
                         f"postgresql://USER:PASSWORD@HOST:5432/DATABASE")
    return UserError(f"the subscribers database cannot be used: {text} ({where}); check the server and its log, "
                     f"then run it again")


def _reason(url: str, exc: BaseException) -> str:
    """The driver's message, on one line, without the connection preamble and never with the password."""
    text = " ".join(str(exc).split("\n")[0].split())
    for prefix in ("connection failed: ",):
        text = text.removeprefix(prefix)
    if "failed: " in text and text.startswith("connection to server"):
        text = text.rsplit("failed: ", 1)[1]
    text = text.replace("FATAL:  ", "").replace("FATAL: ", "")
    try:
        password = conninfo_to_dict(url).get("password")
    except psycopg.Error:
        password = None
    if password:
        text = text.replace(str(password), "***")
    return text[:300] or type(exc).__name__


def _open(url: str) -> psycopg.Connection:
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error as exc:
        raise failure(url, exc) from None
    params.setdefault("connect_timeout", 10)
    params.setdefault("application_name", "policy-site")
    conn: psycopg.Connection = psycopg.connect(autocommit=True, row_factory=_rows, **params)  # type: ignore
    conn.adapters.register_loader("timestamptz", _StampLoader)
    conn.execute("SET TIME ZONE 'UTC'")
    conn.execute("SET DateStyle = 'ISO, YMD'")
    return conn


def connect(url: str) -> PostgresDatabase:
    """The database at url with the current schema (upgraded, or created in an empty database); UserError."""
    conn = None
    try:
        conn = _open(url)
        upgrade(conn)
        conn.execute("SELECT COUNT(*) FROM subscribers").fetchone()
    except (psycopg.Error, NewerSchema) as exc:
        if conn is not None:
            conn.close()
        raise failure(url, exc) from None
    return PostgresDatabase(conn, url)


def connect_read_only(url: str) -> PostgresDatabase | None:
    """The database for reading only (never upgraded or written), or None when it has none of our tables yet."""
    conn = None
    try:
        conn = _open(url)
        conn.execute("SET default_transaction_read_only = on")
        found = version(conn)
        if found > SCHEMA_VERSION:
            raise NewerSchema(found)
    except (psycopg.Error, NewerSchema) as exc:
        if conn is not None:
            conn.close()
        raise failure(url, exc) from None
    if found == 0:
        conn.close()
        return None
    return PostgresDatabase(conn, url)
