"""Heading anchors: GitHub-style slugs (what the old page's anchors were) and section ids (our id rule).

GitHub (github-slugger): lower-case; every character that is not a letter, mark, number, connector
punctuation (_), hyphen or space removed; each space a hyphen; a repeated slug gets -1, -2, … .
Our ids are lowercase ASCII letters, digits and single hyphens: accents are dropped (é → e), anything else
becomes a hyphen.
"""

from __future__ import annotations

import re
import unicodedata

from ..source.model import ID_PATTERN

_NOT_ID = re.compile(r"[^a-z0-9]+")


def github_slug(text: str) -> str:
    """The slug GitHub gives a heading's text (before duplicates are numbered)."""
    kept = [c for c in text.lower() if c in " -" or unicodedata.category(c)[0] in "LMN"
            or unicodedata.category(c) == "Pc"]
    return "".join(kept).replace(" ", "-")


class Slugger:
    """GitHub's duplicate numbering: the second 'Cookies' is 'cookies-1', the third 'cookies-2'."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def slug(self, text: str) -> str:
        original = result = github_slug(text)
        while result in self.seen:
            self.seen[original] += 1
            result = f"{original}-{self.seen[original]}"
        self.seen[result] = 0
        return result


def to_id(anchor: str) -> str:
    """An anchor made valid for our id rule (may be empty when nothing of it is left)."""
    ascii_text = unicodedata.normalize("NFKD", anchor).encode("ascii", "ignore").decode("ascii").lower()
    return _NOT_ID.sub("-", ascii_text).strip("-")


def unique(candidate: str, taken: set[str], fallback: str = "section") -> str:
    """candidate (or fallback when empty), with -2, -3 … until it is not taken; added to taken."""
    base = candidate if candidate and ID_PATTERN.match(candidate) else fallback
    result, n = base, 1
    while result in taken:
        n += 1
        result = f"{base}-{n}"
    taken.add(result)
    return result
