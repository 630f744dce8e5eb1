"""Published versions from git: one first-parent log pass, one batched blob read, a parse cache keyed by blob ids."""

from __future__ import annotations

import hashlib
import pickle
import subprocess
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, TypeVar

import git

from .errors import PolicyInvalid, Problem, UserError
from .loader import parse_files, read_policy_files
from .model import Policy, version_key

CACHE_FORMAT = 4
T = TypeVar("T")


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


@dataclass(frozen=True)
class Amendment:
    """A later commit that changed a published version's text without a new version number."""

    commit: Commit
    before: Policy
    after: Policy
    key: str = ""
    before_key: str = ""


@dataclass
class PublishedVersion:
    policy: Policy
    commit: Commit | None
    amendments: list[Amendment] = field(default_factory=list)
    key: str = ""  # id of the policy files' blobs at the publishing commit

    @property
    def version(self) -> str:
        return self.policy.version

    @property
    def published(self) -> datetime | None:
        return self.commit.time if self.commit else None

    @property
    def latest_text(self) -> Policy:
        return self.amendments[-1].after if self.amendments else self.policy

    @property
    def updated(self) -> datetime | None:
        return self.amendments[-1].commit.time if self.amendments else self.published


@dataclass
class History:
    versions: list[PublishedVersion]
    warnings: list[str] = field(default_factory=list)
    shallow: bool = False
    from_git: bool = True
    cache: "_ParseCache | None" = None

    def find(self, version: str) -> PublishedVersion | None:
        return next((v for v in self.versions if v.version == version), None)

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """A value derived from blob-keyed policies (such as a diff), cached with the parsed policies."""
        if self.cache is None or not key:
            return compute()
        if key not in self.cache.entries:
            self.cache.entries[key] = compute()
            self.cache.dirty = True
        return self.cache.entries[key]

    def save_cache(self) -> None:
        if self.cache is not None:
            self.cache.save()


