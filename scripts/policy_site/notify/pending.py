"""Pending subscriptions: a subscription waiting for the confirmation link emailed to its address (double opt-in).

    create    a row with the address, name and Preferences chosen, the sha256 of the emailed token (never the token
              itself: whoever reads the database cannot confirm anything) and when it expires
    counted   the rows of one address created within a window: the per-address limit of confirmation mails, in
              the database, so that several instances of the service agree; counted and created in one
              transaction (on PostgreSQL under an advisory lock per address), so two requests at once cannot
              both pass the limit
    confirm   the row is marked used (once: a link works one time) and the subscriber made active, or reactivated,
              with the chosen preferences and confirmed_at — the record of consent — in one transaction
    purge     rows expired more than a day ago are deleted (a used one is kept as long, for the count)

The SQL is the one both databases run (backend.py); times are UTC text from ledger.stamp().
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from .addresses import normalise_address
from .ledger import stamp
from .store import Preferences, Subscriber, SubscriberStore

PURGE_AFTER = 86_400.0  # seconds after expiry


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Pending:
    id: int
    email: str
    name: str
    preferences: Preferences
    created_at: str
    expires_at: str
    used_at: str | None

    def expired(self, now: str) -> bool:
        return self.expires_at <= now


@dataclass(frozen=True)
class Limited:
    """The per-address limit is reached: retry_after seconds until the oldest counted mail leaves the window."""

    retry_after: int


def _lock(store: SubscriberStore, key: str) -> None:
    """PostgreSQL: one request per address at a time until the transaction ends (SQLite's BEGIN IMMEDIATE
    already serialises every writer)."""
    if store.db.kind == "postgresql":
        store.db.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (f"pending:{key}",))


def _seconds_between(earlier: str, later: str) -> int:
    def parse(text: str) -> datetime:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    return int((parse(later) - parse(earlier)).total_seconds())


def create(store: SubscriberStore, address: str, name: str, preferences: Preferences, token: str,
           lifetime: float, limit: int, window: float) -> Pending | Limited:
    """A pending subscription for the (normalised) address, unless `limit` rows of that address were created within
    the last `window` seconds (then Limited). The token is the one mailed; only its hash is stored."""
    email = normalise_address(address)
    key = email.lower()
    now, since = stamp(), stamp(-window)
    with store.db.transaction():
        _lock(store, key)
        count, oldest = store.db.execute("SELECT COUNT(*), MIN(created_at) FROM pending_subscriptions "
                                         "WHERE email_key = ? AND created_at > ?", (key, since)).fetchone()
        if count >= limit:
            return Limited(max(1, _seconds_between(now, oldest) + int(window)) if oldest else int(window))
        expires = stamp(lifetime)
        store.db.execute("INSERT INTO pending_subscriptions (email, email_key, name, documents, changes, language, "
                         "token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (email, key, name, preferences.documents, preferences.changes, preferences.language,
                          token_hash(token), now, expires))
    return Pending(0, email, name, preferences, now, expires, None)


def find(store: SubscriberStore, token: str) -> Pending | None:
    """The pending subscription a token was mailed for (used or expired ones included), or None."""
    row = store.db.execute("SELECT * FROM pending_subscriptions WHERE token_hash = ?", (token_hash(token),)).fetchone()
    if row is None:
        return None
    return Pending(row["id"], row["email"], row["name"], Preferences(row["documents"], row["changes"], row["language"]),
                   row["created_at"], row["expires_at"], row["used_at"])


def confirm(store: SubscriberStore, pending: Pending) -> tuple[Subscriber, str] | None:
    """Use the link: the subscriber active with the chosen preferences and confirmed_at now; the outcome ('added',
    'reactivated', 'updated', 'unchanged'). None when the link was used (or expired) meanwhile."""
    now = stamp()
    with store.db.transaction():
        used = store.db.execute("UPDATE pending_subscriptions SET used_at = ? WHERE id = ? AND used_at IS NULL "
                                "AND expires_at > ?", (now, pending.id, now)).rowcount
        if used != 1:
            return None
        outcome = store.upsert(pending.email, pending.name, reactivate=True, now=now, preferences=pending.preferences,
                               confirmed_at=now)
    subscriber = store.get(pending.email)
    assert subscriber is not None
    return subscriber, outcome


def purge(store: SubscriberStore) -> int:
    """Delete the rows that expired more than PURGE_AFTER ago; how many."""
    return store.db.execute("DELETE FROM pending_subscriptions WHERE expires_at < ?", (stamp(-PURGE_AFTER),)).rowcount
