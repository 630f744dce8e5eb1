"""Requests per client: a sliding window in this process's memory (the client is the peer's IP address, or the one
a trusted reverse proxy names in X-Forwarded-For, see server.py).

An IPv6 client is counted by its /64 network (client_key). Only what costs something is limited per client:
POST /subscribe, which writes a row and sends a mail. Links with tokens are not (their tokens cannot be guessed),
and one-click unsubscribes never are: they come from the mail providers' own servers, many recipients behind one
address. The limit per address — confirmation mails
to one address — is counted in the database (notify/pending.py), so several instances agree on it; this one is
per instance (behind several instances, a proxy's own limit is the place for a shared one).
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import deque
from collections.abc import Callable

from .config import Rate

MAX_CLIENTS = 100_000  # beyond this many tracked clients, idle ones are forgotten first


def client_key(host: str) -> str:
    """What one client is counted as: its IPv4 address, or the /64 network of its IPv6 address (a home or a server
    usually gets a whole /64: counting single IPv6 addresses would let one client take 2^64 turns)."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class ClientLimiter:
    def __init__(self, rate: Rate, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.clock = rate, clock
        self.hits: dict[str, deque[float]] = {}
        self.lock = threading.Lock()

    def hit(self, client: str) -> int | None:
        """Count one request of this client (an IP address, see client_key); None when it is allowed, else the
        seconds until it would be."""
        client = client_key(client)
        now = self.clock()
        with self.lock:
            window = self.hits.setdefault(client, deque())
            while window and window[0] <= now - self.rate.seconds:
                window.popleft()
            if len(window) >= self.rate.count:
                return max(1, math.ceil(window[0] + self.rate.seconds - now))
            window.append(now)
            if len(self.hits) > MAX_CLIENTS:
                self._forget(now)
            return None

    def _forget(self, now: float) -> None:
        for client in [c for c, w in self.hits.items() if not w or w[-1] <= now - self.rate.seconds]:
            del self.hits[client]
        while len(self.hits) > MAX_CLIENTS:  # all of them busy: the oldest entries go
            del self.hits[next(iter(self.hits))]
