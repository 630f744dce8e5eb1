"""The confirmation email: what was chosen, the link to confirm it, sent through the transport of the notices
(SMTP when POLICY_SMTP_URL is set, else a file in the outbox folder, under confirmations/).

It is transactional mail — asked for by whoever typed the address, sent once — so it carries no list headers
and no unsubscribe link: ignoring it is how one says no. To an address that is subscribed already it says so, and
links its preferences page as well. It is sent after the answer page has gone out (a background task), so the
time of the answer tells nothing about the address. A failure is logged as one line without the address.
"""

from __future__ import annotations

import email.policy
import logging
import secrets
from email.message import EmailMessage
from email.utils import formatdate

from ..errors import UserError
from ..notify import headers, message
from ..notify.addresses import display, lookalike_warning
from ..notify.pending import Pending
from ..notify.store import Subscriber
from ..notify.transport import DeliveryError, Outgoing, TransportUnavailable, open_transport
from .actions import redact
from .config import ServiceConfig
from .pages import Pages

log = logging.getLogger("policy.subscriptions")
FOLDER = "confirmations"  # the outbox's folder for them
CONFIRM_HEADERS = ("From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted", "MIME-Version", "Content-Type",
                   "Content-Transfer-Encoding")


class ConfirmationMail:
    def __init__(self, config: ServiceConfig, pages: Pages) -> None:
        self.config = config
        self.template = pages.env.overlay(autoescape=False).get_template("email/confirm.txt.j2")

    def build(self, found: Pending, token: str, subscriber: Subscriber | None) -> tuple[str, bytes]:
        """The mail's Message-ID and bytes. Its header lines are written by notify/headers.py from checked parts (a
        name that is not a usable display name is left out, the address is the stored ASCII form); the body, in
        quoted-printable, shows the address as typed and a warning when its domain looks like another."""
        config, choices = self.config, self.config.choices
        already = subscriber is not None and subscriber.status == "active"
        titles = dict(choices.documents)
        documents = ", ".join(titles.get(d, d) for d in found.preferences.document_ids) or "all documents"
        preferences_url = None
        if already and subscriber is not None:
            token_ = message.preferences_token(config.secret, subscriber.uid, subscriber.email)
            preferences_url = config.url(f"preferences?token={token_}")
        name = headers.safe_name(found.name)
        text = self.template.render(
            name=name, already=already, site_name=config.settings.site_name, address=display(found.email),
            lookalike=lookalike_warning(found.email),
            site_url=config.settings.url(), confirm_url=config.url(f"confirm?token={token}"),
            documents=documents if choices.documents else None,
            changes=dict(choices.changes)[found.preferences.changes],
            language=choices.label(found.preferences.language) if choices.languages else None,
            expires=found.expires_at.replace("T", " ").removesuffix("Z"), preferences_url=preferences_url)
        msg = EmailMessage(policy=email.policy.SMTP)  # the body only: no header with text in it
        msg.set_content(text, cte="quoted-printable")
        mime, body = msg.as_bytes().split(b"\r\n\r\n", 1)
        message_id = f"<confirm-{secrets.token_hex(12)}@{config.mail.list_id}>"
        head = b"".join((
            headers.address_line("From", config.mail.from_address.display_name, config.mail.sender),
            headers.address_line("To", name, found.email),
            headers.line("Subject", headers.text_pieces(f"Confirm your subscription: {config.settings.site_name}")),
            headers.line("Date", [formatdate(usegmt=True)]),
            headers.line("Message-ID", [headers.token(message_id, "Message-ID")]),
            b"Auto-Submitted: auto-generated\r\n", mime, b"\r\n"))
        return message_id, headers.check_head(head, CONFIRM_HEADERS) + b"\r\n" + body

    def send(self, found: Pending, token: str, subscriber: Subscriber | None) -> bool:
        """Build and send one confirmation mail; False (and one line in the log) when it could not be sent."""
        try:
            message_id, data = self.build(found, token, subscriber)
            transport = open_transport(self.config.outbox)
            try:
                transport.send(Outgoing(FOLDER, self.config.mail.sender, found.email, message_id, data))
            finally:
                transport.close()
        except (DeliveryError, TransportUnavailable, UserError, OSError, ValueError) as exc:
            log.error("a confirmation mail was not sent: %s", redact(str(exc)))
            return False
        log.info("a confirmation mail was sent")
        return True
