"""Running the service: uvicorn on HOST:PORT, its logging, and which reverse proxies are believed.

No access log: the URLs of the service hold tokens (confirm, unsubscribe, preferences), and a log of them would
let whoever reads it act for the subscribers. The service logs events as one line each ("a subscription was
confirmed (added)"), never an address or a token; uvicorn's own lines go to the same stream (stderr).

X-Forwarded-For and X-Forwarded-Proto are believed only from POLICY_TRUSTED_PROXIES (uvicorn's proxy-headers
support, the same as its --forwarded-allow-ips); without it the peer's own address is the client, so nobody can
dodge the per-client limit by writing the header themselves.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Mapping

from ..errors import UserError
from ..notify.backend import Location, is_url, mask_url
from ..notify.store import SubscriberStore
from ..settings import Settings
from .app import create_app
from .config import load_config

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "policy subscriptions: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
    "loggers": {"uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
                "uvicorn.error": {"level": "INFO"},
                "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
                "policy.subscriptions": {"handlers": ["stderr"], "level": "INFO", "propagate": False}},
}


def check_database(location: Location) -> None:
    """Open the store and read it once: a database that cannot be used stops the start (UserError: one line, the
    password masked), rather than every request later."""
    store = SubscriberStore(location)  # UserError when it cannot be opened
    try:
        store.counts()
    except store.db.errors as exc:
        raise store.db.failure(exc) from None
    finally:
        store.close()


def serve(settings: Settings, host: str, port: int, environ: Mapping[str, str] = os.environ) -> None:
    """Check the configuration and the database (UserError: one line), then serve until interrupted."""
    import uvicorn

    config = load_config(settings, environ)
    check_database(config.location)
    app = create_app(config)
    sock = listen(host, port)
    where = mask_url(str(config.location)) if is_url(config.location) else str(config.location)
    shown = f"[{host}]" if ":" in host else host
    print(f"policy subscriptions: serving {config.base_url} on http://{shown}:{port}/ (subscribers: {where}; "
          f"trusted proxies: {config.trusted_proxies or 'none'})", file=sys.stderr, flush=True)
    server = uvicorn.Server(uvicorn.Config(
        app, host=host, port=port, access_log=False, log_config=LOGGING, server_header=False,
        proxy_headers=bool(config.trusted_proxies), forwarded_allow_ips=config.trusted_proxies or None,
        timeout_graceful_shutdown=5))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so that a port in use or an address not of this machine is one line
    (UserError) rather than uvicorn's log and exit status 3."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as exc:
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc} (--host, --port)") from None
    return sock
