"""Project settings from mkdocs.yml (site_url, site_name, the `policy` plugin's options), without importing MkDocs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from .errors import UserError

DEFAULTS: dict[str, Any] = {
    "policy_dir": "policy",
    "templates_dir": "templates",
    "pages_dir": ".cache/pages",
    "cache_dir": ".cache/history",
    "feed_limit": 50,
    "feed_title": None,
    "feed_subtitle": None,
    "feed_icon": None,
    "allow_shallow": False,
    "email_from": None,
    "unsubscribe_url": None,
    "list_id": None,
    "outbox_dir": ".cache/outbox",
    "subscribers_db": ".cache/subscribers.sqlite3",
}


@dataclass(frozen=True)
class Settings:
    root: Path
    site_name: str
    site_url: str | None
    options: dict[str, Any]
    build_time: datetime
    draft: bool = False

    def path(self, name: str) -> Path:
        value = Path(self.options[name])
        return value if value.is_absolute() else self.root / value

    @property
    def policy_dir(self) -> Path:
        return self.path("policy_dir")

    @property
    def templates_dir(self) -> Path:
        return self.path("templates_dir")

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
        return self.options[name]


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


class _TolerantLoader(yaml.SafeLoader):
    """Reads mkdocs.yml, leaving tags such as !ENV or !!python/name as plain values."""


_TolerantLoader.add_multi_constructor("", lambda loader, suffix, node: (
    loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None))
_TolerantLoader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)


def plugin_options(plugins: Any) -> dict[str, Any] | None:
    """The `policy` entry of a mkdocs.yml plugins list, or None when it is absent."""
    items = plugins.items() if isinstance(plugins, dict) else (
        (next(iter(p.items())) if isinstance(p, dict) else (p, {})) for p in plugins or [])
    for name, options in items:
        if name == "policy":
            return dict(options or {})
    return None


def make_settings(root: Path, site_name: str, site_url: str | None, options: dict[str, Any],
                  draft: bool = False) -> Settings:
    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise UserError(f"unknown option(s) for the policy plugin in mkdocs.yml: {', '.join(sorted(unknown))}; "
                        f"known: {', '.join(DEFAULTS)}")
    merged = {**DEFAULTS, **{k: v for k, v in options.items() if v is not None}}
    return Settings(root.resolve(), site_name, site_url or None, merged, build_time(), draft)


def load_settings(config_file: Path) -> Settings:
    """Settings from a mkdocs.yml file."""
    try:
        data = yaml.load(config_file.read_text(encoding="utf-8"), Loader=_TolerantLoader) or {}
    except FileNotFoundError:
        raise UserError(f"{config_file}: not found; run from the project folder or pass --config") from None
    except yaml.YAMLError as exc:
        raise UserError(f"{config_file}: not valid YAML: {exc}") from None
    options = plugin_options(data.get("plugins"))
    if options is None:
        raise UserError(f"{config_file}: the 'policy' plugin is not listed under plugins")
    return make_settings(config_file.parent, str(data.get("site_name") or "Privacy policy"),
                         data.get("site_url"), options)
