"""Transports for notices: real SMTP (one reused connection, re-opened when lost) and the .eml outbox.

POLICY_SMTP_URL selects SMTP (smtp_settings says how it is read); without it each message is written as an
.eml file into the outbox folder instead.

send(message, prepare) hands over one message; what can happen, and what the caller is told:

    accepted          a 250 reply to the end of DATA (outbox: the file is in place): returns True; the reply
                      ("250 2.0.0 Ok: queued as 4F2C1") is then the transport's `reply` (outbox: None), one line
                      of at most REPLY_LIMIT characters, control characters replaced (ledger_reply)
    vetoed            prepare() returned False: nothing was handed over; returns False
    refused           a reply: DeliveryError(code), 4xx temporary, 5xx permanent. A 421 (the server is closing
                      the connection and did not take the message) is tried once more on a new connection.
    lost before       the connection dropped or timed out at MAIL, RCPT or DATA, or while the message was being
                      written, before its final dot was sent: the server cannot have accepted it. Tried once
                      more on a new connection; lost again, or not re-opened: DeliveryError(None) — temporary,
                      the caller counts an attempt for this recipient and goes on with the next one.
    outcome unknown   the connection dropped or timed out after the whole message, final dot included, was
                      sent, before the reply: the server may have accepted it. OutcomeUnknown (temporary); it is
                      never sent again by this call — the caller retries it in a later run, not in this one.
    unreachable       the connection cannot be opened for this message (the first one, or a new one after a
                      421 or a loss during the previous message): TransportUnavailable; the run stops, and the
                      message in hand goes back to pending with no attempt counted.

A new connection after a loss is tried once per configured delay (smtp_settings.RECONNECT_DELAYS: three), the
very first one once. prepare() runs exactly once, before anything is handed over; SMTP runs it while the server
answers MAIL FROM, so the ledger's commit overlaps the server's work. A server that offers PIPELINING (RFC 2920;
every common one does) is sent MAIL FROM and RCPT TO in one write and their replies are read after: three round
trips a message instead of four, the ledger's commit overlapping both commands. prepare() may then answer later:
it returns a function, called once the RCPT reply is in, before DATA (the message is never handed over before
the ledger said yes). The outbox writes a message atomically or not at all, and reports a full disk or an
unwritable folder as a one-line UserError.
"""

from __future__ import annotations

import os
import re
import smtplib
import socket
import ssl
import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn, Protocol

from ..errors import UserError
from .files import os_failure, warn_if_committable
from .outbox import Outbox
from .smtp_settings import SMTPConfig, smtp_config

REPLY_LIMIT = 500  # characters of an accepted message's reply that the ledger keeps


class DeliveryError(Exception):
    """One message was not delivered this time: a reply (code 4xx temporary, retry later; 5xx permanent), or the
    connection was lost before it was handed over (code None, temporary)."""

    def __init__(self, code: int | None, text: str) -> None:
        self.code = code
        self.text = text
        super().__init__(f"{code} {text}" if code else text)

    @property
    def permanent(self) -> bool:
        return self.code is not None and self.code >= 500


class OutcomeUnknown(DeliveryError):
    """The connection was lost after the whole message was sent, before the server's reply: it may have been
    accepted. Temporary; it must not be sent again in the same run."""

    def __init__(self, text: str) -> None:
        super().__init__(None, text)


class _Lost(Exception):
    def __init__(self, stage: str, reason: str, after_data: bool) -> None:  # the connection dropped or timed out
        self.stage, self.reason, self.after_data = stage, reason, after_data
        super().__init__(reason)


class _Refused(Exception):
    def __init__(self, code: int, reply: bytes | str, stage: str) -> None:  # a reply other than the expected one
        self.code, self.reply, self.stage = code, reply, stage
        super().__init__(f"{code} at {stage}")


class TransportUnavailable(Exception):
    """The mail server cannot be reached (any more); the run stops, the rest waits for the next run."""


@dataclass(frozen=True)
class Outgoing:
    version: str
    sender: str
    recipient: str
    message_id: str
    data: bytes


Prepare = Callable[[], "bool | Callable[[], bool]"]  # True/False at once, or a function giving it when called


class Transport(Protocol):
    reply: str | None  # the server's reply to the last message send() returned True for (None: not known)

    def describe(self) -> str: ...

    def send(self, message: Outgoing, prepare: Prepare | None = None) -> bool: ...

    def close(self) -> None: ...


def _reply_text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())[:300]


