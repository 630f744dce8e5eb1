"""Each version's Word redline on the site: `changes/<v>/redline-<previous>-to-<v>.docx` (diff/word.py), made once
per version state and reused by warm builds like its pages (site/gencache.py)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from functools import partial
from importlib.metadata import version

from ..diff.word import default_resolve, redline_docx, word_name
from .gencache import GeneratedFiles, digest
from .model import SiteModel, VersionEntry


def word_path(entry: VersionEntry) -> str | None:
    """Where a version's Word redline lives, from its document's folder; None for the first version (nothing to
    compare it with)."""
    if entry.previous is None:
        return None
    return entry.changes_path + word_name(entry.previous.version, entry.version)


def word_bytes(model: SiteModel, entry: VersionEntry) -> bytes:
    """The .docx of a version's change as its changes page shows it: from the previous version as published, by
    the organisation, dated the version's publication (outside git: its effective date)."""
    assert entry.previous is not None
    published = entry.published.published
    when = published or datetime.combine(entry.policy.effective, time(0), UTC)
    return redline_docx(entry.diff, entry.policy.organisation.name, when, f"version {entry.previous.version}",
                        f"version {entry.version}", default_resolve(model.settings.url()),
                        model.settings["controlling_language"], published=published,
                        amended=entry.already_amended)


def write_word_files(model: SiteModel, files: GeneratedFiles) -> None:
    """Every version's Word redline, each rendered only when its version's state (or this code) changed."""
    made_by = version("python-docx")
    for entry in model.entries:
        path = word_path(entry)
        if path is not None:
            files.file(model.prefix + path, digest(files.scope(model, entry), "redline.docx", made_by),
                       partial(word_bytes, model, entry))
