"""What a subscribe or preferences form submitted, read and checked against the choices offered (site/choices.py).

Fields: `email`, `name` (optional), `documents` (repeatable: document ids, or `all`; a library only), `changes`
(`material` or `all`), `language` (a translation's code, or empty for the original's). Each problem is one
sentence for the page; the values come back as typed, for the form to show again (escaped by the templates).
An invalid address gets one message, whatever is wrong with it — the same normalisation as every other way in
(notify/addresses.py: IDNA 2008 domains, ASCII before the @).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..notify.addresses import InvalidAddress, normalise_address, normalise_name
from ..notify.store import Preferences
from ..site.choices import Choices

MAX_ADDRESS = 320
BAD_ADDRESS = "Please enter a valid email address, like name@example.org."
BAD_NAME = ("The name must be one line of at most 200 characters, without control characters (or left "
            "empty).")
NO_DOCUMENT = "Choose at least one document, or all documents."
NOT_OFFERED = "Please choose from the options shown."


@dataclass
class Choice:
    """The choices as submitted (for the form) and as stored (preferences)."""

    preferences: Preferences
    documents: list[str] = field(default_factory=lambda: ["all"])
    changes: str = "material"
    language: str = ""

    @classmethod
    def of(cls, preferences: Preferences) -> Choice:
        return cls(preferences, preferences.document_ids or ["all"], preferences.changes, preferences.language or "")


@dataclass
class Submission:
    address: str
    name: str
    choice: Choice
    email: str | None = None  # normalised; None when invalid
    errors: list[str] = field(default_factory=list)


def _values(form: Any, key: str) -> list[str]:
    getlist = getattr(form, "getlist", None)
    values = getlist(key) if getlist else ([form[key]] if key in form else [])
    return [v for v in values if isinstance(v, str)]


def _value(form: Mapping[str, Any], key: str, limit: int = 200) -> str:
    value = form.get(key, "")
    return value[:limit] if isinstance(value, str) else ""


def read_choice(form: Mapping[str, Any], choices: Choices) -> tuple[Choice, list[str]]:
    errors: list[str] = []
    documents = [d for d in _values(form, "documents")[:50] if d]
    offered = set(choices.document_ids) | {"all"}
    if choices.documents and not documents:
        errors.append(NO_DOCUMENT)
    if not set(documents) <= offered:
        errors.append(NOT_OFFERED)
        documents = [d for d in documents if d in offered]
    changes = _value(form, "changes") or "material"
    language = _value(form, "language")
    if changes not in dict(choices.changes) or (language and language not in choices.languages):
        if NOT_OFFERED not in errors:
            errors.append(NOT_OFFERED)
        changes = changes if changes in dict(choices.changes) else "material"
        language = language if language in choices.languages else ""
    chosen = [] if not choices.documents or "all" in documents else documents
    preferences = Preferences.of(chosen, changes, language or None)
    return Choice(preferences, documents or (["all"] if not choices.documents else []), changes, language), errors


def read_subscription(form: Mapping[str, Any], choices: Choices) -> Submission:
    address, name = _value(form, "email", MAX_ADDRESS + 1), _value(form, "name", 1000)
    choice, errors = read_choice(form, choices)
    submission = Submission(address.strip(), name, choice)
    try:
        if len(address) > MAX_ADDRESS:
            raise InvalidAddress("too long")
        submission.email = normalise_address(address)
    except InvalidAddress:
        submission.errors.append(BAD_ADDRESS)
    try:
        submission.name = normalise_name(name)
    except InvalidAddress:
        submission.errors.append(BAD_NAME)
    submission.errors.extend(errors)
    return submission
