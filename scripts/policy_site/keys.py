"""How every cache of this package names what it keeps, and when a file is still the one a build left.

One rule each, used by the generated files (site/gencache.py, PDFs, Word files, translations), the page cache
(site/pagecache.py, site/mkdocs/page_key.py), compiled templates (site/compiled.py) and the site folder's record
(site/mkdocs/site_output.py). The parse cache (history/cache.py) takes `code_fingerprint` from here and keeps its
own key, the one thing it parses: a document's git tree listing (paths, modes, blob ids), hashed as git names
blobs: sha1 (history/versions._tree_key).

- `digest(*parts)`: a key is the sha256 of what the renderer receives, written as canonical JSON (sorted keys,
  UTF-8, dates in ISO form, paths as their text).
- `tree_digest(folder)`: the sha256 of every file's path and bytes in a folder (templates, a theme's own folder).
- `software()`: the code that renders — this package's code (`code_fingerprint`) and the versions of the libraries
  whose output lands in a cached file (RENDERING_LIBRARIES: pages, feeds, dates, PDFs and Word files). Every
  record holds it; a record written by other code is ignored.
- A *stamp* is a file's (mtime_ns, size, inode). A record keeps the stamp of each file it lists, and a listed file
  is taken as the one the record describes while its stamp is unchanged — unless the stamp is not older than the
  record itself (`trusted`): a file changed in the clock tick its record was written in could keep its stamp.
  That is git's "racy" rule, compared on one clock: the file system's, which stamped both.

This module imports no MkDocs and nothing of the site.
"""

from __future__ import annotations

import hashlib
import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

Stamp = tuple[int, int, int]  # (mtime_ns, size, inode)
PDF_LIBRARIES = ("weasyprint", "pydyf", "fonttools", "tinycss2", "cssselect2", "tinyhtml5", "pyphen")
# babel: its CLDR data writes the dates; python-docx writes the Word redlines
RENDERING_LIBRARIES = ("jinja2", "markupsafe", "feedgen", "lxml", "babel", *PDF_LIBRARIES, "python-docx")
_PACKAGE = Path(__file__).resolve().parent
_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def digest(*parts: object) -> str:
    """sha256 of values as canonical JSON (sorted keys, UTF-8; dates in ISO form, paths as their text)."""
    return hashlib.sha256(orjson.dumps(parts, default=str, option=_CANONICAL)).hexdigest()


def tree_digest(folder: Path) -> str:
    """sha256 over every file's path (relative to the folder) and bytes (nothing when it is not a folder). Walked
    with os.walk, not pathlib (rglob cost a library of 135 translations, 5,400 files, a third of a second a build);
    a name that cannot be read (a dangling link) counts as such, so its coming or going changes the digest."""
    base = str(folder)
    names: list[str] = []
    for top, _, files in os.walk(base):
        names.extend(os.path.join(top, name) for name in files)
    found = hashlib.sha256()
    for name in sorted(names):
        try:
            with open(name, "rb") as handle:
                data = handle.read()
        except OSError:
            data = b"\0unreadable"
        found.update(os.path.relpath(name, base).replace(os.sep, "/").encode() + b"\0" + data + b"\0")
    return found.hexdigest()


def files_digest(paths: list[Path], base: Path) -> str:
    """sha256 over these files' paths (relative to base) and bytes, in the order given."""
    found = hashlib.sha256()
    for path in paths:
        found.update(path.relative_to(base).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return found.hexdigest()


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of this package's Python code: cached values are only reused by the code that made them (the code
    of this process: hashed once)."""
    return files_digest(sorted(_PACKAGE.rglob("*.py")), _PACKAGE)


@lru_cache(maxsize=1)
def software() -> str:
    """The code that renders generated files and pages: this package's, and the versions of the libraries."""
    from importlib import metadata
    found = {"python": sys.version, "code": code_fingerprint()}
    for name in RENDERING_LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "none"
    return digest(found)


def stamp(path: str | Path) -> Stamp | None:
    """A file's stamp, or None when it cannot be read."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_mtime_ns, found.st_size, found.st_ino


def trusted(mtime_ns: int, record_ns: int) -> bool:
    """Whether a file stamped mtime_ns in a record whose own file was stamped record_ns can be known by its stamp:
    only when it is older than the record (git's racy rule)."""
    return mtime_ns < record_ns


def read_record(path: Path, fmt: str) -> tuple[dict[str, Any], int] | None:
    """A record this code wrote (`format` fmt, `software` this code's) and its own file's mtime; None when it is
    missing, damaged, foreign or written by other code."""
    try:
        data = orjson.loads(path.read_bytes())  # 3× json's speed: a library's records list every file
        made = os.stat(path).st_mtime_ns
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != fmt or data.get("software") != software():
        return None
    return data, made


def write_record(path: Path, fmt: str, data: dict[str, Any]) -> None:
    """Write a record whole (a temporary file renamed into place), stamped with its format and this code.
    Raises OSError; a temporary file is never left behind."""
    record = {"format": fmt, "software": software(), **data}
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(orjson.dumps(record))  # compact UTF-8, as json.dumps(ensure_ascii=False) wrote it, 5× faster
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
