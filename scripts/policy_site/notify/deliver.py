"""The sending loop of `policy notify`: every due row handed to the mail server over one connection, or over N at
once (--connections: threads taking rows from one feed), each outcome recorded (run.py says what happens to each
kind of outcome; claims.py and ledger.py how a row is marked and recorded)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import UserError
from . import message as notices
from .addresses import mask, mask_text
from .claims import CLAIM_BATCH
from .ledger import Due, Ledger, Outcome, stamp
from .pacing import Progress, RateLimit, pace_for
from .store import SubscriberStore
from .transport import DeliveryError, OutcomeUnknown, Outgoing, Transport, TransportUnavailable

if TYPE_CHECKING:
    from .run import NotifyOptions, Summary

MAX_BACKOFF = 86_400.0


@dataclass
class Shared:
    """What the connections of one run share: the summary, the progress display and the pace (under one lock)."""

    summary: Summary
    bar: Progress | None
    limiter: RateLimit
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)  # set: every connection stops after its message

    def count(self, result: str, failure: str | None = None, unknown: bool = False) -> None:
        with self.lock:
            s = self.summary
            if result == "sent":
                s.sent += 1
            elif result == "failed":
                s.failed += 1
                if len(s.failures) < FAILURES_KEPT:
                    s.failures.append(failure or "")
            else:
                s.deferred += 1
            s.unknown += unknown
            if self.bar:
                self.bar.update(s)


FAILURES_KEPT = 100  # failures listed by a run (the rest is counted): a campaign to a million keeps no list of all


class _Interrupted(Exception):
    """Another connection of this run stopped it (interrupted, or an error): this one stops after its message."""


def deliver(ledger: Ledger, rows: Iterable[Due], transport: Transport,
             notice: Callable[..., notices.Notice | None], sender: str, options: NotifyOptions, shared: Shared,
             release: bool = True) -> str | None:
    """Send the due rows over one connection, recording each outcome through this ledger; the reason it stopped
    early when the mail server could not be reached (None: it went through). Raises UserError, and whatever
    interrupted it, after recording what is known. release: return the worker's claims left at the end (False:
    the caller does, once every connection of the worker is done)."""
    pace = pace_for(ledger, options.rate, shared.limiter)
    finished: Outcome | None = None  # outcome of the last message, committed with the next 'sending' mark
    in_flight: Due | None = None
    confirm: Callable[[], bool] | None = None  # the in-flight row's mark, sent but not waited for yet
    stopped: str | None = None
    ledger.claims.begin(options.durable)
    try:
        for row in rows:
            if shared.stop.is_set():
                raise _Interrupted
            n = notice(row.version, row.language)
            if n is None:  # not in the history: cancelled by reconcile already; never sent
                continue
            data = n.render(row.email, row.name, row.uid, row.message_id)
            if pace.interval:
                if pace.wait_needed():  # record the last outcome now rather than after the pause
                    ledger.record(finished, None, stamp())
                    finished = None
                pace.wait()

            def prepare(row: Due = row) -> Callable[[], bool]:
                """Commit the last outcome and this row's 'sending' mark (while the server answers MAIL); the
                function returned says, once the commit is done, whether the row may be sent."""
                nonlocal finished, in_flight, confirm
                verdict = ledger.record_later(finished, row, stamp())
                finished, in_flight = None, row
                answer: list[bool] = []

                def confirmed() -> bool:
                    nonlocal in_flight, confirm
                    if not answer:
                        answer.append(verdict())
                        confirm = None
                        if not answer[0]:  # cancelled since the batch was read, or no longer this worker's claim
                            in_flight = None
                    return answer[0]
                confirm = confirmed
                return confirmed

            try:
                if not transport.send(Outgoing(row.version, sender, row.email, row.message_id, data), prepare):
                    continue
                finished = Outcome(row, "sent", reply=transport.reply)
                shared.count("sent")
            except DeliveryError as exc:  # OutcomeUnknown included: an attempt is counted, no re-send this run
                error = mask_text(str(exc))
                unknown = isinstance(exc, OutcomeUnknown)
                if exc.permanent or row.attempts + 1 >= options.max_attempts:
                    finished = Outcome(row, "failed", error)
                    shared.count("failed", f"{row.version}  {mask(row.email)}  {error}", unknown)
                else:
                    delay = min(options.backoff * 2 ** row.attempts, MAX_BACKOFF)
                    finished = Outcome(row, "deferred", error, stamp(delay))
                    shared.count("deferred", unknown=unknown)
            in_flight = None
    except (TransportUnavailable, UserError) as exc:  # the server is unreachable, or a full disk, a bad login …
        quiet = isinstance(exc, UserError)  # the error that stops the run is the one to report
        _record(ledger, finished, quiet)
        finished = None
        if confirm is not None:  # whether the row in hand is this worker's to put back
            _confirm(ledger, confirm)
        if in_flight is not None:  # it never reached the server: back to pending, no attempt counted
            _record(ledger, Outcome(in_flight, "requeue", mask_text(str(exc))), quiet)
        if release:
            _release(ledger)
        if quiet:
            raise
        stopped = mask_text(str(exc))
    except BaseException:  # interrupted (the in-flight row is re-sent by the next run), or a database error
        _record(ledger, finished, quiet=True)
        finished = None
        if release:
            _release(ledger)
        raise
    finally:
        transport.close()
    _record(ledger, finished)
    if release:
        _release(ledger)
    if stopped:
        shared.summary.stopped = shared.summary.stopped or stopped
    return stopped


def deliver_in_lanes(store: SubscriberStore, ledger: Ledger, lanes: int, make_transport: Callable[[], Transport],
                      notice: Callable[..., notices.Notice | None], sender: str, options: NotifyOptions,
                      shared: Shared, now: str) -> None:
    """--connections N: N connections to the mail server at once, each a thread with its own database connection,
    taking the next due row from one feed (a thread reading — on PostgreSQL claiming, for this worker — the rows in
    batches): a connection that stops leaves the rest to the others. At most one message per connection is in flight,
    so a kill of the worker re-sends at most N. The pace is shared; the claims left are returned at the end."""
    feed: queue.Queue = queue.Queue(maxsize=2 * CLAIM_BATCH)
    errors: list[BaseException] = []
    stops: list[str] = []
    worker = getattr(ledger.claims, "worker", None)
    alive = [lanes]  # connections still taking rows

    def feeder() -> None:
        feed_store = None
        try:
            feed_store = SubscriberStore(store.location)
            for row in Ledger(feed_store.conn, worker=worker, lease=options.lease).due(now):
                while not shared.stop.is_set():
                    try:
                        feed.put(row, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if shared.stop.is_set():
                    break
        except BaseException as exc:
            errors.append(exc)
            shared.stop.set()
        finally:
            if feed_store is not None:
                feed_store.close()
            for _ in range(lanes):  # each connection's end of the feed
                while alive[0]:
                    try:
                        feed.put(None, timeout=0.2)
                        break
                    except queue.Full:
                        continue

    def taken() -> Iterator[Due]:
        while (row := feed.get()) is not None:
            yield row

    def lane(index: int) -> None:
        lane_store = None
        try:
            lane_store = SubscriberStore(store.location)
            transport = make_transport()
            if index == 0:
                shared.summary.transport = f"{transport.describe()} ({lanes} connections)"
            stopped = deliver(Ledger(lane_store.conn, worker=worker, lease=options.lease), taken(), transport,
                               notice, sender, options, shared, release=False)
            if stopped:
                stops.append(stopped)
        except _Interrupted:
            pass
        except BaseException as exc:  # the first error stops the other connections too
            errors.append(exc)
            shared.stop.set()
        finally:
            if lane_store is not None:
                lane_store.close()
            with shared.lock:
                alive[0] -= 1
                if not alive[0]:  # the last connection is done: nobody takes from the feed any more
                    shared.stop.set()

    threads = [threading.Thread(target=feeder, name="notify-feed")]
    threads += [threading.Thread(target=lane, args=(i,), name=f"notify-connection-{i}") for i in range(lanes)]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    except BaseException:  # interrupted (SIGTERM, Ctrl-C): each connection records what it knows, then stops
        shared.stop.set()
        for thread in threads:
            thread.join()
        raise
    finally:
        _release(ledger)
    if errors:
        raise errors[0]
    if stops and len(stops) < lanes:
        shared.summary.notes.append(f"{len(stops)} of {lanes} connections stopped ({stops[0]}); the others went on")


def _record(ledger: Ledger, outcome: Outcome | None, quiet: bool = False) -> None:
    """Commit a known outcome; quiet while another error stops the run (a database that fails again is that
    error's consequence, and a row left 'sending' is re-sent by the next run)."""
    if outcome is None:
        return
    try:
        ledger.record(outcome, None, stamp())
    except ledger.db.errors:
        if not quiet:
            raise


def _confirm(ledger: Ledger, confirm: Callable[[], bool]) -> None:
    """Wait for the in-flight row's mark while another error stops the run (a database error here: the lease
    returns the row)."""
    try:
        confirm()
    except ledger.db.errors:
        pass


def _release(ledger: Ledger) -> None:
    """Return this worker's claims left unsent (PostgreSQL); when the database fails too, the lease does it."""
    try:
        ledger.release_claims(stamp())
    except ledger.db.errors:
        pass
