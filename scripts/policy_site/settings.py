"""The project's settings: the `policy` plugin's options (declared once, here) with site_name, site_url and folders.

`Options` is the only declaration of the plugin's options: the MkDocs plugin builds its config schema from it
(site/mkdocs/plugin.py), and every verb reads mkdocs.yml through MkDocs' own loader
(`site.mkdocs.plugin.load_settings`), so `!ENV` tags and validation behave the same for `policy check`, `diff`,
`notify` and `build`.
This module does not import MkDocs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import UserError


@dataclass(frozen=True)
class Options:
    """The `policy` plugin's options in mkdocs.yml, with their defaults."""

    policy_dir: str = "policy"
    templates_dir: str = "templates"
    pages_dir: str = ".cache/pages"
    cache_dir: str = ".cache/history"
    page_cache: bool = True  # keep each rendered page under page_cache_dir; render only what changed
    page_cache_dir: str = ".cache/html"
    word: bool = True  # each version's changes as a Word document with tracked changes (site/word/); false: none
    pdf: bool = True  # a PDF/A-3 of every version and of its changes (site/pdf.py); false: none, and no links to them
    feed_limit: int = 50
    feed_title: str | None = None
    feed_subtitle: str | None = None
    feed_icon: str | None = None
    allow_shallow: bool = False
    accept_rewrite: tuple[str, ...] = ()  # versions whose published text may differ from what was announced
    email_from: str | None = None
    unsubscribe_url: str | None = None  # an unsubscribe endpoint someone else runs (wins over subscriptions_url's)
    subscriptions_url: str | None = None  # the public https:// base URL of `policy subscriptions serve`
    list_id: str | None = None
    outbox_dir: str = ".cache/outbox"
    subscribers_db: str = ".cache/subscribers.sqlite3"
    redirects: dict[str, str] = field(default_factory=dict)  # old site path → new site path
    controlling_language: str = "en"  # the language of the original, whose text controls over translations
    # a material version takes effect at least this many days after it is published (a number for every document,
    # or {document: days}); 0: no minimum
    notice_days: int | dict[str, int] = 0
    # remind subscribers this many days before a material version takes effect (a number or {document: days})
    reminder_days: int | dict[str, int] = 0
    # an RFC 3161 timestamp authority: each published version's content hash is timestamped once (site/timestamps.py)
    timestamp_url: str | None = None
    timestamps_dir: str = ".policy-timestamps"  # the tokens, kept in the project (committed by the workflow)

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Options:
        unknown = set(values) - set(cls.names())
        if unknown:
            raise UserError(f"unknown option(s) for the policy plugin in mkdocs.yml: {', '.join(sorted(unknown))}; "
                            f"known: {', '.join(cls.names())}")
        given: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if v is not None}
        return cls(**given)


@dataclass(frozen=True)
class Settings:
    root: Path
    site_name: str
    site_url: str | None
    options: Options
    build_time: datetime
    draft: bool = False
    site_dir: Path = field(default=Path("site"))

    def path(self, name: str) -> Path:
        value = Path(getattr(self.options, name))
        return value if value.is_absolute() else self.root / value

    @property
    def policy_dir(self) -> Path:
        return self.path("policy_dir")

    @property
    def templates_dir(self) -> Path:
        """The project's own templates folder: it overrides only the files it holds."""
        return self.path("templates_dir")

    @property
    def template_dirs(self) -> list[Path]:
        """Where templates are looked up, first match wins: the project's folder, then the built-in ones."""
        own = self.templates_dir
        builtin = builtin_templates()
        return [own, builtin] if own.is_dir() and own.resolve() != builtin.resolve() else [builtin]

    @property
    def pages_dir(self) -> Path:
        return self.path("pages_dir")

    @property
    def cache_dir(self) -> Path:
        return self.path("cache_dir")

    def url(self, relative: str = "") -> str:
        """Absolute URL of a site path such as 'versions/1.0/'."""
        return require_site_url(self.site_url) + relative.lstrip("/")

    def __getitem__(self, name: str) -> Any:
        return getattr(self.options, name)

    def days(self, name: str, document: str) -> int:
        """notice_days or reminder_days for one document ('' in a single-document project)."""
        value = getattr(self.options, name)
        if isinstance(value, dict):
            value = value.get(document, value.get("*", 0))
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise UserError(f"{name} in mkdocs.yml must be a number of days (0 or more), or a mapping of document "
                            f"ids to numbers, not {value!r}")
        return value

    def with_options(self, **changes: Any) -> Settings:
        """The same settings with some options changed."""
        return replace(self, options=replace(self.options, **changes))


def builtin_templates() -> Path:
    """The templates that come with the tool: inside the installed package, or beside it in a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent.parent / "templates"):
        if (candidate / "pages").is_dir():
            return candidate
    raise UserError(f"the built-in templates are missing (looked in {here / 'templates'}); reinstall the tool")


def require_site_url(site_url: str | None) -> str:
    if not site_url:
        raise UserError("site_url is not set in mkdocs.yml; feeds, emails and versions.json need absolute links.\n"
                        "Add a line such as: site_url: https://privacy.example.org/")
    return site_url if site_url.endswith("/") else site_url + "/"


def build_time() -> datetime:
    """SOURCE_DATE_EPOCH when set (reproducible builds), else now; always UTC."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), UTC)
        except ValueError:
            raise UserError(f"SOURCE_DATE_EPOCH must be a whole number of seconds, not {epoch!r}") from None
    return datetime.now(UTC).replace(microsecond=0)


def make_settings(root: Path, site_name: str, site_url: str | None, options: Mapping[str, Any],
                  draft: bool = False, site_dir: str | Path | None = None) -> Settings:
    root = root.resolve()
    site = Path(site_dir) if site_dir else Path("site")
    return Settings(root, site_name, site_url or None, Options.from_mapping(options), build_time(), draft,
                    site if site.is_absolute() else root / site)
