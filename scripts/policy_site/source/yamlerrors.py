"""YAML syntax errors in an editor's words: what is wrong and what to do, at the line of the actual mistake.

PyYAML (libyaml or its pure-Python twin) says things like "mapping values are not allowed in this context".
Each rule below recognises one such problem and replaces it with advice; PyYAML's own wording follows in
parentheses for experts. Only the offending position is reported, never the file's contents.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import yaml

QUOTE = "put the whole text in double quotes"


@dataclass(frozen=True)
class Spot:
    """Where PyYAML stopped and where the construct it was reading began, with the source lines."""

    lines: list[str]
    problem: tuple[int, int]   # 0-based line, column
    context: tuple[int, int] | None

    def char(self, where: tuple[int, int] | None = None) -> str:
        line, column = where or self.problem
        text = self.lines[line] if line < len(self.lines) else ""
        return text[column] if column < len(text) else ""

    def line(self, number: int) -> str:
        return self.lines[number] if 0 <= number < len(self.lines) else ""

    def indent(self, number: int) -> int:
        text = self.line(number)
        return len(text) - len(text.lstrip(" "))

    def previous_indent(self, number: int) -> int | None:
        for n in range(number - 1, -1, -1):
            if self.line(n).strip() and not self.line(n).lstrip().startswith("#"):
                return self.indent(n)
        return None


# advice(spot) -> (advice, use the context mark) or None when the rule does not apply
Rule = Callable[[str, Spot], tuple[str, bool] | None]


def _tabs(what: str, spot: Spot) -> tuple[str, bool] | None:
    if "tab character" in what or ("cannot start any token" in what and spot.char() == "\t"):
        return "tabs are not allowed for indentation; use spaces", False
    return None


def _cannot_start(what: str, spot: Spot) -> tuple[str, bool] | None:
    if "cannot start any token" in what:
        char = spot.char() or "this character"
        return f"'{char}' cannot start text in YAML: {QUOTE}", False
    return None


def _colon(what: str, spot: Spot) -> tuple[str, bool] | None:
    if "mapping values are not allowed" not in what:
        return None
    line, column = spot.problem
    before = spot.line(line)[:column]
    previous = spot.previous_indent(line)
    if ": " not in before and previous is not None and spot.indent(line) > previous:
        return ("this line is indented more than the one before, so YAML reads it as part of the value above: "
                "line it up with the other fields of its block"), False
    return f"a colon followed by a space inside text needs quotes: {QUOTE}", False


def _missing_colon(what: str, spot: Spot) -> tuple[str, bool] | None:
    if "could not find expected ':'" in what:
        return ("this line has no colon after its field name: write it as `name: value`; if it continues the "
                "text of the line above, indent it further"), True
    return None


def _expected_key(what: str, spot: Spot) -> tuple[str, bool] | None:
    if "did not find expected key" not in what:
        return None
    line, column = spot.problem
    text = spot.line(line)
    if column > spot.indent(line):
        closed = text[:column].rstrip()[-1:]
        if closed in ("]", "}"):
            return (f"text starting with '{'[' if closed == ']' else '{'}' needs quotes (YAML reads "
                    f"{'[…] as a list' if closed == ']' else '{…} as a mapping'}): {QUOTE}"), False
        return ("there is more text after a closing quote: a quoted text must end with its quote; "
                f"{QUOTE} and write a \" inside it as \\\" (in single quotes, write ' as '')"), False
    if text.lstrip().startswith("- "):
        return ("this list item is indented differently from the items before it: every '- ' of one list "
                "stands at the same indentation, under the field it belongs to"), False
    return "this line is indented differently from the one before: line it up with the fields of its block", False


def _list_indent(what: str, spot: Spot) -> tuple[str, bool] | None:
    if "expected '-' indicator" in what or "expected <block end>" in what:
        return ("this line is indented differently from the list items above: each item starts with '- ' at the "
                "same indentation, and its text stays indented under it"), False
    return None


def _unclosed_quote(what: str, spot: Spot) -> tuple[str, bool] | None:
    if "quoted scalar" in what and ("end of stream" in what or "document indicator" in what):
        quote = spot.char(spot.context) or '"'
        return f"this text opens with {quote} but never closes it: end the text with {quote}", True
    return None


def _escape(what: str, spot: Spot) -> tuple[str, bool] | None:
    if "unknown escape" in what or "escape sequence" in what:
        return ("in double quotes a backslash starts an escape such as \\n: write \\\\ for a backslash, "
                "or use single quotes"), False
    return None


def _unclosed_bracket(what: str, spot: Spot) -> tuple[str, bool] | None:
    for opening, closing, kind in (("[", "]", "a list"), ("{", "}", "a mapping")):
        if f"',' or '{closing}'" in what:
            return (f"this '{opening}' starts {kind} that is never closed: add the closing '{closing}', or, if "
                    f"the '{opening}' is part of the text, {QUOTE}"), True
    return None


def _alias_or_anchor(what: str, spot: Spot) -> tuple[str, bool] | None:
    if "scanning an alias" in what or "scanning an anchor" in what or "undefined alias" in what:
        char = spot.char(spot.context) if "scanning" in what else "*"
        name = "an alias" if char == "*" else "an anchor"
        return f"text starting with '{char}' needs quotes (YAML reads '{char}' as {name}): {QUOTE}", \
            "scanning" in what
    return None


def _block_scalar(what: str, spot: Spot) -> tuple[str, bool] | None:
    if "block scalar" in what:
        return f"after '|' or '>' the text starts on the next line, indented; or {QUOTE}", False
    return None


def _indicators(what: str, spot: Spot) -> tuple[str, bool] | None:
    if "mapping keys are not allowed" in what:
        return f"'?' followed by a space cannot start text in YAML: {QUOTE}", False
    if "block sequence entries are not allowed" in what:
        return f"'- ' starts a list item here, where no list can start: {QUOTE}", False
    if "node content" in what:
        return f"a value is missing, or a character such as ',' ']' '}}' starts the text here: {QUOTE}", False
    return None


def _structure(what: str, spot: Spot) -> tuple[str, bool] | None:
    if "single document" in what or "another document" in what or "document start" in what:
        return "a policy file holds one YAML document: remove the '---' or '...' line and what follows", False
    if "nesting depth" in what:
        return "the file is nested far too deeply", False
    if "comment or line break" in what:
        return f"unexpected text after a value on this line: {QUOTE}", False
    return None


RULES: tuple[Rule, ...] = (_tabs, _colon, _missing_colon, _expected_key, _list_indent, _unclosed_quote, _escape,
                           _unclosed_bracket, _alias_or_anchor, _block_scalar, _indicators, _cannot_start,
                           _structure)


def explain(exc: yaml.MarkedYAMLError, text: str) -> tuple[int, int, str]:
    """1-based line and column of the mistake, and the message: advice, then PyYAML's words in parentheses."""
    original = ", ".join(part for part in (exc.context, exc.problem) if part) or "invalid YAML"
    problem = exc.problem_mark or exc.context_mark
    context = exc.context_mark if exc.problem_mark else None
    spot = Spot(text.splitlines() or [""], (problem.line, problem.column) if problem else (0, 0),
                (context.line, context.column) if context else None)
    for rule in RULES:
        found = rule(original, spot)
        if found:
            advice, at_context = found
            line, column = spot.context if at_context and spot.context else spot.problem
            return line + 1, column + 1, f"YAML syntax error: {advice} (PyYAML: {original})"
    line, column = spot.problem
    return line + 1, column + 1, f"YAML syntax error: {original}"
