"""Word-level redlines: the blocks of two texts aligned, alike blocks paired, words diffed with their formatting.

The algorithm is shared with templates/assets/compare.js, step for step, and the fixture files in
tests/fixtures/diff/ prove the two give the same result:

1. `opcodes(a, b)`: the common prefix and suffix are trimmed, then the middle is aligned by a longest common
   subsequence (dynamic programming, walking from the start, a tie going to a deletion first). A middle of
   more than MAX_CELLS cells is one replacement.
2. Blocks (paragraphs, list items) are aligned with `opcodes` on identical blocks. Inside each run of
   changed blocks, an old and a new block of the same kind are paired only when alike: the Dice coefficient
   of their words (as multisets, case-sensitive) is at least LIKENESS. Pairs are taken best first (ties:
   lower old index, then lower new index) and never cross; unpaired blocks are deletions and insertions.
3. A pair is diffed word by word with `opcodes` on whole words (text, formatting, glue): a changed link
   target or emphasis is a deleted and an inserted word, so it can never be invisible. A run of inserted (or
   deleted) words that holds a cell's block marker (CELL_MARKERS) is slid back over the equal words before it
   while it can, until it starts with a marker (`_slide`): an added list item reads as a marker and its words
   inserted ("• A {+• C+} • B"), not as words added to one item and a new item of words kept ("• A • {+C •+} B").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from .. import codec
from ..source.inline import Word

LIKENESS = 0.5
MAX_CELLS = 250_000
T = TypeVar("T")
Opcode = tuple[str, int, int, int, int]
# A block of text to redline: (kind, content). The content is the block's words, or for a table row ('th', 'tr',
# or inside a list item '<path>+th', '<path>+tr') its cells' words. Kinds: see diff/sections.py `units`.
Unit = tuple[str, tuple]
ROW_KINDS = ("th", "tr")
# A table cell of several blocks is one run of words in which each block after the first paragraph starts with a
# marker word: a list item ('•', formatting 'li:ul' or 'li:ol') or a further paragraph ('¶', 'p'). Their own
# formatting keeps markers in spans of their own (no text has it), so an item added, removed or edited is a
# marker and words inserted, deleted or changed, and the renderers rebuild the cell's list from the spans.
CELL_MARKERS = {"li:ul": "•", "li:ol": "•", "p": "¶"}


def marker_kind(marks: Sequence[str]) -> str | None:
    """'li:ul', 'li:ol' or 'p' when these are the formatting of a cell's block marker, else None."""
    return marks[0] if len(marks) == 1 and marks[0] in CELL_MARKERS else None


def is_row(kind: str) -> bool:
    return kind.rpartition("+")[2] in ROW_KINDS


def unit_words(unit: Unit) -> tuple[Word, ...]:
    """All the words of a unit (a row's cells one after the other)."""
    return tuple(w for cell in unit[1] for w in cell) if is_row(unit[0]) else unit[1]


@dataclass(frozen=True, slots=True)
class Span:
    """A run of words with one operation ('equal', 'insert', 'delete') and one formatting."""

    op: str
    text: str
    marks: tuple[str, ...] = ()
    glue: bool = False  # no space between this span and the one before


@dataclass(frozen=True, slots=True)
class Piece:
    """A run of words with one operation, formatting left out (the `pieces` of `policy diff --format json`)."""

    op: str
    text: str


@dataclass(frozen=True, slots=True)
class RedlineBlock:
    """One paragraph or list item of a redline; status is 'equal', 'modified', 'insert' or 'delete'."""

    kind: str
    status: str
    spans: tuple[Span, ...]
    cells: tuple[tuple[Span, ...], ...] = ()  # a table row's cells (then spans is empty)

    @property
    def pieces(self) -> tuple[Piece, ...]:
        out: list[list[str]] = []
        for span in self.spans or tuple(s for cell in self.cells for s in cell):
            if out and out[-1][0] == span.op:
                out[-1][1] += ("" if span.glue else " ") + span.text
            else:
                out.append([span.op, span.text])
        return tuple(Piece(op, text) for op, text in out)

    @property
    def text(self) -> str:
        return join_spans(self.spans)


