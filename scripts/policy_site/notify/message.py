"""Notice emails: one message per (version, subscriber), rendered once per version, personalised cheaply.

A Notice renders the text and HTML templates (templates/email/notice.*.j2) once. Its MIME structure (the two
parts, their boundary) comes from email.message.EmailMessage, which is given no header with text in it; every
header line is written by headers.py from checked parts (never folded by the email package: CVE-2024-6923), and
each finished message's header is read back by headers.check_head before it is handed over. For each recipient
only the parts that differ are filled in: the To, Date, Message-ID and List-Unsubscribe headers, and the
unsubscribe and preferences links in the bodies (quoted-printable, encoded line by line, so only the lines with a
link are encoded again). The Message-ID is
<policy-VERSION-HMAC@LIST-ID>: deterministic per (version, address), and it does not reveal the address.

Links of a subscriber carry a token `uid.HMAC(purpose, uid, address)` keyed with POLICY_UNSUBSCRIBE_SECRET; the
purpose ('unsubscribe', 'preferences') keeps one kind of link from working as the other. Where they lead:

    subscriptions_url   the subscription service (`policy subscriptions serve`): unsubscribe?token=… (one-click,
                        RFC 8058) and preferences?token=…
    unsubscribe_url     an unsubscribe endpoint someone else runs; when set it is the unsubscribe link (and the
                        List-Unsubscribe URL) even with subscriptions_url, whose preferences link stays

A Notice is rendered once per version and language: a subscriber who chose a language that has a translation of
the document gets the notice whose links lead to the translated page (/LANG/…); the words stay the templates'.
"""

from __future__ import annotations

import binascii
import email.policy
import hmac
import html
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any
from urllib.parse import urlsplit

from ..errors import UserError
from ..settings import Settings
from ..site import dates, render
from ..site.model import VersionEntry
from ..source.naming import named_title
from . import headers

ENV_SECRET = "POLICY_UNSUBSCRIBE_SECRET"
POLICY = email.policy.SMTP
SLOT = "POLICYNOTICEUNSUBSCRIBESLOT"  # stands for the unsubscribe URL while templates render
PREFERENCES_SLOT = "POLICYNOTICEPREFERENCESSLOT"  # … and this one for the preferences URL
_BODY_SLOT = "POLICYNOTICEBODYSLOT{}"
_TOKEN_SLOT = "POLICYNOTICETOKENSLOT"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_DOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+\Z")
_UNSAFE = re.compile(r"[^\x21-\x7e]")  # an address in a header or SMTP command: printable ASCII, no space
_UID = re.compile(r"^[0-9a-f]{16}\Z")
_MESSAGE_ID = re.compile(r"^<policy-[a-z0-9.-]+-[0-9a-f]{16}@[a-z0-9.-]+>\Z")
NOTICE_HEADERS = ("To", "Date", "Message-ID", "List-Unsubscribe", "From", "Subject", "List-Id", "List-Archive",
                  "List-Unsubscribe-Post", "Precedence", "Auto-Submitted", "MIME-Version", "Content-Type")
_KIND_LABEL = {"added": "new", "removed": "removed", "renamed": "renamed", "moved": "moved",
               "modified": "text changed"}


def clean_header_text(text: str) -> str:
    """Text for a header: control characters and line breaks collapsed to spaces, one line."""
    return " ".join(_CONTROL.sub(" ", str(text)).split())


@dataclass(frozen=True)
class MailSettings:
    """The validated mail options of mkdocs.yml and the environment."""

    from_address: Address
    list_id: str
    list_label: str
    unsubscribe_url: str | None  # where unsubscribe links lead: unsubscribe_url, else <subscriptions_url>unsubscribe
    secret: bytes | None
    preferences_url: str | None = None  # <subscriptions_url>preferences

    @property
    def sender(self) -> str:
        return self.from_address.addr_spec

    @property
    def mailto(self) -> str:
        return f"mailto:{self.sender}?subject=unsubscribe"


