"""The shared diff fixtures (tests/fixtures/diff/*.json) and the realistic long history, for pytest and the browser.

A fixture file holds a list of cases {name, old, new, expected}: old and new are policies as plain data
(the form of policy.json's `policy`), expected is `diff_to_data` of their diff. pytest checks the Python
diff against `expected`; the browser test runs compare.js on the same cases. To add a case, append it
with "expected": null and run `python tests/support/diff.py --write`, then read the diff of the file.
"""

from __future__ import annotations

import json
import sys
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from policy_site.bench.realistic import RealisticHistory, policy_files  # noqa: E402
from policy_site.diff.sections import diff_policies, diff_to_data  # noqa: E402
from policy_site.site.data import policy_document  # noqa: E402
from policy_site.source.loader import parse_files  # noqa: E402
from policy_site.source.model import Policy  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "diff"


def policy_from_plain(data: dict) -> Policy:
    """A Policy from plain data, through the real loader (so it is exactly what a repository would give)."""
    policy, problems = parse_files(policy_files(data))
    assert policy is not None, "\n".join(map(str, problems))
    return policy


def load_cases() -> list[tuple[str, dict]]:
    """(file:name, case) for every case of every fixture file."""
    out = []
    for path in sorted(FIXTURES.glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8")):
            out.append((f"{path.stem}:{case['name']}", case))
    return out


def python_result(case: dict) -> dict:
    return diff_to_data(diff_policies(policy_from_plain(case["old"]), policy_from_plain(case["new"])))


def documents(case: dict) -> tuple[dict, dict]:
    """The two policy.json documents compare.js would load for a case."""
    return policy_document(policy_from_plain(case["old"])), policy_document(policy_from_plain(case["new"]))


@lru_cache(maxsize=1)
def realistic() -> tuple[RealisticHistory, tuple[Policy, ...]]:
    """The long realistic history (60 versions, ~60 sections, ~8,000–9,500 words each), parsed once."""
    history = RealisticHistory()
    return history, tuple(policy_from_plain(v) for v in history.versions)


def write_expected() -> None:
    for path in sorted(FIXTURES.glob("*.json")):
        cases = json.loads(path.read_text(encoding="utf-8"))
        for case in cases:
            case["expected"] = python_result(case)
        path.write_text(json.dumps(cases, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"written {path}")


if __name__ == "__main__" and "--write" in sys.argv:
    write_expected()
