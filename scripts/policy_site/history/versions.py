"""Published versions from git: the publishing rules applied to the policy at each first-parent commit."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import NamedTuple, TypeVar

from ..errors import PolicyInvalid, Problem, UserError
from ..source.files import IGNORED, classify, git_kind, read_working_tree
from ..source.loader import parse_files
from ..source.model import Policy, same_version, version_key
from . import git as gitcmd
from .cache import ParseCache
from .git import Commit

T = TypeVar("T")
ParseResult = tuple[Policy | None, list[Problem]]


class State(NamedTuple):
    """The policy at one commit: the policy (None when invalid), its problems, its files' key and blob ids."""

    commit: Commit
    policy: Policy | None
    problems: list[Problem]
    key: str
    files: dict[str, str]
    at_root: bool = False  # a library document's files still in the policy folder itself (before it moved)


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
    at_root: bool = False  # published while its files were the policy folder's own (a single-document project)

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
    cache: ParseCache | None = None
    tip: State | None = None  # the policy at the last commit that touched it (HEAD's policy)

    def find(self, version: str) -> PublishedVersion | None:
        """The published version with this number, however it is spelled ("1.0" finds "1.0.0")."""
        return next((v for v in self.versions if same_version(v.version, version)), None)

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


def _tree_key(rel: str, files: dict[str, tuple[str, str]]) -> str:
    listing = "\n".join(f"{p}\0{mode}\0{b}" for p, (mode, b) in sorted(files.items()))
    return hashlib.sha1(f"{rel}\n{listing}".encode()).hexdigest()


def _parse(data: dict[str, bytes], prefix: str, memo: dict, refused: dict[str, str]) -> ParseResult:
    """The policy of one commit; any exception while parsing is a problem, never a crash of the build."""
    try:
        return parse_files(data, prefix, memo, refused)
    except Exception as exc:  # noqa: BLE001 - one unreadable commit must not break the history forever
        detail = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")
        return None, [Problem(f"{prefix}/policy.yaml", 1, 1, f"the policy could not be read ({detail[:200]})")]


# One document of a project: (id, folder under the policy folder — "" for the policy folder itself — and whether
# its history continues from the policy folder's own files, as a document that was the project's only one).
DocumentView = tuple[str, str, bool]


Entry = tuple[str, str]  # (git mode, blob id) of one file


def _kept(files: dict[str, Entry]) -> dict[str, Entry]:
    return {p: e for p, e in files.items() if classify(p, git_kind(e[0])) != IGNORED}


def _view(state: dict[str, Entry], folder: str, inherits_root: bool,
          tops: dict[str, dict[str, Entry]]) -> tuple[str, dict]:
    """One document's policy files in a commit's tree (keyed as classify names them) and their folder.

    tops: the same tree by top folder (the files of each, relative to it), so that a document in a top folder
    is read without going through every other document's files."""
    if folder:
        if "/" not in folder:
            inside = tops.get(folder, {})
        else:
            inside = {p[len(folder) + 1:]: e for p, e in state.items() if p.startswith(folder + "/")}
        files = _kept(inside)
        if files or not inherits_root:
            return folder, files
    return "", _kept(state)


