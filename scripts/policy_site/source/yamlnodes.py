"""Parse YAML bytes into PyYAML nodes that keep line numbers — only documents that are plain data.

Before anything is composed, the event stream is scanned (libyaml's parser, in linear time) and the file is
refused at the first anchor, alias, merge key or tag: the format needs none of them, and aliases are what
alias bombs and self-referencing documents are made of. The scan also refuses a second document and nesting
deeper than MAX_DEPTH. Non-UTF-8 text, duplicate keys and invisible characters (source/characters.py) are
problems too; syntax errors are explained in an editor's words (source/yamlerrors.py).
"""

from __future__ import annotations

from typing import Any

import yaml

from ..errors import Problem
from . import characters
from .yamlerrors import explain

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_DEPTH = 50  # a section nested six levels deep needs about 20
_NODE_EVENTS = (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent, yaml.AliasEvent)
_NOT_USED = "policy files use no anchors, aliases, merge keys or tags"


def position(node: yaml.Node) -> tuple[int, int]:
    """1-based line and column where a node starts."""
    return node.start_mark.line + 1, node.start_mark.column + 1


def compose(path: str, data: bytes) -> tuple[yaml.Node | None, list[Problem]]:
    """Compose one YAML document; problems instead of exceptions for every user mistake."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        bad = data[exc.start : exc.start + 1].hex()
        return None, [Problem(path, line, column, f"file is not UTF-8 (byte 0x{bad}); save it as UTF-8")]
    text = text.removeprefix("\ufeff")  # a byte-order mark: not part of the text, and not counted in columns
    lines = characters.LineIndex(text)
    problems = [Problem(path, *lines.position(index), characters.message(char))
                for index, char in characters.find_literal(text)]
    try:
        refused = _scan(path, text, lines, problems)
        if refused is not None:
            return None, [*problems, refused]
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        return None, [*problems, Problem(path, *explain(exc, text))]
    except yaml.YAMLError as exc:  # the reader's errors (control characters) carry a position, not a mark
        where = getattr(exc, "position", None)
        line, column = lines.position(where) if isinstance(where, int) and where <= len(text) else (1, 1)
        reason = getattr(exc, "reason", None) or "invalid YAML"
        return None, [*problems, Problem(path, line, column, f"YAML error: {reason}; delete that character")]
    if node is None:
        return None, [*problems, Problem(path, 1, 1, "file is empty; expected a YAML mapping")]
    return node, [*problems, *_duplicate_keys(path, node)]


def _scan(path: str, text: str, lines: characters.LineIndex, problems: list[Problem]) -> Problem | None:
    """The first construct the format refuses, before any node is composed (so nothing is ever expanded).

    Invisible characters written as escapes in double-quoted text are added to problems on the way.
    """
    # per open collection: [is a mapping, nodes seen so far] — in a mapping, even counts are keys
    stack: list[list] = []
    documents = 0
    for event in yaml.parse(text, Loader=_Loader):
        mark: Any = event.start_mark  # the parser always sets both marks
        at = (mark.line + 1, mark.column + 1)
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                return Problem(path, *at, "a policy file holds one YAML document: remove the '---' line and "
                                          "what follows it")
        if not isinstance(event, _NODE_EVENTS):
            if isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                stack.pop()
            continue
        is_key = bool(stack) and stack[-1][0] and stack[-1][1] % 2 == 0
        if stack:
            stack[-1][1] += 1
        if isinstance(event, yaml.AliasEvent):
            return Problem(path, *at, f"'*{event.anchor}' is a YAML alias, and {_NOT_USED}: write the text out in "
                                      f"full (if this is text starting with '*', put the whole text in double "
                                      f"quotes)")
        if event.anchor is not None:
            return Problem(path, *at, f"'&{event.anchor}' is a YAML anchor, and {_NOT_USED}: remove it (if this is "
                                      f"text starting with '&', put the whole text in double quotes)")
        if event.tag is not None:
            tag = event.tag.replace("tag:yaml.org,2002:", "!!")
            return Problem(path, *at, f"'{tag}' is a YAML tag, and {_NOT_USED}: remove it (if this is text "
                                      f"starting with '!', put the whole text in double quotes)")
        if isinstance(event, yaml.ScalarEvent):
            if is_key and event.value == "<<" and not event.style:
                return Problem(path, *at, f"'<<' is a YAML merge key, and {_NOT_USED}: write the fields out in full")
            if event.style == '"':
                start, end = mark.index, event.end_mark.index  # type: ignore[union-attr]
                problems.extend(Problem(path, *lines.position(start + index), characters.message(char))
                                for index, char in characters.find_escaped(text[start:end], event.value))
        else:
            stack.append([isinstance(event, yaml.MappingStartEvent), 0])
            if len(stack) > MAX_DEPTH:
                return Problem(path, *at, f"YAML nested more than {MAX_DEPTH} levels deep; policy files need far "
                                          "fewer: flatten the structure")
    return None


def _duplicate_keys(path: str, root: yaml.Node) -> list[Problem]:
    problems: list[Problem] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in first:
                        line, column = position(key)
                        problems.append(Problem(
                            path, line, column,
                            f"duplicate key '{characters.visible(key.value)}' (first defined on line "
                            f"{first[key.value]})"))
                    else:
                        first[key.value] = position(key)[0]
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return problems
