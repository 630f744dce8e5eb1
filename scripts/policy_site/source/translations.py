"""Translations of a document: what the files hold, and reading them (every problem with file:line:column).

A translation into LANG lives beside the document's own files, in translations/LANG/ (policy/translations/de/ in
a single-document project, policy/terms/translations/de/ in a library):

    translations/de/policy.yaml        title, optional summary and introduction, and source_version: the
                                       version of the original the translation as a whole was made from
    translations/de/sections/<id>.yaml one file per section of the original, the same shape as the original's
                                       section file (subsections included), plus source_version: the version of
                                       the original this section translates

A section is *current* when its original text (title, text, subsections) reads the same in its source_version as
in the version in force; *stale* when it changed since (the site then shows the original with a notice);
*untranslated* while its words are still the original's (as `policy translate` copied them), unless the file says
`translated: true`; *missing* when there is no file for it. Whitespace or layout edits never make a translation
stale.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .. import codec
from ..errors import Problem
from ..keys import digest
from .files import read_working_tree
from .loader import SECTION_FIELDS, section_from_node
from .model import VERSION_PATTERN, Section
from .reader import Reader
from .yamlnodes import compose

TRANSLATIONS_DIR = "translations"
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2}|-[A-Z][a-z]{3})?$")
META_FIELDS = {"title": True, "summary": False, "introduction": False, "source_version": True}


@dataclass
class Translation:
    """One document's translation into one language, as its files hold it."""

    language: str
    title: str
    summary: str | None
    introduction: tuple[str, ...]
    source_version: str
    sections: dict[str, tuple[Section, str]] = field(default_factory=dict)  # id → (section, its source_version)
    marked: tuple[str, ...] = ()  # ids of sections marked `translated: true` (words kept on purpose), sorted


codec.register(Translation)
Memo = Callable[[str, Callable[[], Any]], Any]  # History.memo: a value kept in the parse cache under a key


def languages(folder: Path) -> list[str]:
    """The languages a document is translated into (folder names under translations/)."""
    root = folder / TRANSLATIONS_DIR
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and not p.is_symlink())


def _source_version(reader: Reader, node: yaml.Node | None, where: yaml.Node) -> str | None:
    if node is None:
        reader.problem(where, "source_version is missing: the version of the original this text translates, "
                              "like source_version: \"1.1\"")
        return None
    value = reader.text(node, "source_version", one_line=True)
    if value is not None and not VERSION_PATTERN.match(value):
        reader.problem(node, f"source_version must be a version like \"1.1\", not '{value}'")
        return None
    return value


def _marked(reader: Reader, node: yaml.Node | None) -> bool:
    """`translated: true`: an editor says the words are the translation although they read as the original's."""
    if node is None:
        return False
    if not isinstance(node, yaml.ScalarNode) or node.value not in ("true", "false"):
        reader.problem(node, "translated must be true or false (true: these words are the translation, although "
                             "they read as the original's)")
        return False
    return node.value == "true"


def read_translation(folder: Path, language: str, prefix: str,
                     memo: Memo | None = None) -> tuple[Translation | None, list[Problem]]:
    """A translation from the working tree; prefix names its folder in messages ('policy/translations/de').
    memo: where the parsed result is kept between runs, keyed by exactly what parsing receives (the files'
    names and bytes, what was refused, the language and prefix) — a library of 135 translations is not parsed
    again by every `policy check`."""
    if not LANGUAGE.match(language):
        return None, [Problem(prefix, 1, 1, f"'{language}' is not a language code like de, fr, pt-BR: rename "
                                            "the folder")]
    files, refused = read_working_tree(folder)
    if memo is None:
        return _parse_translation(files, refused, language, prefix)
    key = "translation:" + digest(language, prefix, sorted(refused.items()),
                                  sorted((name, hashlib.sha256(data).hexdigest()) for name, data in files.items()))
    found: tuple[Translation | None, list[Problem]] = memo(
        key, lambda: _parse_translation(files, refused, language, prefix))
    return found


def _parse_translation(files: dict[str, bytes], refused: dict[str, str], language: str,
                       prefix: str) -> tuple[Translation | None, list[Problem]]:
    problems = [Problem(f"{prefix}/{name}", 1, 1, why) for name, why in refused.items()]
    if "policy.yaml" not in files:
        return None, problems + [Problem(f"{prefix}/policy.yaml", 1, 1, "file is missing (title and "
                                                                          "source_version of the translation)")]
    path = f"{prefix}/policy.yaml"
    root, found = compose(path, files["policy.yaml"])
    reader = Reader(path)
    reader.problems.extend(found)
    nodes = reader.mapping(root, "a translation's policy.yaml", META_FIELDS) if root is not None else None
    translation = None
    if nodes is not None:
        title = reader.text(nodes["title"], "title", one_line=True) if "title" in nodes else None
        summary = reader.text(nodes["summary"], "summary", one_line=True) if "summary" in nodes else None
        intro = reader.texts(nodes["introduction"], "introduction paragraph") if "introduction" in nodes else ()
        source = _source_version(reader, nodes.get("source_version"), root) if root is not None else None
        if title and source:
            translation = Translation(language, title, summary, intro, source)
    problems += reader.problems
    marked_ids: set[str] = set()
    for name, data in sorted(files.items()):
        if not name.startswith("sections/"):
            continue
        section_path = f"{prefix}/{name}"
        root, found = compose(section_path, data)
        reader = Reader(section_path)
        reader.problems.extend(found)
        source_node = marked_node = None
        if isinstance(root, yaml.MappingNode):
            source_node = next((v for k, v in root.value if getattr(k, "value", None) == "source_version"), None)
            marked_node = next((v for k, v in root.value if getattr(k, "value", None) == "translated"), None)
            root.value = [(k, v) for k, v in root.value
                          if getattr(k, "value", None) not in ("source_version", "translated")]
        source = _source_version(reader, source_node, root) if root is not None else None
        marked = _marked(reader, marked_node)
        section = section_from_node(reader, root, "section file", {}, SECTION_FIELDS) if root is not None else None
        problems += reader.problems
        if translation and section and source:
            translation.sections[section.id] = (section, source)
            if marked:
                marked_ids.add(section.id)
    if translation is not None:
        translation.marked = tuple(sorted(marked_ids))
    return (translation if not problems else None), problems
