"""inline.add_words, the inner loop of every redline's words, against its rule written out word by word: every run
of up to six letters and spaces, after nothing and after a word, with and without a space before."""

from __future__ import annotations

import itertools

from policy_site.source.inline import add_words


def _by_the_rule(out: list, content: str, marks: tuple[str, ...], space_before: bool) -> bool:
    pieces = content.split(" ")
    for i, piece in enumerate(pieces):
        if piece:  # glued to the word before when no space stood between them
            out.append((piece, marks, bool(out) and not space_before))
            space_before = False
        if i < len(pieces) - 1:
            space_before = True
    return space_before


def test_add_words_follows_the_rule_on_every_small_run() -> None:
    for length in range(7):
        for chars in itertools.product("a ", repeat=length):
            content = "".join(chars)
            for before in ([], [("x", (), False)]):
                for space_before in (True, False):
                    expected, found = list(before), list(before)
                    said = _by_the_rule(expected, content, ("em",), space_before)
                    assert (add_words(found, content, ("em",), space_before), found) == (said, expected), \
                        (content, before, space_before)
