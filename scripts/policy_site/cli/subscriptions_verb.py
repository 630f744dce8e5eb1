"""`policy subscriptions serve`: the subscription service (subscribe, confirm, preferences, unsubscribe).

Run in the project folder: it reads mkdocs.yml (subscriptions_url, email_from, site_url) and policy/ (the
documents and translations it offers). Everything else comes from the environment (service/config.py).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import UserError
from .verbs import AddVerb, verb_group


def cmd_serve(args: argparse.Namespace) -> int:
    from ..service.server import serve
    from ..site.plugin import load_settings
    if not 0 < args.port < 65536:
        raise UserError(f"--port must be between 1 and 65535, not {args.port}")
    serve(load_settings(Path(args.config)), args.host, args.port)
    return 0


def add_subscriptions_verb(verb: AddVerb) -> None:
    action = verb_group(verb, "subscriptions", "The subscription service: a small web service where readers "
                                               "subscribe (with a confirmation mail), change their preferences "
                                               "and unsubscribe.")
    a = action("serve", cmd_serve, "Serve the subscription service (needs POLICY_UNSUBSCRIBE_SECRET and "
                                   "subscriptions_url in mkdocs.yml; the store, mail and limits as in the README).")
    a.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: %(default)s)")
    a.add_argument("--port", type=int, default=8080, help="the port to listen on (default: %(default)s)")