def _from_address(value: object) -> Address:
    text = str(value or "")
    if not text:
        raise UserError("email_from is not set in mkdocs.yml (policy plugin); notices need a sender, e.g.\n"
                        "  email_from: Example privacy team <privacy@example.org>")
    if _CONTROL.search(text):
        raise UserError("email_from in mkdocs.yml contains a line break or control character")
    if "=?" in text:
        raise UserError("email_from in mkdocs.yml must not hold '=?' (encoded header text): write the name as it "
                        "reads, e.g. 'Équipe vie privée <privacy@example.org>'")
    header = POLICY.header_factory("From", text)  # parsed only: the From line is written by headers.py
    addresses: tuple[Address, ...] = tuple(getattr(header, "addresses", ()))
    if header.defects or len(addresses) != 1 or not addresses[0].domain or "." not in addresses[0].domain:
        raise UserError(f"email_from in mkdocs.yml must be one address like 'Privacy team <privacy@example.org>', "
                        f"not {text!r}")
    if not addresses[0].addr_spec.isascii() or _UNSAFE.search(addresses[0].addr_spec):
        raise UserError("the address in email_from must be ASCII (write an international domain as xn--…)")
    if headers.name_problem(addresses[0].display_name):
        raise UserError(f"the name in email_from in mkdocs.yml: {headers.name_problem(addresses[0].display_name)}")
    return addresses[0]


def mail_settings(settings: Settings, environ: Mapping[str, str] = os.environ) -> MailSettings:
    """Validate email_from, list_id, unsubscribe_url and the unsubscribe secret (UserError if wrong)."""
    from_address = _from_address(settings["email_from"])
    host = urlsplit(settings.url()).hostname or "localhost"
    list_id = str(settings["list_id"] or f"policy-notices.{host}")
    if _CONTROL.search(list_id) or not _DOMAIN.match(list_id.lower()):
        raise UserError(f"list_id in mkdocs.yml must look like a domain name (policy.example.org), not {list_id!r}")
    url = settings["unsubscribe_url"]
    service = subscriptions_url(settings)
    secret = environ.get(ENV_SECRET) or None
    if url:
        url = str(url)
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname or re.search(r"[\s<>\"'\\,\x00-\x1f\x7f]", url) \
                or parts.fragment or not url.isascii() or len(url) > 800:
            raise UserError(f"unsubscribe_url in mkdocs.yml must be an https:// URL (ASCII, percent-encoded) "
                            f"without spaces, quotes or a #fragment, not {url!r}")
    if (url or service) and (not secret or len(secret) < 16):
        raise UserError(f"{'unsubscribe_url' if url else 'subscriptions_url'} is set, so {ENV_SECRET} must hold the "
                        f"secret (16 characters or more) that the unsubscribe links are signed with")
    return MailSettings(from_address, list_id.lower(), re.sub(r'[<>"\\]', "", clean_header_text(settings.site_name)),
                        url or (service + "unsubscribe" if service else None), secret.encode() if secret else None,
                        service + "preferences" if service else None)


def subscriptions_url(settings: Settings) -> str | None:
    """The subscription service's public base URL (subscriptions_url in mkdocs.yml), ending in '/', or None.
    https://, or http:// on this machine only (127.0.0.1, ::1, localhost: a local preview or a test)."""
    value = settings["subscriptions_url"]
    if not value:
        return None
    url = str(value)
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host, parts = None, None
    local = host in ("127.0.0.1", "::1", "localhost")
    if parts is None or not host or parts.scheme not in (("https", "http") if local else ("https",)) \
            or re.search(r"[\s<>\"'\\,\x00-\x1f\x7f]", url) or parts.query or parts.fragment or not url.isascii() \
            or len(url) > 700:
        raise UserError(f"subscriptions_url in mkdocs.yml must be the subscription service's https:// address (ASCII, "
                        f"no spaces, quotes, ?query or #fragment), like https://subscribe.example.org/, not {url!r}")
    return url if url.endswith("/") else url + "/"