def join_spans(spans: Sequence[Span]) -> str:
    return "".join(("" if i == 0 or s.glue else " ") + s.text for i, s in enumerate(spans))


def _lcs(a: Sequence[T], b: Sequence[T], offset_a: int, offset_b: int) -> list[Opcode]:
    n, m = len(a), len(b)
    if not n or not m or n * m > MAX_CELLS:
        tag = "replace" if n and m else "delete" if n else "insert"
        return [(tag, offset_a, offset_a + n, offset_b, offset_b + m)] if n or m else []
    table = [[0] * (m + 1) for _ in range(n + 1)]
    for x in range(n - 1, -1, -1):
        row, below, ax = table[x], table[x + 1], a[x]
        for y in range(m - 1, -1, -1):
            row[y] = below[y + 1] + 1 if ax == b[y] else max(below[y], row[y + 1])
    ops: list[Opcode] = []
    i = j = si = sj = 0

    def flush() -> None:
        if i > si or j > sj:
            tag = "replace" if i > si and j > sj else "delete" if i > si else "insert"
            ops.append((tag, offset_a + si, offset_a + i, offset_b + sj, offset_b + j))

    while i < n or j < m:
        if i < n and j < m and a[i] == b[j]:
            flush()
            ei, ej = i, j
            while i < n and j < m and a[i] == b[j]:
                i, j = i + 1, j + 1
            ops.append(("equal", offset_a + ei, offset_a + i, offset_b + ej, offset_b + j))
            si, sj = i, j
        elif j >= m or (i < n and table[i + 1][j] >= table[i][j + 1]):
            i += 1
        else:
            j += 1
    flush()
    return ops


def opcodes(a: Sequence[T], b: Sequence[T]) -> list[Opcode]:
    """How to turn a into b: ('equal' | 'replace' | 'delete' | 'insert', i1, i2, j1, j2), in order."""
    n, m = len(a), len(b)
    start = 0
    while start < n and start < m and a[start] == b[start]:
        start += 1
    end_a, end_b = n, m
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a, end_b = end_a - 1, end_b - 1
    ops: list[Opcode] = [("equal", 0, start, 0, start)] if start else []
    ops += _lcs(a[start:end_a], b[start:end_b], start, start)
    if end_a < n:
        ops.append(("equal", end_a, n, end_b, m))
    return ops


def spans(words: Sequence[Word], op: str) -> list[Span]:
    """Words as spans: a new span wherever the formatting changes."""
    out: list[Span] = []
    text: list[str] = []
    marks: tuple[str, ...] = ()
    glue = False
    for word, word_marks, word_glue in words:
        if text and word_marks == marks:
            text.append(("" if word_glue else " ") + word)
            continue
        if text:
            out.append(Span(op, "".join(text), marks, glue))
        text, marks, glue = [word], word_marks, word_glue
    if text:
        out.append(Span(op, "".join(text), marks, glue))
    return out


def _slide(ops: list[Opcode], old: Sequence[Word], new: Sequence[Word]) -> list[Opcode]:
    """Runs of inserted or deleted words holding a block marker, slid back to start with one (module docstring,
    step 3): while the run does not start with a marker and the equal word before it is the run's last word,
    the run moves back one word (that word is then equal after it)."""
    tags = [op[0] for op in ops]
    spots = [list(op[1:]) for op in ops]  # i1, i2, j1, j2
    k = 0
    while k < len(tags):
        if tags[k] in ("insert", "delete") and k and tags[k - 1] == "equal":
            words, at = (new, 2) if tags[k] == "insert" else (old, 0)
            run, before = spots[k], spots[k - 1]
            while before[at + 1] > before[at] and marker_kind(words[run[at]][1]) is None \
                    and any(marker_kind(w[1]) for w in words[run[at]:run[at + 1]]) \
                    and words[run[at] - 1] == words[run[at + 1] - 1]:
                before[1], before[3] = before[1] - 1, before[3] - 1
                run[:] = [n - 1 for n in run]
                if k + 1 < len(tags) and tags[k + 1] == "equal":
                    spots[k + 1][0], spots[k + 1][2] = spots[k + 1][0] - 1, spots[k + 1][2] - 1
                else:
                    tags.insert(k + 1, "equal")
                    spots.insert(k + 1, [run[1], run[1] + 1, run[3], run[3] + 1])
        k += 1
    return [(tag, i1, i2, j1, j2) for tag, (i1, i2, j1, j2) in zip(tags, spots) if i1 < i2 or j1 < j2]


