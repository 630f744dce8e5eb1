"""Load and validate the policy YAML (policy.yaml + sections/*.yaml) into a Policy; every problem with its line."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from ..errors import PolicyInvalid, Problem
from .blocks import block_key, text_block
from .files import POLICY_FILE, SECTIONS_DIR, classify, read_working_tree
from .model import VERSION_PATTERN, VERSION_SHAPE, Block, Organisation, Policy, Section
from .reader import NULL, STR, Reader, shown
from .yamlnodes import compose, position

POLICY_FIELDS = {"title": True, "version": True, "effective": True, "summary": True, "change": False,
                 "organisation": True, "introduction": False, "sections": True}
CHANGE_KINDS = ("material", "minor", "editorial")
REQUIRED_META = [name for name, required in POLICY_FIELDS.items() if required and name != "sections"]
ORGANISATION_FIELDS = {"name": True, "contact": True}
SECTION_FIELDS = {"id": True, "title": True, "numbered": False, "summary": False, "anchors": False, "body": True}


@dataclass
class ParsedSection:
    """One section file: the section and where its ids and links stand, for cross-file checks."""

    path: str
    section: Section
    id_lines: dict[str, tuple[int, int]] = field(default_factory=dict)
    anchors: list[tuple[str, int, int]] = field(default_factory=list)
    named: list[tuple[str, int, int]] = field(default_factory=list)  # anchors it defines, where


@dataclass
class ParsedMeta:
    path: str
    fields: dict
    listed: list[tuple[str, int, int]]
    anchors: list[tuple[str, int, int]] = field(default_factory=list)


# --- policy.yaml ----------------------------------------------------------------------------------

def _version(reader: Reader, node: yaml.Node) -> str | None:
    if isinstance(node, yaml.ScalarNode) and node.tag != STR and not node.style and node.tag != NULL:
        reader.problem(node, f"version must be quoted text like \"1.0\" (YAML reads {shown(node)} as a number)")
        return None
    value = reader.text(node, "version")
    if value is None or VERSION_PATTERN.match(value):
        return value
    parts = value.split(".")
    if not VERSION_SHAPE.match(value):
        reader.problem(node, f"malformed version '{shown(node)}'; expected numbers like \"1.0\" or \"2.1.3\"")
    elif any(len(part.lstrip("0")) > 9 for part in parts):
        reader.problem(node, f"malformed version '{shown(node)}': each number has at most 9 digits")
    else:
        fixed = ".".join(part.lstrip("0") or "0" for part in parts)
        reader.problem(node, f"malformed version '{value}': numbers in a version do not start with 0, which "
                             f"makes them ambiguous (did you mean \"{fixed}\"?)")
    return None


def _date(reader: Reader, node: yaml.Node, what: str) -> date | None:
    value = reader.text(node, what)
    if value is None:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        reader.problem(node, f"{what} '{shown(node)}' is not a date; expected YYYY-MM-DD")
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        reader.problem(node, f"{what} '{shown(node)}' is an impossible date")
        return None


def _open(path: str, data: bytes) -> tuple[yaml.Node | None, Reader]:
    """The document's root node and a reader holding the problems found so far."""
    root, problems = compose(path, data)
    reader = Reader(path)
    reader.problems.extend(problems)
    return root, reader


def parse_meta(path: str, data: bytes) -> tuple[ParsedMeta | None, list[Problem]]:
    """policy.yaml: metadata and the ordered list of section ids."""
    root, reader = _open(path, data)
    if root is None:
        return None, reader.problems
    nodes = reader.mapping(root, "policy.yaml", POLICY_FIELDS)
    if nodes is None:
        return None, reader.problems
    values: dict = {}
    for name in ("title", "summary"):
        if name in nodes:
            values[name] = reader.text(nodes[name], name, one_line=True)
    if "version" in nodes:
        values["version"] = _version(reader, nodes["version"])
    if "effective" in nodes:
        values["effective"] = _date(reader, nodes["effective"], "effective date")
    if "organisation" in nodes:
        org = reader.mapping(nodes["organisation"], "organisation", ORGANISATION_FIELDS) or {}
        org_name = reader.text(org["name"], "organisation name", one_line=True) if "name" in org else None
        contact = reader.text(org["contact"], "organisation contact", one_line=True) if "contact" in org else None
        if contact and "@" not in contact and not contact.startswith(("https://", "http://")):
            reader.problem(org["contact"], "organisation contact must be an email address or an https:// URL")
        values["organisation"] = Organisation(org_name or "", contact or "")
    if "introduction" in nodes:
        values["introduction"] = reader.texts(nodes["introduction"], "introduction paragraph")
    if "change" in nodes:
        kind = reader.text(nodes["change"], "change", one_line=True)
        if kind is not None and kind not in CHANGE_KINDS:
            reader.problem(nodes["change"], f"change must be material, minor or editorial, not '{kind}' (material: "
                                            "subscribers are told; minor: those who asked for every change; "
                                            "editorial: nobody is emailed)")
            kind = None
        values["change"] = kind
    listed: list[tuple[str, int, int]] = []
    if "sections" in nodes:
        seen: dict[str, int] = {}
        for item in reader.sequence(nodes["sections"], "sections") or []:
            section_id = reader.identifier(item, "section id")
            if section_id is None:
                continue
            line, column = position(item)
            if section_id in seen:
                reader.problem(item, f"section '{section_id}' is listed twice (first on line {seen[section_id]})")
                continue
            seen[section_id] = line
            listed.append((section_id, line, column))
    return ParsedMeta(path, values, listed, reader.anchors), reader.problems


