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
import signal
import smtplib
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from statistics import median
from typing import TYPE_CHECKING

from .local import free_port
from .pgserver import ThrowawayServer
from .smtpsink import CountingSink

if TYPE_CHECKING:
    from ..notify.transport import Outgoing, Prepare

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


def _ours(settings, model, db: Path | str, count: int, port: int, connections: int = 1) -> float:
    from ..notify.run import NotifyOptions, run_notify
    from ..notify.smtp_settings import SMTPConfig
    from ..notify.transport import SMTPTransport
    store = _store(db, count)
    config = SMTPConfig("127.0.0.1", port, "none", None, None, 30.0)
    started = time.perf_counter()
    summary = run_notify(settings, model, store, lambda: SMTPTransport(config, "bench.localhost"),
                         NotifyOptions(connections=connections), environ={"POLICY_UNSUBSCRIBE_SECRET": SECRET})
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
    """The mail server of the benchmark: the counting aiosmtpd server (smtpsink.py) in its own process, as a real
    mail server is; or aiosmtpd's own Sink handler in a thread of this one (in_process)."""

    def __init__(self, in_process: bool, folder: Path) -> None:
        self.port = free_port()
        self.controller = None
        self.sink: CountingSink | None = None
        if in_process:
            from aiosmtpd.controller import Controller
            self.controller = Controller(_NullSink(), hostname="127.0.0.1", port=self.port)
            self.controller.start()
            return
        self.sink = CountingSink(self.port, folder).start()

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
        if self.sink:
            self.sink.stop()


def _workers(config: Path, url: str, count: int, port: int, workers: int, connections: int = 1) -> float:
    """`workers` processes running the notify core against one PostgreSQL ledger; wall time of the run."""
    _store(url, count).close()
    command = [sys.executable, "-m", "policy_site.bench.notify", "--worker", url, str(port), str(config),
               str(connections)]
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


class _NullTransport:
    """A mail server that takes every message at once: what is left is the ledger's work (claims, marks,
    outcomes), to find how many messages a second the database sustains."""

    reply: str | None = "250 OK"

    def describe(self) -> str:
        return "null"

    def send(self, message: Outgoing, prepare: Prepare | None = None) -> bool:
        verdict = prepare() if prepare is not None else True
        return bool(verdict() if callable(verdict) else verdict)

    def close(self) -> None:
        pass


def ceiling(count: int, workers: Sequence[int] = (1, 2, 4, 8), config: Path | None = None,
            pg_server: ThrowawayServer | None = None) -> dict:
    """Messages a second the PostgreSQL ledger sustains with no mail server in the way (a null transport), for
    each number of worker processes: each message is one claim in 50 (a batch, a synchronous commit) and one
    statement of its own (its hand-over mark with the previous outcome, an asynchronous commit). pg_server: a running
    one to use (the tests' own; left running), else a throw-away one with fsync on, started and stopped here."""
    config = config or ROOT / "mkdocs.yml"
    pg = pg_server or ThrowawayServer.start({"fsync": "on", "full_page_writes": "on"})
    try:
        return {"subscribers": count, "per_s": {n: round(count / _workers(config, pg.create_database(), count, 0, n))
                                                for n in workers}}
    finally:
        if pg_server is None:
            pg.stop()


def _worker(url: str, port: int, config: Path, connections: int) -> None:
    """One worker process of _workers: set up, say 'ready', wait for 'go', run, print its times as JSON."""
    from ..notify.run import NotifyOptions, run_notify
    from ..notify.smtp_settings import SMTPConfig
    from ..notify.store import SubscriberStore
    from ..notify.transport import SMTPTransport, Transport
    settings, model = _setup(config)
    store = SubscriberStore(url)
    smtp = SMTPConfig("127.0.0.1", port, "none", None, None, 30.0)
    def transport() -> Transport:
        return _NullTransport() if port == 0 else SMTPTransport(smtp, "bench.localhost")
    print("ready", flush=True)
    sys.stdin.readline()
    start = time.monotonic()  # CLOCK_MONOTONIC: one clock for every process of the machine
    summary = run_notify(settings, model, store, transport, NotifyOptions(connections=connections),
                         environ={"POLICY_UNSUBSCRIBE_SECRET": SECRET})
    print(json.dumps({"start": start, "end": time.monotonic(), "sent": summary.sent}), flush=True)
    store.close()


CASES = (  # label, backend, workers, connections per worker
    ("ours, SQLite (one notify), 1 connection", "sqlite", 1, 1),
    ("ours, SQLite (one notify), 2 connections", "sqlite", 1, 2),
    ("ours, PostgreSQL, 1 worker", "postgresql", 1, 1),
    ("ours, PostgreSQL, 2 workers", "postgresql", 2, 1),
    ("ours, PostgreSQL, 3 workers", "postgresql", 3, 1),
    ("ours, PostgreSQL, 1 worker × 2 connections", "postgresql", 1, 2),
    ("ours, PostgreSQL, 2 workers × 2 connections", "postgresql", 2, 2),
)


