"""Announced versions checked against the history as it is now: a rewritten text stops notify, a vanished
version's undelivered notices are cancelled.

The ledger records, for every announced version, the content_hash of its published text and the publishing
commit. Before anything is announced or sent, `reconcile` compares them with what the history publishes now
under the same number:

    same text               nothing to do (a new commit with the same text, e.g. after a rebase, is not a rewrite;
                            the ledger keeps the commit it announced)
    other text              UserError naming the version and both commits: the history was rewritten after the
                            announcement, and subscribers were told something else. `--accept-rewrite VERSION`
                            records the new text (and the acknowledgement, in the rewrites table) without
                            announcing the version again; its undelivered notices then carry the new text.
    no longer in history    its pending and sending rows are cancelled with a note (`policy notify --status`)
    not recorded            announced before schema 2: the current text is recorded (trust on first use)

A dry run checks the same way and records nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from ..errors import UserError
from ..source.model import content_hash
from .ledger import AnnouncedText, Ledger


@dataclass(frozen=True)
class Published:
    """What the history publishes now under one version number."""

    content_hash: str
    commit: str | None


def published_texts(models) -> dict[str, Published]:
    """Announced name ('1.1', 'terms/1.1') → content_hash and publishing commit of every version of the models."""
    from .run import announcement_key
    return {announcement_key(m, e): Published(content_hash(e.policy), e.published.commit.sha if e.published.commit
                                              else None) for m in models for e in m.entries}


def _short(commit: str | None) -> str:
    return commit[:10] if commit else "(not from git)"


def reconcile(ledger: Ledger, published: dict[str, Published], accept: Collection[str], now: str,
              dry_run: bool = False) -> list[str]:
    """Check every announced version against the history (see the module docstring); lines to print."""
    announced = ledger.texts()
    unknown = sorted(set(accept) - set(announced))
    if unknown:
        raise UserError(f"--accept-rewrite {unknown[0]}: version {unknown[0]} was never announced, so there is no "
                        f"rewrite to accept; give a version listed by `policy notify --status`")
    rewritten: list[tuple[str, AnnouncedText, Published]] = []
    for version, text in announced.items():
        now_text = published.get(version)
        if now_text is not None and text.content_hash is not None and text.content_hash != now_text.content_hash \
                and version not in accept:
            rewritten.append((version, text, now_text))
    if rewritten:
        what = "; ".join(f"version {v} was announced with the text of commit {_short(old.commit)}, but the history "
                         f"now publishes other text as {v} (commit {_short(new.commit)})" for v, old, new in rewritten)
        first = rewritten[0][0]
        raise UserError(f"the history was rewritten after an announcement: {what}; publish changes as a new version, "
                        f"or run `policy notify --accept-rewrite {first}` to accept the new text without announcing "
                        f"it again")
    lines: list[str] = []
    for version, text in announced.items():
        now_text = published.get(version)
        if now_text is None:
            if text.vanished_at is None:
                count = 0 if dry_run else ledger.cancel_vanished(version, now)
                lines.append(f"version {version} is no longer in the history; "
                             f"{count} undelivered notice{'s' if count != 1 else ''} cancelled")
            continue
        if text.content_hash == now_text.content_hash:
            if version in accept:
                lines.append(f"version {version}: its text is unchanged; no rewrite to accept")
            if text.vanished_at is not None and not dry_run:
                ledger.returned(version)
            continue
        if not dry_run:
            ledger.set_text(version, now_text.content_hash, now_text.commit, now,
                            accepted_from=text if text.content_hash is not None else None)
        if text.content_hash is not None:
            lines.append(f"version {version}: rewritten text accepted (commit {_short(text.commit)} → "
                         f"{_short(now_text.commit)}); not announced again")
    return lines
