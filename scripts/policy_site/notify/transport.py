"""Transports for notices: real SMTP (one reused connection, reconnect on drop) and the .eml outbox.

POLICY_SMTP_URL selects SMTP:

    smtp://host[:port]                  plain SMTP (port 25), e.g. a local relay
    smtp://host:587?starttls=1          STARTTLS required (also: smtp+starttls://host)
    smtps://host[:465]                  implicit TLS
    ...?timeout=30                      socket timeout in seconds

The user name and password come from the URL (percent-encoded) or from POLICY_SMTP_USER and
POLICY_SMTP_PASSWORD; they are never printed (describe() shows scheme, host and port only), and they
are refused over an unencrypted connection to anything but the local machine.
Without POLICY_SMTP_URL each message is written as an .eml file into the outbox folder instead.

Per-message replies: a 4xx reply raises DeliveryError(temporary), a 5xx one DeliveryError(permanent);
a 421 (the server closing the connection) re-opens it and retries the message once. A lost connection
is re-opened (three tries); if that fails, TransportUnavailable stops the run.

send(message, prepare) runs prepare() once, before anything is handed over; SMTP runs it while the
server answers MAIL FROM, so the ledger's commit overlaps the server's work instead of adding to it.
"""

from __future__ import annotations

import ipaddress
import os
import smtplib
import socket
import ssl
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from ..errors import UserError

ENV_URL = "POLICY_SMTP_URL"
ENV_USER = "POLICY_SMTP_USER"
ENV_PASSWORD = "POLICY_SMTP_PASSWORD"
RECONNECT_DELAYS = (0.0, 1.0, 3.0)


class DeliveryError(Exception):
    """The server refused one message: code 4xx is temporary (retry later), 5xx permanent."""

    def __init__(self, code: int, text: str) -> None:
        self.code = code
        self.text = text
        super().__init__(f"{code} {text}")

    @property
    def permanent(self) -> bool:
        return self.code >= 500


class TransportUnavailable(Exception):
    """The mail server cannot be reached (any more); the run stops, the rest waits for the next run."""


@dataclass(frozen=True)
class Outgoing:
    version: str
    sender: str
    recipient: str
    message_id: str
    data: bytes


class Transport(Protocol):
    def describe(self) -> str: ...

    def send(self, message: Outgoing, prepare: Callable[[], bool] | None = None) -> bool: ...

    def close(self) -> None: ...


def _reply_text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())[:300]


# --- the outbox -------------------------------------------------------------------------------------------

