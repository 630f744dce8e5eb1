"""Word-level redlines: blocks of two texts aligned, and the words inside replaced blocks diffed."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from .. import codec

_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Piece:
    """A run of words in a redline: 'equal', 'insert' or 'delete'."""

    op: str
    text: str


@dataclass(frozen=True)
class RedlineBlock:
    """One paragraph or list item of a redline; kind is 'p', 'ul' or 'ol'; status is how the block itself changed."""

    kind: str
    status: str
    pieces: tuple[Piece, ...]


def word_diff(old: str, new: str) -> tuple[Piece, ...]:
    """Word-level redline of two texts (difflib over word tokens)."""
    a, b = _WORD.findall(old), _WORD.findall(new)
    pieces: list[Piece] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            pieces.append(Piece("equal", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(Piece("delete", " ".join(a[i1:i2])))
        if j2 > j1:
            pieces.append(Piece("insert", " ".join(b[j1:j2])))
    return tuple(pieces)


def redline(old: list[tuple[str, str]], new: list[tuple[str, str]]) -> list[RedlineBlock]:
    """Align blocks, then diff words inside blocks that were replaced one for one."""
    blocks: list[RedlineBlock] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            blocks.extend(RedlineBlock(k, "equal", (Piece("equal", t),)) for k, t in old[i1:i2])
            continue
        pairs = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for (_, to), (kn, tn) in zip(old[i1:i1 + pairs], new[j1:j1 + pairs]):
            blocks.append(RedlineBlock(kn, "modified", word_diff(to, tn)))
        blocks.extend(RedlineBlock(k, "delete", (Piece("delete", t),)) for k, t in old[i1 + pairs:i2])
        blocks.extend(RedlineBlock(k, "insert", (Piece("insert", t),)) for k, t in new[j1 + pairs:j2])
    return blocks


codec.register(RedlineBlock, Piece)
