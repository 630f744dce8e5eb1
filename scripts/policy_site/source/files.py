"""Which files under policy/ are policy files — one rule for the working tree and for git history — and reading
them from the working tree without ever following a link.

`classify` is the only place that decides. Paths are relative to the policy folder:

- `policy.yaml` and `sections/<name>.yaml` are read;
- a path with any part starting with "." is ignored (`sections/.gitkeep`, `.DS_Store`, editor swap files),
  and so is everything else under policy/ (`schema/`, a README);
- refused, with a problem naming the file and its contents never read: a symbolic link, a submodule or
  anything else that is not a regular file; a file in a sub-folder of `sections/`; a file in `sections/` not
  named `*.yaml`; a name that is not valid UTF-8.

The history reader (history/versions.py) asks `classify` about every path of every commit, with the kind git
records for it (mode 120000 is a symbolic link); the working-tree reader below asks it about what `lstat` finds.
"""

from __future__ import annotations

import functools
import os
import stat
from dataclasses import dataclass
from pathlib import Path

POLICY_FILE = "policy.yaml"
SECTIONS_DIR = "sections"
FILE, LINK, OTHER = "file", "link", "other"  # a regular file, a symbolic link, anything else
GIT_KINDS = {"100644": FILE, "100755": FILE, "120000": LINK}  # any other mode (160000: submodule) is OTHER


@dataclass(frozen=True)
class Verdict:
    read: bool
    problem: str | None = None


READ, IGNORED = Verdict(True), Verdict(False)


@functools.lru_cache(maxsize=4096)  # history asks about the same few names for every commit
def classify(name: str, kind: str = FILE) -> Verdict:
    """Whether the path `name` (relative to the policy folder) is read, ignored or refused (with why)."""
    parts = name.split("/")
    if any(part.startswith(".") for part in parts):
        return IGNORED
    if name != POLICY_FILE and parts[0] != SECTIONS_DIR:
        return IGNORED
    if "\ufffd" in name:
        return Verdict(False, "the file name is not valid UTF-8: rename it")
    if kind == LINK:
        return Verdict(False, "this file is a symbolic link; policy files must be regular files inside the policy "
                              "folder, and links are never followed: replace the link with the file itself")
    if kind != FILE:
        return Verdict(False, "this is not a regular file (a folder, a submodule or a device): policy files "
                              "must be plain files")
    if name == POLICY_FILE:
        return READ
    if len(parts) == 1:
        return Verdict(False, "sections must be a folder holding the section files")
    if len(parts) > 2:
        return Verdict(False, "section files must be directly in sections/, not in a sub-folder (sub-folders are "
                              "not read): move the file into sections/")
    if not name.endswith(".yaml"):
        hint = " (rename .yml to .yaml)" if name.endswith(".yml") else ""
        return Verdict(False, f"section files must be named <id>.yaml{hint}")
    return READ


def git_kind(mode: str) -> str:
    """FILE, LINK or OTHER for a git tree-entry mode such as '100644' or '120000'."""
    return GIT_KINDS.get(mode, OTHER)


def _kind(mode: int) -> str:
    return FILE if stat.S_ISREG(mode) else LINK if stat.S_ISLNK(mode) else OTHER


def _name(entry: os.DirEntry) -> str:
    return os.fsencode(entry.name).decode("utf-8", "replace")


def _read(path: Path) -> bytes | str:
    """The bytes of a regular file, opened without following a link; or why it cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        return f"could not be read ({exc.strerror})"
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return "this is not a regular file: policy files must be plain files"
        return handle.read()


def read_working_tree(policy_dir: Path) -> tuple[dict[str, bytes], dict[str, str]]:
    """The policy files of the working tree, and the refused ones with why (keyed like `classify`'s names)."""
    files: dict[str, bytes] = {}
    refused: dict[str, str] = {}

    def visit(name: str, path: Path, mode: int) -> None:
        if stat.S_ISDIR(mode) and (name == SECTIONS_DIR or name.startswith(SECTIONS_DIR + "/")):
            if any(part.startswith(".") for part in name.split("/")):
                return
            with os.scandir(path) as entries:
                for entry in sorted(entries, key=lambda e: e.name):
                    visit(f"{name}/{_name(entry)}", Path(entry.path), entry.stat(follow_symlinks=False).st_mode)
            return
        verdict = classify(name, _kind(mode))
        if verdict.problem:
            refused[name] = verdict.problem
        elif verdict.read:
            data = _read(path)
            if isinstance(data, str):
                refused[name] = data
            else:
                files[name] = data

    for name in (POLICY_FILE, SECTIONS_DIR):
        path = policy_dir / name
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            continue
        visit(name, path, mode)
    return files, refused
