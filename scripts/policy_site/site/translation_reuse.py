"""Translations kept between builds: a document's translation into one language whose inputs are the last build's
keeps its page and translation.json, and its files are neither parsed nor rendered again.

A translation's page shows the document (its version in force, the sections changed since each source_version)
and the translation's own files. So its key is the document's fingerprint (gencache.GeneratedFiles.fingerprint:
every version's state, the templates, the settings, this code) with the bytes of every file under
translations/LANG/ (keys.tree_digest); the page and translation.json are kept through the record of generated
files like a document's (GeneratedFiles.reuse_document under the prefix 'LANG/<document>/'). No key where the
fingerprint has none (a project's own templates, versions outside git) or where translations have PDFs (written
beside the page, not through the record): those are read and rendered every time.

The library-wide pages of a language (/LANG/ lists its documents with how many sections are current, and
/LANG/sitemap.xml) still see every translation: a kept one is shown by `KeptTranslation`, read back from its own
translation.json (which holds the title and every section's status). This module does not import MkDocs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..keys import digest, tree_digest
from ..source.translations import TRANSLATIONS_DIR
from .choices import Choices
from .gencache import GeneratedFiles
from .model import SiteModel


@dataclass(frozen=True)
class KeptStatus:
    status: str


@dataclass(frozen=True)
class KeptText:
    title: str


@dataclass(frozen=True)
class KeptTranslation:
    """What a language's library pages read of a translation kept as it was (site/pages.translated_pages)."""

    model: SiteModel
    language: str
    translation: KeptText
    statuses: tuple[KeptStatus, ...]

    @property
    def prefix(self) -> str:
        return f"{self.language}/{self.model.prefix}"


def translation_key(files: GeneratedFiles, model: SiteModel, offered: Choices, folder: Path,
                    language: str) -> str | None:
    """The key of a translation's page and translation.json; None when they cannot be kept (module docstring)."""
    if model.settings["pdf"]:
        return None
    fingerprint = files.fingerprint(model, offered)
    if fingerprint is None:
        return None
    return digest("translation", fingerprint, language, tree_digest(folder / TRANSLATIONS_DIR / language))


def kept(files: GeneratedFiles, model: SiteModel, language: str, key: str | None) -> KeptTranslation | None:
    """The translation as the last build wrote it, when its key is the same and its files are still as that build
    left them (then they are kept); else None (it is read and rendered)."""
    prefix = f"{language}/{model.prefix}"
    if key is None or not files.reuse_document(prefix, key):
        return None
    try:
        data = json.loads(Path(files.out.path(prefix + "translation.json")).read_bytes())
        return KeptTranslation(model, language, KeptText(str(data["title"])),
                               tuple(KeptStatus(str(s["status"])) for s in data["sections"]))
    except (OSError, ValueError, KeyError, TypeError):  # not what this code writes: checked by the record
        raise RuntimeError(f"{prefix}translation.json does not read as the record says") from None
