"""Every git command the tool runs, one function each; GitError carries git's message.

Reading history is one first-parent `git log --raw` pass plus one `git cat-file --batch` for all the
blobs it needs, whatever the number of versions. Nothing else in the package starts git.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
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


class Log:
    """`git log` of the first-parent chain, running while the caller does something else (its output goes to a
    temporary file, so git never waits for a reader); commits() waits for it and reads it. NUL-separated output
    (-z): paths arrive exactly as stored, whatever characters they hold."""

    def __init__(self, repo: git.Repo, pathspec: str, ref: str) -> None:
        self.output, self.errors = tempfile.TemporaryFile(), tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            ["git", "log", "-z", "--first-parent", "--diff-merges=first-parent", "--reverse", "--raw", "--no-abbrev",
             "--no-renames", "--format=%x01%H%x1f%ct%x1f%an%x1f%s", ref, "--", pathspec],
            cwd=repo.working_tree_dir, stdin=subprocess.DEVNULL, stdout=self.output, stderr=self.errors)

    def commits(self) -> list[tuple[Commit, list[RawChange]]]:
        """Commits on the first-parent chain that touched pathspec, oldest first, with their raw changes."""
        try:
            if self.process.wait() != 0:
                self.errors.seek(0)
                raise GitError(f"git log failed: {self.errors.read().decode(errors='replace').strip()}")
            self.output.seek(0)
            return _parse_log(self.output.read())
        finally:
            self.close()

    def close(self) -> None:
        """Stop git if it still runs (the caller gave up), and drop its files."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.output.close()
        self.errors.close()


def _parse_log(stdout: bytes) -> list[tuple[Commit, list[RawChange]]]:
    commits: list[tuple[Commit, list[RawChange]]] = []
    tokens = stdout.split(b"\0")
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


# --- reading another repository's history of one file, and writing imported commits (policy import --git) ---

@dataclass(frozen=True)
class Person:
    """An author or committer: name, email and git's raw date ('1595412345 +0200')."""

    name: str
    email: str
    date: str

    @property
    def time(self) -> datetime:
        stamp, zone = self.date.split()
        sign = -1 if zone.startswith("-") else 1
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5])) * sign
        return datetime.fromtimestamp(int(stamp), timezone(offset))


@dataclass(frozen=True)
class FileRevision:
    """A commit that changed one file: who, when, why, and the file's path there (status A, M, R, C or D)."""

    sha: str
    author: Person
    committer: Person
    message: str
    status: str
    path: str
    old_path: str | None = None


