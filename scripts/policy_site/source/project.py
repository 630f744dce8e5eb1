"""What a project holds: one document, or a library of several (policy/library.yaml), and reading them all.

A single-document project keeps its policy in policy/ (policy.yaml, sections/); its document id is "" and its
pages stay where they always were. A library lists its documents in policy/library.yaml:

    title: SynergyCabinet policies        # the library page's title
    documents: [privacy, terms, cookies]  # folders policy/<id>/ (policy.yaml, sections/), in this order
    formerly_single: privacy              # optional: this document was the project's only one before; its
                                          # history continues from policy/ and its old URLs redirect

Documents may link to each other: `[terms](doc:terms)` or `[liability](doc:terms#liability)`; such a link
must name a document of the library and, when it has an anchor, a section of that document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import PolicyInvalid, Problem
from . import inline
from .loader import Known, load_policy
from .model import Policy, policy_anchors, policy_texts
from .reader import Reader
from .yamlnodes import compose

LIBRARY_FILE = "library.yaml"
LIBRARY_FIELDS = {"title": True, "documents": True, "formerly_single": False}
DOC_LINK = re.compile(r"^doc:([a-z0-9]+(?:-[a-z0-9]+)*)?(?:#(.*))?$")


@dataclass(frozen=True)
class Layout:
    """The documents of a project: ids in order (a single document: [""]), the library's title, and which
    document was the project's only one before it became a library."""

    documents: tuple[str, ...] = ("",)
    title: str = ""
    formerly_single: str | None = None
    problems: tuple[Problem, ...] = field(default=())

    @property
    def is_library(self) -> bool:
        return self.documents != ("",)

    def folder(self, policy_dir: Path, document: str) -> Path:
        return policy_dir / document if document else policy_dir

    def prefix(self, document: str) -> str:
        """The site path under which a document's pages live: '' or 'terms/'."""
        return f"{document}/" if document else ""


def read_layout(policy_dir: Path, prefix: str = "policy") -> Layout:
    """The project's layout from policy/library.yaml (when there is one); problems are collected, not raised."""
    path = policy_dir / LIBRARY_FILE
    if not path.is_file() or path.is_symlink():
        return Layout()
    shown = f"{prefix}/{LIBRARY_FILE}"
    root, problems = compose(shown, path.read_bytes())
    reader = Reader(shown)
    reader.problems.extend(problems)
    nodes = reader.mapping(root, LIBRARY_FILE, LIBRARY_FIELDS) if root is not None else None
    if not nodes:
        return Layout(("",), problems=tuple(reader.problems))
    title = reader.text(nodes["title"], "library title", one_line=True) if "title" in nodes else None
    documents: list[str] = []
    for node in reader.sequence(nodes["documents"], "documents") or [] if "documents" in nodes else []:
        document = reader.identifier(node, "document id")
        if document is None:
            continue
        if document in documents:
            reader.problem(node, f"document '{document}' is listed twice")
        elif not (policy_dir / document / "policy.yaml").is_file():
            reader.problem(node, f"document '{document}' has no folder {prefix}/{document}/ with a policy.yaml")
        else:
            documents.append(document)
    former = reader.identifier(nodes["formerly_single"], "formerly_single") if "formerly_single" in nodes else None
    if former is not None and former not in documents:
        reader.problem(nodes["formerly_single"], f"formerly_single names '{former}', which is not a listed document")
    return Layout(tuple(documents) or ("",), title or "", former, tuple(reader.problems))


def doc_links(policy: Policy) -> list[tuple[str, str | None]]:
    """The (document, anchor) of every `doc:` link in a policy's texts."""
    out = []
    for text in policy_texts(policy):
        for url in inline.links(text):
            match = DOC_LINK.match(url)
            if match:
                out.append((match.group(1) or "", match.group(2) or None))
    return out


def check_doc_links(policies: dict[str, Policy], prefix: str = "policy") -> list[Problem]:
    """Every `doc:` link names a document of the project and, with an anchor, one of its sections."""
    problems: list[Problem] = []
    for document, policy in policies.items():
        where = f"{prefix}/{document + '/' if document else ''}policy.yaml"
        for target, anchor in doc_links(policy):
            if target not in policies or not target:
                known = ", ".join(d for d in policies if d) or "none: this project holds one document"
                problems.append(Problem(where, 1, 1, f"a link to doc:{target} names no document of this project "
                                                     f"(documents: {known})"))
            elif anchor and anchor not in policies[target].section_ids() \
                    and anchor not in policy_anchors(policies[target]):
                problems.append(Problem(where, 1, 1, f"a link to doc:{target}#{anchor}: document '{target}' has no "
                                                     f"section or anchor with that id"))
    return problems


def load_project(policy_dir: Path, prefix: str = "policy", known: Known | None = None
                 ) -> tuple[Layout, dict[str, Policy]]:
    """The layout and every document's working-tree policy, or PolicyInvalid listing every problem; known: parses
    made already (loader.load_policy)."""
    layout = read_layout(policy_dir, prefix)
    problems = list(layout.problems)
    policies: dict[str, Policy] = {}
    for document in layout.documents:
        try:
            policies[document] = load_policy(layout.folder(policy_dir, document),
                                             f"{prefix}/{document}" if document else prefix, known)
        except PolicyInvalid as exc:
            problems.extend(exc.problems)
    if not problems:
        problems = check_doc_links(policies, prefix)
    if problems:
        raise PolicyInvalid(problems)
    return layout, policies

