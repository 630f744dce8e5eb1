"""What a reader may choose when subscribing to the email notices: documents, kinds of change and language.

The follow pages of the static site and the subscription service (`policy subscriptions serve`) offer the same
choices, from the same templates (templates/subscriptions/_choices.html.j2):

    documents   a library's documents, each by its title, and "all documents" (also those added later); a
                single-document project offers no choice
    changes     'material' (material changes only, the default) or 'all' (minor ones too); editorial changes are
                never emailed
    language    the languages the documents are translated into (translations/LANG/ beside each document's files),
                besides the original's (controlling_language); a notice links to the translated page of a
                document that has a translation into the subscriber's language, and to the original otherwise
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..settings import Settings
from ..source.project import Layout, load_project
from ..source.translations import languages
from .translations import language_name

CHANGES = (("material", "Material changes only"), ("all", "Every change, minor ones too"))


@dataclass(frozen=True)
class Choices:
    """The documents (id, title) of a library (none for a single document), each document's translations, and
    the language of the original."""

    documents: tuple[tuple[str, str], ...] = ()
    translations: dict[str, tuple[str, ...]] = field(default_factory=dict)  # document ('' alone) → languages
    original: str = "en"
    changes: tuple[tuple[str, str], ...] = CHANGES

    @property
    def document_ids(self) -> list[str]:
        return [d for d, _ in self.documents]

    @property
    def languages(self) -> list[str]:
        """Every language some document is translated into, sorted (the original's not included)."""
        return sorted({code for codes in self.translations.values() for code in codes} - {self.original})

    def label(self, code: str | None) -> str:
        """'Deutsch (German)'; the original's language when code is empty."""
        code = code or self.original
        own, english = language_name(code), language_name(code, english=True)
        return own if own == english else f"{own} ({english})"

    def translated(self, document: str, language: str | None) -> bool:
        return bool(language) and language in self.translations.get(document, ())


def translation_languages(settings: Settings, layout: Layout, document: str) -> tuple[str, ...]:
    return tuple(languages(layout.folder(settings.policy_dir, document)))


def choices(settings: Settings, layout: Layout, titles: dict[str, str]) -> Choices:
    """The choices of a project whose documents have these titles (document id → title)."""
    documents = tuple((d, titles[d]) for d in layout.documents if d) if layout.is_library else ()
    return Choices(documents, {d: translation_languages(settings, layout, d) for d in layout.documents},
                   str(settings["controlling_language"] or "en"))


def load_choices(settings: Settings) -> Choices:
    """The choices of the project's working tree (PolicyInvalid when it does not load)."""
    layout, policies = load_project(settings.policy_dir)
    return choices(settings, layout, {d: p.title for d, p in policies.items()})