def ledger_reply(code: int, reply: bytes | str) -> str:
    """A server's reply as the ledger keeps it: '250 2.0.0 Ok: queued as 4F2C1' — the lines of a multi-line reply
    joined by spaces, every other control or format character (a bidi override …) replaced by U+FFFD, at most
    REPLY_LIMIT characters. It is the server's text: whoever shows it escapes it."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    text = " ".join(f"{code} {text}".split())
    text = "".join("\ufffd" if unicodedata.category(c)[0] == "C" else c for c in text)
    return text if len(text) <= REPLY_LIMIT else text[:REPLY_LIMIT - 1] + "…"


# --- SMTP -------------------------------------------------------------------------------------------------

class SMTPTransport:
    """One SMTP connection, opened on first use, reused for every message, re-opened after it was lost."""

    def __init__(self, config: SMTPConfig, local_hostname: str | None = None) -> None:
        self.config = config
        self.local_hostname = local_hostname
        self.conn: smtplib.SMTP | None = None
        self.reply: str | None = None
        self.opened = False  # a connection was opened once: later ones are re-connections

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

    def _open(self, reason: str) -> smtplib.SMTP:
        """The connection; the first one is tried once, a re-connection once per delay (RECONNECT_DELAYS, or what
        POLICY_SMTP_RECONNECT_DELAYS says)."""
        if self.conn is not None:
            return self.conn
        if not self.opened:
            self.conn = self._connect()
            self.opened = True
            return self.conn
        for delay in self.config.reconnect:
            time.sleep(delay)
            try:
                self.conn = self._connect()
                return self.conn
            except TransportUnavailable as exc:
                reason = f"{reason}; {exc}"
        raise TransportUnavailable(reason)

    def _drop(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except OSError:
                pass
            self.conn = None

    def _refuse(self, code: int, reply: bytes | str, stage: str) -> NoReturn:
        """After a refusal: RSET to reuse the connection, or drop it when the server said 421 (or is gone)."""
        if code == 421:
            self._drop()
        else:
            try:
                assert self.conn is not None
                self.conn.rset()
            except (smtplib.SMTPException, OSError):
                self._drop()
        raise _Refused(code, reply, stage)

    def _transaction(self, conn: smtplib.SMTP, message: Outgoing, prepare: Prepare | None) -> bool:
        """MAIL, RCPT, DATA as smtplib's sendmail, prepare() run while the server answers MAIL; _Refused, _Lost."""
        stage = "MAIL"
        pipelined = conn.has_extn("pipelining")  # RFC 2920: MAIL and RCPT in one write, their replies read after
        try:
            if pipelined:
                conn.send(f"MAIL FROM:<{message.sender}>\r\nRCPT TO:<{message.recipient}>\r\n")
            else:
                conn.putcmd("mail", f"FROM:<{message.sender}>")
            verdict = prepare() if prepare is not None else True
            if not pipelined and callable(verdict):
                verdict = verdict()
            if not verdict:
                try:
                    mail = conn.getreply()[0]
                    if pipelined:
                        conn.getreply()
                    if mail == 250:
                        conn.rset()
                except (smtplib.SMTPException, OSError):
                    self._drop()
                return False
            code, reply = conn.getreply()
            if pipelined:
                stage = "RCPT"
                rcpt = conn.getreply()
                if callable(verdict) and not verdict():  # the ledger's answer, waited for only now
                    conn.rset()
                    return False
                stage = "MAIL"
            if code != 250:
                self._refuse(code, reply, stage)
            stage = "RCPT"
            if not pipelined:
                conn.putcmd("rcpt", f"TO:<{message.recipient}>")
                rcpt = conn.getreply()
            code, reply = rcpt
            if code not in (250, 251):
                self._refuse(code, reply, stage)
            stage = "DATA"
            conn.putcmd("data")
            code, reply = conn.getreply()
            if code != 354:
                self._refuse(code, reply, stage)
            conn.send(_payload(message.data))  # raises unless every byte, final dot included, was handed over
            stage = "the end of DATA"
            code, reply = conn.getreply()
            if code != 250:
                self._refuse(code, reply, stage)
            self.reply = ledger_reply(code, reply)
            return True
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException, OSError) as exc:  # e.g. "line too long"
            self._drop()
            raise _Lost(stage, str(exc) or type(exc).__name__, stage == "the end of DATA") from None

    def send(self, message: Outgoing, prepare: Prepare | None = None) -> bool:
        """Send one message (the module docstring lists the outcomes); prepare() runs once and may veto it."""
        self.reply = None
        verdicts: list = []

        def once() -> bool | Callable[[], bool]:
            """prepare() the first time; its answer again on a new connection after a loss."""
            if not verdicts:
                verdicts.append(prepare() if prepare else True)
            return verdicts[0]

        reason, lost_here = f"connection to {self.describe()} lost", False
        for attempt in range(2):
            try:
                conn = self._open(reason)
            except TransportUnavailable as exc:
                if not lost_here:  # the server is down, or said 421: not this recipient's doing
                    raise
                raise DeliveryError(None, f"{reason}; it could not be re-opened") from exc
            try:
                return self._transaction(conn, message, once)
            except _Lost as lost:
                if lost.after_data:
                    raise OutcomeUnknown(f"outcome unknown: the connection to {self.describe()} was lost after the "
                                         f"message was sent ({lost.reason}); not re-sent in this run") from None
                reason, lost_here = f"connection to {self.describe()} lost at {lost.stage}: {lost.reason}", True
                if attempt:
                    raise DeliveryError(None, reason) from None
            except _Refused as refused:
                code, reply = refused.code, refused.reply
                if code >= 500 and refused.stage == "MAIL":  # the sender address itself: every message would fail
                    raise UserError(f"the mail server {self.describe()} refuses the sender {message.sender}: "
                                    f"{code} {_reply_text(reply)}") from None
                if code == 421 and not attempt:  # the server is closing the connection (a limit, a restart)
                    reason = f"{self.describe()} closed the connection: 421 {_reply_text(reply)}"
                    continue
                raise DeliveryError(code, _reply_text(reply)) from None
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._drop()


def _payload(data: bytes) -> bytes:
    """The DATA payload: leading dots doubled, CRLF-terminated, then the final dot (as smtplib.SMTP.data)."""
    quoted = re.sub(rb"(?m)^\.", b"..", data)
    if not quoted.endswith(b"\r\n"):
        quoted += b"\r\n"
    return quoted + b".\r\n"


def open_transport(outbox_dir: Path, environ: Mapping[str, str] = os.environ,
                   local_hostname: str | None = None) -> Transport:
    """SMTP when POLICY_SMTP_URL is set, else the outbox folder."""
    config = smtp_config(environ)
    if config is None:
        if not outbox_dir.exists():
            try:
                outbox_dir.mkdir(parents=True, mode=0o700)
            except OSError as exc:
                raise os_failure("cannot create the outbox", outbox_dir, exc) from None
            warn_if_committable(outbox_dir)
        return Outbox(outbox_dir)
    return SMTPTransport(config, local_hostname or socket.getfqdn())
