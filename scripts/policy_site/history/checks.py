"""`policy check`: the working tree against the loader's rules and against the published history."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..errors import PolicyInvalid, Problem
from ..source.loader import POLICY_FILE, load_policy
from ..source.model import Policy, version_key
from ..source.yamlnodes import compose
from .versions import History, read_history


def _version_line(policy_dir: Path, prefix: str) -> tuple[int, int]:
    root, _ = compose(prefix, (policy_dir / POLICY_FILE).read_bytes())
    for key, value in getattr(root, "value", []):
        if getattr(key, "value", None) == "version":
            return value.start_mark.line + 1, value.start_mark.column + 1
    return 1, 1


def history_problems(policy: Policy, history: History, policy_dir: Path, prefix: str) -> list[Problem]:
    """Errors for edits that would change published text or reuse a version number."""
    if not history.from_git:
        return []
    path = f"{prefix}/{POLICY_FILE}"
    line, column = _version_line(policy_dir, path)
    latest = history.versions[-1]
    published = history.find(policy.version)
    if published is latest:
        if replace(policy, version=latest.version) != latest.policy:
            when = f"in {latest.commit.describe()}" if latest.commit else "earlier"
            return [Problem(path, line, column,
                            f"the text of version {latest.version} changed after it was published {when}; "
                            f"published text never changes: bump the version (e.g. to "
                            f"\"{suggest_next(latest.version)}\") and update the summary")]
        return []
    if published is not None:
        return [Problem(path, line, column, f"version {policy.version} was already published; "
                                            f"use a number above {latest.version}")]
    if version_key(policy.version) < version_key(latest.version):
        return [Problem(path, line, column, f"version {policy.version} goes backwards: the latest published "
                                            f"version is {latest.version}")]
    return []


def suggest_next(version: str) -> str:
    parts = version.split(".")
    parts[-1] = str(int(parts[-1]) + 1)
    return ".".join(parts)


def run_check(policy_dir: Path, prefix: str = "policy", allow_shallow: bool = False,
              cache_dir: Path | None = None) -> tuple[Policy, list[str]]:
    """The valid working-tree policy and warnings, or PolicyInvalid with every problem."""
    policy = load_policy(policy_dir, prefix)
    history = read_history(policy_dir, allow_shallow=allow_shallow, cache_dir=cache_dir)
    problems = history_problems(policy, history, policy_dir, prefix)
    if problems:
        raise PolicyInvalid(problems)
    warnings = list(history.warnings)
    for version in history.versions[:-1]:
        for amendment in version.amendments:
            warnings.append(f"version {version.version} was amended without a new number in "
                            f"{amendment.commit.describe()}; its page shows the amendment")
    return policy, warnings
