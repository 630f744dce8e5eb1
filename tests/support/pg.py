"""A real PostgreSQL server for the tests: one throw-away cluster per session (policy_site.bench.pgserver).

`initdb` in a temp dir, run as the user nobody when the tests run as root, listening on a free port of 127.0.0.1
with password logins; stopped and removed at the end of the session. Each test gets a new, empty database
(`pg_url`). PostgreSQL missing: the tests are skipped with the reason — except in CI (CI set) or with
POLICY_REQUIRE_POSTGRES=1, where they fail instead (`make test` installs Debian's package when it is missing).

A pytest plugin (tests/conftest.py): its fixtures serve every test module without an import; the one server
is stopped at the end of the session.
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest

from policy_site.bench.pgserver import ThrowawayServer

BACKENDS = ["sqlite", "postgresql"]
_SHARED: dict = {"users": 0}


def postgres_required() -> bool:
    ci = os.environ.get("CI", "").strip().lower()
    return ci not in ("", "0", "false", "no") or os.environ.get("POLICY_REQUIRE_POSTGRES", "").strip() == "1"


@pytest.fixture(scope="session")
def postgres_server():
    """The session's PostgreSQL server (ThrowawayServer)."""
    if "server" not in _SHARED:
        try:
            _SHARED["server"] = ThrowawayServer.start()
        except RuntimeError as exc:
            if postgres_required():
                pytest.fail(f"PostgreSQL tests required (CI or POLICY_REQUIRE_POSTGRES=1) but {exc}", pytrace=False)
            pytest.skip(f"PostgreSQL tests skipped: {exc} (make test installs it)")
    _SHARED["users"] += 1
    try:
        yield _SHARED["server"]
    finally:
        _SHARED["users"] -= 1
        if _SHARED["users"] == 0:
            _SHARED.pop("server").stop()


@pytest.fixture
def pg_url(postgres_server: ThrowawayServer) -> str:
    """A new, empty database on the session's server: its postgresql:// URL, password included."""
    return postgres_server.create_database()


def query(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    """Run one statement on url (autocommit); its rows, or [] when it returns none."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        cursor = conn.execute(sql, params or None)
        return cursor.fetchall() if cursor.description else []


def location(env: dict[str, str]) -> Path | str:
    """The store an environment selects: POLICY_DATABASE_URL, else the SQLite file."""
    return env.get("POLICY_DATABASE_URL") or Path(env["POLICY_SUBSCRIBERS_DB"])


def rows(env: dict[str, str], sql: str, params: tuple = ()) -> list[tuple]:
    """One query on whichever store env selects (written with ? placeholders)."""
    if "POLICY_DATABASE_URL" in env:
        return query(env["POLICY_DATABASE_URL"], sql.replace("?", "%s"), params)
    import sqlite3
    with sqlite3.connect(env["POLICY_SUBSCRIBERS_DB"]) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture(params=BACKENDS)
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """A new, empty store: a SQLite file, then a PostgreSQL database (the test runs once with each)."""
    if request.param == "postgresql":
        return request.getfixturevalue("pg_url")
    return tmp_path / "subs.sqlite3"
