"""What the site may truthfully say about email notices, from the configuration it is built with.

A page promises email only when the project sends it (`email_from` is set: `policy notify` has a sender), and
promises notice *before* a change takes effect only when `notice_days` makes `policy check` enforce it, or,
for one version, when that version was in fact published before its effective date. The sentences
themselves are in the templates (pages/_notices.md.j2); this is the data they are true of.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..settings import Settings


@dataclass(frozen=True)
class NoticeTerms:
    """Whether notices are emailed, and the minimum days between publishing a material change and its effect."""

    email: bool
    notice_days: int

    @classmethod
    def of(cls, settings: Settings, documents: list[str]) -> NoticeTerms:
        """The terms for these documents ([''] in a project of one): the smallest notice period among them."""
        days = min((settings.days("notice_days", document) for document in documents or [""]), default=0)
        return cls(email=bool(settings["email_from"]), notice_days=days)