def run(count: int = 10000, rounds: int = 3, config: Path | None = None, in_process: bool = False,
        postgres: bool = True, pg_server: ThrowawayServer | None = None) -> dict:
    """Messages per second of a plain smtplib loop (one connection) and of our notify in each of CASES.

    Each round times them back to back (the baseline first or last, alternately); the figures are the medians
    over the rounds, each ratio the median of the per-round ratios, which keeps a busy machine's noise out.
    PostgreSQL is skipped, with the reason in the result, when it is not installed. pg_server: a running PostgreSQL
    to use (the tests' own; left running), else a throw-away one with fsync on, started and stopped here.
    """
    config = config or ROOT / "mkdocs.yml"
    settings, model = _setup(config)
    pg: ThrowawayServer | None = pg_server
    result: dict = {"subscribers": count}
    if postgres and pg_server is None:
        try:
            pg = ThrowawayServer.start({"fsync": "on", "full_page_writes": "on"})
        except RuntimeError as exc:
            result["postgresql"] = f"skipped: {exc}".splitlines()[0]
    times: dict[str, list[float]] = {"smtplib": [], **{label: [] for label, *_ in CASES}}
    with tempfile.TemporaryDirectory(prefix="bench-notify-") as tmp:
        server = _Server(in_process, Path(tmp))
        port = server.port
        try:
            messages = _messages(settings, model, Path(tmp) / "render.db", count)
            for n in range(rounds):
                if not n % 2:
                    times["smtplib"].append(_smtplib(messages, port))
                for label, backend, workers, connections in CASES:
                    if backend == "sqlite":
                        elapsed = _ours(settings, model, Path(tmp) / f"ours-{n}-{connections}.db", count, port,
                                        connections)
                    elif pg is None:
                        continue
                    elif workers == 1:
                        elapsed = _ours(settings, model, pg.create_database(), count, port, connections)
                    else:
                        elapsed = _workers(config, pg.create_database(), count, port, workers, connections)
                    times[label].append(elapsed)
                if n % 2:
                    times["smtplib"].append(_smtplib(messages, port))
        finally:
            server.stop()
            if pg is not None and pg is not pg_server:
                pg.stop()
    plain = times["smtplib"]
    result["smtplib_per_s"] = round(count / median(plain), 1)
    result["cases"] = {label: {"per_s": round(count / median(t), 1),
                               "ratio": round(median(p / o for p, o in zip(plain, t)), 3)}
                       for label, t in times.items() if label != "smtplib" and t}
    sqlite = result["cases"][CASES[0][0]]
    result.update({"ours_per_s": sqlite["per_s"], "ratio": sqlite["ratio"]})
    one = result["cases"].get(CASES[2][0])
    if one:
        result["pg_1_worker_ratio"] = one["ratio"]
    return result


def memory(count: int, folder: Path, backend: str = "sqlite", send: int = 20_000,
           config: Path | None = None) -> dict:
    """Peak RSS (VmHWM) of one `policy notify`-like worker process with `count` subscribers: it announces the version
    to all of them (a delivery row each) and sends to the counting server until `send` are sent (or all, if
    fewer), then is stopped with SIGTERM. The figure is read from /proc just before the stop."""
    config = config or ROOT / "mkdocs.yml"
    pg: ThrowawayServer | None = None
    sink = CountingSink(free_port(), folder).start()
    try:
        if backend == "postgresql":
            pg = ThrowawayServer.start({"fsync": "on", "full_page_writes": "on"})
            location: str = pg.create_database()
        else:
            location = str(folder / f"memory-{count}.db")
        started = time.perf_counter()
        _store(location, count).close()
        seeded = time.perf_counter() - started
        command = [sys.executable, "-m", "policy_site.bench.notify", "--memory", location, str(sink.port), str(config)]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert process.stderr is not None and process.stdout is not None
        hwm, sent, rate, begun = 0.0, 0, 0.0, time.perf_counter()
        for line in process.stderr:  # the progress lines: 'policy notify: 20000/1000000 (sent …), 850/s, ETA …'
            if line.startswith("policy notify: ") and "/s, ETA" in line:
                sent = int(line.split(": ", 1)[1].split("/", 1)[0])
                rate = float(line.rsplit("/s, ETA", 1)[0].rsplit(", ", 1)[1])
                hwm = max(hwm, _vm_hwm(process.pid))
                if sent >= min(send, count):
                    break
        hwm = max(hwm, _vm_hwm(process.pid))
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=120)
        elapsed = time.perf_counter() - begun
    finally:
        sink.stop()
        if pg is not None:
            pg.stop()
    return {"subscribers": count, "backend": backend, "peak_rss_mb": round(hwm / 1024, 1), "sent": sent,
            "rate_per_s": rate, "seed_s": round(seeded, 1), "run_s": round(elapsed, 1),
            "hours_for_all": round(count / rate / 3600, 2) if rate else None}


