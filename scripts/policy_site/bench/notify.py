"""Benchmark of `policy notify`: our delivery path vs a plain smtplib loop, to a local aiosmtpd server.

Both send the same notice of one version to `count` subscribers over one SMTP connection to a null-sink
aiosmtpd server on 127.0.0.1 (in this process, so both share the interpreter with the server). Ours is
the whole notify core: announcing the version (one ledger row per subscriber), rendering each message
and recording each outcome in SQLite. The baseline sends messages rendered beforehand, untimed.

    python -m policy_site.bench_notify [COUNT]      prints the result as JSON
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

ROOT = Path(__file__).resolve().parents[3]
SECRET = "bench-unsubscribe-secret-0123456789"


class _NullSink:
    async def handle_DATA(self, server, session, envelope) -> str:
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _setup(config: Path):
    from ..site.generate import load_model
    from ..site.plugin import load_settings
    settings = load_settings(config)
    settings = settings.with_options(unsubscribe_url=settings.url("unsubscribe"))  # per-recipient links too
    model = load_model(settings)
    return settings, dataclasses.replace(model, entries=[model.latest])


def _store(path: Path, count: int):
    from ..notify.store import SubscriberStore
    store = SubscriberStore(path)
    store.import_rows((f"reader{i:06d}@example.org", f"Reader {i}", None) for i in range(count))
    return store


def _ours(settings, model, db: Path, count: int, port: int) -> float:
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
        self.port = _free_port()
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


def run(count: int = 10000, rounds: int = 3, config: Path | None = None, in_process: bool = False) -> dict:
    """Messages per second of our notify and of a plain smtplib loop, and their ratio.

    Each round times both, back to back, in alternating order; the figures are the medians over the
    rounds (the ratio is the median of the per-round ratios), which keeps a busy machine's noise out.
    """
    settings, model = _setup(config or ROOT / "mkdocs.yml")
    server = _Server(in_process)
    port = server.port
    try:
        with tempfile.TemporaryDirectory(prefix="bench-notify-") as tmp:
            messages = _messages(settings, model, Path(tmp) / "render.db", count)
            plain, ours = [], []
            for n in range(rounds):
                if n % 2:
                    ours.append(_ours(settings, model, Path(tmp) / f"ours-{n}.db", count, port))
                plain.append(_smtplib(messages, port))
                if not n % 2:
                    ours.append(_ours(settings, model, Path(tmp) / f"ours-{n}.db", count, port))
    finally:
        server.stop()
    return {"subscribers": count, "ours_per_s": round(count / median(ours), 1),
            "smtplib_per_s": round(count / median(plain), 1),
            "ratio": round(median(p / o for p, o in zip(plain, ours)), 3)}


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 10000), indent=2))
