"""The mail verbs of the `policy` command line: `policy subscribers ACTION` and `policy notify`.

`policy notify` announces every published version not announced yet (the subscribers active at that
moment get one notice each), then sends every due message through SMTP (POLICY_SMTP_URL) or into the
outbox folder, recording each outcome in the ledger as it goes. Only one notify runs at a time
(an flock beside the database). Addresses are masked in everything printed here except the output
of `subscribers list` and `subscribers export`.
"""

from __future__ import annotations

import argparse
import csv
import os
import signal
import sys
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, TextIO

from . import notices
from .delivery import (DeliveryError, Outgoing, Progress, RateLimit, Transport, TransportUnavailable,
                       open_transport, smtp_config)
from .errors import UserError
from .verbs import AddVerb, verb_adder
from .ledger import Due, Ledger, Outcome, notify_lock, stamp
from .subscribers import (InvalidAddress, SubscriberStore, database_path, mask, mask_text, normalise_address,
                          now_text, parse_csv)

ENV_BACKOFF = "POLICY_NOTIFY_BACKOFF_SECONDS"
MAX_BACKOFF = 86_400.0


def _settings(args: argparse.Namespace):
    from .settings import load_settings
    return load_settings(Path(args.config))


def _store(args: argparse.Namespace, create: bool = True) -> SubscriberStore | None:
    path = database_path(_settings(args))
    return SubscriberStore(path) if create or path.exists() else None


def _say(message: str) -> None:
    print(f"policy subscribers: {message}")


# --- policy subscribers -------------------------------------------------------------------------------------

def cmd_add(args: argparse.Namespace) -> int:
    store = _store(args)
    try:
        subscriber, outcome = store.add(args.email, args.name)
    except InvalidAddress as exc:
        raise UserError(str(exc)) from None
    _say(f"{outcome} {mask(subscriber.email)}" if outcome != "unchanged" else
         f"{mask(subscriber.email)} is already subscribed")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    store = _store(args)
    if args.token:
        secret = os.environ.get(notices.ENV_SECRET)
        if not secret:
            raise UserError(f"checking an unsubscribe token needs {notices.ENV_SECRET}")
        subscriber = notices.check_token(secret.encode(), args.token, store.by_uid)
        if subscriber is None:
            raise UserError("this unsubscribe token is not valid (or its address was erased)")
    elif args.email:
        try:
            subscriber = store.get(args.email)
        except InvalidAddress as exc:
            raise UserError(str(exc)) from None
        if subscriber is None or (subscriber.status != "active" and not args.erase):
            raise UserError(f"{mask(normalise_address(args.email))} is not subscribed")
    else:
        raise UserError("give the address to remove, or --token TOKEN")
    if args.erase:
        store.erase(subscriber)
        _say(f"erased {mask(subscriber.email)} and its delivery records")
    elif subscriber.status == "active":
        cancelled = store.remove(subscriber)
        note = f"; {cancelled} undelivered notice{'s' if cancelled != 1 else ''} cancelled" if cancelled else ""
        _say(f"removed {mask(subscriber.email)}{note}")
    else:
        _say(f"{mask(subscriber.email)} was already removed")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    store = _store(args, create=False)
    rows = store.subscribers(args.all) if store else []
    if not rows:
        print("no subscribers")
        return 0
    width = max(len(s.email) for s in rows)
    for s in rows:
        status = f"  ({s.status} {s.removed_at})" if s.status != "active" else ""
        print(f"{s.email:<{width}}  {s.created_at}  {s.name}{status}".rstrip())
    return 0


