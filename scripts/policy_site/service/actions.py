"""What the pages do to the subscriber store, in the worker threads Starlette runs blocking calls in.

Each thread keeps its own store (a SQLite connection belongs to its thread; a PostgreSQL connection is reused
by one thread at a time). A database failure drops the thread's store, so the next request opens a new one
(a restarted server is found again), and becomes Unavailable: the page says to try again later (503), and the log
gets one line — with a URL's password masked and never an address.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from typing import TypeVar

from ..errors import UserError
from ..notify import message, pending
from ..notify.store import Preferences, Subscriber, SubscriberStore
from .config import ServiceConfig

T = TypeVar("T")
log = logging.getLogger("policy.subscriptions")
_ADDRESS = re.compile(r"[^\s<>(),;:\"'@]+@[^\s<>(),;:\"'@]+")
_MASKED_LOGIN = re.compile(r"(://[^\s/@:]*:\*\*\*)@")  # postgresql://user:***@host: a URL, not an address


class Unavailable(Exception):
    """The store cannot be used now."""


def redact(text: str) -> str:
    """Text for the log: every address replaced (a masked one would still name its domain: not even that)."""
    kept = _MASKED_LOGIN.sub(lambda m: m.group(1) + "\0", text.replace("\0", ""))
    return _ADDRESS.sub("[address]", kept).replace("\0", "@")


class Actions:
    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        self.local = threading.local()

    def _store(self) -> SubscriberStore:
        store = getattr(self.local, "store", None)
        if store is None:
            store = self.local.store = SubscriberStore(self.config.location)
        return store

    def _drop(self) -> None:
        store = getattr(self.local, "store", None)
        self.local.store = None
        if store is not None:
            try:
                store.close()
            except Exception:  # noqa: BLE001 - it is being thrown away
                pass

    def run(self, action: Callable[[SubscriberStore], T]) -> T:
        """Run action(store); a database failure as Unavailable (logged once, one line)."""
        try:
            store = self._store()
        except UserError as exc:
            log.error("the subscribers database cannot be opened: %s", redact(str(exc)))
            raise Unavailable() from None
        try:
            return action(store)
        except store.db.errors as exc:
            log.error("the subscribers database failed: %s", redact(str(store.db.failure(exc))))
            self._drop()
            raise Unavailable() from None

    # --- the actions ------------------------------------------------------------------------------------------
    def create_pending(self, email: str, name: str, preferences: Preferences,
                       token: str) -> pending.Pending | pending.Limited:
        rate = self.config.address_rate
        return self.run(lambda store: pending.create(store, email, name, preferences, token,
                                                     self.config.confirm_seconds, rate.count, rate.seconds))

    def find_pending(self, token: str) -> pending.Pending | None:
        return self.run(lambda store: pending.find(store, token))

    def confirm(self, found: pending.Pending) -> tuple[Subscriber, str] | None:
        return self.run(lambda store: pending.confirm(store, found))

    def subscriber(self, token: str, purpose: str) -> Subscriber | None:
        """The subscriber an unsubscribe or preferences token was signed for, or None."""
        return self.run(lambda store: message.check_token(self.config.secret, token, store.by_uid, purpose))

    def by_address(self, email: str) -> Subscriber | None:
        return self.run(lambda store: store.get(email))

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.run(lambda store: store.remove(subscriber) if subscriber.status == "active" else 0)

    def set_preferences(self, subscriber: Subscriber, preferences: Preferences) -> None:
        self.run(lambda store: store.set_preferences(subscriber, preferences))

    def purge(self) -> int:
        return self.run(pending.purge)

    def healthy(self) -> bool:
        try:
            return self.run(lambda store: store.db.execute("SELECT 1").fetchone()[0] == 1)
        except Unavailable:
            return False

    def close(self) -> None:
        self._drop()
