"""The site's manifest.json: every file of a built site with its sha256, written last, once MkDocs wrote the pages.

`policy verify` checks a site (a folder, a downloaded copy, or over HTTP) against it: each file listed must have
these bytes. It holds no time and lists the files in sorted order, so the same site makes the same manifest (warm
build == cold build). Top-level dotfiles and dot-folders of site_dir (a `.well-known/`, a deploy worktree's `.git`:
carried into each build by site/publish.py, not made by it) are not listed, nor is the manifest itself.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..settings import require_site_url
from .jsontext import dumps

MANIFEST = "manifest.json"
FORMAT = "policy-site manifest 1"


def site_files(folder: Path) -> list[str]:
    """Every file of a built site, relative, '/'-separated, sorted (but top-level dot entries and the manifest)."""
    found: list[str] = []
    root = str(folder)
    for top, folders, names in os.walk(root):
        if top == root:
            folders[:] = [f for f in folders if not f.startswith(".")]
            names = [n for n in names if not n.startswith(".") and n != MANIFEST]
        rel = os.path.relpath(top, root)
        found.extend(name if rel == "." else f"{rel}/{name}".replace(os.sep, "/") for name in names)
    return sorted(found)


def sha256_file(path: Path | str) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def manifest_hashes(folder: Path, known: dict[str, str] | None = None) -> dict[str, str]:
    """Every file of a built site → the sha256 of its bytes; known: the hashes of files that are as a record says
    (site/mkdocs/site_output.SiteOutput.kept_hashes), not read again."""
    known = known or {}
    return {name: known.get(name) or sha256_file(folder / name) for name in site_files(folder)}


def manifest_text(folder: Path, site_url: str | None, hashes: dict[str, str] | None = None) -> str:
    return dumps({"format": FORMAT, "site_url": require_site_url(site_url), "algorithm": "sha256",
                  "files": manifest_hashes(folder) if hashes is None else hashes})


def write_manifest(folder: Path, site_url: str | None, known: dict[str, str] | None = None) -> dict[str, str]:
    """Write folder/manifest.json (the site's last file); site_url: where versions.json's addresses point; known:
    as manifest_hashes takes it. Returns the hashes it lists."""
    hashes = manifest_hashes(folder, known)
    (folder / MANIFEST).write_text(manifest_text(folder, site_url, hashes), encoding="utf-8")
    return hashes