def _git_in(repo: Path, *args: str, data: bytes | None = None) -> bytes:
    try:
        result = subprocess.run(["git", *args], cwd=repo, capture_output=True, input=data,
                                env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"})
    except OSError as exc:
        raise GitError(f"cannot run git in {repo}: {exc.strerror or exc}") from None
    if result.returncode != 0:
        raise GitError(f"git {args[0]} failed in {repo}: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout


def repository_root(path: Path) -> Path:
    """The top of the work tree (or the git folder of a bare repository) that path is in; UserError if none."""
    if not path.is_dir():
        raise UserError(f"{path}: no such folder; --git takes the folder of a git repository")
    result = subprocess.run(["git", "rev-parse", "--is-bare-repository", "--show-toplevel"], cwd=path,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise UserError(f"{path} is not a git repository; --git takes the folder of a git repository "
                        "(clone it first if it is remote)")
    lines = result.stdout.split("\n")
    return path.resolve() if lines[0] == "true" else Path(lines[1])


def resolve_commit(repo: Path, ref: str) -> str:
    """The commit id a ref names in repo; UserError naming the ref if none."""
    result = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd=repo,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise UserError(f"{repo}: no commit '{ref}' (a branch, tag or commit id); see `git -C {repo} branch -a`")
    return result.stdout.strip()


_FILE_LOG = "%x01%H%x1f%an%x1f%ae%x1f%ad%x1f%cn%x1f%ce%x1f%cd%x1f%B%x02"


def file_history(repo: Path, ref: str, path: str) -> list[FileRevision]:
    """The commits on ref's first-parent history that changed path, newest first, following renames that git
    detects (`git log --follow`): each with the file's path in that commit."""
    out = _git_in(repo, "log", "-z", "--follow", "--first-parent", "--diff-merges=first-parent", "--name-status",
                  "--date=raw", f"--format={_FILE_LOG}", ref, "--", f":(top,literal){path}")
    revisions: list[FileRevision] = []
    for record in out.split(b"\x01")[1:]:
        header, _, changes = record.partition(b"\x02")
        sha, an, ae, ad, cn, ce, cd, message = header.decode("utf-8", "replace").split("\x1f", 7)
        fields = [f.decode("utf-8", "replace") for f in changes.lstrip(b"\0\n").split(b"\0") if f.strip(b"\n")]
        if not fields:
            continue
        status = fields[0][:1]
        new_path = fields[2] if status in "RC" and len(fields) > 2 else fields[1]
        old = fields[1] if status in "RC" and len(fields) > 2 else None
        revisions.append(FileRevision(sha, Person(an, ae, ad), Person(cn, ce, cd), message.rstrip("\n"), status,
                                      new_path, old))
    return revisions


def read_files(repo: Path, specs: list[str]) -> dict[str, bytes | None]:
    """Contents of 'commit:path' objects in one `git cat-file --batch` run; None for one that is missing."""
    if not specs:
        return {}
    data = _git_in(repo, "cat-file", "--batch", data="".join(s + "\n" for s in specs).encode())
    pos = 0
    found: dict[str, bytes | None] = {}
    for spec in specs:
        end = data.index(b"\n", pos)
        header = data[pos:end].split()
        if len(header) != 3 or header[1] != b"blob":
            found[spec] = None
            pos = end + 1
            continue
        size = int(header[2])
        found[spec] = data[end + 1: end + 1 + size]
        pos = end + 2 + size
    return found


def commit_all(cwd: Path, message: str, author: Person, committer: Person) -> str:
    """Stage everything in cwd and commit it with the given author, committer and dates; the new commit id."""
    env = {"GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email, "GIT_AUTHOR_DATE": f"@{author.date}",
           "GIT_COMMITTER_NAME": committer.name, "GIT_COMMITTER_EMAIL": committer.email,
           "GIT_COMMITTER_DATE": f"@{committer.date}"}
    run(cwd, "add", "-A")
    run(cwd, "commit", "-q", "--no-verify", "--no-gpg-sign", "--allow-empty", "-m", message, env=env)
    return run(cwd, "rev-parse", "HEAD").strip()


_IMPORTED = "Imported from "


def imported_commits(project: Path) -> list[tuple[str, list[str]]]:
    """The source commits named by "Imported from REPO SHA" lines on project's first-parent history, oldest first,
    each with the files its commit changed; empty before the first commit."""
    if subprocess.run(["git", "rev-parse", "--verify", "--quiet", "HEAD"], cwd=project,
                      capture_output=True).returncode != 0:
        return []
    out = _git_in(project, "log", "-z", "--reverse", "--first-parent", "--no-renames", "--name-only",
                  "--format=%x01%B%x02")
    found: list[tuple[str, list[str]]] = []
    for record in out.split(b"\x01")[1:]:
        message, _, names = record.partition(b"\x02")
        lines = message.decode("utf-8", "replace").splitlines()
        shas = [line.rsplit(" ", 1)[1] for line in lines if line.startswith(_IMPORTED) and " " in line[14:]]
        if shas:
            paths = [n.decode("utf-8", "replace") for n in names.lstrip(b"\0\n").split(b"\0") if n.strip(b"\n")]
            found.append((shas[-1], paths))
    return found


def uncommitted(project: Path) -> list[str]:
    """What `git status --porcelain` lists in project: changed, staged or untracked files (ignored ones left out)."""
    out = _git_in(project, "status", "--porcelain", "-z", "--untracked-files=all")
    return [entry[3:].decode("utf-8", "replace") for entry in out.split(b"\0") if len(entry) > 3]


def head_commit(project: Path) -> str | None:
    result = subprocess.run(["git", "rev-parse", "--verify", "--quiet", "HEAD"], cwd=project, capture_output=True,
                            text=True)
    return result.stdout.strip() if result.returncode == 0 else None


def restore(project: Path, commit: str) -> None:
    """Put project back at commit: later commits and any file they or a failed write left, gone."""
    _git_in(project, "reset", "-q", "--hard", commit)
    _git_in(project, "clean", "-q", "-fd")


def tree_files(repo: Path, commit: str, folder: str) -> list[str]:
    """The files under folder (relative to the repository's top) at commit, '/'-separated, sorted."""
    out = _git_in(repo, "ls-tree", "-r", "-z", "--name-only", "--full-tree", commit, "--", f":(top,literal){folder}")
    return sorted(name.decode("utf-8") for name in out.split(b"\0") if name)


_SIGNATURE = "%G?%x1f%GS%x1f%GK%x1f%GF"


def signature(repo: Path, commit: str) -> dict[str, str]:
    """A commit's signature as git sees it: %G? (G good, B bad, U good but of unknown validity, X/Y expired, R
    revoked, E cannot be checked, N none), the signer, key and fingerprint, and what `git verify-commit` says."""
    status, signer, key, fingerprint = _git_in(repo, "log", "-1", f"--format={_SIGNATURE}", commit) \
        .decode("utf-8", "replace").rstrip("\n").split("\x1f")
    checked = subprocess.run(["git", "verify-commit", "--raw", commit], cwd=repo, capture_output=True,
                             env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"})
    said = (checked.stderr or checked.stdout).decode("utf-8", "replace").strip()
    return {"status": status, "signer": signer, "key": key, "fingerprint": fingerprint,
            "verify_commit": f"exit {checked.returncode}" + (f": {said}" if said else "")}
