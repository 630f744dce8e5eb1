"""`policy notify` itself: check what was announced, announce new versions, deliver every due message, record.

Announced versions are first checked against the history (rewrites.py: a rewritten text stops the run, a
vanished version's notices are cancelled). Every published version not announced yet is then announced (the
subscribers active at that moment get one notice each) with the hash and commit of its text; every due message
is sent through the transport, paced by RateLimit, with the ledger's commit of one outcome overlapping the
mail server's work on the next message.

Each message is tried at most once per run. A temporary failure (4xx, a connection lost before the message
was handed over, or lost after it was sent: outcome unknown) counts an attempt and is retried by a later run
after the backoff (base × 2^(attempts − 1), at most a day); at --max-attempts it is failed. The run goes on
with the next recipients; it stops early only when the mail server cannot be reached at all
(Summary.stopped), or on a UserError (a full disk, an unwritable outbox …), after recording what is known.

On PostgreSQL several runs may work at once, on one machine or several: each claims its rows (claims.py), a
version is announced by whichever run gets there first, and a run that stops returns the claims it has left.

Scale. Nothing here holds every subscriber: a version is announced in batches (ledger.py), due rows are read or
claimed in batches, a run keeps counts (and at most FAILURES_KEPT failure lines), and Progress prints done/total,
the rate and an ETA on stderr, never an address. --connections N sends over N SMTP connections at once: N threads,
each with its own database connection and its own in-flight message, taking rows from one feed (one reader —
on PostgreSQL one claimer, this worker); a kill re-sends at most one message per connection. --rate holds for the
whole run: RateLimit is shared by the connections of a process, and on PostgreSQL SharedRate books send slots in
the database, so it holds across every worker, wherever they run.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import TextIO

from ..errors import UserError
from ..site.model import SiteModel, VersionEntry
from ..site.translations import language_name
from ..source.project import read_layout
from ..source.translations import languages as translation_languages
from . import message as notices
from .addresses import mask, mask_text
from .claims import CLAIM_BATCH, DEFAULT_LEASE
from .ledger import Audience, Due, Ledger, Outcome, ledger_time, stamp
from .rewrites import published_texts, reconcile
from .store import SubscriberStore
from .transport import DeliveryError, OutcomeUnknown, Outgoing, Transport, TransportUnavailable

ENV_BACKOFF = "POLICY_NOTIFY_BACKOFF_SECONDS"
ENV_LEASE = "POLICY_NOTIFY_LEASE_SECONDS"
ENV_SYNCHRONOUS = "POLICY_NOTIFY_SYNCHRONOUS_COMMIT"


def synchronous_commit(environ: Mapping[str, str]) -> bool:
    """POLICY_NOTIFY_SYNCHRONOUS_COMMIT: 'on' makes every PostgreSQL hand-over mark wait for the disk."""
    value = environ.get(ENV_SYNCHRONOUS, "off").strip().lower()
    if value not in ("on", "off"):
        raise UserError(f"{ENV_SYNCHRONOUS} must be on or off, not {value!r}")
    return value == "on"
MAX_BACKOFF = 86_400.0


def _message_id(key: bytes, version: str, domain: str, address: str) -> str:
    return notices.message_id(key, version, address, domain)


@dataclass
class NotifyOptions:
    dry_run: bool = False
    rate: float | None = None
    max_attempts: int = 5
    backoff: float = 300.0
    accept_rewrite: tuple[str, ...] = ()
    lease: float = DEFAULT_LEASE  # PostgreSQL: how long a claim holds before other workers may take it
    connections: int = 1  # SMTP connections at once (threads of this worker, one feed of rows)
    durable: bool = False  # PostgreSQL: every hand-over mark waits for the disk (claims.py, "Commits")


@dataclass
class Summary:
    announced: list[tuple[str, int, str | None]] = field(default_factory=list)
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    unknown: int = 0  # of the deferred: lost after the message was sent (the server may have it)
    notes: list[str] = field(default_factory=list)
    planned: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    stopped: str | None = None
    transport: str = ""

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.deferred


REMINDER = "+reminder"  # the ledger's name of a reminder: '2.0+reminder'


def _remind(settings, model: SiteModel, entry: VersionEntry, today) -> bool:
    """A material upcoming version within reminder_days of taking effect gets a reminder notice."""
    days = settings.days("reminder_days", model.document)
    return bool(days) and entry.kind == "material" and entry.previous is not None and \
        (entry.policy.effective - today).days in range(1, days + 1)


def _news_since(model: SiteModel, entry: VersionEntry, today: date) -> str | None:
    """Who a version is news for: those subscribed when it was published (ledger time) — or, for the last upcoming
    version, everybody, so that a reader who subscribes during its notice period hears of the text to come before
    it takes effect (once: not of every upcoming version before it)."""
    published = entry.published.published
    if published is None or (entry.policy.effective > today and entry is model.entries[-1]):
        return None
    return ledger_time(published)


def announcement_key(model: SiteModel, entry: VersionEntry) -> str:
    """How the ledger names a version: '1.1' — or, for a document of a library, 'terms/1.1' (a document that was
    the project's only one keeps the bare numbers it was announced with)."""
    return entry.version if not model.document or model.formerly_single else f"{model.document}/{entry.version}"


def run_notify(settings, models: SiteModel | list[SiteModel], store: SubscriberStore,
               make_transport: Callable[[], Transport], options: NotifyOptions,
               environ: Mapping[str, str] = os.environ, progress: Callable[[int], Progress] | None = None) -> Summary:
    """Announce new versions (of every document) and deliver every due message; the core of `policy notify`."""
    models = [models] if isinstance(models, SiteModel) else models
    mail = notices.mail_settings(settings, environ)
    key = store.secret()
    ledger = Ledger(store.conn, lease=options.lease)
    summary = Summary()
    built: dict[tuple[str, str | None], notices.Notice] = {}
    entries = {announcement_key(m, e): (m, e) for m in models for e in m.entries}
    today = settings.build_time.date()
    reminders = {f"{name}{REMINDER}": (m, e) for name, (m, e) in entries.items() if _remind(settings, m, e, today)}
    layout = read_layout(settings.policy_dir)
    translated = {m.document: set(translation_languages(layout.folder(settings.policy_dir, m.document)))
                  for m in models}
    offered = (*(("documents",) if layout.is_library else ()), "kinds of change",
               *(("language",) if any(translated.values()) else ()))

    def notice(version: str, language: str | None = None) -> notices.Notice | None:
        """The notice of a version, rendered once per language that has a translation of its document."""
        if version not in entries and version not in reminders:
            return None
        model, entry = entries.get(version) or reminders[version]
        language = language if language in translated.get(model.document, ()) else None
        if (version, language) not in built:
            translation = (language_name(language, english=True), settings.url(f"{language}/{model.prefix}")) \
                if language else None
            built[(version, language)] = notices.Notice(settings, mail, entry, key, current=model.current,
                                                        announced_as=version, reminder=version in reminders,
                                                        translation=translation, offered=offered)
        return built[(version, language)]

    now = stamp()
    texts = published_texts(models)
    texts.update({n: texts[n.removesuffix(REMINDER)] for n in ledger.announced()  # a reminder: its version's text
                  if n.endswith(REMINDER) and n.removesuffix(REMINDER) in texts})
    summary.notes = reconcile(ledger, texts, options.accept_rewrite, now, options.dry_run)
    announced = ledger.announced()
    first_run = not announced
    for name, (model, entry) in entries.items():
        if name in announced:
            continue
        baseline = first_run and entry.status == "superseded"
        note = "superseded before notices started" if baseline else \
            ("is editorial (its text reads as before)" if entry.reads_as_before else "is an editorial change") \
            if entry.editorial else None
        baseline = baseline or entry.editorial
        audience = Audience(model.document, entry.kind, _news_since(model, entry, today))
        if options.dry_run:
            assert notice(name) is not None  # rendered (its templates checked) even when nobody would get it
            planned = 0
            for s in () if baseline else store.audience(audience):  # streamed: never every address at once
                n = notice(name, s.preferences.language)
                assert n is not None
                n.render(s.email, s.name, s.uid, n.message_id(s.email))
                planned += 1
            summary.planned[name] = summary.planned.get(name, 0) + planned
            summary.announced.append((name, planned, note))
            continue
        text = texts[name]
        count = ledger.announce_once(name, partial(_message_id, key, name, mail.list_id), now, note,
                                     recipients=not baseline, text=(text.content_hash, text.commit),
                                     audience=audience)
        if count is not None:  # None: another worker announced it meanwhile
            summary.announced.append((name, count, note))
    for name, (model, entry) in reminders.items():
        if name in announced or options.dry_run:
            continue
        text = texts[name.removesuffix(REMINDER)]
        count = ledger.announce_once(name, partial(_message_id, key, name, mail.list_id), now, "a reminder",
                                     text=(text.content_hash, text.commit),
                                     audience=Audience(model.document, entry.kind))
        if count is not None:
            summary.announced.append((name, count, None))
    if options.dry_run:
        for row in ledger.due(now, claim=False):
            n = notice(row.version, row.language)
            if n is not None:
                n.render(row.email, row.name, row.uid, row.message_id)
                summary.planned[row.version] = summary.planned.get(row.version, 0) + 1
        return summary
    ledger.cancel_inactive()
    expired = ledger.expire_claims(now)
    if expired:
        summary.notes.append(f"{expired} claimed message{'s' if expired != 1 else ''} of a worker that stopped "
                             f"returned to the queue (re-sent with the same Message-ID where it may have been sent)")
    ledger.close_settled(now)
    total = ledger.count_due(now)
    if total == 0:
        return summary
    lanes = max(1, options.connections)
    bar = progress(total) if progress else None
    shared = _Shared(summary, bar, RateLimit(options.rate))
    try:
        if lanes == 1:
            transport = make_transport()
            summary.transport = transport.describe()
            _deliver(ledger, ledger.due(now), transport, notice, mail.sender, options, shared)
        else:
            _deliver_in_lanes(store, ledger, lanes, make_transport, notice, mail.sender, options, shared, now)
    finally:
        if bar:
            bar.update(summary, force=True)
            bar.close()
    ledger.close_settled(stamp())
    return summary


@dataclass
class _Shared:
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


def _deliver(ledger: Ledger, rows: Iterable[Due], transport: Transport,
             notice: Callable[..., notices.Notice | None], sender: str, options: NotifyOptions, shared: _Shared,
             release: bool = True) -> str | None:
    """Send the due rows over one connection, recording each outcome through this ledger; the reason it stopped
    early when the mail server could not be reached (None: it went through). Raises UserError, and whatever
    interrupted it, after recording what is known. release: return the worker's claims left at the end (False:
    the caller does, once every connection of the worker is done)."""
    pace = _pace(ledger, options.rate, shared.limiter)
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


def _deliver_in_lanes(store: SubscriberStore, ledger: Ledger, lanes: int, make_transport: Callable[[], Transport],
                      notice: Callable[..., notices.Notice | None], sender: str, options: NotifyOptions,
                      shared: _Shared, now: str) -> None:
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
            stopped = _deliver(Ledger(lane_store.conn, worker=worker, lease=options.lease), taken(), transport,
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


def backoff_seconds(environ: Mapping[str, str]) -> float:
    return _seconds(environ, ENV_BACKOFF, 300.0, 0.0)


def lease_seconds(environ: Mapping[str, str]) -> float:
    return _seconds(environ, ENV_LEASE, DEFAULT_LEASE, 1.0)


def _seconds(environ: Mapping[str, str], name: str, default: float, least: float) -> float:
    value = environ.get(name, str(default))
    try:
        seconds = float(value)
        if not seconds >= least:
            raise ValueError
    except ValueError:
        raise UserError(f"{name} must be a number of seconds ({least:g} or more), not {value!r}") from None
    return seconds


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


def _pace(ledger: Ledger, rate: float | None, local: RateLimit) -> RateLimit | SharedRate:
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
