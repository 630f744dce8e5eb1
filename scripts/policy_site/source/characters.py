"""Invisible characters refused in policy files: bidirectional controls and zero-width characters.

Bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) can make text read differently from
how it is stored ("Trojan source"); zero-width characters (U+200B–U+200D, U+2060, U+FEFF) are invisible and
change how words match, break and compare. Both are refused wherever they stand, except:

- a byte-order mark (U+FEFF) at the very start of a file;
- the joiners U+200D ZERO WIDTH JOINER and U+200C ZERO WIDTH NON-JOINER between two letters, combining marks or
  symbols: they belong inside emoji sequences (👩‍💻) and the orthography of many scripts (Devanagari,
  Arabic, Persian…). Anywhere else (at the edge of a word, next to a space or punctuation) they are refused.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterator

_REFUSED = re.compile("[\u202a-\u202e\u2066-\u2069\u200b-\u200d\u2060\ufeff]")
_JOINERS = ("\u200c", "\u200d")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")  # YAML's line breaks, as the parser counts lines
_ESCAPE = re.compile(r"\\(?:x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8}))")


def _joinable(char: str) -> bool:
    """A letter, combining mark or symbol (emoji): what a joiner may stand between."""
    if not char:
        return False
    category = unicodedata.category(char)
    return category[0] in "LM" or category in ("So", "Sk")


def refused(text: str, index: int) -> bool:
    """Whether the character at index (one of the refused set) is refused where it stands."""
    char = text[index]
    if char in _JOINERS:
        before = text[index - 1] if index > 0 else ""
        after = text[index + 1] if index + 1 < len(text) else ""
        return not (_joinable(before) and _joinable(after))
    return True


def visible(text: str) -> str:
    """Text to quote in a message: refused characters written as <U+202E>, so a terminal cannot reorder it."""
    return _REFUSED.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)


def describe(char: str) -> str:
    """'U+202E RIGHT-TO-LEFT OVERRIDE'."""
    return f"U+{ord(char):04X} {unicodedata.name(char, 'UNNAMED CHARACTER')}"


def message(char: str) -> str:
    """One line: which character, why it is refused, what to do."""
    if _BIDI.match(char):
        why = "it silently changes the order in which the text around it is displayed"
    elif char in _JOINERS:
        why = "a joiner belongs only between two letters or emoji, and this one is not"
    else:
        why = "it is invisible and changes how the words around it match and break"
    return (f"invisible character {describe(char)}: {why}; delete it "
            "(if the text was pasted, retype the characters around it)")


class LineIndex:
    """1-based line and column of a character index, counting lines as YAML does (worked out when first asked)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts: list[int] = []

    def position(self, index: int) -> tuple[int, int]:
        if not self.starts:
            self.starts = [0] + [m.end() for m in _LINE_BREAK.finditer(self.text)]
        line = bisect.bisect_right(self.starts, index) - 1
        return line + 1, index - self.starts[line] + 1


def find_literal(text: str) -> Iterator[tuple[int, str]]:
    """(index, character) of every refused character written literally in a file's text."""
    for match in _REFUSED.finditer(text):
        index = match.start()
        if index == 0 and match.group() == "\ufeff":
            continue  # a byte-order mark at the start of the file
        if refused(text, index):
            yield index, match.group()


def find_escaped(source: str, value: str) -> Iterator[tuple[int, str]]:
    """(index in source, character) of refused characters that a double-quoted scalar writes as escapes.

    source is the scalar as written (with its quotes), value what it means.
    """
    if not any(refused(value, m.start()) for m in _REFUSED.finditer(value)):
        return
    for match in _ESCAPE.finditer(source):
        code = int(next(g for g in match.groups() if g), 16)
        if code <= 0x10FFFF and _REFUSED.match(chr(code)):
            char = chr(code)
            if char not in _JOINERS or any(value[m.start()] == char and refused(value, m.start())
                                           for m in _REFUSED.finditer(value)):
                yield match.start(), char