def _log(repo: git.Repo, pathspec: str, ref: str) -> list[tuple[Commit, list[tuple[str, str, str]]]]:
    """Commits on the first-parent chain that touched pathspec, oldest first, with their raw changes."""
    out = repo.git.execute(
        ["git", "-c", "core.quotePath=false", "log", "--first-parent", "--diff-merges=first-parent",
         "--reverse", "--raw", "--no-abbrev", "--no-renames",
         "--format=%x01%H%x1f%ct%x1f%an%x1f%s", ref, "--", pathspec],
        strip_newline_in_stdout=False)
    commits: list[tuple[Commit, list[tuple[str, str, str]]]] = []
    for line in out.splitlines():
        if line.startswith("\x01"):
            sha, stamp, author, subject = line[1:].split("\x1f", 3)
            commits.append((Commit(sha, datetime.fromtimestamp(int(stamp), timezone.utc), author, subject), []))
        elif line.startswith(":") and commits:
            meta, path = line.split("\t", 1)
            fields = meta.split()
            if path.startswith('"'):
                path = path[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape") \
                    .encode("latin-1").decode("utf-8", "replace")
            commits[-1][1].append((fields[4][0], fields[3], path))
    return commits


def _read_blobs(repo: git.Repo, shas: list[str]) -> dict[str, bytes]:
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


class _ParseCache:
    """Parsed policies keyed by the blob ids of their files, kept on disk between builds."""

    def __init__(self, directory: Path | None) -> None:
        self.path = directory / "parsed.pickle" if directory else None
        self.entries: dict[str, tuple[Policy | None, list[Problem]]] = {}
        self.dirty = False
        if self.path and self.path.is_file():
            try:
                version, entries = pickle.loads(self.path.read_bytes())
                if version == CACHE_FORMAT:
                    self.entries = entries
            except Exception:  # a stale or damaged cache is rebuilt, never trusted
                self.entries = {}

    def save(self) -> None:
        if self.path and self.dirty:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_bytes(pickle.dumps((CACHE_FORMAT, self.entries), protocol=pickle.HIGHEST_PROTOCOL))
            tmp.replace(self.path)


def _tree_key(rel: str, files: dict[str, str]) -> str:
    listing = "\n".join(f"{p}\0{b}" for p, b in sorted(files.items()))
    return hashlib.sha1(f"{rel}\n{listing}".encode()).hexdigest()


def _policy_states(repo: git.Repo, rel: str, ref: str, cache: _ParseCache) -> list[tuple[Commit, Policy | None, list[Problem], str]]:
    prefix = rel.rstrip("/") + "/"
    state: dict[str, str] = {}
    snapshots: list[tuple[Commit, dict[str, str], str]] = []
    for commit, changes in _log(repo, prefix, ref):
        for status, blob, path in changes:
            if not path.startswith(prefix):
                continue
            if status == "D":
                state.pop(path[len(prefix):], None)
            else:
                state[path[len(prefix):]] = blob
        files = {p: b for p, b in state.items() if p == "policy.yaml" or p.startswith("sections/")}
        snapshots.append((commit, files, _tree_key(rel, files)))
    missing = {key: files for _, files, key in snapshots if key not in cache.entries}
    needed = sorted({blob for files in missing.values() for blob in files.values()})
    contents = _read_blobs(repo, needed)
    section_memo: dict = {}
    for key, files in missing.items():
        data = {p: contents[b] for p, b in files.items()}
        cache.entries[key] = parse_files(data, rel.rstrip("/"), section_memo)
        cache.dirty = True
    return [(commit, *cache.entries[key], key) for commit, _, key in snapshots]


def _text_differs(a: Policy, b: Policy) -> bool:
    return replace(a, version=b.version) != b


def versions_from_states(states: list[tuple[Commit, Policy | None, list[Problem], str]]) -> tuple[list[PublishedVersion], list[str]]:
    """Apply the publishing rules to the policy at each commit, oldest first.

    A commit publishes when its version is above every published one. The same version with other text
    is an amendment. A lower or repeated number publishes nothing: warned, and its text is an amendment.
    A commit whose policy is invalid is skipped with a warning.
    """
    versions: list[PublishedVersion] = []
    warnings: list[str] = []
    latest_key = ""
    for commit, policy, problems, key in states:
        if policy is None:
            first = f": {problems[0]}" if problems else ""
            warnings.append(f"{commit.describe()} has an invalid policy and was skipped{first}")
            continue
        if not versions or version_key(policy.version) > version_key(versions[-1].version):
            versions.append(PublishedVersion(policy, commit, key=key))
            latest_key = key
            continue
        latest = versions[-1]
        if policy.version != latest.version:
            warnings.append(f"{commit.describe()} sets version {policy.version}, which is not above the published "
                            f"{latest.version}: nothing is published, its text counts as an amendment of "
                            f"{latest.version}")
        if _text_differs(policy, latest.latest_text):
            latest.amendments.append(Amendment(commit, latest.latest_text, replace(policy, version=latest.version),
                                               key, latest_key))
            latest_key = key
    return versions, warnings


def open_repo(path: Path) -> git.Repo | None:
    try:
        repo = git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
    return repo if repo.working_tree_dir else None


def read_history(policy_dir: Path, ref: str = "HEAD", allow_shallow: bool = False,
                 cache_dir: Path | None = None) -> History:
    """Every published version of the policy in policy_dir, from the git history of ref."""
    policy_dir = policy_dir.resolve()
    repo = open_repo(policy_dir)
    warnings: list[str] = []
    if repo is None or not repo.head.is_valid():
        policy, problems = parse_files(read_policy_files(policy_dir))
        if policy is None:
            raise PolicyInvalid(problems)
        reason = "not in a git repository" if repo is None else "the git repository has no commits yet"
        return History([PublishedVersion(policy, None)],
                       [f"{reason}: built the working-tree version {policy.version} alone, without history"],
                       from_git=False)
    shallow = repo.git.rev_parse("--is-shallow-repository") == "true"
    if shallow and not allow_shallow:
        raise UserError("this git clone is shallow, so the policy's history is incomplete.\n"
                        "Fetch the full history with `git fetch --unshallow` (in GitHub Actions: "
                        "actions/checkout with `fetch-depth: 0`), or build anyway with --allow-shallow.")
    rel = policy_dir.relative_to(Path(repo.working_tree_dir).resolve()).as_posix()
    cache = _ParseCache(cache_dir)
    states = _policy_states(repo, rel, ref, cache)
    versions, found = versions_from_states(states)
    warnings.extend(found)
    if shallow:
        warnings.append("history incomplete: this is a shallow clone")
    if not versions:
        raise UserError(f"no commit on {ref} holds a valid policy under {rel}/; run `policy check`")
    return History(versions, warnings, shallow=shallow, cache=cache)