def _vm_hwm(pid: int) -> float:
    """The peak resident set of a process so far, in KiB (0 when it has ended)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1])
    except OSError:
        pass
    return 0.0


def _memory_worker(location: str, port: int, config: Path) -> None:
    """The process `memory` measures: the notify core with a progress line every 5,000 messages (or every
twentieth of them) on stderr."""
    from ..notify.run import NotifyOptions, Progress, run_notify
    from ..notify.smtp_settings import SMTPConfig
    from ..notify.store import SubscriberStore
    from ..notify.transport import SMTPTransport
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    settings, model = _setup(config)
    store = SubscriberStore(location)
    smtp = SMTPConfig("127.0.0.1", port, "none", None, None, 30.0)
    run_notify(settings, model, store, lambda: SMTPTransport(smtp, "bench.localhost"), NotifyOptions(),
               environ={"POLICY_UNSUBSCRIBE_SECRET": SECRET},
               progress=lambda total: Progress(total, sys.stderr, every=min(5000, max(1, total // 20)), seconds=3600))


TARGET_RATIO, TARGET_RSS_MB = 0.95, 200


def table(n: dict, memories: Sequence[dict] = ()) -> list[str]:
    """The notify figures as a small table with the targets met or not (what `make bench` prints)."""
    base = n["smtplib_per_s"]
    lines = [f"notify, {n['subscribers']} subscribers to a local counting aiosmtpd   messages/s   × smtplib",
             f"  {'plain smtplib loop, one connection':<50} {base:>10.0f}   {1:>8.2f}"]
    for label, figures in n["cases"].items():
        lines.append(f"  {label:<50} {figures['per_s']:>10.0f}   {figures['ratio']:>8.2f}")
    if "postgresql" in n:
        lines.append(f"  PostgreSQL {n['postgresql']}")
    if "ceiling" in n:
        curve = ", ".join(f"{w} worker{'s' if int(w) > 1 else ''} {r}/s" for w, r in n["ceiling"]["per_s"].items())
        lines.append(f"  the ledger alone (null mail server), PostgreSQL: {curve}")
    said = {True: "met", False: "NOT met"}
    checks = [f"SQLite 1 connection ≥ {TARGET_RATIO}× smtplib {said[n['ratio'] >= TARGET_RATIO]}"]
    if "pg_1_worker_ratio" in n:
        checks.append(f"PostgreSQL 1 worker ≥ {TARGET_RATIO}× smtplib {said[n['pg_1_worker_ratio'] >= TARGET_RATIO]}")
    for m in memories:
        lines.append(f"  peak RSS, {m['subscribers']:>9} subscribers ({m['backend']}, announced to all, {m['sent']} "
                     f"sent at {m['rate_per_s']:.0f}/s): {m['peak_rss_mb']:.0f} MB")
        if m["subscribers"] >= 1_000_000:
            checks.append(f"{m['backend']} ≤ {TARGET_RSS_MB} MB at {m['subscribers']} "
                          f"{said[m['peak_rss_mb'] <= TARGET_RSS_MB]}")
    lines.append("  targets: " + ", ".join(checks))
    return lines


def measure_all(count: int, memory_counts: str = "10000,1000000") -> dict:
    """What `make bench` runs and prints: the curve (run), the database's ceiling (ceiling) and the peak RSS at
    each of memory_counts subscribers on SQLite and PostgreSQL (memory), with the targets met or not."""
    figures = run(count)
    figures["ceiling"] = ceiling(count)
    memories = []
    with tempfile.TemporaryDirectory(prefix="bench-notify-memory-") as tmp:
        for subscribers in [int(c) for c in memory_counts.split(",") if c]:
            for backend in ("sqlite", "postgresql"):
                memories.append(memory(subscribers, Path(tmp), backend))
                print(f"notify memory: {memories[-1]}", flush=True)
    figures["memory"] = memories
    print("\n".join(table(figures, memories)), flush=True)
    return figures


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        _worker(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]), int(sys.argv[5]))
    elif sys.argv[1:2] == ["--memory"]:
        _memory_worker(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))
    else:
        figures = measure_all(int(sys.argv[1]) if len(sys.argv) > 1 else 10000,
                              sys.argv[2] if len(sys.argv) > 2 else "10000,1000000")
        print(json.dumps(figures, indent=2))
