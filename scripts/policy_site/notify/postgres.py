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
import select
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import pq
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


@functools.lru_cache(maxsize=64)
def _numbered(sql: str) -> bytes:
    """`?` placeholders as libpq's $1, $2 … (the statements sent this way have no ? inside a literal)."""
    parts = sql.split("?")
    return ("".join(f"{part}${i}" for i, part in enumerate(parts[:-1], 1)) + parts[-1]).encode()


class PostgresDatabase(Database):
    """A PostgreSQL database behind backend.Database: several workers at once (claims with leases)."""

    kind = "postgresql"
    concurrent = True
    position = "strpos"
    errors = (psycopg.Error,)

    def __init__(self, conn: psycopg.Connection, url: str) -> None:
        self.raw, self.url, self.where = conn, url, mask_url(url)
        self._sent: Callable[[], int] | None = None
        self._prepared: dict[str, bytes] = {}  # send(): statement → the name it is prepared under

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        self.settle()
        return self.raw.execute(_placeholders(sql), params) if params else self.raw.execute(sql)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.settle()
        with self.raw.cursor() as cursor:
            cursor.executemany(_placeholders(sql), rows)

    def send(self, sql: str, params: Sequence[str | int | None]) -> Callable[[], int]:
        """Send one statement (autocommit) without waiting for it, through libpq's asynchronous API; the function
        returned waits for its end and gives its row count (or raises its error). Any other statement on this
        connection first waits for it (settle). Values: text, integers or None, sent as text for the server to type.
        What it is for: `policy notify` hands the next message to the mail server while its 'sending' mark is
        being committed, and looks at the mark's result before the message itself goes (ledger.Ledger.send_mark)."""
        self.settle()
        pgconn = self.raw.pgconn
        try:
            name = self._prepared.get(sql)
            if name is None:  # prepared once per connection: the server parses and plans it once
                name = self._prepared[sql] = f"policy_send_{len(self._prepared)}".encode()
                with self.raw.lock:
                    prepared = pgconn.prepare(name, _numbered(sql))
                if prepared.status != pq.ExecStatus.COMMAND_OK:
                    del self._prepared[sql]
                    raise psycopg.OperationalError(prepared.get_error_message() or "cannot prepare a statement")
            pgconn.send_query_prepared(name, [None if v is None else str(v).encode() for v in params])
            while pgconn.flush():  # a connection in non-blocking mode: the rest once the socket takes it
                select.select([], [pgconn.socket], [], 30)
        except psycopg.Error:
            raise
        except Exception as exc:  # the driver's low-level errors as psycopg errors (backend.Database.errors)
            raise psycopg.OperationalError(str(exc)) from None

        def result() -> int:
            if self._sent is not result:
                return done[0]
            self._sent = None
            rows, error = 0, None
            try:
                while (res := pgconn.get_result()) is not None:
                    if res.status == pq.ExecStatus.COMMAND_OK and res.command_tuples is not None:
                        rows = res.command_tuples
                    elif res.status not in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK):
                        state = (res.error_field(pq.DiagnosticField.SQLSTATE) or b"").decode()
                        text = res.get_error_message() or "statement failed"
                        error = psycopg.errors.lookup(state)(text) if state else psycopg.OperationalError(text)
            except psycopg.Error:
                raise
            except Exception as exc:
                raise psycopg.OperationalError(str(exc)) from None
            if error is not None:
                raise error
            done[0] = rows
            return rows

        done = [0]
        self._sent = result
        return result

    def settle(self) -> None:
        """Wait for the statement send() left running, if any (its error, if it failed, is raised here)."""
        if self._sent is not None:
            self._sent()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.settle()
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
        self._sent = None
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
