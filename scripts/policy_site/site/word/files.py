"""Each version's Word redline on the site: `changes/<v>/redline-<previous>-to-<v>.docx` (redline.py), made once and
reused by later builds (site/gencache.py) while what it shows is the same: the two texts, the publication
date, the amendments already published, the settings and this code. A later version does not change it (its pages
do change: the version is no longer the latest)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from functools import lru_cache, partial
from importlib.metadata import version

from ...keys import digest
from ..dates import iso
from ..gencache import GeneratedFiles
from ..inputs import policy_hash
from ..model import SiteModel, VersionEntry
from .name import word_name


def word_path(entry: VersionEntry) -> str | None:
    """Where a version's Word redline lives, from its document's folder; None for the first version (nothing to
    compare it with)."""
    if entry.previous is None:
        return None
    return entry.changes_path + word_name(entry.previous.version, entry.version)


def word_bytes(model: SiteModel, entry: VersionEntry) -> bytes:
    """The .docx of a version's change as its changes page shows it: from the previous version as published, by
    the organisation, dated the version's publication (outside git: its effective date)."""
    from .redline import default_resolve, redline_docx  # python-docx: imported by a build that writes one
    assert entry.previous is not None
    published = entry.published.published
    when = published or datetime.combine(entry.policy.effective, time(0), UTC)
    return redline_docx(entry.diff, entry.policy.organisation.name, when, f"version {entry.previous.version}",
                        f"version {entry.version}", default_resolve(model.settings.url()),
                        model.settings["controlling_language"], published=published,
                        amended=entry.already_amended)


@lru_cache(maxsize=1)
def _writer_version() -> str:
    return version("python-docx")


def word_key(files: GeneratedFiles, model: SiteModel, entry: VersionEntry) -> str:
    """What a version's Word redline shows (module docstring), as a key."""
    previous, published = entry.previous, entry.published
    assert previous is not None
    return digest(files.base, "redline.docx", _writer_version(), model.prefix, entry.version,
                  published.key or policy_hash(entry.policy), previous.version,
                  previous.key or policy_hash(previous.policy), iso(published.published),
                  sorted((k, iso(v)) for k, v in entry.already_amended.items()))


def write_word_files(model: SiteModel, files: GeneratedFiles) -> None:
    """Every version's Word redline, each rendered only when what it shows (or this code) changed."""
    if not model.settings["word"]:
        return
    for entry in model.entries:
        path = word_path(entry)
        if path is not None:
            files.file(model.prefix + path, word_key(files, model, entry), partial(word_bytes, model, entry))