def _states(repo: gitcmd.Repo, rel: str, log: gitcmd.Log, cache: ParseCache,
            views: list[DocumentView]) -> dict[str, list[State]]:
    """The policy of every document at every commit that changed it, from one first-parent log pass (`log`, of
    the policy folder) and one batched blob read for all documents."""
    prefix = rel.rstrip("/") + "/"
    state: dict[str, Entry] = {}
    tops: dict[str, dict[str, Entry]] = {}  # the same files by top folder (a library keeps a document in each)
    snapshots: dict[str, list[tuple[Commit, dict[str, tuple[str, str]], str, str]]] = {v[0]: [] for v in views}
    for commit, changes in log.commits():
        touched: set[str] = set()  # the top folders (or root files) this commit changed
        for status, mode, blob, path in changes:
            if not path.startswith(prefix):
                continue
            relative = path[len(prefix):]
            top, _, inner = relative.partition("/")
            touched.add(top if inner else "")
            if status == "D":
                state.pop(relative, None)
                if inner:
                    tops.get(top, {}).pop(inner, None)
            else:
                state[relative] = (mode, blob)
                if inner:
                    tops.setdefault(top, {})[inner] = (mode, blob)
        for document, folder, inherits_root in views:
            # a document in its own folder reads only that folder: a commit that changed nothing in it leaves its
            # files, and so its snapshot, as they were (a document not there yet has nothing to show either)
            if folder and not inherits_root and "/" not in folder and folder not in touched:
                continue
            where, files = _view(state, folder, inherits_root, tops)
            shown = f"{rel.rstrip('/')}/{where}" if where else rel.rstrip("/")
            key = _tree_key(shown, files)
            taken = snapshots[document]
            if not taken or taken[-1][2] != key:
                taken.append((commit, files, key, shown))
    missing = {key: (files, shown) for taken in snapshots.values() for _, files, key, shown in taken
               if key not in cache.entries}
    verdicts = {key: {p: classify(p, git_kind(mode)) for p, (mode, _) in files.items()}
                for key, (files, _) in missing.items()}
    needed = sorted({blob for key, (files, _) in missing.items() for p, (_, blob) in files.items()
                     if verdicts[key][p].read})  # a refused file (a link, …) is never read
    contents = gitcmd.read_blobs(repo, needed)
    section_memo: dict = {}
    for key, (files, shown) in missing.items():
        data = {p: contents[blob] for p, (_, blob) in files.items() if verdicts[key][p].read}
        refused = {p: v.problem for p, v in verdicts[key].items() if v.problem}
        cache.entries[key] = _parse(data, shown, section_memo, refused)
        cache.dirty = True
    out: dict[str, list[State]] = {}
    views_by_id = [(document, folder) for document, folder, _ in views]
    for document, taken in snapshots.items():
        out[document] = []
        for commit, files, key, shown in taken:
            if not files:  # the document does not exist yet at this commit (or no more)
                continue
            policy, problems = cache.entries[key]
            out[document].append(State(commit, policy, problems, key, {p: blob for p, (_, blob) in files.items()},
                                       at_root=bool(dict(views_by_id)[document]) and shown == rel.rstrip("/")))
    return out


def _text_differs(a: Policy, b: Policy) -> bool:
    return replace(a, version=b.version) != b


def versions_from_states(states: list[State]) -> tuple[list[PublishedVersion], list[str]]:
    """Apply the publishing rules to the policy at each commit, oldest first.

    A commit publishes when its version is above every published one (compared as numbers: "1.0" = "1.0.0").
    The same number with other text, however spelled, is an amendment. A lower or repeated number publishes
    nothing: warned, and its text is an amendment. A commit whose policy is invalid is skipped with a warning.
    A new version whose effective date goes backwards is published (its text is public) but warned.
    """
    versions: list[PublishedVersion] = []
    warnings: list[str] = []
    latest_key = ""
    for state in states:
        commit, policy, problems, key = state.commit, state.policy, state.problems, state.key
        if policy is None:
            first = f": {problems[0]}" if problems else ""
            warnings.append(f"{commit.describe()} has an invalid policy and was skipped{first}")
            continue
        if not versions or version_key(policy.version) > version_key(versions[-1].version):
            before = versions[-1].policy if versions else None
            if before is not None and policy.effective < before.effective:
                warnings.append(f"{commit.describe()} publishes version {policy.version} effective "
                                f"{policy.effective.isoformat()}, before {before.effective.isoformat()} when version "
                                f"{before.version} takes effect: published anyway (its text is public), but dates "
                                f"should not go backwards")
            versions.append(PublishedVersion(policy, commit, key=key, at_root=state.at_root))
            latest_key = key
            continue
        latest = versions[-1]
        if same_version(policy.version, latest.version) and policy.version != latest.version:
            warnings.append(f"{commit.describe()} writes version {latest.version} as {policy.version}, the same "
                            f"number: nothing new is published, the site keeps {latest.version}")
        elif policy.version != latest.version:
            warnings.append(f"{commit.describe()} sets version {policy.version}, which is not above the published "
                            f"{latest.version}: nothing is published, its text counts as an amendment of "
                            f"{latest.version}")
        if _text_differs(policy, latest.latest_text):
            latest.amendments.append(Amendment(commit, latest.latest_text, replace(policy, version=latest.version),
                                               key, latest_key))
            latest_key = key
    return versions, warnings


def read_history(policy_dir: Path, ref: str = "HEAD", allow_shallow: bool = False,
                 cache_dir: Path | None = None, require_versions: bool = True) -> History:
    """Every published version of the (single-document) policy in policy_dir, from the git history of ref.

    Without any published version: UserError saying why each commit was skipped (require_versions), or a
    History without versions (for `policy check`, which then judges the working tree alone).
    """
    return read_documents(policy_dir, [("", "", False)], ref, allow_shallow, cache_dir, require_versions)[""]


SHALLOW = ("this git clone is shallow, so the policy's history is incomplete.\n"
           "Fetch the full history with `git fetch --unshallow` (in GitHub Actions: "
           "actions/checkout with `fetch-depth: 0`), or build anyway with --allow-shallow.")