def message_id(key: bytes, version: str, address: str, domain: str) -> str:
    """<policy-VERSION-HMAC@domain>; a library document's 'terms/1.1' is written terms-1.1."""
    digest = hmac.digest(key, f"{version}\n{address.lower()}".encode(), "sha256").hex()[:16]
    return f"<policy-{version.replace('/', '-').replace('+', '-')}-{digest}@{domain}>"


def subscriber_token(secret: bytes, uid: str, address: str, purpose: str = "unsubscribe") -> str:
    """uid.signature: the endpoint looks the uid up and checks the HMAC-SHA256 signature of (purpose, uid, address)."""
    signature = hmac.digest(secret, f"{purpose}\n{uid}\n{address.lower()}".encode(), "sha256").hex()
    return f"{uid}.{signature[:32]}"


def unsubscribe_token(secret: bytes, uid: str, address: str) -> str:
    return subscriber_token(secret, uid, address, "unsubscribe")


def preferences_token(secret: bytes, uid: str, address: str) -> str:
    return subscriber_token(secret, uid, address, "preferences")


def check_token(secret: bytes, token: str, lookup: Callable[[str], Any], purpose: str = "unsubscribe") -> Any | None:
    """The subscriber a token was made for (lookup(uid) → subscriber with .uid/.email), or None."""
    uid, _, _signature = token.strip().partition(".")
    subscriber = lookup(uid) if _UID.match(uid) else None
    if subscriber is None:
        return None
    expected = subscriber_token(secret, subscriber.uid, subscriber.email, purpose)
    return subscriber if hmac.compare_digest(expected.encode(), token.strip().encode("utf-8", "replace")) else None


def to_header(name: str, address: str) -> bytes:
    """The To line, written by headers.py: a stored name that is not a usable display name is dropped."""
    return headers.address_line("To", name, address)


def _qp(text: str) -> bytes:
    return binascii.b2a_qp(text.encode("utf-8"), istext=True)


class _QPBody:
    """A body as quoted-printable, pre-encoded except for the lines that hold a slot (unsubscribe, preferences)."""

    def __init__(self, text: str, escape) -> None:
        text = text.replace("\r\n", "\n")
        text = (text if text.endswith("\n") else text + "\n").replace("\n", "\r\n")
        self.escape = escape
        self.pieces: list[bytes | str] = []  # bytes: encoded already; str: a line with a slot
        static: list[str] = []
        for line in (part + "\r\n" for part in text.split("\r\n")[:-1]):  # CRLF only, not splitlines()
            if SLOT in line or PREFERENCES_SLOT in line:
                if static:
                    self.pieces.append(_qp("".join(static)))
                    static = []
                self.pieces.append(line)
            else:
                static.append(line)
        if static:
            self.pieces.append(_qp("".join(static)))

    def encode(self, url: str, preferences: str = "") -> bytes:
        value, other = self.escape(url), self.escape(preferences)
        return b"".join(p if isinstance(p, bytes) else _qp(p.replace(SLOT, value).replace(PREFERENCES_SLOT, other))
                        for p in self.pieces)


MAX_LISTED = 40


def _changes(entry: VersionEntry, language: str) -> list[dict[str, str]]:
    items = []
    if entry.diff.introduction:
        items.append({"label": "Introduction", "kind": "text changed", "note": ""})
    for change in entry.diff.changed:
        when = entry.already_amended.get(change.id)
        items.append({"label": change.path_label, "kind": ", ".join(_KIND_LABEL.get(k, k) for k in change.kinds),
                      "note": f"already published as an amendment on {dates.readable(when, language)}" if when else
                      change.move or "", "amended": dates.iso(when) if when else ""})
    return items


