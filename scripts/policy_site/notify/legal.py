"""Legal notices: the notice of a version for every account holder, sent by the organisation's own systems.

Subscribers opted in to a mailing list: their notices are list mail (List-Id, one-click List-Unsubscribe,
Precedence: bulk) and `policy notify` sends them. Telling every account holder of a material change is another
thing: a legal notice the organisation owes its customers whatever their mailing preferences, addressed from its
own customer records, not from an opt-in list. Mailbox providers' bulk-sender rules (Gmail, Yahoo) treat such
notices as transactional mail: no unsubscribe is required, and offering one would wrongly suggest that a
customer can opt out of being told about their contract. So this module renders the same notice — the same
templates with `legal` set, whose footer says why the reader receives it — as a complete message without any
list header and without a recipient, for the organisation's account mail system to address and send. Keeping
the two streams apart also keeps the opt-in list's reputation and consent records clean.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from ..errors import UserError
from ..settings import Settings
from ..site.model import SiteModel, VersionEntry
from . import headers
from .message import POLICY, MailSettings, Notice

LEGAL_HEADERS = ("From", "Subject", "Date", "Message-ID", "Auto-Submitted", "MIME-Version", "Content-Type")


def legal_notice(settings: Settings, mail: MailSettings, model: SiteModel, entry: VersionEntry) -> Notice:
    """The version's notice rendered as a legal notice (text and HTML; no unsubscribe)."""
    return Notice(settings, mail, entry, b"legal", current=model.current,
                  announced_as=f"{model.document}/{entry.version}" if model.document else entry.version, legal=True)


def legal_message(notice: Notice, mail: MailSettings) -> bytes:
    """The whole message without To: From, Subject, Date, a Message-ID, both parts; no List-* header. Every header
    line is written by headers.py (the email package only lays out the MIME parts)."""
    msg = EmailMessage(policy=POLICY)
    try:
        msg.set_content(notice.text, cte="quoted-printable")
        msg.add_alternative(notice.html, subtype="html", cte="quoted-printable")
        mime, body = msg.as_bytes().split(b"\r\n\r\n", 1)
        own = b"".join((headers.address_line("From", mail.from_address.display_name, mail.sender),
                        headers.line("Subject", headers.text_pieces(notice.subject)),
                        headers.line("Date", [formatdate(usegmt=True)]),
                        headers.line("Message-ID", [headers.token(make_msgid("policy-legal", domain=mail.list_id),
                                                                  "Message-ID")]),
                        b"Auto-Submitted: auto-generated\r\n"))
    except (ValueError, TypeError) as exc:
        raise UserError(f"cannot build the legal notice of version {notice.version}: {exc}") from None
    return headers.check_head(own + mime + b"\r\n", LEGAL_HEADERS) + b"\r\n" + body
