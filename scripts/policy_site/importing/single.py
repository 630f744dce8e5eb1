"""`policy import FILE`: one document into the project's policy folder.

The document is converted, written into a temporary folder beside policy/, loaded there with the project's
own loader (source.loader.load_policy) and only then moved into place: policy.yaml and sections/ are
replaced, schema/ and anything else in the folder is kept. On any error nothing is written.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..errors import PolicyInvalid, UserError
from ..settings import builtin_templates
from ..source.files import POLICY_FILE, SECTIONS_DIR
from ..source.loader import load_policy
from ..source.model import Organisation
from .convert import Converted, Meta, convert
from .dates import Effective, take_effective
from .formats import kind_of, read_document
from .yamlout import policy_files


@dataclass
class Imported:
    converted: Converted
    effective: Effective | None
    files: dict[str, bytes]
    where: str  # "line" or "paragraph"
    content: str | None = None  # for a web page: which element was taken as its main content


def read_source(path: Path) -> tuple[str, bytes]:
    """The file's name and bytes, or one clear error."""
    kind_of(path.name)
    if not path.exists():
        raise UserError(f"{path}: no such file; give the path of the Markdown, HTML or Word file to import")
    if not path.is_file():
        raise UserError(f"{path}: not a file; give the path of the Markdown, HTML or Word file to import")
    try:
        return path.name, path.read_bytes()
    except OSError as exc:
        raise UserError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def convert_file(name: str, data: bytes, organisation: Organisation, today: date, summary: str) -> Imported:
    doc = read_document(name, data)
    effective = take_effective(doc)
    meta = Meta("1.0", effective.value if effective else today, summary, organisation, Path(name).stem)
    converted = convert(doc, meta)
    return Imported(converted, effective, policy_files(converted.policy), doc.where, doc.front.get("content"))


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    (folder / SECTIONS_DIR).mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)


def install(policy_dir: Path, files: dict[str, bytes], schema: bool = True) -> None:
    """Write the policy files into policy_dir through a checked temporary folder (see the module's doc); schema:
    also copy the JSON Schemas their first lines name (a library's documents share the policy folder's)."""
    root = policy_dir.parent
    try:
        root.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".policy-import-", dir=root))
    except OSError as exc:
        raise UserError(f"cannot write into {root}: {exc.strerror or exc}; nothing was written") from None
    try:
        new = scratch / "new"
        write_files(new, files)
        try:
            load_policy(new, prefix=policy_dir.name)
        except PolicyInvalid as exc:  # a bug of the importer: say so, write nothing
            raise UserError(f"the imported policy does not pass the loader (a bug of `policy import`; please report "
                            f"it with the file); nothing was written:\n{exc}") from None
        _swap(policy_dir, new, scratch / "old")
        if schema and not (policy_dir / "schema").exists():  # the $schema line of every file points there
            shutil.copytree(builtin_templates() / "schema", policy_dir / "schema")
    except OSError as exc:
        raise UserError(f"cannot write {policy_dir}: {exc.strerror or exc}; nothing was changed") from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _swap(policy_dir: Path, new: Path, old: Path) -> None:
    """Move the old policy.yaml and sections/ aside, the new ones in; put the old ones back on failure."""
    policy_dir.mkdir(exist_ok=True)
    old.mkdir()
    moved: list[str] = []
    try:
        for name in (POLICY_FILE, SECTIONS_DIR):
            if (policy_dir / name).exists() or (policy_dir / name).is_symlink():
                (policy_dir / name).rename(old / name)
                moved.append(name)
        for name in (POLICY_FILE, SECTIONS_DIR):
            (new / name).rename(policy_dir / name)
    except OSError:
        for name in (POLICY_FILE, SECTIONS_DIR):
            if name in moved:
                if (policy_dir / name).is_dir():
                    shutil.rmtree(policy_dir / name)
                elif (policy_dir / name).exists():
                    (policy_dir / name).unlink()
                (old / name).rename(policy_dir / name)
        raise


def occupied(policy_dir: Path) -> list[str]:
    """What policy_dir holds besides schema/ (names), empty when there is nothing to overwrite."""
    if not policy_dir.is_dir():
        return []
    return sorted(p.name for p in policy_dir.iterdir() if p.name != "schema")