class Notice:
    """The notice of one version: rendered once, then personalised per recipient by render()."""

    def __init__(self, settings: Settings, mail: MailSettings, entry: VersionEntry, key: bytes,
                 today: date | None = None, current: VersionEntry | None = None, announced_as: str = "",
                 reminder: bool = False, legal: bool = False, translation: tuple[str, str] | None = None,
                 offered: tuple[str, ...] = ("kinds of change",)) -> None:
        """translation: (the language's English name, the URL of the translated page) for the subscribers who
        chose a language the document is translated into; offered: what a subscriber can choose in this project
        (documents only in a library, a language only where there are translations)."""
        self.version = announced_as or entry.version  # the ledger's name of it: '1.1', or 'terms/1.1' in a library
        self.mail = mail
        self.key = key
        policy = entry.policy
        today = today or settings.build_time.date()
        verb = "takes effect" if policy.effective >= today else "took effect"
        named = named_title(policy.organisation.name, policy.title)
        language = settings["controlling_language"]  # the language of the notice's words, and of its dates
        self.subject = (f"{'Reminder: ' if reminder else ''}{named} {entry.version} — {verb} "
                        f"{dates.readable(policy.effective, language)}")
        previous = entry.previous.version if entry.previous else None
        until_then = entry.until_then.version if entry.until_then and policy.effective > today else None
        in_force_now = current.version if current and current.policy.effective <= today else None
        changes = _changes(entry, language)
        context = {
            "org": policy.organisation.name, "title": policy.title, "version": entry.version,
            "effective": policy.effective, "takes_effect": verb, "upcoming": entry.status == "upcoming",
            "summary": policy.summary, "previous": previous, "changes": changes[:MAX_LISTED],
            "more_changes": max(0, len(changes) - MAX_LISTED), "counts": entry.diff.summary,
            "until_then": until_then, "in_force_now": in_force_now, "kind": entry.kind,
            "reminder": reminder, "legal": legal, "contact": policy.organisation.contact,
            "section_count": len(policy.section_ids()), "changes_url": settings.url(entry.site_changes_path),
            "version_url": settings.url(entry.site_path), "site_url": settings.url(), "list_label": mail.list_label,
            "unsubscribe_url": SLOT if mail.unsubscribe_url and not legal else None, "unsubscribe_address": mail.sender,
            "unsubscribe_mailto": mail.mailto,
            "preferences_url": PREFERENCES_SLOT if mail.preferences_url and not legal else None,
            "offered": " and ".join([", ".join(offered[:-1]), offered[-1]] if len(offered) > 1 else offered),
            "translation_language": translation[0] if translation else None,
            "translation_url": translation[1] if translation else None,
        }
        env = render.environment(settings.template_dirs, settings.site_url, language=language)
        try:
            text = env.overlay(autoescape=False).get_template("email/notice.txt.j2").render(context)
            markup = env.get_template("email/notice.html.j2").render(context)
        except Exception as exc:  # a missing or broken template is the user's to fix
            raise UserError(f"email templates in {settings.templates_dir / 'email'}: {exc}") from None
        self.text, self.html = text, markup
        self._bodies = (_QPBody(text, lambda url: url), _QPBody(markup, lambda url: html.escape(url, quote=True)))
        self._skeleton(settings)

    def _skeleton(self, settings: Settings) -> None:
        msg = EmailMessage(policy=POLICY)  # the MIME structure only: no header with text in it
        try:
            msg.set_content(_BODY_SLOT.format(0) + "\n", cte="quoted-printable")
            msg.add_alternative(_BODY_SLOT.format(1) + "\n", subtype="html", cte="quoted-printable")
            raw = msg.as_bytes()
            own = [headers.address_line("From", self.mail.from_address.display_name, self.mail.sender),
                   headers.line("Subject", headers.text_pieces(self.subject)),
                   headers.line("List-Id", [*headers.phrase(self.mail.list_label),
                                            headers.token(f"<{self.mail.list_id}>", "List-Id")]),
                   headers.line("List-Archive", [headers.token(f"<{settings.url('versions/')}>", "List-Archive")])]
            if self.mail.unsubscribe_url:
                own.append(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")
            own.append(b"Precedence: bulk\r\nAuto-Submitted: auto-generated\r\n")
        except (ValueError, TypeError) as exc:
            raise UserError(f"cannot build the notice of version {self.version}: {exc}") from None
        # pieces between the two body slots; each slot is followed by the CRLF that ended it
        mime, rest = raw.split(b"\r\n\r\n", 1)
        first, rest = rest.split(_BODY_SLOT.format(0).encode() + b"\r\n", 1)
        second, last = rest.split(_BODY_SLOT.format(1).encode() + b"\r\n", 1)
        self._pieces = (b"".join(own) + mime + b"\r\n", b"\r\n" + first, second, last)
        base = self.mail.unsubscribe_url or ""
        self._unsubscribe_base = f"{base}{'&' if '?' in base else '?'}token=" if base else ""
        self._preferences_base = f"{self.mail.preferences_url}?token=" if self.mail.preferences_url else ""
        targets = [f"<{self.mail.mailto}>,"] + ([f"<{self._unsubscribe_base}{_TOKEN_SLOT}>"] if base else [])
        targets[-1] = targets[-1].rstrip(",")
        folded = headers.line("List-Unsubscribe", [headers.token(t, "List-Unsubscribe") for t in targets])
        self._unsubscribe_header = folded.split(_TOKEN_SLOT.encode())
        self._static_bodies = None if self.mail.unsubscribe_url else tuple(b.encode("") for b in self._bodies)
        self._date: tuple[int, bytes] = (0, b"")

    def message_id(self, address: str) -> str:
        return message_id(self.key, self.version, address, self.mail.list_id)

    def unsubscribe_url(self, uid: str, address: str) -> str | None:
        if not self.mail.unsubscribe_url or not self.mail.secret:
            return None
        return self._unsubscribe_base + unsubscribe_token(self.mail.secret, uid, address)  # hex and a dot

    def preferences_url(self, uid: str, address: str) -> str | None:
        if not self._preferences_base or not self.mail.secret:
            return None
        return self._preferences_base + preferences_token(self.mail.secret, uid, address)

    def _date_header(self) -> bytes:
        second = int(time.time())
        if self._date[0] != second:
            self._date = (second, f"Date: {formatdate(second, usegmt=True)}\r\n".encode("ascii"))
        return self._date[1]

    def render(self, address: str, name: str, uid: str, message_id: str) -> bytes:
        """The whole message for one recipient, as bytes with CRLF line ends, ready for SMTP."""
        if not _MESSAGE_ID.match(message_id):
            raise UserError(f"malformed Message-ID in the ledger: {message_id!r}")
        if _UNSAFE.search(address) or address.count("@") != 1:  # stored addresses are validated; never trust
            raise UserError(f"malformed address in the subscribers database: {address!r}")
        if self._static_bodies is not None:
            text, markup = self._static_bodies
            unsubscribe = self._unsubscribe_header[0]
        else:
            if not _UID.match(uid):
                raise UserError(f"malformed subscriber uid in the subscribers database: {uid!r}")
            token = unsubscribe_token(self.mail.secret or b"", uid, address)
            url = f"{self._unsubscribe_base}{token}"
            preferences = f"{self._preferences_base}{preferences_token(self.mail.secret or b'', uid, address)}" \
                if self._preferences_base else ""
            text, markup = (body.encode(url, preferences) for body in self._bodies)
            unsubscribe = token.encode("ascii").join(self._unsubscribe_header)
        head, first, second, last = self._pieces
        head = headers.check_head(b"".join((to_header(name, address), self._date_header(), b"Message-ID: ",
                                            message_id.encode("ascii"), b"\r\n", unsubscribe, head)), NOTICE_HEADERS)
        return b"".join((head, first, text, second, markup, last))

    def message(self, address: str, name: str, uid: str) -> EmailMessage:
        """The parsed message for one recipient (for previews and tests)."""
        import email
        data = self.render(address, name, uid, self.message_id(address))
        return email.message_from_bytes(data, policy=email.policy.default)