@dataclass
class Reading:
    """A history being read: its repository, the policy folder in it, whether the clone is shallow, `git log`
    running and the parse cache read meanwhile (begin_reading)."""

    repo: gitcmd.Repo
    rel: str
    shallow: bool
    log: gitcmd.Log
    cache: ParseCache

    def close(self) -> None:
        self.log.close()

    def known(self) -> Callable[[Path, dict[str, bytes]], Policy | None]:
        """For load_project: the policy the parse cache holds for a folder whose files are exactly those of a
        commit (the same paths, and the same blob ids as git names them), when it had no problem; else None."""
        root = Path(self.repo.working_tree_dir or ".").resolve()
        like = self.repo.head.commit.hexsha  # sha1 or sha256, as the repository names objects

        def known(folder: Path, files: dict[str, bytes]) -> Policy | None:
            try:
                shown = folder.resolve().relative_to(root).as_posix()
            except ValueError:
                return None
            tree = {name: ("100644", gitcmd.blob_id(data, like)) for name, data in files.items()}
            found = self.cache.entries.get(_tree_key(shown, tree))
            return found[0] if isinstance(found, tuple) and found[0] is not None and not found[1] else None

        return known


def begin_reading(policy_dir: Path, ref: str = "HEAD", allow_shallow: bool | None = False,
                  cache_dir: Path | None = None) -> Reading | None:
    """Start reading the history of policy_dir: None outside git or before the first commit. allow_shallow=None
    reads a shallow clone too, for a caller that decides later (read_documents)."""
    policy_dir = policy_dir.resolve()
    repo = gitcmd.open_repo(policy_dir)
    if repo is None or not gitcmd.has_commits(repo):
        return None
    shallow = gitcmd.is_shallow(repo)
    if shallow and allow_shallow is False:
        raise UserError(SHALLOW)
    assert repo.working_tree_dir is not None  # open_repo returns work trees only
    rel = policy_dir.relative_to(Path(repo.working_tree_dir).resolve()).as_posix()
    log = gitcmd.Log(repo, rel.rstrip("/") + "/", ref)  # git reads the history while the parse cache is read
    try:
        return Reading(repo, rel, shallow, log, ParseCache(cache_dir))
    except BaseException:
        log.close()
        raise


def read_documents(policy_dir: Path, views: list[DocumentView], ref: str = "HEAD", allow_shallow: bool = False,
                   cache_dir: Path | None = None, require_versions: bool = True,
                   reading: Reading | None = None) -> dict[str, History]:
    """The history of every document of a project (one log pass, one blob read for all of them); reading: the
    same, begun already (begin_reading with this policy_dir, ref and cache_dir)."""
    if reading is not None and reading.shallow and not allow_shallow:
        reading.close()
        raise UserError(SHALLOW)
    reading = reading or begin_reading(policy_dir, ref, allow_shallow, cache_dir)
    if reading is None:
        policy_dir = policy_dir.resolve()
        repo = gitcmd.open_repo(policy_dir)
        reason = "not in a git repository" if repo is None else "the git repository has no commits yet"
        out: dict[str, History] = {}
        for document, folder, _ in views:
            files, refused = read_working_tree(policy_dir / folder if folder else policy_dir)
            policy, problems = parse_files(files, f"policy/{folder}" if folder else "policy", refused=refused)
            if policy is None:
                raise PolicyInvalid(problems)
            out[document] = History([PublishedVersion(policy, None)],
                                    [f"{reason}: the working tree's version {policy.version} stands alone, "
                                     f"without history (a commit publishes it)"], from_git=False)
        return out
    try:
        found = _states(reading.repo, reading.rel, reading.log, reading.cache, views)
    finally:
        reading.close()
    rel, shallow, cache = reading.rel, reading.shallow, reading.cache
    histories: dict[str, History] = {}
    for (document, folder, _), states in zip(views, found.values()):
        versions, warnings = versions_from_states(states)
        where = f"{rel}/{folder}" if folder else rel
        if document:
            warnings = [f"{document}: {w}" for w in warnings]
        if shallow:
            warnings.append("history incomplete: this is a shallow clone")
        if not versions and require_versions:
            skipped = [w for w in warnings if "was skipped" in w]
            why = "".join(f"\n  {w}" for w in skipped[-5:]) if skipped else f"\n  no commit on {ref} touches {where}/"
            raise UserError(f"nothing is published: no commit on {ref} holds a valid policy under {where}/:{why}")
        histories[document] = History(versions, warnings, shallow=shallow, cache=cache,
                                      tip=states[-1] if states else None)
    return histories