def cmd_count(args: argparse.Namespace) -> int:
    store = _store(args, create=False)
    counts = store.counts() if store else {"active": 0, "removed": 0}
    print(f"{counts['active']} active, {counts['removed']} removed" if args.all else counts["active"])
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    try:
        data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        raise UserError(f"{args.file}: {exc.strerror}") from None
    rows, problems = parse_csv(data, args.file)
    if problems:
        count = len(problems)
        raise UserError("\n".join([*problems, f"{count} bad row{'s' if count != 1 else ''}; nothing was imported."]))
    result = _store(args).import_rows(rows)
    skipped = f", {result.skipped_removed} previously removed (not re-subscribed)" if result.skipped_removed else ""
    _say(f"imported {args.file}: {result.added} added, {result.updated} updated, "
         f"{result.unchanged} already subscribed{skipped}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    store = _store(args, create=False)
    rows = store.subscribers(args.all) if store else []
    out: TextIO
    if args.output:
        fd = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        out = open(fd, "w", encoding="utf-8", newline="")
    else:
        out = sys.stdout
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["email", "name", "subscribed"] + (["status", "removed"] if args.all else []))
    for s in rows:
        writer.writerow([s.email, s.name, s.created_at] + ([s.status, s.removed_at or ""] if args.all else []))
    if out is not sys.stdout:
        out.close()
        print(f"policy subscribers: exported {len(rows)} to {args.output}", file=sys.stderr)
    return 0


# --- policy notify ------------------------------------------------------------------------------------------

@dataclass
class NotifyOptions:
    dry_run: bool = False
    rate: float | None = None
    max_attempts: int = 5
    backoff: float = 300.0


@dataclass
class Summary:
    announced: list[tuple[str, int, str | None]] = field(default_factory=list)
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    planned: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    stopped: str | None = None
    transport: str = ""

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.deferred


def run_notify(settings, model, store: SubscriberStore, make_transport: Callable[[], Transport],
               options: NotifyOptions, environ: Mapping[str, str] = os.environ,
               progress: Callable[[int], Progress] | None = None) -> Summary:
    """Announce new versions and deliver every due message; the programmatic core of `policy notify`."""
    mail = notices.mail_settings(settings, environ)
    key = store.secret()
    ledger = Ledger(store.conn)
    summary = Summary()
    built: dict[str, notices.Notice] = {}
    entries = {e.version: e for e in model.entries}

    def notice(version: str) -> notices.Notice | None:
        if version not in built and version in entries:
            built[version] = notices.Notice(settings, mail, entries[version], key)
        return built.get(version)

    announced = ledger.announced()
    first_run = not announced
    now = stamp()
    for entry in model.entries:
        if entry.version in announced:
            continue
        baseline = first_run and entry.status == "superseded"
        note = "superseded before notices started" if baseline else None
        if options.dry_run:
            targets = [] if baseline else store.subscribers()
            n = notice(entry.version)
            for s in targets:
                n.render(s.email, s.name, s.uid, n.message_id(s.email))
            summary.planned[entry.version] = summary.planned.get(entry.version, 0) + len(targets)
            summary.announced.append((entry.version, len(targets), note))
            continue
        version = entry.version
        count = ledger.announce(version, lambda k: notices.message_id(key, version, k, mail.list_id), now, note,
                                recipients=not baseline)
        summary.announced.append((version, count, note))
    if options.dry_run:
        for row in ledger.due(now):
            n = notice(row.version)
            if n is not None:
                n.render(row.email, row.name, row.uid, row.message_id)
                summary.planned[row.version] = summary.planned.get(row.version, 0) + 1
        return summary
    ledger.cancel_inactive()
    ledger.close_settled(now)
    total = ledger.count_due(now)
    if total == 0:
        return summary
    transport = make_transport()
    summary.transport = transport.describe()
    bar = progress(total) if progress else None
    limiter = RateLimit(options.rate)
    sender = mail.sender
    finished: Outcome | None = None  # outcome of the last message, committed with the next 'sending' mark
    in_flight: Due | None = None
    try:
        for row in ledger.due(now):
            n = notice(row.version)
            if n is None:  # announced, but no longer in the history (rewritten?): keep it for later
                continue
            data = n.render(row.email, row.name, row.uid, row.message_id)
            if limiter.interval:
                if limiter.wait_needed():  # record the last outcome now rather than after the pause
                    ledger.record(finished, None, stamp())
                    finished = None
                limiter.wait()

            def prepare(row: Due = row) -> bool:
                """Commit the last outcome and this row's 'sending' mark (while the server answers MAIL)."""
                nonlocal finished, in_flight
                claimed = ledger.record(finished, row, stamp())
                finished, in_flight = None, row if claimed else None
                return claimed  # False: cancelled since the batch was read; not sent

            try:
                if not transport.send(Outgoing(row.version, sender, row.email, row.message_id, data), prepare):
                    continue
                finished = Outcome(row, "sent")
                summary.sent += 1
            except DeliveryError as exc:
                error = str(exc)
                if exc.permanent or row.attempts + 1 >= options.max_attempts:
                    finished = Outcome(row, "failed", error)
                    summary.failed += 1
                    summary.failures.append(f"{row.version}  {mask(row.email)}  {mask_text(error)}")
                else:
                    delay = min(options.backoff * 2 ** row.attempts, MAX_BACKOFF)
                    finished = Outcome(row, "deferred", error, stamp(delay))
                    summary.deferred += 1
            in_flight = None
            if bar:
                bar.update(summary)
    except (TransportUnavailable, UserError) as exc:
        if finished is not None:
            ledger.record(finished, None, stamp())
            finished = None
        if in_flight is not None:  # it never reached the server: back to pending, no attempt counted
            ledger.record(Outcome(in_flight, "requeue", str(exc)), None, stamp())
        if isinstance(exc, UserError):
            raise
        summary.stopped = mask_text(str(exc))
    finally:
        if finished is not None:  # the outcome is known even if we are being interrupted
            ledger.record(finished, None, stamp())
        ledger.close_settled(stamp())
        transport.close()
        if bar:
            bar.update(summary, force=True)
            bar.close()
    return summary


def _backoff(environ: Mapping[str, str]) -> float:
    value = environ.get(ENV_BACKOFF, "300")
    try:
        seconds = float(value)
        if seconds < 0:
            raise ValueError
    except ValueError:
        raise UserError(f"{ENV_BACKOFF} must be a number of seconds (0 or more), not {value!r}") from None
    return seconds


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def cmd_notify(args: argparse.Namespace) -> int:
    from .generate import load_model
    settings = _settings(args)
    db_path = database_path(settings)
    if args.status:
        store = SubscriberStore(db_path) if db_path.exists() else None
        print("\n".join(Ledger(store.conn).report_lines()) if store else "no version announced yet")
        return 0
    options = NotifyOptions(args.dry_run, args.rate, args.max_attempts, _backoff(os.environ))
    notices.mail_settings(settings)  # configuration mistakes first, before anything is written
    smtp_config(os.environ)
    model = load_model(settings)
    if args.dry_run and not db_path.exists():
        print(f"policy notify: dry run — no subscribers database at {db_path}; nothing would be sent")
        return 0
    outbox = settings.path("outbox_dir")
    signal.signal(signal.SIGTERM, _interrupt)  # like Ctrl-C: record what is known, close politely, exit 130
    with notify_lock(db_path) if not args.dry_run else nullcontext():
        store = SubscriberStore(db_path)
        summary = run_notify(settings, model, store, lambda: open_transport(outbox), options,
                             progress=lambda total: Progress(total))
    for version, count, note in summary.announced:
        if note:
            print(f"policy notify: version {version} {note}; not announced")
        elif not args.dry_run:
            print(f"policy notify: version {version} announced to {count} subscriber{'s' if count != 1 else ''}")
    if args.dry_run:
        total = sum(summary.planned.values())
        detail = ", ".join(f"{v}: {c}" for v, c in summary.planned.items())
        print(f"policy notify: dry run — {total} message{'s' if total != 1 else ''} rendered and would be sent"
              f"{f' ({detail})' if detail else ''}; nothing sent, nothing recorded")
        return 0
    extra = [f"  … and {len(summary.failures) - 20} more"] if len(summary.failures) > 20 else []
    if summary.failures:
        print("\n".join([f"  failed   {line}" for line in summary.failures[:20]] + extra), file=sys.stderr)
    waiting, next_at = Ledger(store.conn).waiting(now_text())
    if not summary.done and not summary.stopped:
        later = f"; {waiting} deferred, next attempt after {next_at}" if waiting else ""
        print(f"policy notify: nothing to send{later}")
        return 0
    via = f" via {summary.transport}" if summary.transport else ""
    print(f"policy notify: {summary.sent} sent, {summary.failed} failed, {summary.deferred} deferred{via}"
          + (f"; {waiting} waiting, next attempt after {next_at}" if waiting else ""))
    if summary.stopped:
        print(f"policy notify: stopped: {summary.stopped}; the rest is sent by the next run", file=sys.stderr)
        return 75  # EX_TEMPFAIL: try again later
    return 0


