"""Typed values out of YAML nodes — text, ids, booleans, lists, mappings — collecting problems instead of raising."""

from __future__ import annotations

import re

import yaml

from ..errors import Problem
from . import inline
from .characters import visible
from .model import ANCHOR_PATTERN, ID_PATTERN
from .yamlnodes import position

NULL = "tag:yaml.org,2002:null"
STR = "tag:yaml.org,2002:str"
BOOL = "tag:yaml.org,2002:bool"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029]")
_LINE_BREAK = re.compile(r"[\r\n]")


def shown(node: yaml.Node, limit: int = 40) -> str:
    """A value quoted in a message: shortened, and only if it stands on one line — never more of the file."""
    if not isinstance(node, yaml.ScalarNode) or node.end_mark.line > node.start_mark.line:
        return "…"
    text = node.value.strip()
    first = text.splitlines()[0] if text else ""
    return visible(first if first == text and len(first) <= limit else first[:limit].rstrip() + "…")


def kind_of(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node.tag == NULL:
        return "empty"
    return f"'{shown(node)}'" if node.end_mark.line == node.start_mark.line else "text over several lines"


class Reader:
    """Reads typed values out of YAML nodes, collecting problems instead of raising."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []
        self.anchors: list[tuple[str, int, int]] = []  # links to '#…' in texts
        self.named: list[tuple[str, int, int]] = []  # anchors the files define (`anchor:`, a section's `anchors:`)

    def problem(self, node: yaml.Node, message: str) -> None:
        line, column = position(node)
        self.problems.append(Problem(self.path, line, column, message))

    def mapping(self, node: yaml.Node, what: str, fields: dict[str, bool]) -> dict[str, yaml.Node] | None:
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, f"{what} must be a mapping with {', '.join(fields)}; found {kind_of(node)}")
            return None
        out: dict[str, yaml.Node] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            if name not in fields:
                self.problem(key, f"unknown field '{shown(key)}' in {what}; expected one of: {', '.join(fields)}")
            elif name not in out:
                out[name] = value
        for name, required in fields.items():
            if required and name not in out:
                self.problem(node, f"{what} is missing the required field '{name}'")
        return out

    def text(self, node: yaml.Node, what: str, one_line: bool = False) -> str | None:
        if not isinstance(node, yaml.ScalarNode):
            self.problem(node, f"{what} must be text; found {kind_of(node)}")
            return None
        if node.tag == NULL or not node.value.strip():
            self.problem(node, f"empty text: {what} needs words")
            return None
        control = _CONTROL.search(node.value) or (one_line and _LINE_BREAK.search(node.value.strip()))
        if control:
            kind = "a line break" if control.group() in "\r\n" else f"control character U+{ord(control.group()):04X}"
            self.problem(node, f"{what} contains {kind}; {'keep it on one line' if one_line else 'remove it'}")
        for why in inline.problems(node.value):
            self.problem(node, f"{what}: {why}")
        for anchor in inline.anchors(node.value):
            self.anchors.append((anchor, *position(node)))
        return None if control else node.value

    def identifier(self, node: yaml.Node, what: str) -> str | None:
        value = self.text(node, what)
        if value is not None and not ID_PATTERN.match(value):
            self.problem(node, f"{what} '{shown(node)}' must be lowercase letters, digits and single hyphens, "
                               "like 'data-sharing'")
            return None
        return value

    def anchor(self, node: yaml.Node, what: str = "anchor") -> str | None:
        """An anchor name (kept as written: letters, digits, '_', '-', '.', ':'), recorded where it stands."""
        value = self.text(node, what, one_line=True)
        if value is None:
            return None
        if not ANCHOR_PATTERN.match(value):
            self.problem(node, f"{what} '{shown(node)}' must be one word of letters, digits, '-', '_', '.' or ':' "
                               "(at most 100, not starting with '__'), like 'personal-info'")
            return None
        self.named.append((value, *position(node)))
        return value

    def boolean(self, node: yaml.Node, what: str) -> bool | None:
        if not isinstance(node, yaml.ScalarNode) or node.tag != BOOL:
            self.problem(node, f"{what} must be true or false; found {kind_of(node)}")
            return None
        return node.value.lower() in ("true", "yes", "on")

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node] | None:
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, f"{what} must be a list; found {kind_of(node)}")
            return None
        if not node.value:
            self.problem(node, f"{what} is an empty list")
            return None
        return node.value

    def texts(self, node: yaml.Node, what: str) -> tuple[str, ...]:
        items = self.sequence(node, what) or []
        return tuple(t for t in (self.text(n, what) for n in items) if t is not None)
