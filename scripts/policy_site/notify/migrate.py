"""`policy subscribers migrate --to postgresql://…`: a SQLite store moved into an empty PostgreSQL database.

    source   the SQLite file, opened read-only (never written, never upgraded) under the notify lock, so no
             `policy notify` changes it meanwhile; every table is read in one read transaction (one snapshot).
             A file at an older schema is read as it is: columns it does not have yet take their defaults.
    target   brought to the current PostgreSQL schema (pg_schema.py), then in ONE transaction that locks our
             tables against writers: refused unless empty (no row but the Message-ID key a first connection
             makes); meta (the Message-ID key included, so Message-IDs stay the same), subscribers with their
             preferences, pending subscriptions, announcements, deliveries and rewrites copied with COPY, ids
             kept; identity sequences moved past the copied ids; the count of every table compared with the
             source's. Any failure or difference rolls everything back: the target stays empty.

A delivery row still 'sending' in the file (a notify that died mid-message) arrives as an expired claim that
was handed over: the first worker returns it to pending as "outcome unknown" and sends it again with the same
Message-ID (claims.py), as the next SQLite run would have.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserError
from .database import notify_lock, open_sqlite_read_only
from .postgres import PostgresDatabase, connect

# in the order their references need; each with the columns both schemas share
TABLES: dict[str, tuple[str, ...]] = {
    "meta": ("key", "value"),
    "subscribers": ("id", "uid", "email", "email_key", "name", "status", "created_at", "removed_at", "documents",
                    "changes", "language", "confirmed_at"),
    "pending_subscriptions": ("id", "email", "email_key", "name", "documents", "changes", "language", "token_hash",
                              "created_at", "expires_at", "used_at"),
    "announcements": ("seq", "version", "announced_at", "recipients", "note", "closed_at", "content_hash",
                      "commit_sha", "vanished_at"),
    "deliveries": ("version", "subscriber_id", "status", "attempts", "message_id", "last_error", "next_attempt_at",
                   "updated_at", "sent_at", "server_reply"),
    "rewrites": ("seq", "version", "accepted_at", "old_hash", "old_commit", "new_hash", "new_commit"),
}
IDENTITIES = {"subscribers": "id", "pending_subscriptions": "id", "announcements": "seq", "rewrites": "seq"}
NAMES = {"meta": ("meta value", "meta values"), "subscribers": ("subscriber", "subscribers"),
         "pending_subscriptions": ("pending subscription", "pending subscriptions"),
         "announcements": ("announcement", "announcements"), "deliveries": ("delivery", "deliveries"),
         "rewrites": ("accepted rewrite", "accepted rewrites")}


@dataclass
class Migrated:
    counts: dict[str, int] = field(default_factory=dict)
    detail: dict[str, dict[str, int]] = field(default_factory=dict)  # subscribers and deliveries by status
    target: str = ""

    def summary(self) -> str:
        parts = []
        for table, count in self.counts.items():
            one, many = NAMES[table]
            by = self.detail.get(table)
            extra = f" ({', '.join(f'{n} {s}' for s, n in sorted(by.items()))})" if by and count else \
                " (the Message-ID key included)" if table == "meta" and count else ""
            parts.append(f"{count} {one if count == 1 else many}{extra}")
        return ", ".join(parts)


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def migrate(source: Path, url: str) -> Migrated:
    """Copy the SQLite store at source into the empty PostgreSQL database at url (see the module docstring)."""
    if not source.is_file():
        raise UserError(f"there is no subscribers database at {source}; nothing to migrate (set "
                        f"POLICY_SUBSCRIBERS_DB or subscribers_db to the file to move)")
    with notify_lock(source):
        reader = open_sqlite_read_only(source)
        assert reader is not None
        try:
            reader.execute("BEGIN")  # one snapshot of every table
            rows: dict[str, tuple[tuple[str, ...], list]] = {}
            have_tables = {r[0] for r in reader.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            for table, columns in TABLES.items():
                present = reader.columns(table) if table in have_tables else set()
                shared = tuple(c for c in columns if c in present)
                rows[table] = (shared, reader.execute(f"SELECT {', '.join(shared)} FROM {table}").fetchall()
                               if shared else [])
            reader.execute("ROLLBACK")
        except reader.errors as exc:
            raise reader.failure(exc) from None
        finally:
            reader.close()
    target = connect(url)
    try:
        return _write(target, rows)
    except target.errors as exc:
        raise target.failure(exc) from None
    finally:
        target.close()


def _write(target: PostgresDatabase, rows: dict[str, tuple[tuple[str, ...], list]]) -> Migrated:
    result = Migrated(target=target.where)
    with target.transaction():
        target.execute("LOCK TABLE " + ", ".join(TABLES) + " IN EXCLUSIVE MODE")
        found = {t: target.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES if t != "meta"}
        found["meta"] = target.execute("SELECT COUNT(*) FROM meta WHERE key != 'message_id_key'").fetchone()[0]
        if any(found.values()):
            what = ", ".join(_count(n, *NAMES[t]) for t, n in found.items() if n)
            raise UserError(f"the PostgreSQL database is not empty ({what}) ({target.where}); migrate into a new, "
                            f"empty database — nothing was copied")
        target.execute("DELETE FROM meta")  # the key a first connection made: the file's key replaces it
        for table, (columns, values) in rows.items():
            if table == "deliveries":  # a row left 'sending' may have been handed over: an expired claim
                at = columns.index("updated_at")
                status = columns.index("status")
                columns = (*columns, "handed_at")
                values = [(*r, r[at] if r[status] == "sending" else None) for r in values]
            if values:
                target.copy_rows(table, columns, values)
            result.counts[table] = target.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            if result.counts[table] != len(values):
                raise UserError(f"the copy of {table} holds {result.counts[table]} rows, the SQLite file "
                                f"{len(values)} ({target.where}); nothing was copied")
        for table, column in IDENTITIES.items():
            target.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                           f"COALESCE(MAX({column}), 0) + 1, false) FROM {table}")
        for table in ("subscribers", "deliveries"):
            result.detail[table] = {r[0]: r[1] for r in target.execute(
                f"SELECT status, COUNT(*) FROM {table} GROUP BY status")}
        key = target.execute("SELECT value FROM meta WHERE key = 'message_id_key'").fetchone()
        if key is None:
            raise UserError(f"the SQLite file has no Message-ID key; open it once with `policy subscribers count` "
                            f"and migrate again ({target.where}); nothing was copied")
    return result
