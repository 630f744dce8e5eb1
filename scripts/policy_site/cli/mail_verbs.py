"""The mail verbs of the `policy` command line: `policy subscribers ACTION` and `policy notify`.

The store is the SQLite file, or PostgreSQL when POLICY_DATABASE_URL is set (state.database_location). On SQLite
only one notify runs at a time (an flock beside the database); on PostgreSQL several may. Addresses are masked
in everything printed here except the output of `subscribers list` and `subscribers export`, and a database
URL's password everywhere. A database server that cannot be reached makes notify exit 75 (try again later).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from ..errors import UserError
from ..notify import message as notices
from ..notify.addresses import (
    InvalidAddress,
    csv_cell,
    mask,
    normalise_address,
    normalise_name,
    parse_csv,
    subscribed_time,
)
from ..notify.backend import DatabaseUnreachable, Location, is_url, mask_url
from ..notify.database import notify_lock
from ..notify.files import write_private
from ..notify.ledger import Ledger
from ..notify.run import (
    NotifyOptions,
    Progress,
    Summary,
    backoff_seconds,
    lease_seconds,
    run_notify,
    synchronous_commit,
)
from ..notify.smtp_settings import smtp_config
from ..notify.store import Preferences, SubscriberStore, now_text
from ..notify.transport import open_transport
from ..state import database_location, database_path, outbox_path


def _settings(args: argparse.Namespace):
    from ..site.mkdocs.plugin import load_settings
    return load_settings(Path(args.config))


@contextmanager
def _opened(args: argparse.Namespace, location: Location | None = None) -> Iterator[SubscriberStore]:
    """The subscriber store (created if need be), closed afterwards. A database failure while it is in use
    (a full disk, a damaged file, a server gone) becomes one line."""
    store = SubscriberStore(location or database_location(_settings(args)))
    try:
        yield store
    except store.db.errors as exc:
        raise store.db.failure(exc) from None
    finally:
        try:
            store.close()
        except store.db.errors:
            pass


def _exists(location: Location) -> bool:
    return is_url(location) or Path(location).exists() or Path(location).is_symlink()


@contextmanager
def _existing(args: argparse.Namespace, location: Location | None = None) -> Iterator[SubscriberStore | None]:
    """Like _opened, but None when there is no SQLite file: reading verbs never create one."""
    location = location or database_location(_settings(args))
    if not _exists(location):
        yield None
        return
    with _opened(args, location) as store:
        yield store


def _say(message: str) -> None:
    print(f"policy subscribers: {message}")


# --- policy subscribers -------------------------------------------------------------------------------------

def _chosen(args: argparse.Namespace, current: Preferences | None) -> Preferences | None:
    """The preferences --documents, --changes and --language give (the others kept), or None when none is given."""
    if args.documents is None and args.changes is None and args.language is None:
        return None
    from ..site.choices import load_choices
    offered = load_choices(_settings(args))
    base = current or Preferences()
    documents = base.document_ids
    if args.documents is not None:
        documents = [d.strip() for d in args.documents.split(",") if d.strip()]
        unknown = [d for d in documents if d not in offered.document_ids and d not in ("all", "*")]
        if unknown or not documents:
            known = ", ".join(offered.document_ids) or "none: this project holds one document"
            raise UserError(f"--documents takes 'all' or document ids separated by commas (documents: {known}), "
                            f"not {args.documents!r}")
    language = base.language if args.language is None else (args.language or None)
    if language and language not in offered.languages:
        raise UserError(f"--language {language}: no document is translated into it (translations: "
                        f"{', '.join(offered.languages) or 'none'})")
    return Preferences.of(documents, args.changes or base.changes, language)


def cmd_add(args: argparse.Namespace) -> int:
    try:
        email, name = normalise_address(args.email), normalise_name(args.name)
        subscribed = subscribed_time(args.subscribed) if args.subscribed else None
    except InvalidAddress as exc:
        raise UserError(str(exc)) from None
    with _opened(args) as store:
        existing = store.get(email)
        preferences = _chosen(args, existing.preferences if existing else None)
        subscriber, outcome = store.add(email, name, preferences, subscribed)
    _say(f"{outcome} {mask(subscriber.email)}" if outcome != "unchanged" else
         f"{mask(subscriber.email)} is already subscribed")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    with _opened(args) as store:
        return _remove(args, store)


def _remove(args: argparse.Namespace, store: SubscriberStore) -> int:
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
    with _existing(args) as store:
        rows = store.subscribers(args.all) if store else []
    if not rows:
        print("no subscribers")
        return 0
    table = [("address", "subscribed", "documents", "changes", "language", "confirmed", "name")]
    for s in rows:
        status = f"  ({s.status} {s.removed_at})" if s.status != "active" else ""
        prefs = s.preferences
        table.append((s.email, s.created_at, prefs.describe(), prefs.changes, prefs.language or "-",
                      s.confirmed_at or "-", s.name + status))
    widths = [max(len(row[i]) for row in table) for i in range(6)]
    for row in table:
        print(("  ".join(f"{cell:<{w}}" for cell, w in zip(row, widths)) + f"  {row[6]}").rstrip())
    return 0


def cmd_count(args: argparse.Namespace) -> int:
    with _existing(args) as store:
        counts = store.counts() if store else {"active": 0, "removed": 0}
    print(f"{counts['active']} active, {counts['removed']} removed" if args.all else counts["active"])
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    try:
        data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read the CSV file: {(exc.strerror or str(exc)).lower()} ({args.file}); "
                        f"check the path and that this user may read it") from None
    rows, problems = parse_csv(data, args.file)
    if problems:
        count = len(problems)
        raise UserError("\n".join([*problems, f"{count} bad row{'s' if count != 1 else ''}; nothing was imported."]))
    with _opened(args) as store:
        result = store.import_rows(rows)
    skipped = f", {result.skipped_removed} previously removed (not re-subscribed)" if result.skipped_removed else ""
    _say(f"imported {args.file}: {result.added} added, {result.updated} updated, "
         f"{result.unchanged} already subscribed{skipped}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    with _existing(args) as store:
        rows = store.subscribers(args.all) if store else []
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["email", "name", "subscribed", "documents", "changes", "language", "confirmed"]
                    + (["status", "removed"] if args.all else []))
    for s in rows:  # every cell neutralised: a name like =HYPERLINK(…) stays text in a spreadsheet
        prefs = s.preferences
        writer.writerow([csv_cell(cell) for cell in
                         [s.email, s.name, s.created_at, prefs.describe(), prefs.changes, prefs.language or "",
                          s.confirmed_at or ""] + ([s.status, s.removed_at or ""] if args.all else [])])
    if not args.output:
        sys.stdout.write(text.getvalue())
        return 0
    write_private(Path(args.output), text.getvalue().encode("utf-8"), "cannot write the export")
    print(f"policy subscribers: exported {len(rows)} to {args.output}", file=sys.stderr)
    return 0


# --- policy notify ------------------------------------------------------------------------------------------

def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def cmd_notify(args: argparse.Namespace) -> int:
    try:
        return _notify(args)
    except DatabaseUnreachable as exc:  # like an unreachable mail server: nothing lost, try again later
        print(f"policy notify: error: {exc}", file=sys.stderr)
        return 75


def _notify(args: argparse.Namespace) -> int:
    from ..site.generate import load_models
    settings = _settings(args)
    location = database_location(settings)
    outbox = outbox_path(settings)
    if args.status:
        with _existing(args, location) as store:
            print("\n".join(Ledger(store.conn).report_lines()) if store else "no version announced yet")
        return 0
    options = NotifyOptions(args.dry_run, args.rate, args.max_attempts, backoff_seconds(os.environ),
                            tuple(args.accept_rewrite or ()), lease_seconds(os.environ), args.connections,
                            synchronous_commit(os.environ))
    notices.mail_settings(settings)  # configuration mistakes first, before anything is written
    smtp_config(os.environ)
    _, models = load_models(settings)
    if args.dry_run and not _exists(location):
        print(f"policy notify: dry run — no subscribers database at {location}; nothing would be sent")
        return 0
    signal.signal(signal.SIGTERM, _interrupt)  # like Ctrl-C: record what is known, close politely, exit 130
    # SQLite: one notify at a time (PostgreSQL: workers claim their rows, claims.py)
    lock = notify_lock(location) if isinstance(location, Path) and not args.dry_run else nullcontext()
    with lock, _opened(args, location) as store:
        summary = run_notify(settings, models, store, lambda: open_transport(outbox), options,
                             progress=lambda total: Progress(total))
        waiting, next_at = Ledger(store.conn).waiting(now_text())
    return _report(summary, args.dry_run, waiting, next_at)


def _report(summary: Summary, dry_run: bool, waiting: int, next_at: str | None) -> int:
    for line in summary.notes:
        print(f"policy notify: {line}")
    for version, count, note in summary.announced:
        if note:
            print(f"policy notify: version {version} {note}; not announced")
        elif not dry_run:
            print(f"policy notify: version {version} announced to {count} subscriber{'s' if count != 1 else ''}")
    if dry_run:
        total = sum(summary.planned.values())
        detail = ", ".join(f"{v}: {c}" for v, c in summary.planned.items())
        print(f"policy notify: dry run — {total} message{'s' if total != 1 else ''} rendered and would be sent"
              f"{f' ({detail})' if detail else ''}; nothing sent, nothing recorded")
        return 0
    extra = [f"  … and {len(summary.failures) - 20} more"] if len(summary.failures) > 20 else []
    if summary.failures:
        print("\n".join([f"  failed   {line}" for line in summary.failures[:20]] + extra), file=sys.stderr)
    if not summary.done and not summary.stopped:
        later = f"; {waiting} deferred, next attempt after {next_at}" if waiting else ""
        print(f"policy notify: nothing to send{later}")
        return 0
    via = f" via {summary.transport}" if summary.transport else ""
    unknown = f" ({summary.unknown} with outcome unknown: lost after sending)" if summary.unknown else ""
    print(f"policy notify: {summary.sent} sent, {summary.failed} failed, {summary.deferred} deferred{unknown}{via}"
          + (f"; {waiting} waiting, next attempt after {next_at}" if waiting else ""))
    if summary.stopped:
        print(f"policy notify: stopped: {summary.stopped}; the rest is sent by the next run", file=sys.stderr)
        return 75  # EX_TEMPFAIL: try again later
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from ..notify.migrate import migrate
    if not is_url(args.to):
        raise UserError("--to must be a PostgreSQL URL like postgresql://USER:PASSWORD@HOST:5432/DATABASE")
    source = database_path(_settings(args))  # the SQLite file, whatever POLICY_DATABASE_URL says
    result = migrate(source, args.to)
    _say(f"migrated {source} to {mask_url(args.to)}: {result.summary()}; every count verified. The SQLite file "
         f"is unchanged; set POLICY_DATABASE_URL to use PostgreSQL from now on")
    return 0
