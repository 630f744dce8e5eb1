"""Every git command the tool runs, one function each; GitError carries git's message.

Reading history is one first-parent `git log --raw` pass plus one `git cat-file --batch` for all the
blobs it needs, whatever the number of versions. Nothing else in the package starts git.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import git
from git import Repo as Repo

from ..errors import UserError


class GitError(UserError):
    """A git command failed; the message carries what git said."""


@dataclass(frozen=True)
class Commit:
    sha: str
    time: datetime
    author: str
    subject: str

    @property
    def short(self) -> str:
        return self.sha[:10]

    def describe(self) -> str:
        return f"commit {self.short} ({self.time:%Y-%m-%d}, \"{self.subject}\")"


# (status letter, git mode, blob id, path) of one file changed by a commit; mode "120000" is a symbolic link,
# "160000" a submodule, "100644"/"100755" a regular file
RawChange = tuple[str, str, str, str]


def open_repo(path: Path) -> git.Repo | None:
    """The work tree's repository, or None outside git (or in a bare repository)."""
    try:
        repo = git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
    return repo if repo.working_tree_dir else None


def has_commits(repo: git.Repo) -> bool:
    return repo.head.is_valid()


def head_state(path: Path) -> str | None:
    """The commit HEAD points to (and whether the clone is shallow), read from the repository's files without
    running git: what the published history depends on. None outside git or before the first commit."""
    repo = open_repo(path)
    if repo is None or not has_commits(repo):
        return None
    shallow = (Path(repo.git_dir) / "shallow").exists()
    return f"{repo.head.commit.hexsha}{' shallow' if shallow else ''}"


def is_shallow(repo: git.Repo) -> bool:
    return repo.git.rev_parse("--is-shallow-repository") == "true"


def first_parent_log(repo: git.Repo, pathspec: str, ref: str) -> list[tuple[Commit, list[RawChange]]]:
    """Commits on the first-parent chain that touched pathspec, oldest first, with their raw changes.

    NUL-separated output (-z): paths arrive exactly as stored, whatever characters they hold.
    """
    out = subprocess.run(
        ["git", "log", "-z", "--first-parent", "--diff-merges=first-parent", "--reverse", "--raw", "--no-abbrev",
         "--no-renames", "--format=%x01%H%x1f%ct%x1f%an%x1f%s", ref, "--", pathspec],
        cwd=repo.working_tree_dir, capture_output=True)
    if out.returncode != 0:
        raise GitError(f"git log failed: {out.stderr.decode(errors='replace').strip()}")
    commits: list[tuple[Commit, list[RawChange]]] = []
    tokens = out.stdout.split(b"\0")
    i = 0
    while i < len(tokens):
        token = tokens[i].lstrip(b"\n")
        i += 1
        if token.startswith(b"\x01"):
            sha, stamp, author, subject = token[1:].decode("utf-8", "replace").split("\x1f", 3)
            commits.append((Commit(sha, datetime.fromtimestamp(int(stamp), UTC), author, subject), []))
        elif token.startswith(b":") and commits and i < len(tokens):
            fields = token.decode("ascii", "replace").split()
            path = tokens[i].decode("utf-8", "replace")  # a name that is not UTF-8 keeps U+FFFD: refused later
            i += 1
            commits[-1][1].append((fields[4][0], fields[1], fields[3], path))
    return commits


def blob_id(data: bytes, like: str) -> str:
    """The id git gives a blob with these bytes (`git hash-object` without filters), in the hash of `like`."""
    algorithm = "sha256" if len(like) == 64 else "sha1"
    return hashlib.new(algorithm, b"blob %d\0" % len(data) + data).hexdigest()


def read_blobs(repo: git.Repo, shas: list[str]) -> dict[str, bytes]:
    """Contents of many blobs in one `git cat-file --batch` run."""
    if not shas:
        return {}
    proc = subprocess.run(["git", "cat-file", "--batch"], cwd=repo.git_dir, check=True,
                          input="".join(s + "\n" for s in shas).encode(), capture_output=True)
    data, pos, blobs = proc.stdout, 0, {}
    for sha in shas:
        end = data.index(b"\n", pos)
        header = data[pos:end].split()
        if len(header) != 3:
            raise UserError(f"git could not read object {sha} ({data[pos:end].decode(errors='replace')}); "
                            "is the repository complete? try `git fsck`")
        size = int(header[2])
        blobs[sha] = data[end + 1 : end + 1 + size]
        pos = end + 2 + size
    return blobs


def is_ignored(path: Path) -> bool | None:
    """True when git ignores path, False when it would be committable, None outside a work tree."""
    try:
        result = subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=path.parent if path.parent.is_dir()
                                else None, capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return {0: True, 1: False}.get(result.returncode)  # 128: not a git work tree


def run(cwd: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    """Run one git command in cwd (for tools that write history: the demo, imports); its output."""
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, **(env or {})})
    if result.returncode != 0:
        raise GitError(f"git {args[0]} failed: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout
