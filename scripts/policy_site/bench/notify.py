"""Benchmark of `policy notify`: our delivery path vs a plain smtplib loop, to a local aiosmtpd server.

Both send the same notice of one version to `count` subscribers over one SMTP connection to a null-sink
aiosmtpd server on 127.0.0.1 (its own process, as a real mail server is). Ours is the whole notify core:
announcing the version (one ledger row per subscriber), rendering each message and recording each outcome,
in SQLite — and in PostgreSQL (a throw-away server, pgserver.py, with its default durability: fsync and
synchronous_commit on), by one worker in this process and by three worker processes at once, each on its own
SMTP connection, claiming rows from the same ledger (claims.py); their time runs from the first worker's start to
the last one's end, once all are connected and ready. The baseline sends messages rendered beforehand, untimed.

    python -m policy_site.bench.notify [COUNT]      prints the result as JSON
"""

from __future__ import annotations

import dataclasses
import json
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

from .local import free_port
from .pgserver import ThrowawayServer

ROOT = Path(__file__).resolve().parents[3]
SECRET = "bench-unsubscribe-secret-0123456789"


class _NullSink:
    async def handle_DATA(self, server, session, envelope) -> str:
        return "250 OK"


def _setup(config: Path):
    from ..site.generate import load_model
    from ..site.mkdocs.plugin import load_settings
    settings = load_settings(config)
    settings = settings.with_options(unsubscribe_url=settings.url("unsubscribe"))  # per-recipient links too
    model = load_model(settings)
    return settings, dataclasses.replace(model, entries=[model.latest])


SUBSCRIBED = "2000-01-01T00:00:00Z"


def _store(path: Path | str, count: int):
    from ..notify.store import SubscriberStore
    store = SubscriberStore(path)
    # subscribed before the version: a reader is sent only what was published after subscribing (notify/run.py)
    store.import_rows((f"reader{i:06d}@example.org", f"Reader {i}", SUBSCRIBED) for i in range(count))
    return store


def _ours(settings, model, db: Path | str, count: int, port: int) -> float:
    from ..notify.run import NotifyOptions, run_notify
    from ..notify.transport import SMTPConfig, SMTPTransport
    store = _store(db, count)
    config = SMTPConfig("127.0.0.1", port, "none", None, None, 30.0)
    started = time.perf_counter()
    summary = run_notify(settings, model, store, lambda: SMTPTransport(config, "bench.localhost"), NotifyOptions(),
                         environ={"POLICY_UNSUBSCRIBE_SECRET": SECRET})
    elapsed = time.perf_counter() - started
    store.close()
    if summary.sent != count:
        raise RuntimeError(f"notify sent {summary.sent} of {count}: {summary}")
    return elapsed


def _messages(settings, model, db: Path, count: int) -> list[tuple[str, str, bytes]]:
    from ..notify.message import Notice, mail_settings
    store = _store(db, count)
    mail = mail_settings(settings, {"POLICY_UNSUBSCRIBE_SECRET": SECRET})
    notice = Notice(settings, mail, model.latest, store.secret())
    out = [(mail.sender, s.email, notice.render(s.email, s.name, s.uid, notice.message_id(s.email)))
           for s in store.subscribers()]
    store.close()
    return out


def _smtplib(messages: list[tuple[str, str, bytes]], port: int) -> float:
    started = time.perf_counter()
    conn = smtplib.SMTP("127.0.0.1", port, local_hostname="bench.localhost", timeout=30)
    for sender, recipient, data in messages:
        conn.sendmail(sender, [recipient], data)
    conn.quit()
    return time.perf_counter() - started


class _Server:
    """aiosmtpd with a null-sink handler on 127.0.0.1: a separate process by default (as a real mail server
    is), or a thread of this one (then the client and the server share one interpreter lock)."""

    def __init__(self, in_process: bool) -> None:
        self.port = free_port()
        self.controller = self.process = None
        if in_process:
            from aiosmtpd.controller import Controller
            self.controller = Controller(_NullSink(), hostname="127.0.0.1", port=self.port)
            self.controller.start()
            return
        self.process = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink",
                                         "-l", f"127.0.0.1:{self.port}"], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("the aiosmtpd server did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
        if self.process:
            self.process.terminate()
            self.process.wait(10)


def _workers(config: Path, url: str, count: int, port: int, workers: int) -> float:
    """`workers` processes running the notify core against one PostgreSQL ledger; wall time of the run."""
    _store(url, count).close()
    command = [sys.executable, "-m", "policy_site.bench.notify", "--worker", url, str(port), str(config)]
    processes = [subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                 for _ in range(workers)]
    try:
        for process in processes:  # every worker loaded, connected and waiting
            assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        results = [json.loads(process.stdout.readline()) for process in processes if process.stdout]
    finally:
        for process in processes:
            process.wait(60)
    if sum(r["sent"] for r in results) != count:
        raise RuntimeError(f"{workers} workers sent {[r['sent'] for r in results]}, not {count} in all")
    return max(r["end"] for r in results) - min(r["start"] for r in results)


def _worker(url: str, port: int, config: Path) -> None:
    """One worker process of _workers: set up, say 'ready', wait for 'go', run, print its times as JSON."""
    from ..notify.run import NotifyOptions, run_notify
    from ..notify.store import SubscriberStore
    from ..notify.transport import SMTPConfig, SMTPTransport
    settings, model = _setup(config)
    store = SubscriberStore(url)
    smtp = SMTPConfig("127.0.0.1", port, "none", None, None, 30.0)
    print("ready", flush=True)
    sys.stdin.readline()
    start = time.monotonic()  # CLOCK_MONOTONIC: one clock for every process of the machine
    summary = run_notify(settings, model, store, lambda: SMTPTransport(smtp, "bench.localhost"), NotifyOptions(),
                         environ={"POLICY_UNSUBSCRIBE_SECRET": SECRET})
    print(json.dumps({"start": start, "end": time.monotonic(), "sent": summary.sent}), flush=True)
    store.close()


def run(count: int = 10000, rounds: int = 3, config: Path | None = None, in_process: bool = False,
        postgres: bool = True) -> dict:
    """Messages per second of our notify (SQLite; PostgreSQL with 1 and 3 workers) and of a plain smtplib loop.

    Each round times them back to back, in alternating order; the figures are the medians over the rounds
    (the ratio is the median of the per-round ratios), which keeps a busy machine's noise out. PostgreSQL is
    skipped, with the reason in the result, when it is not installed.
    """
    config = config or ROOT / "mkdocs.yml"
    settings, model = _setup(config)
    server = _Server(in_process)
    port = server.port
    pg: ThrowawayServer | None = None
    result: dict = {"subscribers": count}
    if postgres:
        try:
            pg = ThrowawayServer.start({"fsync": "on", "full_page_writes": "on"})
        except RuntimeError as exc:
            result["postgresql"] = f"skipped: {exc}".splitlines()[0]
    try:
        with tempfile.TemporaryDirectory(prefix="bench-notify-") as tmp:
            messages = _messages(settings, model, Path(tmp) / "render.db", count)
            plain, ours, one, three = [], [], [], []
            for n in range(rounds):
                if n % 2:
                    ours.append(_ours(settings, model, Path(tmp) / f"ours-{n}.db", count, port))
                plain.append(_smtplib(messages, port))
                if not n % 2:
                    ours.append(_ours(settings, model, Path(tmp) / f"ours-{n}.db", count, port))
                if pg is not None:
                    one.append(_ours(settings, model, pg.create_database(), count, port))
                    three.append(_workers(config, pg.create_database(), count, port, 3))
    finally:
        server.stop()
        if pg is not None:
            pg.stop()
    result.update({"ours_per_s": round(count / median(ours), 1), "smtplib_per_s": round(count / median(plain), 1),
                   "ratio": round(median(p / o for p, o in zip(plain, ours)), 3)})
    if one:
        result.update({"pg_1_worker_per_s": round(count / median(one), 1),
                       "pg_3_workers_per_s": round(count / median(three), 1)})
    return result


def table(n: dict) -> list[str]:
    """The notify figures as a small table (what `make bench` prints)."""
    base = n["smtplib_per_s"]
    rows = [("plain smtplib loop, one connection", base), ("ours, SQLite (one notify)", n["ours_per_s"])]
    if "pg_1_worker_per_s" in n:
        rows += [("ours, PostgreSQL, 1 worker", n["pg_1_worker_per_s"]),
                 ("ours, PostgreSQL, 3 workers", n["pg_3_workers_per_s"])]
    lines = [f"notify, {n['subscribers']} subscribers to a local aiosmtpd     messages/s   × smtplib"]
    lines += [f"  {label:<46} {rate:>10.0f}   {rate / base:>8.2f}" for label, rate in rows]
    if "postgresql" in n:
        lines.append(f"  PostgreSQL {n['postgresql']}")
    return lines


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        _worker(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))
    else:
        figures = run(int(sys.argv[1]) if len(sys.argv) > 1 else 10000)
        print("\n".join(table(figures)))
        print(json.dumps(figures, indent=2))
