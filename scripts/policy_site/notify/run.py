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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import partial

from ..errors import UserError
from ..site.model import SiteModel, VersionEntry
from ..site.translations import language_name
from ..source.project import read_layout
from ..source.translations import languages as translation_languages
from . import message as notices
from .claims import DEFAULT_LEASE
from .deliver import MAX_BACKOFF, Shared, deliver, deliver_in_lanes
from .ledger import Audience, Ledger, ledger_time, stamp
from .pacing import Progress, RateLimit, SharedRate
from .rewrites import published_texts, reconcile
from .store import SubscriberStore
from .transport import Transport

__all__ = ["MAX_BACKOFF", "NotifyOptions", "Progress", "RateLimit", "SharedRate", "Summary", "run_notify"]

ENV_BACKOFF = "POLICY_NOTIFY_BACKOFF_SECONDS"
ENV_LEASE = "POLICY_NOTIFY_LEASE_SECONDS"
ENV_SYNCHRONOUS = "POLICY_NOTIFY_SYNCHRONOUS_COMMIT"


def synchronous_commit(environ: Mapping[str, str]) -> bool:
    """POLICY_NOTIFY_SYNCHRONOUS_COMMIT: 'on' makes every PostgreSQL hand-over mark wait for the disk."""
    value = environ.get(ENV_SYNCHRONOUS, "off").strip().lower()
    if value not in ("on", "off"):
        raise UserError(f"{ENV_SYNCHRONOUS} must be on or off, not {value!r}")
    return value == "on"


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
    shared = Shared(summary, bar, RateLimit(options.rate))
    try:
        if lanes == 1:
            transport = make_transport()
            summary.transport = transport.describe()
            deliver(ledger, ledger.due(now), transport, notice, mail.sender, options, shared)
        else:
            deliver_in_lanes(store, ledger, lanes, make_transport, notice, mail.sender, options, shared, now)
    finally:
        if bar:
            bar.update(summary, force=True)
            bar.close()
    ledger.close_settled(stamp())
    return summary


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
