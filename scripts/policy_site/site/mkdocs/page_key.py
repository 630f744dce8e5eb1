"""The page cache's site key: everything that shapes every page, hashed (the MkDocs side; see site/pagecache.py).

A page's key (pagecache.page_key) adds its own path and Markdown bytes to this. The site key covers: the validated
MkDocs config minus volatile fields (VOLATILE: where the config file, docs_dir and site_dir are, the serve address,
the watch list), every plugin's class and options, the theme and its variables, the nav, the theme folders (an
installed theme's distribution and version — its files are that version's — or else the hash of every file; our
templates/theme/, built-in and the project's, are theme folders), the versions of MkDocs, Material, Markdown,
pymdown-extensions, Jinja2, MarkupSafe, Pygments, PyYAML, this tool and Python, and of any third-party Markdown
extension's distribution, the fingerprint of this package's code, and whether the site is served. When a theme
template shows the build date, the date (and time) too. A config value whose text could hide a difference (an
object printed with its address) makes the config Unkeyable: the cache is then off for that build. The rest of
templates/ (pages, feeds, PDFs, mail…) is not in it: MkDocs never reads those, and they shape a page only through
its Markdown, which the page's own key holds — so an edit of one page template renders only the pages whose
Markdown it changed.
Imports MkDocs: a helper of plugin.py, like page_cache.py.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import re
import sys
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from functools import lru_cache
from pathlib import Path, PurePath
from typing import Any

import mkdocs
from mkdocs.plugins import BasePlugin
from mkdocs.theme import Theme
from mkdocs.utils import get_build_date, get_build_datetime
from pathspec import PathSpec

from ...keys import code_fingerprint, digest, tree_digest

VOLATILE = {"config_file_path", "docs_dir", "site_dir", "dev_addr", "watch"}
PACKAGES = ("mkdocs", "mkdocs-material", "Markdown", "pymdown-extensions", "Jinja2", "MarkupSafe", "Pygments",
            "PyYAML", "policy-site")
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


class Unkeyable(Exception):
    """A config value whose text would not tell two configurations apart."""


def _plain(value: Any, where: str = "config") -> Any:
    """A config value as JSON data (what the key hashes); Unkeyable when its text could hide a difference."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, Theme):
        return {"name": value.name, "vars": _plain(dict(value.items()), where + ".theme"),
                "static_templates": sorted(value.static_templates)}
    if isinstance(value, BasePlugin):
        return {"class": f"{type(value).__module__}.{type(value).__qualname__}",
                "config": _plain(value.config, where)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, where) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(str(v) for v in value)
    if isinstance(value, PathSpec):
        return [str(getattr(p, "pattern", p)) for p in value.patterns]
    if isinstance(value, PurePath | Enum):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    text = repr(value)
    if _ADDRESS.search(text):
        raise Unkeyable(where)
    return f"{type(value).__qualname__}:{text}"


@lru_cache(maxsize=1)
def _package_dirs() -> dict[str, str]:
    """Folders of installed themes (entry points) and of MkDocs' own templates → 'distribution version'."""
    found = {str(Path(mkdocs.__file__).parent / "templates"): f"mkdocs {mkdocs.__version__}"}
    for point in importlib.metadata.entry_points(group="mkdocs.themes"):
        try:
            spec = importlib.util.find_spec(point.value)
        except (ImportError, ValueError):
            continue
        if spec is not None and spec.submodule_search_locations and point.dist is not None:
            for location in spec.submodule_search_locations:
                found[str(Path(location))] = f"{point.dist.name} {point.dist.version}"
    return {str(Path(k).resolve()): v for k, v in found.items()}


def _folder_fingerprint(folder: Path) -> tuple[str, bool]:
    """(fingerprint, whether its HTML templates show the build date): an installed theme's distribution and
    version, or the hash of every file's path and bytes."""
    resolved = str(folder.resolve())
    if resolved in _package_dirs():
        return _package_dirs()[resolved], _dated_package(folder)
    return tree_digest(folder), _dated(folder)


@lru_cache(maxsize=16)
def _dated_package(folder: Path) -> bool:
    return _dated(folder)


def _dated(folder: Path) -> bool:
    """Whether a theme's templates show the build date (MkDocs' own themes do; Material does not). Hidden folders
    are not searched: they hold no pages (MkDocs skips them), and Material's hold ~14,000 icons."""
    for parent, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.endswith(".html"):
                data = Path(parent, name).read_bytes()
                if b"build_date_utc" in data or b"update_date" in data:
                    return True
    return False


@lru_cache(maxsize=8)
def _software(extensions: tuple[str, ...]) -> str:
    """The running code and the versions of what renders pages: fixed for the life of the process."""
    found: dict[str, str | None] = {"python": sys.version, "code": code_fingerprint()}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    for extension in extensions:
        top = extension.split(".")[0]
        if top not in ("markdown", "pymdownx", "policy_site") and "." in extension:
            names = importlib.metadata.packages_distributions().get(top, [])
            found[f"extension {top}"] = ",".join(f"{n} {importlib.metadata.version(n)}" for n in names) or "unknown"
    return json.dumps(found, sort_keys=True)


def site_key(config: Any, serving: bool) -> str:
    """Everything that shapes every page, hashed (the page's own path and Markdown are added per page)."""
    fingerprints = [_folder_fingerprint(Path(d)) for d in config.theme.dirs]
    dated = any(d for _, d in fingerprints)
    data = {
        "software": _software(tuple(str(e) for e in config.markdown_extensions)),
        "config": {k: _plain(v, k) for k, v in config.items() if k not in VOLATILE},
        "nav": _plain(config.nav),
        "theme": [f for f, _ in fingerprints],
        "serving": serving,
        # a theme that prints the build date makes every page depend on it
        "date": (get_build_datetime().isoformat(), get_build_date()) if dated else None,
    }
    return digest(data)