# --- sections/*.yaml ------------------------------------------------------------------------------

def section_from_node(reader: Reader, node: yaml.Node, what: str, id_lines: dict,
                      fields: dict[str, bool] = SECTION_FIELDS) -> Section | None:
    """A section (with its subsections) from its YAML mapping; None when it has problems (recorded)."""
    return _section(reader, node, what, id_lines, fields)


def _section(reader: Reader, node: yaml.Node, what: str, id_lines: dict,
             fields: dict[str, bool] = SECTION_FIELDS) -> Section | None:
    nodes = reader.mapping(node, what, fields)
    if nodes is None:
        return None
    section_id = reader.identifier(nodes["id"], "section id") if "id" in nodes else None
    if section_id is not None:
        if section_id in id_lines:
            reader.problem(nodes["id"], f"section id '{section_id}' is used twice in this file")
        else:
            id_lines[section_id] = position(nodes["id"])
    title = reader.text(nodes["title"], "section title", one_line=True) if "title" in nodes else None
    numbered = reader.boolean(nodes["numbered"], "numbered") if "numbered" in nodes else True
    summary = reader.text(nodes["summary"], "section summary") if "summary" in nodes else None
    anchors: list[str | None] = []
    if "anchors" in nodes:
        anchors = [reader.anchor(n, "section anchor") for n in reader.sequence(nodes["anchors"], "anchors") or []]
    body: list[Block | None] = []
    for block in (reader.sequence(nodes["body"], "section body") or []) if "body" in nodes else []:
        if block_key(block) == "section":
            body.append(_section(reader, block.value[0][1], "subsection", id_lines))
        else:
            body.append(text_block(reader, block))
    if section_id is None or title is None or numbered is None or not body or None in body \
            or ("summary" in nodes and summary is None) or None in anchors:
        return None
    return Section(section_id, title, tuple(b for b in body if b is not None), numbered, summary,
                   tuple(a for a in anchors if a is not None))


def parse_section_file(path: str, data: bytes) -> tuple[ParsedSection | None, list[Problem]]:
    """One section file, with its subsections."""
    root, reader = _open(path, data)
    if root is None:
        return None, reader.problems
    id_lines: dict[str, tuple[int, int]] = {}
    section = _section(reader, root, "section file", id_lines)
    if section is None:
        return None, reader.problems
    return ParsedSection(path, section, id_lines, reader.anchors, reader.named), reader.problems


# --- the whole policy -----------------------------------------------------------------------------

