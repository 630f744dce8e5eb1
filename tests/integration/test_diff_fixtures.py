"""The diff on shared fixtures and on a long realistic history: nothing invisible, alike paragraphs paired,
PR comments that fit. The browser test runs compare.js on the same fixtures (tests/browser/test_browser.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from policy_site.bench.realistic import write_repo
from policy_site.diff.comment import LIMIT, as_markdown
from policy_site.diff.redline_render import redline_text
from policy_site.diff.sections import diff_policies
from policy_site.source import inline
from policy_site.source.model import policy_texts as _texts
from tests.support.diff import load_cases, python_result, realistic
from tests.support.project import ROOT, output_dir, run_policy, without_pdfs

CASES = load_cases()


@pytest.mark.parametrize("case", [c for _, c in CASES], ids=[n for n, _ in CASES])
def test_python_diff_matches_the_fixture(case: dict) -> None:
    assert python_result(case) == case["expected"]


def test_runs_give_back_the_words_of_every_text() -> None:
    """policy.json carries runs; compare.js splits them into words: they must be the words Python diffs."""
    history, _ = realistic()
    texts = {"The **bold**ed word", "a <https://x.org/a> \\*not em\\* _em_ [r](#s1)", "  spaced   out  ", "x"}
    for version in history.versions:
        for section in version["sections"]:
            texts.update(b for b in section["body"] if isinstance(b, str))
    for text in texts:
        assert inline.words_from_runs(inline.runs(text)) == inline.words(text), text


def _diffs():
    history, policies = realistic()
    return history, [(policies[i], policies[i + 1], diff_policies(policies[i], policies[i + 1]))
                     for i in range(len(policies) - 1)]


def test_a_link_or_emphasis_change_is_never_invisible() -> None:
    history, diffs = _diffs()
    by_version = {new.version: d for _, new, d in diffs}
    assert len(history.format_only) >= 20
    for version, section_id in history.format_only:
        change = next((c for c in by_version[version].changed if c.id == section_id), None)
        assert change is not None and "modified" in change.kinds, (version, section_id)
        text = redline_text(change.redline, changed_only=True)
        assert "(link" in text or "emphasis added" in text or "formatting changed" in text, (version, text)


def _shared(block) -> float:
    """The share of words the old and new text of a modified block have in common (of the longer one)."""
    old = [s.text for s in block.spans if s.op != "insert"]
    new = [s.text for s in block.spans if s.op != "delete"]
    old_words, new_words = " ".join(old).split(), " ".join(new).split()
    common = sum(1 for s in block.spans if s.op == "equal" for _ in s.text.split())
    return common / max(len(old_words), len(new_words), 1)


def test_modified_paragraphs_are_alike_and_comments_fit() -> None:
    """Figures for the closing note, written to test-output/redline-quality.json."""
    _, diffs = _diffs()
    _, policies = realistic()
    pairs = [(old, new, d) for old, new, d in diffs]
    pairs.append((policies[0], policies[-1], diff_policies(policies[0], policies[-1])))
    modified = [b for _, _, d in pairs for c in d.changed for b in c.redline if b.status == "modified"]
    unalike = [b for b in modified if _shared(b) < 0.3]
    sizes = [len(as_markdown(d, f"version {old.version}", f"version {new.version}",
                             "https://example.org/compare/")) for old, new, d in pairs]
    figures = {"versions": len(policies), "pairs": len(pairs), "modified_blocks": len(modified),
               "modified_sharing_under_30_percent": len(unalike),
               "share_under_30_percent": round(len(unalike) / max(len(modified), 1), 4),
               "largest_pr_comment": max(sizes), "limit": LIMIT,
               "words_per_version": [min(len(" ".join(inline.to_text(t) for t in _texts(p)).split())
                                         for p in policies),
                                     max(len(" ".join(inline.to_text(t) for t in _texts(p)).split())
                                         for p in policies)]}
    (output_dir("figures") / "redline-quality.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(figures)
    assert len(modified) > 100
    assert figures["share_under_30_percent"] < 0.02
    assert max(sizes) <= LIMIT



@pytest.fixture(scope="module")
def long_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The realistic history as a real git repository with this project's mkdocs.yml and templates."""
    history, _ = realistic()
    extra = {"mkdocs.yml": without_pdfs((ROOT / "mkdocs.yml").read_text(encoding="utf-8")).encode()}
    extra.update({p.relative_to(ROOT).as_posix(): p.read_bytes() for p in (ROOT / "templates").rglob("*")
                  if p.is_file()})
    return write_repo(tmp_path_factory.mktemp("long") / "repo", history.versions, extra)


def test_long_history_builds_and_its_biggest_comment_fits(long_repo: Path) -> None:
    run_policy(long_repo, "build", check=True)
    assert (long_repo / "site/versions/60.0/index.html").is_file()
    comment = run_policy(long_repo, "diff", "1.0", "60.0", "--format", "markdown", check=True).stdout
    assert len(comment) <= LIMIT
    assert "not shown here" in comment
    assert "Full redline: https://privacy.synergycabinet.example/compare/?from=1.0&to=60.0" in comment


def test_a_closed_pipe_is_not_a_traceback(long_repo: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "policy_site", "diff", "1.0", "60.0", "--format", "json"],
                            cwd=long_repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "scripts")})
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader went away before the output was written: `policy diff … | head -1`
    err = proc.stderr.read().decode()
    assert proc.wait() == 141 and "Traceback" not in err and "BrokenPipe" not in err, err
