"""The operator's SMTP settings, read from the environment: where notices go, how, and with which login.

POLICY_SMTP_URL selects SMTP:

    smtp://host[:port]                  plain SMTP (port 25), e.g. a local relay
    smtp://host:587?starttls=1          STARTTLS required (also: smtp+starttls://host)
    smtps://host[:465]                  implicit TLS
    ...?timeout=30                      socket timeout in seconds

The user name and password come from the URL (percent-encoded) or from POLICY_SMTP_USER and
POLICY_SMTP_PASSWORD; never printed, and refused over an unencrypted connection to another machine.
POLICY_SMTP_RECONNECT_DELAYS (seconds with commas, default 0,1,3) are the waits before each attempt at a new
connection after one was lost. Every mistake is a one-line UserError that never echoes the password.
"""

from __future__ import annotations

import ipaddress
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from ..errors import UserError

ENV_URL = "POLICY_SMTP_URL"
ENV_USER = "POLICY_SMTP_USER"
ENV_PASSWORD = "POLICY_SMTP_PASSWORD"
RECONNECT_DELAYS = (0.0, 1.0, 3.0)
ENV_RECONNECT = "POLICY_SMTP_RECONNECT_DELAYS"  # other delays, in seconds with commas (the tests' server that is gone)


@dataclass(frozen=True)
class SMTPConfig:
    host: str
    port: int
    tls: str  # 'none' | 'starttls' | 'implicit'
    user: str | None
    password: str | None
    timeout: float
    reconnect: tuple[float, ...] = RECONNECT_DELAYS  # the waits before each attempt at a new connection

    def describe(self) -> str:
        scheme = {"none": "smtp", "starttls": "smtp+starttls", "implicit": "smtps"}[self.tls]
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}" + (" (with login)" if self.user else "")


def _is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def smtp_config(environ: Mapping[str, str] = os.environ) -> SMTPConfig | None:
    """The SMTP settings from POLICY_SMTP_URL, or None (use the outbox). Errors never echo the password."""
    url = environ.get(ENV_URL, "").strip()
    if not url:
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname
    except ValueError:
        raise UserError(f"{ENV_URL} is not a valid URL (like smtp://mail.example.org:587?starttls=1)") from None
    schemes = {"smtp": ("none", 25), "smtp+starttls": ("starttls", 587), "smtps": ("implicit", 465)}
    if parts.scheme not in schemes or not host:
        raise UserError(f"{ENV_URL} must be smtp://HOST[:PORT], smtp+starttls://… or smtps://…, "
                        f"not a URL with scheme {parts.scheme!r}")
    tls, default_port = schemes[parts.scheme]
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = set(query) - {"starttls", "timeout"}
    if unknown or parts.path not in ("", "/"):
        raise UserError(f"{ENV_URL}: unknown part(s) {', '.join(sorted(unknown)) or parts.path}; "
                        f"known: ?starttls=1, ?timeout=SECONDS")
    if query.get("starttls", ["0"])[-1].lower() in ("1", "true", "yes", "required"):
        if tls == "implicit":
            raise UserError(f"{ENV_URL}: smtps:// is already encrypted; starttls=1 is for smtp://")
        tls = "starttls"
    try:
        timeout = float(query.get("timeout", ["30"])[-1])
    except ValueError:
        raise UserError(f"{ENV_URL}: timeout must be a number of seconds") from None
    user = unquote(parts.username) if parts.username else environ.get(ENV_USER) or None
    password = unquote(parts.password) if parts.password else environ.get(ENV_PASSWORD) or None
    if bool(user) != bool(password):
        raise UserError(f"SMTP login needs both a user and a password ({ENV_USER}, {ENV_PASSWORD} or the URL)")
    try:
        reconnect = tuple(float(d) for d in environ.get(ENV_RECONNECT, "").split(",")) \
            if environ.get(ENV_RECONNECT, "").strip() else RECONNECT_DELAYS
    except ValueError:
        raise UserError(f"{ENV_RECONNECT} must be seconds (0 to 3600) separated by commas, like 0,1,3") from None
    if not reconnect or not all(math.isfinite(d) and 0 <= d <= 3600 for d in reconnect):
        raise UserError(f"{ENV_RECONNECT} must be seconds (0 to 3600) separated by commas, like 0,1,3")
    config = SMTPConfig(host, port or default_port, tls, user, password, timeout, reconnect)
    if user and tls == "none" and not _is_local(host):
        raise UserError(f"refusing to send the SMTP password unencrypted to {config.describe()}; "
                        f"use smtps:// or ?starttls=1")
    return config