class Outbox:
    """Each message as OUTBOX/VERSION/<message-id>.eml, written atomically (a re-send overwrites)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def describe(self) -> str:
        return f"outbox {self.folder}"

    def send(self, message: Outgoing, prepare: Callable[[], bool] | None = None) -> bool:
        if prepare is not None and not prepare():
            return False
        target_dir = self.folder / message.version
        if not target_dir.is_dir():
            target_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = message.message_id.strip("<>").replace("/", "_") + ".eml"
        fd, tmp = tempfile.mkstemp(dir=target_dir, prefix=".tmp-", suffix=".eml")  # created 0600
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(message.data)
            os.replace(tmp, target_dir / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return True

    def close(self) -> None:
        pass


# --- SMTP -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SMTPConfig:
    host: str
    port: int
    tls: str  # 'none' | 'starttls' | 'implicit'
    user: str | None
    password: str | None
    timeout: float

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
    config = SMTPConfig(host, port or default_port, tls, user, password, timeout)
    if user and tls == "none" and not _is_local(host):
        raise UserError(f"refusing to send the SMTP password unencrypted to {config.describe()}; "
                        f"use smtps:// or ?starttls=1")
    return config


class SMTPTransport:
    """One SMTP connection, opened on first use, reused for every message, re-opened when dropped."""

    def __init__(self, config: SMTPConfig, local_hostname: str | None = None) -> None:
        self.config = config
        self.local_hostname = local_hostname
        self.conn: smtplib.SMTP | None = None

    def describe(self) -> str:
        return self.config.describe()

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        context = ssl.create_default_context()
        try:
            if c.tls == "implicit":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(c.host, c.port, local_hostname=self.local_hostname,
                                                      timeout=c.timeout, context=context)
            else:
                conn = smtplib.SMTP(c.host, c.port, local_hostname=self.local_hostname, timeout=c.timeout)
            conn.ehlo()
            if c.tls == "starttls":
                conn.starttls(context=context)
                conn.ehlo()
            if c.user and c.password:
                conn.login(c.user, c.password)
        except smtplib.SMTPAuthenticationError as exc:
            raise UserError(f"the mail server {c.describe()} refused the login: "
                            f"{exc.smtp_code} {_reply_text(exc.smtp_error)}") from None
        except smtplib.SMTPNotSupportedError as exc:
            raise UserError(f"the mail server {c.describe()} does not support {exc}") from None
        except ssl.SSLError as exc:
            raise UserError(f"TLS with {c.describe()} failed: {exc}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TransportUnavailable(f"cannot connect to {c.describe()}: {exc}") from None
        return conn

    def _reconnect(self, reason: str) -> None:
        self._drop()
        for delay in RECONNECT_DELAYS:
            time.sleep(delay)
            try:
                self.conn = self._connect()
                return
            except TransportUnavailable as exc:
                reason = str(exc)
        raise TransportUnavailable(reason)

    def _drop(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except OSError:
                pass
            self.conn = None

    def _transaction(self, message: Outgoing, prepare: Callable[[], bool] | None) -> bool:
        """MAIL, RCPT, DATA (what smtplib's sendmail does, addresses being validated already), with
        prepare() run while the server answers MAIL: nothing is handed over before the body's final dot."""
        conn = self.conn
        assert conn is not None
        conn.putcmd("mail", f"FROM:<{message.sender}>")
        if prepare is not None and not prepare():
            if conn.getreply()[0] == 250:
                conn.rset()
            return False
        code, reply = conn.getreply()
        if code != 250:
            self._abandon(code)
            raise smtplib.SMTPSenderRefused(code, reply, message.sender)
        conn.putcmd("rcpt", f"TO:<{message.recipient}>")
        code, reply = conn.getreply()
        if code not in (250, 251):
            self._abandon(code)
            raise smtplib.SMTPRecipientsRefused({message.recipient: (code, reply)})
        code, reply = conn.data(message.data)
        if code != 250:
            self._abandon(code)
            raise smtplib.SMTPDataError(code, reply)
        return True

    def _abandon(self, code: int) -> None:
        """After a refusal: RSET to reuse the connection, or close it when the server said 421."""
        assert self.conn is not None
        if code == 421:
            self.conn.close()
        else:
            self.conn.rset()

    def send(self, message: Outgoing, prepare: Callable[[], bool] | None = None) -> bool:
        """Send one message; prepare() runs exactly once, before anything is handed over, and may veto it."""
        prepared = [prepare is None]

        def once() -> bool:
            prepared[0] = True
            return prepare() if prepare else True

        if self.conn is None:  # first use: one try; a server that is down stops the run at once
            self.conn = self._connect()
        code: int
        reply: bytes | str
        for attempt in range(2):
            try:
                return self._transaction(message, None if prepared[0] else once)
            except smtplib.SMTPRecipientsRefused as exc:
                code, reply = next(iter(exc.recipients.values()), (450, b"refused"))
            except smtplib.SMTPSenderRefused as exc:
                code, reply = exc.smtp_code, exc.smtp_error
                if code >= 500:  # the sender address itself: every message would fail
                    raise UserError(f"the mail server {self.describe()} refuses the sender {message.sender}: "
                                    f"{code} {_reply_text(reply)}") from None
            except smtplib.SMTPResponseException as exc:  # SMTPDataError and other replies
                code, reply = exc.smtp_code, exc.smtp_error
            except (smtplib.SMTPServerDisconnected, OSError) as exc:
                if attempt:
                    raise TransportUnavailable(f"connection to {self.describe()} lost again: {exc}") from None
                self._reconnect(f"connection to {self.describe()} lost: {exc}")
                continue
            if code == 421:  # the server is closing the connection (a per-connection limit, a restart)
                self._drop()
                if not attempt:
                    self._reconnect(f"{self.describe()} closed the connection: 421 {_reply_text(reply)}")
                    continue
            raise DeliveryError(code, _reply_text(reply))
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._drop()


def open_transport(outbox_dir: Path, environ: Mapping[str, str] = os.environ,
                   local_hostname: str | None = None) -> Transport:
    """SMTP when POLICY_SMTP_URL is set, else the outbox folder."""
    config = smtp_config(environ)
    if config is None:
        if not outbox_dir.exists():
            from .store import warn_if_committable
            outbox_dir.mkdir(parents=True, mode=0o700)
            warn_if_committable(outbox_dir)
        return Outbox(outbox_dir)
    return SMTPTransport(config, local_hostname or socket.getfqdn())
