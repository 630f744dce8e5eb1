"""`policy subscriptions serve`: the subscription service (subscribe, confirm, preferences, unsubscribe).

Run in the project folder: it reads mkdocs.yml (subscriptions_url, email_from, site_url) and policy/ (the
documents and translations it offers). Everything else comes from the environment (service/config.py).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import UserError


def cmd_serve(args: argparse.Namespace) -> int:
    from ..service.server import serve
    from ..site.mkdocs.plugin import load_settings
    if not 0 < args.port < 65536:
        raise UserError(f"--port must be between 1 and 65535, not {args.port}")
    serve(load_settings(Path(args.config)), args.host, args.port)
    return 0
