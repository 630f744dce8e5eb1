"""One version's notice campaign as the ledger recorded it, read-only: for `policy evidence`.

The announcement (when, to how many, the content_hash and commit of the text announced), the count of messages in
each status, and one row per recipient: the address, the Message-ID, the status, attempts, when it was sent (or last
changed), and the server's reply. For a sent message that is the mail server's reply to the end of DATA as the
ledger keeps it (`server_reply`, e.g. "250 2.0.0 Ok: queued as 4F2C1"); None where it was not recorded — written to
the outbox, or sent before the ledger kept replies (SQLite schema 5, PostgreSQL schema 4; a database at an older
schema is read as it is, never upgraded) — and only then the row says "not recorded" (`reply_note`). For a
refused, deferred or cancelled message it is the error the ledger keeps (`last_error`: the server's refusal, or what
went wrong).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .backend import Location, open_read_only

STATUSES = ("sent", "failed", "pending", "sending", "cancelled")
NOT_RECORDED = "not recorded (written to the outbox, or sent before the ledger kept the server's replies)"


@dataclass
class Campaign:
    version: str  # as the ledger names it: '1.1' or 'terms/1.1'
    announced_at: str
    recipients: int
    content_hash: str | None
    commit: str | None
    counts: dict[str, int] = field(default_factory=dict)
    deliveries: list[dict] = field(default_factory=list)  # email, message_id, status, attempts, time, reply…


def read_campaign(location: Location, version: str) -> Campaign | None:
    """The campaign of one announced version; None when there is no database or it was never announced."""
    db = open_read_only(location)
    if db is None:
        return None
    try:
        text = "content_hash, commit_sha" if "content_hash" in db.columns("announcements") else "NULL, NULL"
        found = db.execute(f"SELECT version, announced_at, recipients, {text} FROM announcements "
                           "WHERE version = ?", (version,)).fetchall()
        if not found:
            return None
        row = found[0]
        campaign = Campaign(str(row[0]), str(row[1]), int(row[2]), row[3], row[4], {s: 0 for s in STATUSES})
        reply = "d.server_reply" if "server_reply" in db.columns("deliveries") else "NULL"
        for email, message_id, status, attempts, sent_at, updated_at, error, accepted in db.execute(
                "SELECT s.email, d.message_id, d.status, d.attempts, d.sent_at, d.updated_at, d.last_error, "
                f"{reply} FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE d.version = ? "
                "ORDER BY d.message_id", (version,)):
            campaign.counts[status] = campaign.counts.get(status, 0) + 1
            sent = status == "sent"  # a sent row's last_error is an earlier attempt's, not its reply
            delivery = {"email": email, "message_id": message_id, "status": status, "attempts": int(attempts),
                        "time": str(sent_at or updated_at), "reply": accepted if sent else error}
            if sent and accepted is None:
                delivery["reply_note"] = NOT_RECORDED
            campaign.deliveries.append(delivery)
        return campaign
    except db.errors as exc:
        raise db.failure(exc) from None
    finally:
        db.close()
