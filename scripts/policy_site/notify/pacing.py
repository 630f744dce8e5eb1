"""The pace and the progress of `policy notify`: --rate as RateLimit (the connections of one process) or SharedRate
(every worker of a PostgreSQL database, slots booked in the database), and Progress (done/total, rate, ETA on
stderr; never an address)."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from .ledger import Ledger


class RateLimit:
    """At most `rate` messages per second (None: no limit), evenly spaced; one for all the connections of this
    process (thread-safe)."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.next_at = 0.0
        self.lock = threading.Lock()

    def wait_needed(self) -> float:
        return max(0.0, self.next_at - time.monotonic()) if self.interval else 0.0

    def wait(self) -> None:
        """Sleep until the next message may go, then book the slot after it."""
        if not self.interval:
            return
        with self.lock:
            now = time.monotonic()
            slot = max(now, self.next_at)
            self.next_at = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


class SharedRate:
    """At most `rate` messages per second across every worker of one PostgreSQL database, wherever they run: the
    next free send slot is a row of the database (meta 'notify_next_slot', seconds on the database server's
    clock), and a worker books a block of slots at a time (a quarter of a second's worth, at least one) with one
    statement, then sends at those times. Slots never overlap, so the sum over all workers stays within the rate;
    give every worker the same --rate."""

    KEY = "notify_next_slot"

    def __init__(self, db, rate: float) -> None:
        self.db, self.interval = db, 1.0 / rate
        self.block = max(1, min(50, int(rate / 4)))
        self.slots: list[float] = []

    def wait_needed(self) -> float:
        return max(0.0, self.slots[0] - time.monotonic()) if self.slots else 0.0

    def _book(self) -> None:
        span = self.block * self.interval
        wait = self.db.execute(
            "INSERT INTO meta (key, value) VALUES (?, (extract(epoch from clock_timestamp()) + ?)::text) "
            "ON CONFLICT (key) DO UPDATE SET value = "
            "(GREATEST(meta.value::float8, extract(epoch from clock_timestamp())) + ?)::text "
            "RETURNING value::float8 - ? - extract(epoch from clock_timestamp())",
            (self.KEY, span, span, span)).fetchone()[0]
        first = time.monotonic() + max(0.0, float(wait))
        self.slots = [first + i * self.interval for i in range(self.block)]

    def wait(self) -> None:
        if not self.slots:
            self._book()
        slot = self.slots.pop(0)
        delay = slot - time.monotonic()
        if delay > 0:
            time.sleep(delay)


def pace_for(ledger: Ledger, rate: float | None, local: RateLimit) -> RateLimit | SharedRate:
    """The pace of one connection: the database's shared slots on PostgreSQL (workers may run anywhere), this
    process's RateLimit on SQLite (one notify at a time)."""
    return SharedRate(ledger.db, rate) if rate and ledger.db.concurrent else local


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """Progress on stderr, never an address: a bar on a terminal; elsewhere a plain line every `every` messages or
    `seconds` seconds, whichever comes first. Each says done/total, the counts, the rate so far and an ETA."""

    def __init__(self, total: int, stream: TextIO = sys.stderr, every: int = 10_000, seconds: float = 10.0) -> None:
        self.total, self.stream, self.every, self.seconds = total, stream, every, seconds
        self.tty = stream.isatty()
        self.started = self.shown = time.monotonic()
        self.drawn = False
        self.last_done = 0

    def line(self, s) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = s.done / elapsed
        left = max(self.total - s.done, 0)
        eta = _duration(left / rate) if rate > 0 else "unknown"
        return (f"{s.done}/{self.total} (sent {s.sent}, failed {s.failed}, deferred {s.deferred}), "
                f"{rate:.0f}/s, ETA {eta}")

    def update(self, s, force: bool = False) -> None:
        """s has .sent, .failed, .deferred and .done."""
        now = time.monotonic()
        if self.tty:
            if not force and now - self.shown < 0.1 and s.done < self.total:
                return
            self.shown, self.drawn = now, True
            filled = int(30 * s.done / max(self.total, 1))
            self.stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.line(s)} ")
            self.stream.flush()
            return
        due = s.done // self.every > self.last_done // self.every or now - self.shown >= self.seconds
        if s.done and s.done != self.last_done and due:  # (the run's own summary line ends it)
            self.shown, self.last_done = now, s.done
            print(f"policy notify: {self.line(s)}", file=self.stream, flush=True)

    def close(self) -> None:
        if self.tty and self.drawn:
            self.stream.write("\n")
            self.stream.flush()
