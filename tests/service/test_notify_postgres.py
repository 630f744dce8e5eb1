"""PostgreSQL only: several notify workers at once (one killed), `subscribers migrate`, schema migrations, and
connection failures — against a real server (tests/support/pg.py) and a real SMTP server (aiosmtpd, test_notify)."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from policy_site.bench.local import free_port
from policy_site.bench.pgserver import ThrowawayServer
from policy_site.notify import pg_schema
from policy_site.notify.campaign import NOT_RECORDED, read_campaign
from policy_site.notify.claims import CLAIM_BATCH
from policy_site.notify.migrate import TABLES
from policy_site.notify.postgres import connect
from tests.support.notify import Recorder, force_push_other_1_1, publish_1_1, subscribe
from tests.support.pg import query
from tests.support.project import ROOT, SUBSCRIBED, Project

pytestmark = pytest.mark.long

MESSAGE_ID = re.compile(rb"^Message-ID: (\S+)\r?$", re.M | re.I)


def _env(url: str, smtp: Recorder, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"POLICY_DATABASE_URL": url, "POLICY_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}",
            "POLICY_SUBSCRIBERS_DB": str(tmp_path / "not-used.sqlite3"), "POLICY_NOTIFY_BACKOFF_SECONDS": "0",
            **extra}


def _worker(project: Project, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "policy_site", "notify"], cwd=project.path, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "scripts"), **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _message_ids(smtp: Recorder) -> list[tuple[str, bytes]]:
    return [(m[1][0].lower(), MESSAGE_ID.search(m[2]).group(1)) for m in smtp.messages]  # type: ignore[union-attr]


# --- several workers ----------------------------------------------------------------------------------------

def test_three_workers_one_killed_send_every_notice_once(git_project: Project, smtp: Recorder, pg_url: str,
                                                         tmp_path: Path) -> None:
    count, lease = 2000, 3.0  # enough that the victim is killed mid-run, holding claims
    env = _env(pg_url, smtp, tmp_path, POLICY_NOTIFY_LEASE_SECONDS=str(lease))
    addresses = [f"reader{i:05d}@example.org" for i in range(count)]
    subscribe(git_project, env, dict.fromkeys(addresses, ""))
    started = time.monotonic()
    workers = [_worker(git_project, env) for _ in range(3)]
    victim = workers[0]
    mine = f"%:{victim.pid}:%"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and victim.poll() is None:  # mid-run: holding claims, a fifth delivered
        if len(smtp.messages) >= count // 5 and query(pg_url, "SELECT COUNT(*) FROM deliveries WHERE status = "
                                                              "'sending' AND claimed_by LIKE %s", (mine,))[0][0]:
            break
        time.sleep(0.01)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    killed_at = time.monotonic()
    assert victim.returncode == -signal.SIGKILL
    orphans = query(pg_url, "SELECT COUNT(*) FROM deliveries WHERE status = 'sending' AND claimed_by LIKE %s",
                    (mine,))[0][0]
    outputs = []
    for worker in workers[1:]:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0 and "Traceback" not in err, err
        outputs.append(out)
    time.sleep(max(0.0, lease + 0.2 - (time.monotonic() - killed_at)))  # the dead worker's lease runs out
    last = git_project.run("notify", env=env, check=True)
    elapsed = time.monotonic() - started

    received = Counter(smtp.to())
    assert set(received) == set(addresses)  # everybody got the notice …
    repeated = [a for a, n in received.items() if n > 1]
    assert len(repeated) <= 1 and all(received[a] == 2 for a in repeated)  # … once, but for one killed worker
    for address in repeated:  # the repeat is the message that was in flight, with the same Message-ID
        assert len({mid for to, mid in _message_ids(smtp) if to == address}) == 1
        attempts, error = query(pg_url, "SELECT d.attempts, d.last_error FROM deliveries d JOIN subscribers s "
                                        "ON s.id = d.subscriber_id WHERE s.email = %s", (address,))[0]
        assert attempts == 2 and error.startswith("outcome unknown: the worker that was sending it stopped")
    assert query(pg_url, "SELECT status, COUNT(*) FROM deliveries GROUP BY status") == [("sent", count)]
    assert query(pg_url, "SELECT version, recipients FROM announcements") == [("1.0", count)]  # announced once
    assert sum(f"announced to {count} subscribers" in out for out in outputs + [last.stdout]) <= 1
    assert "nothing to send" in git_project.run("notify", env=env, check=True).stdout
    print(f"\n3 workers, one killed holding {orphans} claims: {len(smtp.messages)} messages for {count} "
          f"subscribers, {len(repeated)} duplicate(s), {elapsed:.1f} s")


def test_announcing_is_idempotent_across_workers(pg_url: str) -> None:
    from policy_site.notify.ledger import Ledger
    from policy_site.notify.store import SubscriberStore
    first, second = SubscriberStore(pg_url), SubscriberStore(pg_url)
    first.add("ann@example.org")
    one, two = Ledger(first.conn), Ledger(second.conn)
    assert one.announce_once("1.0", lambda key: "<m@x>", "2026-01-01T00:00:00Z") == 1
    assert two.announce_once("1.0", lambda key: "<m@x>", "2026-01-01T00:00:00Z") is None  # the loser: no rows
    assert two.announce("1.0", lambda key: "<m@x>", "2026-01-01T00:00:00Z") == 0
    rows = list(one.due("2030-01-01T00:00:00Z"))  # claimed by the first worker …
    assert len(rows) == 1 and list(two.due("2030-01-01T00:00:00Z")) == []  # … so the second finds nothing
    one.release_claims("2026-01-01T00:00:01Z")
    assert [r.email for r in two.due("2030-01-01T00:00:00Z")] == ["ann@example.org"]
    first.close()
    second.close()


# --- subscribers migrate ------------------------------------------------------------------------------------

def _table(db, table: str) -> list[tuple]:
    columns = TABLES[table]
    present = db.columns(table)
    names = [c for c in columns if c in present]
    return sorted(tuple(r) for r in db.execute(f"SELECT {', '.join(names)} FROM {table}").fetchall())


def test_migrate_moves_every_table_and_notify_goes_on_from_postgresql(git_project: Project, smtp: Recorder,
                                                                      pg_url: str, tmp_path: Path) -> None:
    from policy_site.notify.database import open_sqlite_read_only
    sqlite_env = {"POLICY_SUBSCRIBERS_DB": str(tmp_path / "subs.sqlite3"), "POLICY_NOTIFY_BACKOFF_SECONDS": "0",
                  "POLICY_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}"}
    database = Path(sqlite_env["POLICY_SUBSCRIBERS_DB"])
    subscribe(git_project, sqlite_env, {"ann@example.org": "Ann", "zoe@example.org": "Zoë Ærøskøbing",
                                        "bob@example.org": "Bob", "eve@example.net": "Eve", "sam@example.org": ""})
    git_project.run("notify", env=sqlite_env, check=True)
    publish_1_1(git_project)
    smtp.refuse = {"zoe@example.org": "451 4.7.1 later", "eve@example.net": "451 4.7.1 later"}
    git_project.run("notify", env=sqlite_env, check=True)
    force_push_other_1_1(git_project)
    git_project.run("notify", "--accept-rewrite", "1.1", env=sqlite_env, check=True)  # a row in rewrites
    git_project.run("subscribers", "remove", "eve@example.net", env=sqlite_env, check=True)  # cancelled
    with sqlite3.connect(database) as conn:  # what the subscription service will write, and a notify that died
        conn.execute("UPDATE subscribers SET documents = ',privacy,', changes = 'all', language = 'de', "
                     "confirmed_at = '2026-11-01T10:00:00Z' WHERE email = 'ann@example.org'")
        conn.execute("INSERT INTO pending_subscriptions (email, email_key, name, documents, changes, language, "
                     "token_hash, created_at, expires_at) VALUES ('New@example.org', 'new@example.org', 'New', '*', "
                     "'material', NULL, ?, '2026-11-02T00:00:00Z', '2026-11-09T00:00:00Z')",
                     (hashlib.sha256(b"token").hexdigest(),))
        conn.execute("UPDATE deliveries SET status = 'sending' WHERE version = '1.1' AND subscriber_id = "
                     "(SELECT id FROM subscribers WHERE email = 'sam@example.org')")
    before = database.read_bytes()
    sent_before = len(smtp.messages)

    result = git_project.run("subscribers", "migrate", "--to", pg_url, env=sqlite_env)
    assert result.returncode == 0, result.stderr
    password = pg_url.split(":")[2].split("@")[0]
    assert password not in result.stdout + result.stderr
    assert re.search(r"migrated .*subs\.sqlite3 to postgresql://policy:\*\*\*@127\.0\.0\.1:\d+/db_\d+: 1 meta value "
                     r"\(the Message-ID key included\), 5 subscribers \(4 active, 1 removed\), 1 pending subscription,"
                     r" 2 announcements, 10 deliveries \(1 cancelled, 1 pending, 1 sending, 7 sent\), 1 accepted "
                     r"rewrite; every count verified\. The SQLite file is unchanged", result.stdout), result.stdout
    assert database.read_bytes() == before  # the file is left as it was

    source, target = open_sqlite_read_only(database), connect(pg_url)
    assert source is not None
    for table in TABLES:  # every row of every table, times included, in the same text form
        assert _table(target, table) == _table(source, table), table
    source.close()
    target.close()

    env = _env(pg_url, smtp, tmp_path)
    smtp.refuse = {}
    moved = git_project.run("notify", env=env, check=True)
    assert "1 claimed message of a worker that stopped returned to the queue" in moved.stdout
    assert "2 sent, 0 failed, 0 deferred" in moved.stdout  # the deferred one, and the one that was in flight
    after = _message_ids(smtp)[sent_before:]
    assert sorted(to for to, _ in after) == ["sam@example.org", "zoe@example.org"]
    first_sam = [mid for to, mid in _message_ids(smtp)[:sent_before] if to == "sam@example.org"]
    assert [mid for to, mid in after if to == "sam@example.org"] == first_sam[-1:]  # same Message-ID
    assert "nothing to send" in git_project.run("notify", env=env, check=True).stdout  # nothing twice
    # the replies came along (compared above with the file's) and PostgreSQL's workers record theirs
    assert query(pg_url, "SELECT DISTINCT server_reply FROM deliveries WHERE status = 'sent'") == [("250 OK",)]
    assert git_project.run("subscribers", "count", "--all", env=env, check=True).stdout.strip() == \
        "4 active, 1 removed"

    again = git_project.run("subscribers", "migrate", "--to", pg_url, env=sqlite_env)
    assert again.returncode == 1 and "Traceback" not in again.stderr and password not in again.stderr
    assert again.stderr.strip().count("\n") == 0
    assert "the PostgreSQL database is not empty (5 subscribers, 1 pending subscription, 2 announcements, " \
           "10 deliveries, 1 accepted rewrite)" in again.stderr and "nothing was copied" in again.stderr


def test_migrate_refuses_what_is_not_a_postgresql_url_or_has_no_source(project: Project, pg_url: str,
                                                                       tmp_path: Path) -> None:
    env = {"POLICY_SUBSCRIBERS_DB": str(tmp_path / "missing.sqlite3")}
    bad = project.run("subscribers", "migrate", "--to", str(tmp_path / "x.db"), env=env)
    assert bad.returncode == 1 and "--to must be a PostgreSQL URL" in bad.stderr
    missing = project.run("subscribers", "migrate", "--to", pg_url, env=env)
    assert missing.returncode == 1 and f"there is no subscribers database at {tmp_path / 'missing.sqlite3'}" \
        in missing.stderr
    assert not (tmp_path / "missing.sqlite3").exists()


# --- schema migrations --------------------------------------------------------------------------------------

def test_an_older_schema_is_upgraded_in_place(project: Project, pg_url: str, tmp_path: Path) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert pg_schema.upgrade(conn, target=1) == 0
        conn.execute("INSERT INTO subscribers (uid, email, email_key, created_at) VALUES "
                     "('0123456789abcdef', 'Ann@example.org', 'ann@example.org', '2026-01-01T00:00:00Z')")
        conn.execute("INSERT INTO announcements (version, announced_at, recipients) VALUES "
                     "('1.0', '2026-01-02T00:00:00Z', 1)")
        conn.execute("INSERT INTO deliveries (version, subscriber_id, status, attempts, message_id, updated_at, "
                     "sent_at) SELECT '1.0', id, 'sent', 1, '<m@x>', '2026-01-02T00:00:01Z', '2026-01-02T00:00:01Z' "
                     "FROM subscribers")
    columns = "SELECT column_name FROM information_schema.columns WHERE table_name = 'deliveries'"
    assert not {"claimed_by", "server_reply"} & {r[0] for r in query(pg_url, columns)}
    env = {"POLICY_DATABASE_URL": pg_url, "POLICY_SUBSCRIBERS_DB": str(tmp_path / "x.sqlite3")}
    listing = project.run("subscribers", "list", env=env, check=True).stdout
    assert listing.splitlines()[1].split() == ["Ann@example.org", "2026-01-01T00:00:00Z", "*", "material", "-", "-"]
    assert query(pg_url, "SELECT version FROM schema_version ORDER BY version") == [(1,), (2,), (3,), (4,)]
    assert {"claimed_by", "server_reply"} <= {r[0] for r in query(pg_url, columns)}
    campaign = read_campaign(pg_url, "1.0")  # a message sent before the upgrade: its reply was not recorded
    assert campaign is not None and [(d["status"], d["reply"], d["reply_note"]) for d in campaign.deliveries] == \
        [("sent", None, NOT_RECORDED)]


def test_two_processes_creating_the_schema_at_once_are_harmless(project: Project, postgres_server: ThrowawayServer,
                                                                 tmp_path: Path) -> None:
    for _ in range(3):
        url = postgres_server.create_database()
        env = {**os.environ, "PYTHONPATH": str(ROOT / "scripts"), "POLICY_DATABASE_URL": url,
               "POLICY_SUBSCRIBERS_DB": str(tmp_path / "x.sqlite3")}
        processes = [subprocess.Popen([sys.executable, "-m", "policy_site", "subscribers", "add",
                                       f"r{i}@example.org"], cwd=project.path, env=env, text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i in range(3)]
        for process in processes:
            out, err = process.communicate(timeout=60)
            assert process.returncode == 0, err
        assert query(url, "SELECT version FROM schema_version ORDER BY version") == [(1,), (2,), (3,), (4,)]
        assert query(url, "SELECT COUNT(*) FROM subscribers") == [(3,)]
        assert query(url, "SELECT COUNT(*) FROM meta") == [(1,)]


def test_a_newer_schema_is_refused_with_one_line(git_project: Project, pg_url: str, tmp_path: Path) -> None:
    env = {"POLICY_DATABASE_URL": pg_url, "POLICY_SUBSCRIBERS_DB": str(tmp_path / "x.sqlite3")}
    git_project.run("subscribers", "add", "--subscribed", SUBSCRIBED, "ann@example.org", env=env, check=True)
    query(pg_url, "INSERT INTO schema_version (version, description) VALUES (99, 'from the future')")
    password = pg_url.split(":")[2].split("@")[0]
    for args in (("subscribers", "list"), ("notify",), ("notify", "--status"), ("build",)):
        result = git_project.run(*args, env=env)
        line = result.stderr.strip()
        assert result.returncode == 1 and "\n" not in line and "Traceback" not in line, result.stderr
        assert line.startswith(f"policy {args[0]}: error:") and password not in line
        assert "made by a newer version of this tool (schema 99, this one knows 4) (postgresql://policy:***@" in line


# --- failures -----------------------------------------------------------------------------------------------

def _one_line(result: subprocess.CompletedProcess, status: int, *fragments: str) -> str:
    line = result.stderr.strip()
    assert result.returncode == status, (result.returncode, result.stdout, result.stderr)
    assert "\n" not in line and "Traceback" not in line, result.stderr
    for fragment in fragments:
        assert fragment in line, line
    return line


def test_connection_failures_are_one_line_and_never_show_the_password(git_project: Project,
                                                                      postgres_server: ThrowawayServer,
                                                                      tmp_path: Path) -> None:
    postgres_server.create_database()  # db_N exists; the wrong password is refused before the name matters
    base = {"POLICY_SUBSCRIBERS_DB": str(tmp_path / "x.sqlite3")}
    secret = "Sup3r-Secret-pw"
    cases = {
        "wrong password": (postgres_server.url("postgres", password=secret), 1,
                           "cannot log in to the subscribers database: the server refused the user name or password",
                           "check the user and password in POLICY_DATABASE_URL"),
        "no such database": (postgres_server.url("no_such_db"), 1,
                             "the subscribers database does not exist on the server",
                             "create it (createdb, or CREATE DATABASE)"),
        "server down": (f"postgresql://policy:{secret}@127.0.0.1:{free_port()}/db", 75,
                        "cannot reach the database server: Connection refused",
                        "check that it is running and the host and port in POLICY_DATABASE_URL"),
    }
    for name, (url, notify_status, *fragments) in cases.items():
        env = {**base, "POLICY_DATABASE_URL": url}
        password = url.split(":")[2].split("@")[0]
        masked = url.replace(f":{password}@", ":***@")
        for args, status in ((("notify",), notify_status), (("subscribers", "add", "--subscribed", SUBSCRIBED, "ann@example.org"), 1),
                             (("subscribers", "list"), 1), (("build",), 1)):
            line = _one_line(git_project.run(*args, env=env), status, *fragments, f"({masked})")
            assert password not in line, (name, line)
    assert not (tmp_path / "x.sqlite3").exists()  # POLICY_DATABASE_URL wins: the SQLite file is never made


@pytest.fixture(scope="module")
def crashing_server():
    """A server of its own with fsync on, which the tests crash and start again (one for both of them)."""
    server = ThrowawayServer.start({"fsync": "on"})
    yield server
    server.stop()


@pytest.mark.parametrize("synchronous", ["on", "off"])
def test_a_server_that_goes_away_mid_run_is_exit_75_and_loses_nothing(git_project: Project, smtp: Recorder,
                                                                       tmp_path: Path, synchronous: str,
                                                                       crashing_server: ThrowawayServer) -> None:
    """A crash of the database server itself: with every mark waiting for the disk, at most the message in flight
    is sent again; with the default asynchronous marks, at most those since the last claim (claims.py, Commits)."""
    server = crashing_server  # a new database on it for each run
    url = server.create_database()
    env = _env(url, smtp, tmp_path, POLICY_NOTIFY_LEASE_SECONDS="2", POLICY_NOTIFY_SYNCHRONOUS_COMMIT=synchronous)
    subscribe(git_project, env, {f"r{i}@example.org": "" for i in range(30)})
    smtp.delay = 0.1
    worker = _worker(git_project, env)
    deadline = time.monotonic() + 30
    while len(smtp.messages) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    server._run(str(server.bin_dir / "pg_ctl"), "-D", str(server.data), "-m", "immediate", "-w", "stop")
    out, err = worker.communicate(timeout=60)
    assert worker.returncode == 75, (out, err)
    assert err.strip().count("\n") == 0 and "policy notify: error: cannot reach the database server" in err
    assert server.password not in out + err
    server._run(str(server.bin_dir / "pg_ctl"), "-D", str(server.data), "-l", str(server.root / "server.log"),
                "-w", "start")
    smtp.delay = 0
    time.sleep(2.1)  # the claims of the worker that stopped expire
    git_project.run("notify", env=env, check=True)
    received = Counter(smtp.to())
    assert set(received) == {f"r{i}@example.org" for i in range(30)}
    bound = 1 if synchronous == "on" else CLAIM_BATCH + 1
    assert sum(n - 1 for n in received.values()) <= bound  # the one in flight (or since the claim), at most
    assert query(url, "SELECT DISTINCT status FROM deliveries") == [("sent",)]
