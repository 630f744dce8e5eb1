"""Machine-readable outputs: /versions.json and /versions/<v>/policy.json.

policy.json holds the version's text as data (`policy`, the YAML's form) and, under `text`, every inline
text mapped to its words as runs [text, formatting, glued]: what compare.js diffs, so the browser never
parses Markdown and finds exactly the words the Python diff finds.
"""

from __future__ import annotations

from functools import lru_cache

from ..source import inline
from ..source.model import Policy, policy_texts, policy_to_data
from .dates import iso
from .jsontext import dumps
from .model import SiteModel, VersionEntry
from .word.name import word_name


def version_record(model: SiteModel, entry: VersionEntry, pdf: dict[str, str] | None = None) -> dict:
    """A version as versions.json and policy.json list it; pdf: its PDFs' URLs and sha256 (site/pdf.py), when
    the site has them."""
    settings = model.settings
    published = entry.published
    return {
        "version": entry.version,
        "status": entry.status,
        "change": entry.kind,
        "effective": entry.policy.effective.isoformat(),
        "in_force_to": entry.in_force_to.isoformat() if entry.in_force_to else None,
        "published": iso(published.published) or None,
        "updated": iso(published.updated) or None,
        "commit": published.commit.sha if published.commit else None,
        "content_hash": entry.content_hash,
        "rewritten": entry.rewrites,
        "summary": entry.policy.summary,
        "amendments": [{"commit": a.commit.sha, "date": iso(a.commit.time),
                        "sections": [c.id for c in d.changed]} for a, d in entry.amendments],
        "changed_sections": [{"id": c.id, "kinds": list(c.kinds)} for c in entry.diff.changed],
        "url": settings.url(entry.site_path),
        "changes_url": settings.url(entry.site_changes_path),
        "json_url": settings.url(entry.site_path + "policy.json"),
        # its RFC 3161 token (site/timestamps.py): address, sha256, the authority's time, the imprint it stamps
        "timestamp": entry.timestamp.record(settings.url(entry.site_path + "timestamp.tsr"))
        if entry.timestamp else None,
        # its changes as a Word document with tracked changes (site/word/), when the site has them
        "word_url": settings.url(entry.site_changes_path + word_name(entry.previous.version, entry.version))
        if settings["word"] and entry.previous is not None else None,
        **(pdf or {}),
    }


def versions_json(model: SiteModel, pdfs: dict[str, dict[str, str]] | None = None) -> str:
    return dumps({
        "title": model.current.policy.title,
        "current": model.current.version,
        "generated": iso(model.settings.build_time),
        "history_complete": not model.history.shallow and model.history.from_git,
        "versions": [version_record(model, e, (pdfs or {}).get(e.version)) for e in model.newest_first],
    })


_SECTION_DATA: dict = {}


@lru_cache(maxsize=65536)
def _runs(text: str) -> list:
    return [[t, list(m), g] for t, m, g in inline.runs(text)]


def policy_document(policy: Policy) -> dict:
    """A version's text as data, with the words of each text and their formatting (what compare.js diffs)."""
    return {"policy": policy_to_data(policy, _SECTION_DATA), "text": {t: _runs(t) for t in policy_texts(policy)}}


def policy_json(model: SiteModel, entry: VersionEntry) -> str:
    return dumps({**version_record(model, entry), **policy_document(entry.policy)}, compact=True)
