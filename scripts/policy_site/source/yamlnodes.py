"""Parse YAML bytes into PyYAML nodes that keep line numbers — only documents that are plain data.

Before anything is composed, the event stream is scanned (libyaml's parser, in linear time) and the file is
refused at the first anchor, alias, merge key or tag: the format needs none of them, and aliases are what
alias bombs and self-referencing documents are made of. The scan also refuses a second document; it is skipped
for a file without any of the characters these need (& * ! \\ << --- ...). After composing, nesting deeper than
MAX_DEPTH is refused. Non-UTF-8 text, duplicate keys and invisible characters (source/characters.py) are
problems too; syntax errors are explained in an editor's words (source/yamlerrors.py).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from ..errors import Problem
from . import characters
from .yamlerrors import explain

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_DEPTH = 50  # a section nested six levels deep needs about 20
_NODE_EVENTS = frozenset((yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent, yaml.AliasEvent))
_NOT_USED = "policy files use no anchors, aliases, merge keys or tags"
# a document without these characters holds no anchor, alias, tag, merge key, escape or second document
_SUSPECT = re.compile(r"[&*!\\]|<<|^(?:---|\.\.\.)", re.MULTILINE)


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
        refused = _scan(path, text, lines, problems) if _SUSPECT.search(text) else None
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
    found, too_deep = _walk(path, node)
    return (None if too_deep else node), [*problems, *found]  # too deep: never handed to the recursive loader


def _scan(path: str, text: str, lines: characters.LineIndex, problems: list[Problem]) -> Problem | None:
    """The first construct the format refuses, before any node is composed (so nothing is ever expanded).

    Invisible characters written as escapes in double-quoted text are added to problems on the way.
    """
    stack: list[int] = []  # per open collection: in a mapping, the nodes seen so far (even: a key); -1 in a list
    documents = 0
    escapes = "\\" in text
    loader = _Loader(text)
    try:
        while loader.check_event():
            event: Any = loader.get_event()
            kind = type(event)
            if kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                stack.pop()
                continue
            if kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    return _refuse(path, event, "a policy file holds one YAML document: remove the '---' line and "
                                                "what follows it")
            if kind not in _NODE_EVENTS:
                continue
            is_key = False
            if stack and stack[-1] >= 0:
                is_key = stack[-1] % 2 == 0
                stack[-1] += 1
            if kind is yaml.AliasEvent:
                return _refuse(path, event, f"'*{event.anchor}' is a YAML alias, and {_NOT_USED}: write the text "
                                            f"out in full (if this is text starting with '*', put the whole text in "
                                            f"double quotes)")
            if event.anchor is not None:
                return _refuse(path, event, f"'&{event.anchor}' is a YAML anchor, and {_NOT_USED}: remove it (if "
                                            f"this is text starting with '&', put the whole text in double quotes)")
            if event.tag is not None:
                tag = event.tag.replace("tag:yaml.org,2002:", "!!")
                return _refuse(path, event, f"'{tag}' is a YAML tag, and {_NOT_USED}: remove it (if this is text "
                                            f"starting with '!', put the whole text in double quotes)")
            if kind is yaml.ScalarEvent:
                if is_key and event.value == "<<" and not event.style:
                    return _refuse(path, event, f"'<<' is a YAML merge key, and {_NOT_USED}: write the fields out "
                                                "in full")
                if escapes and event.style == '"':
                    start, end = event.start_mark.index, event.end_mark.index
                    problems.extend(Problem(path, *lines.position(start + index), characters.message(char))
                                    for index, char in characters.find_escaped(text[start:end], event.value))
                continue
            stack.append(0 if kind is yaml.MappingStartEvent else -1)
    finally:
        loader.dispose()
    return None


def _refuse(path: str, event: Any, message: str) -> Problem:
    return Problem(path, event.start_mark.line + 1, event.start_mark.column + 1, message)


def _walk(path: str, root: yaml.Node) -> tuple[list[Problem], bool]:
    """Duplicate keys; or, alone, a collection nested deeper than MAX_DEPTH (and True)."""
    problems: list[Problem] = []
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            continue
        if depth > MAX_DEPTH:
            line, column = position(node)
            return [Problem(path, line, column, f"YAML nested more than {MAX_DEPTH} levels deep; policy files need "
                                                "far fewer: flatten the structure")], True
        if isinstance(node, yaml.SequenceNode):
            stack.extend((item, depth + 1) for item in node.value)
            continue
        first: dict[str, int] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in first:
                    line, column = position(key)
                    problems.append(Problem(path, line, column, f"duplicate key '{characters.visible(key.value)}' "
                                                                f"(first defined on line {first[key.value]})"))
                else:
                    first[key.value] = position(key)[0]
            stack.append((value, depth + 1))
    return problems, False
