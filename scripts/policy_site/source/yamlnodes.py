"""Parse YAML bytes into PyYAML nodes that keep line numbers, rejecting non-UTF-8 text and duplicate keys."""

from __future__ import annotations

import yaml

from ..errors import Problem

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or "invalid YAML"
        if exc.context:
            what = f"{exc.context}, {what}"
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return None, [Problem(path, line, column, f"YAML syntax error: {what}")]
    except yaml.YAMLError as exc:
        return None, [Problem(path, 1, 1, f"YAML error: {exc}")]
    if node is None:
        return None, [Problem(path, 1, 1, "file is empty; expected a YAML mapping")]
    return node, _duplicate_keys(path, node)


def _duplicate_keys(path: str, root: yaml.Node) -> list[Problem]:
    problems: list[Problem] = []
    stack = [root]
    seen_nodes: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in first:
                        line, column = position(key)
                        problems.append(Problem(
                            path, line, column,
                            f"duplicate key '{key.value}' (first defined on line {first[key.value]})"))
                    else:
                        first[key.value] = position(key)[0]
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return problems
