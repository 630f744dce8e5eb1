"""`policy import FILE --document ID`: an imported document joins a library (policy/library.yaml).

In a library the document goes to policy/ID/ and its id is added to library.yaml. A project that holds one
document becomes a library first when --existing-as NAME says what to call the document it holds: its files move
to policy/NAME/, and library.yaml names it `formerly_single`, so its old URLs and feed ids keep working. An empty
project (or the untouched starter of `policy init`) becomes a library of the one imported document.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from ..errors import UserError
from ..source.model import ID_PATTERN
from ..source.project import LIBRARY_FILE, read_layout

DOCUMENT_FILES = ("policy.yaml", "sections", "translations")
_SCHEMA_LINES = {  # the first line of each file, at the policy folder's top → one folder down
    b"# yaml-language-server: $schema=schema/": b"# yaml-language-server: $schema=../schema/",
    b"# yaml-language-server: $schema=../schema/": b"# yaml-language-server: $schema=../../schema/",
}


def one_level_down(data: bytes) -> bytes:
    """A file's $schema line for the file one folder deeper (policy/ID/… instead of policy/…)."""
    for old, new in _SCHEMA_LINES.items():
        if data.startswith(old):
            return new + data[len(old):]
    return data


def check_id(document: str, flag: str = "--document") -> str:
    if not ID_PATTERN.match(document):
        raise UserError(f"{flag} {document!r}: a document id is lowercase letters, digits and single hyphens, "
                        "like 'cookies'")
    return document


def write_library(policy_dir: Path, documents: list[str], title: str, formerly_single: str | None) -> None:
    path = policy_dir / LIBRARY_FILE
    data: dict = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}
    data = data if isinstance(data, dict) else {}
    data.setdefault("title", title)
    data["documents"] = documents
    if formerly_single:
        data["formerly_single"] = formerly_single
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110)
    path.write_text("# The documents of this project, in the order the library page lists them.\n" + text,
                    encoding="utf-8")


def plan_document(policy_dir: Path, document: str, existing_as: str | None, occupied: bool,
                  force: bool) -> tuple[Path, list[str], str | None]:
    """Where the imported document goes, the library's documents afterwards, and the single document to move
    (existing_as) — or UserError before anything is written."""
    check_id(document)
    layout = read_layout(policy_dir)
    if layout.problems:
        raise UserError(f"{layout.problems[0]}; fix {LIBRARY_FILE} first (nothing was written)")
    if layout.is_library:
        if existing_as:
            raise UserError("--existing-as is for a project that holds one document; this one is a library already")
        folder = policy_dir / document
        if document in layout.documents and not force:
            raise UserError(f"the library holds a document '{document}' already ({folder}); add --force to replace "
                            "its policy.yaml and sections/ (nothing was written)")
        if folder.exists() and document not in layout.documents and any(folder.iterdir()):
            raise UserError(f"{folder} exists and is not a listed document; move it away first (nothing was written)")
        listed = list(layout.documents) + ([] if document in layout.documents else [document])
        return folder, listed, None
    if occupied:
        if not existing_as:
            raise UserError(f"{policy_dir} holds one document; to make it a library, say what to call it: "
                            f"--existing-as privacy (its files move to {policy_dir.name}/privacy/ and its URLs keep "
                            "working); nothing was written")
        check_id(existing_as, "--existing-as")
        if existing_as == document:
            raise UserError("--existing-as and --document must name two different documents")
        return policy_dir / document, [existing_as, document], existing_as
    return policy_dir / document, [document], None


def move_single(policy_dir: Path, name: str) -> None:
    """The project's only document into policy/NAME/ (its $schema lines one level deeper)."""
    target = policy_dir / name
    target.mkdir(exist_ok=True)
    for entry in DOCUMENT_FILES:
        source = policy_dir / entry
        if source.exists():
            shutil.move(str(source), str(target / entry))
    for path in target.rglob("*.yaml"):
        data = path.read_bytes()
        moved = one_level_down(data)
        if moved != data:
            path.write_bytes(moved)