def assemble(meta: ParsedMeta, parsed: list[ParsedSection],
             unreadable: frozenset[str] = frozenset()) -> tuple[Policy | None, list[Problem]]:
    """Cross-file checks: listed ids have files, files are listed, ids are unique, #links resolve."""
    problems: list[Problem] = []
    by_id: dict[str, ParsedSection] = {}
    all_ids: dict[str, str] = {}
    for item in sorted(parsed, key=lambda p: p.path):
        for section_id, (line, column) in item.id_lines.items():
            if section_id in all_ids:
                problems.append(Problem(item.path, line, column,
                                        f"section id '{section_id}' is already used in {all_ids[section_id]}"))
            else:
                all_ids[section_id] = item.path
        if item.section.id not in by_id:
            by_id[item.section.id] = item
    listed_ids = {section_id for section_id, _, _ in meta.listed}
    for section_id, line, column in meta.listed:
        if section_id not in by_id and section_id not in unreadable:
            hint = " (it is a subsection inside " + all_ids[section_id] + ")" if section_id in all_ids else ""
            problems.append(Problem(meta.path, line, column,
                                    f"section '{section_id}' is listed but no file in sections/ has "
                                    f"id: {section_id}{hint}"))
    for section_id, item in by_id.items():
        if section_id not in listed_ids:
            line, column = item.id_lines[section_id]
            problems.append(Problem(item.path, line, column,
                                    f"section '{section_id}' is not listed under 'sections' in policy.yaml"))
    named: dict[str, str] = {}
    for item in sorted(parsed, key=lambda p: p.path):
        for name, line, column in item.named:
            if name in all_ids or name in named:
                where = all_ids.get(name) or named[name]
                what = "a section id" if name in all_ids else "an anchor"
                problems.append(Problem(item.path, line, column, f"anchor '{name}' is already {what} in {where}: "
                                                                 "anchors and section ids are unique in a policy"))
            else:
                named[name] = item.path
    for path, anchors in [(meta.path, meta.anchors)] + [(item.path, item.anchors) for item in parsed]:
        for anchor, line, column in anchors:
            if anchor not in all_ids and anchor not in named:
                problems.append(Problem(path, line, column, f"link to '#{anchor}': no section or anchor has that "
                                                            "id"))
    fields = {"introduction": (), **meta.fields}
    if problems or listed_ids - set(by_id) or any(f not in fields for f in REQUIRED_META) \
            or None in fields.values():
        return None, problems
    sections = tuple(by_id[section_id].section for section_id, _, _ in meta.listed)
    return Policy(sections=sections, **fields), problems


def parse_files(files: dict[str, bytes], prefix: str = "policy", section_cache: dict | None = None,
                refused: dict[str, str] | None = None) -> tuple[Policy | None, list[Problem]]:
    """A policy from file contents keyed by path relative to the policy folder ('policy.yaml', 'sections/x.yaml').

    refused: files the reader found but did not read (files.classify), with why; each is a problem.
    """
    problems = [Problem(f"{prefix}/{name}", 1, 1, why) for name, why in sorted((refused or {}).items())]
    unreadable: set[str] = {name.split("/")[-1].removesuffix(".yaml") for name in refused or {}}
    if POLICY_FILE not in files:
        if POLICY_FILE not in (refused or {}):
            problems.append(Problem(f"{prefix}/{POLICY_FILE}", 1, 1, "file is missing"))
        return None, problems
    meta, found = parse_meta(f"{prefix}/{POLICY_FILE}", files[POLICY_FILE])
    problems.extend(found)
    parsed: list[ParsedSection] = []
    for name in sorted(files):
        path = f"{prefix}/{name}"
        verdict = classify(name)
        if verdict.problem:
            problems.append(Problem(path, 1, 1, verdict.problem))
            continue
        if not verdict.read or name == POLICY_FILE:
            continue
        key = (path, files[name])
        if section_cache is not None and key in section_cache:
            item, found = section_cache[key]
        else:
            item, found = parse_section_file(path, files[name])
            if section_cache is not None:
                section_cache[key] = (item, found)
        problems.extend(found)
        if item is not None:
            parsed.append(item)
        else:  # its own problems say why; do not also call its section missing
            unreadable.add(name[len(SECTIONS_DIR) + 1:-len(".yaml")])
    if meta is None:
        return None, problems
    policy, found = assemble(meta, parsed, frozenset(unreadable))
    problems.extend(found)
    return (policy if not problems else None), problems


def read_policy_files(policy_dir: Path, prefix: str = "policy") -> dict[str, bytes]:
    """policy.yaml and the section files (files.classify decides which), or PolicyInvalid naming refused ones."""
    files, refused = read_working_tree(policy_dir)
    if refused:
        raise PolicyInvalid([Problem(f"{prefix}/{name}", 1, 1, why) for name, why in refused.items()])
    return files


Known = Callable[[Path, dict[str, bytes]], Policy | None]  # a parse made already of a folder's very files


def load_policy(policy_dir: Path, prefix: str = "policy", known: Known | None = None) -> Policy:
    """The working-tree policy, or PolicyInvalid listing every problem. known: the policy these very files were
    parsed into already without a problem (history.versions.Reading.known: a commit holds them), or None."""
    files, refused = read_working_tree(policy_dir)
    if known is not None and not refused:
        found = known(policy_dir, files)
        if found is not None:
            return found
    policy, problems = parse_files(files, prefix, refused=refused)
    if policy is None:
        raise PolicyInvalid(problems or [Problem(f"{prefix}/{POLICY_FILE}", 1, 1, "policy could not be read")])
    return policy
