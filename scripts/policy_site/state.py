"""Where the private state lives — the subscribers database and the email outbox — and where it never may.

Both hold subscriber addresses. They are refused (UserError, one line saying what to do) when they would be
inside a folder that is published, rewritten or versioned:

    site_dir       the built site (mkdocs.yml's site_dir, whatever its name): every build wipes and publishes it
    pages_dir      the generated pages: every build rewrites them, and they are published
    policy_dir     the policy folder: committed to git

Paths are compared after resolving symlinks and `..`, so a link or a detour does not get around the rule.
Every verb that opens the database or the outbox gets its location from here, and `policy build` refuses to run
(before anything is deleted) when either would be inside the site.

POLICY_DATABASE_URL (a postgresql:// URL) puts the subscribers and the ledger in PostgreSQL instead; it wins over
POLICY_SUBSCRIBERS_DB and subscribers_db, and these rules, which are about files, then apply to the outbox only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from .errors import UserError
from .settings import Settings

ENV_DB = "POLICY_SUBSCRIBERS_DB"
ENV_DATABASE_URL = "POLICY_DATABASE_URL"
URL_SCHEMES = ("postgresql://", "postgres://")


def _forbidden(settings: Settings) -> list[tuple[str, Path]]:
    return [("site_dir (the published site, wiped by every build)", settings.site_dir),
            ("pages_dir (the generated pages, rewritten by every build and published)", settings.pages_dir),
            ("the policy folder (committed to git)", settings.policy_dir)]


def _check(path: Path, what: str, settings: Settings, todo: str) -> Path:
    for label, folder in _forbidden(settings):
        if path.is_relative_to(folder.expanduser().resolve()):
            raise UserError(f"{what} would be inside {label} ({path}); {todo}")
    return path


def database_path(settings: Settings, environ: Mapping[str, str] = os.environ) -> Path:
    """POLICY_SUBSCRIBERS_DB, else the subscribers_db option: absolute, resolved, never in a published folder."""
    configured = environ.get(ENV_DB)
    path = (Path(configured) if configured else settings.path("subscribers_db")).expanduser().resolve()
    where = ENV_DB if configured else "subscribers_db in mkdocs.yml"
    return _check(path, "the subscribers database", settings,
                  f"set {where} to a file outside it (the default is .cache/subscribers.sqlite3)")


def database_url(environ: Mapping[str, str] = os.environ) -> str | None:
    """POLICY_DATABASE_URL when it is set (a postgresql:// URL), else None."""
    url = environ.get(ENV_DATABASE_URL, "").strip()
    if not url:
        return None
    if not url.startswith(URL_SCHEMES):
        raise UserError(f"{ENV_DATABASE_URL} must be a PostgreSQL URL like postgresql://USER:PASSWORD@HOST:5432/"
                        f"DATABASE (it starts with {url.split(':', 1)[0][:20]!r}); unset it to use the SQLite file")
    return url


def database_location(settings: Settings, environ: Mapping[str, str] = os.environ) -> Path | str:
    """Where the subscribers and the ledger live: POLICY_DATABASE_URL if set, else the SQLite file (database_path)."""
    return database_url(environ) or database_path(settings, environ)


def outbox_path(settings: Settings) -> Path:
    """The outbox_dir option: absolute, resolved, never in a published folder."""
    return _check(settings.path("outbox_dir").expanduser().resolve(), "the email outbox", settings,
                  "set outbox_dir in mkdocs.yml to a folder outside it (the default is .cache/outbox)")


def check_private_state(settings: Settings, environ: Mapping[str, str] = os.environ) -> None:
    """UserError when the subscribers database or the outbox would be inside the site (or pages, or policy)."""
    database_location(settings, environ)
    outbox_path(settings)