def cmd_subscribers(args: argparse.Namespace) -> int:
    args.subscribers_parser.print_help()
    return 2


def _positive(kind: type) -> Callable[[str], float]:
    def parse(text: str):
        value = kind(text)  # argparse reports a ValueError as "invalid float value: …"
        if value <= 0:
            raise argparse.ArgumentTypeError("must be more than 0")
        return value
    parse.__name__ = kind.__name__
    return parse


def add_verbs(verb: AddVerb) -> None:
    p = verb("subscribers", cmd_subscribers, "Manage the subscribers of the email notices (kept in SQLite, "
                                             "outside the site; POLICY_SUBSCRIBERS_DB or subscribers_db).")
    p.set_defaults(subscribers_parser=p)
    action = verb_adder(p.add_subparsers(dest="action", metavar="ACTION"))

    a = action("add", cmd_add, "Subscribe an address (re-subscribes a removed one, updates the name).")
    a.add_argument("email", help="the address, like name@example.org")
    a.add_argument("--name", help="the name shown in the To header")
    a = action("remove", cmd_remove, "Unsubscribe an address; its undelivered notices are cancelled.")
    a.add_argument("email", nargs="?", help="the address")
    a.add_argument("--token", help="the token of an unsubscribe link instead of the address "
                                   f"(checked with {notices.ENV_SECRET})")
    a.add_argument("--erase", action="store_true", help="delete the address and its delivery records entirely")
    a = action("list", cmd_list, "List the subscribers: address, date subscribed, name.")
    a.add_argument("--all", action="store_true", help="include removed subscribers")
    a = action("count", cmd_count, "Print the number of active subscribers.")
    a.add_argument("--all", action="store_true", help="also count removed subscribers")
    a = action("import", cmd_import, "Import a CSV file (columns email[,name], header optional). Any bad row: "
                                     "every bad row is listed with its line number and nothing is imported.")
    a.add_argument("file", help="the CSV file, UTF-8; - for standard input")
    a = action("export", cmd_export, "Write the subscribers as CSV (email,name,subscribed), readable by import.")
    a.add_argument("--all", action="store_true", help="include removed subscribers, with status columns")
    a.add_argument("--output", "-o", help="write to this file (created private) instead of standard output")
    p = verb("notify", cmd_notify, "Email every published version not announced yet to the active subscribers, "
                                   "and retry deferred messages (SMTP from POLICY_SMTP_URL, else the outbox).")
    p.add_argument("--dry-run", action="store_true", help="render and count the messages; send and record nothing")
    p.add_argument("--rate", type=_positive(float), metavar="PER_SECOND", help="send at most this many per second")
    p.add_argument("--max-attempts", type=_positive(int), default=5, metavar="N",
                   help="give up on a recipient after N temporary (4xx) refusals (default: %(default)s)")
    p.add_argument("--status", action="store_true", help="show what the ledger recorded per version; send nothing")
