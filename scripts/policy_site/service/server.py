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
import sys
from collections.abc import Mapping

from ..notify.backend import is_url, mask_url
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


def serve(settings: Settings, host: str, port: int, environ: Mapping[str, str] = os.environ) -> None:
    """Check the configuration and the database (UserError: one line), then serve until interrupted."""
    import uvicorn

    config = load_config(settings, environ)
    app = create_app(config)
    app.state.service.actions.run(lambda store: store.counts())  # the database opens (or fails: one line) now
    app.state.service.actions.close()
    where = mask_url(str(config.location)) if is_url(config.location) else str(config.location)
    print(f"policy subscriptions: serving {config.base_url} on http://{host}:{port}/ (subscribers: {where}; "
          f"trusted proxies: {config.trusted_proxies or 'none'})", file=sys.stderr, flush=True)
    uvicorn.run(app, host=host, port=port, access_log=False, log_config=LOGGING, server_header=False,
                proxy_headers=bool(config.trusted_proxies), forwarded_allow_ips=config.trusted_proxies or None,
                timeout_graceful_shutdown=5)