def word_diff(old: Sequence[Word], new: Sequence[Word]) -> tuple[Span, ...]:
    """The spans that turn the old words into the new ones."""
    out: list[Span] = []
    for tag, i1, i2, j1, j2 in _slide(opcodes(old, new), old, new):
        if tag == "equal":
            out += spans(new[j1:j2], "equal")
            continue
        out += spans(old[i1:i2], "delete")
        out += spans(new[j1:j2], "insert")
    return tuple(out)


def likeness(a: Sequence[Word], b: Sequence[Word]) -> float:
    """Dice coefficient of the two blocks' words (multisets of their texts): 1.0 same words, 0.0 none shared."""
    if not a or not b:
        return 0.0
    counts = Counter(w[0] for w in a)
    common = 0
    for word in b:
        if counts[word[0]] > 0:
            counts[word[0]] -= 1
            common += 1
    return 2 * common / (len(a) + len(b))


def pair_blocks(old: Sequence[Unit], new: Sequence[Unit]) -> list[tuple[int, int]]:
    """Alike blocks of a changed run, best first, never crossing; as (old index, new index) in order."""
    candidates: list[tuple[float, int, int]] = []
    old_words, new_words = [unit_words(u) for u in old], [unit_words(u) for u in new]
    for i, (kind_a, _) in enumerate(old):
        for j, (kind_b, _) in enumerate(new):
            if kind_a == kind_b:
                score = likeness(old_words[i], new_words[j])
                if score >= LIKENESS:
                    candidates.append((-score, i, j))
    candidates.sort()
    taken: list[tuple[int, int]] = []
    for _, i, j in candidates:
        if all((i < pi and j < pj) or (i > pi and j > pj) for pi, pj in taken):
            taken.append((i, j))
    return sorted(taken)


@lru_cache(maxsize=65536)
def _whole(unit: Unit, status: str, op: str) -> RedlineBlock:
    """A block that is all one operation; shared between diffs (smaller caches, less to render)."""
    if is_row(unit[0]):
        return RedlineBlock(unit[0], status, (), tuple(tuple(spans(cell, op)) for cell in unit[1]))
    return RedlineBlock(unit[0], status, tuple(spans(unit[1], op)))


def _modified(old: Unit, new: Unit) -> RedlineBlock:
    """A pair of alike blocks, word by word (a row cell by cell; cells beyond the shorter row whole)."""
    if not is_row(new[0]):
        return RedlineBlock(new[0], "modified", word_diff(old[1], new[1]))
    cells: list[tuple[Span, ...]] = []
    for n in range(max(len(old[1]), len(new[1]))):
        if n >= len(new[1]):
            cells.append(tuple(spans(old[1][n], "delete")))
        elif n >= len(old[1]):
            cells.append(tuple(spans(new[1][n], "insert")))
        else:
            cells.append(word_diff(old[1][n], new[1][n]))
    return RedlineBlock(new[0], "modified", (), tuple(cells))


def redline(old: Sequence[Unit], new: Sequence[Unit]) -> list[RedlineBlock]:
    """Every block of the new text (and every deleted old one) in reading order, with its word changes."""
    blocks: list[RedlineBlock] = []
    for tag, i1, i2, j1, j2 in opcodes(old, new):
        if tag == "equal":
            blocks += [_whole(unit, "equal", "equal") for unit in new[j1:j2]]
            continue
        i, j = i1, j1
        for pi, pj in pair_blocks(old[i1:i2], new[j1:j2]) + [(i2 - i1, j2 - j1)]:
            blocks += [_whole(unit, "delete", "delete") for unit in old[i:i1 + pi]]
            blocks += [_whole(unit, "insert", "insert") for unit in new[j:j1 + pj]]
            if i1 + pi < i2:
                blocks.append(_modified(old[i1 + pi], new[j1 + pj]))
            i, j = i1 + pi + 1, j1 + pj + 1
    return blocks


codec.register(RedlineBlock, Piece, Span)
