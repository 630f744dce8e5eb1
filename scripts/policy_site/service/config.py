"""The subscription service's configuration, read and checked once when it starts (UserError: one line, exit 1).

    POLICY_UNSUBSCRIBE_SECRET  required, 16 characters or more: signs unsubscribe, preferences and CSRF tokens, each
                               with its own purpose; the same secret `policy notify` signs its links with
    subscriptions_url          required (mkdocs.yml): the service's public base URL; links in its mails, its own origin
    email_from                 required (mkdocs.yml): the sender of confirmation mails
    site_url                   (mkdocs.yml) the static site, whose origin may post the follow page's form
    POLICY_DATABASE_URL, POLICY_SUBSCRIBERS_DB, subscribers_db   the store, as for every other verb
    POLICY_SMTP_URL            SMTP (else the outbox_dir folder), as for `policy notify`
    POLICY_CONFIRM_HOURS       how long a confirmation link works (default 48)
    POLICY_RATE_CLIENT         subscribe requests per client, N/SECONDS (default 10/600): in each instance's memory
    POLICY_RATE_ADDRESS        confirmation mails per address, N/SECONDS (default 3/3600): counted in the database
    POLICY_TRUSTED_PROXIES     IP addresses or networks (comma-separated) of the reverse proxies whose X-Forwarded-For
                               and X-Forwarded-Proto are believed (default: none; then the peer's address counts)
    POLICY_PREVIEW_ORIGINS     origins of local previews (`policy serve --subscriptions-url`) whose forms are accepted
                               too, like http://127.0.0.1:8000; only http on 127.0.0.1, ::1 or localhost
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import PolicyInvalid, UserError
from ..notify import message
from ..notify.backend import Location
from ..notify.smtp_settings import smtp_config
from ..settings import Settings, require_site_url
from ..site.choices import Choices, load_choices
from ..state import database_location, outbox_path

ENV_CONFIRM_HOURS = "POLICY_CONFIRM_HOURS"
ENV_RATE_CLIENT = "POLICY_RATE_CLIENT"
ENV_RATE_ADDRESS = "POLICY_RATE_ADDRESS"
ENV_PREVIEW = "POLICY_PREVIEW_ORIGINS"
LOCAL_HOSTS = ("127.0.0.1", "::1", "localhost")
ENV_TRUSTED = "POLICY_TRUSTED_PROXIES"
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class Rate:
    """At most `count` within `seconds`."""

    count: int
    seconds: float


@dataclass(frozen=True)
class ServiceConfig:
    settings: Settings
    secret: bytes
    base_url: str  # subscriptions_url, ending in '/'
    site_origin: str  # the static site's origin (site_url), e.g. https://privacy.example.org
    location: Location
    outbox: Path
    mail: message.MailSettings
    choices: Choices
    confirm_seconds: float
    client_rate: Rate
    address_rate: Rate
    trusted_proxies: str  # '' : none
    preview_origins: frozenset[str] = frozenset()  # local previews whose forms are accepted (POLICY_PREVIEW_ORIGINS)

    @property
    def own_origin(self) -> str:
        return origin(self.base_url) or ""

    @property
    def origins(self) -> frozenset[str]:
        """The origins a form may be posted from without a CSRF token: the service's own and the static site's."""
        return frozenset({self.own_origin, self.site_origin}) | self.preview_origins

    @property
    def secure(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def path(self) -> str:
        """The path the service is mounted under at its public address ('/' or '/subscriptions/')."""
        return urlsplit(self.base_url).path or "/"

    def url(self, relative: str) -> str:
        return self.base_url + relative


def local_origin(url: str) -> str | None:
    """The origin of an http URL on this machine (127.0.0.1, ::1 or localhost), else None."""
    found = origin(url)
    if not found or not found.startswith("http://"):
        return None
    return found if urlsplit(found).hostname in LOCAL_HOSTS else None


def _previews(environ: Mapping[str, str]) -> frozenset[str]:
    found: set[str] = set()
    for item in (i.strip() for i in environ.get(ENV_PREVIEW, "").split(",")):
        if not item:
            continue
        local = local_origin(item)
        if local is None:
            raise UserError(f"{ENV_PREVIEW} may name only local previews like http://127.0.0.1:8000, not {item!r}")
        found.add(local)
    return frozenset(found)


def origin(url: str) -> str | None:
    """scheme://host[:port] of a URL, lower-cased, the default port left out; None when it has none."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host.lower()}" + (f":{port}" if port and port != default else "")


def _rate(environ: Mapping[str, str], name: str, default: str) -> Rate:
    value = environ.get(name, "").strip() or default
    match = _RATE.match(value)
    if not match or int(match.group(1)) < 1 or float(match.group(2)) <= 0:
        raise UserError(f"{name} must be a number of requests per number of seconds, like {default}, not {value!r}")
    return Rate(int(match.group(1)), float(match.group(2)))


def _hours(environ: Mapping[str, str]) -> float:
    value = environ.get(ENV_CONFIRM_HOURS, "").strip() or "48"
    try:
        hours = float(value)
        if not 0 < hours <= 24 * 30:
            raise ValueError
    except ValueError:
        raise UserError(f"{ENV_CONFIRM_HOURS} must be a number of hours (more than 0, at most 720), "
                        f"not {value!r}") from None
    return hours


def _trusted(environ: Mapping[str, str]) -> str:
    value = environ.get(ENV_TRUSTED, "").strip()
    items = [item.strip() for item in value.split(",") if item.strip()]
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise UserError(f"{ENV_TRUSTED} must list IP addresses or networks (like 127.0.0.1,10.0.0.0/8), not "
                            f"{item!r}") from None
    return ",".join(items)


def load_config(settings: Settings, environ: Mapping[str, str] = os.environ) -> ServiceConfig:
    """Everything the service needs, checked: the first problem is a UserError saying what to set."""
    secret = environ.get(message.ENV_SECRET, "")
    if len(secret) < 16:
        raise UserError(f"{message.ENV_SECRET} is {'too short' if secret else 'not set'}: the service signs its "
                        f"links and forms with it (16 characters or more, the same secret `policy notify` uses)")
    base = message.subscriptions_url(settings)
    if not base:
        raise UserError("subscriptions_url is not set in mkdocs.yml (policy plugin): the service's public address, "
                        "used in the links of its mails, like subscriptions_url: https://subscribe.example.org/")
    mail = message.mail_settings(settings, environ)
    smtp_config(environ)
    site = origin(require_site_url(settings.site_url))
    assert site is not None
    try:
        choices = load_choices(settings)
    except PolicyInvalid as exc:
        raise UserError(f"the policy does not load ({exc.problems[0]}); run `policy check`") from None
    return ServiceConfig(settings, secret.encode(), base, site, database_location(settings, environ),
                         outbox_path(settings), mail, choices, _hours(environ) * 3600,
                         _rate(environ, ENV_RATE_CLIENT, "10/600"), _rate(environ, ENV_RATE_ADDRESS, "3/3600"),
                         _trusted(environ), _previews(environ))
