"""`policy import --git REPO --manifest FILE --into DIR`: the histories of several documents of one repository
(three documents of 34 revisions each, interleaved over 16 months, one renamed, some whitespace-only revisions)
become one library whose first-parent history is in date order and whose every document has the versions a
single-document import gives it; importing again adds only new revisions, and then nothing. Bad input is one
line, and nothing is written."""

from __future__ import annotations

import json
import random
import subprocess
import time
from pathlib import Path

import yaml

from tests.support.importing import Source, build_without_pdfs, record
from tests.support.project import run_policy

ORGANISATION = ["--organisation", "Northwind Outfitters", "--contact", "legal@northwind.example",
                "--site-url", "https://legal.northwind.example/", "--package", "policy-site==0.1.0"]
DAY = 86_400
START = 1_614_556_800  # 2021-03-01T00:00:00Z
TITLES = {"privacy": "Northwind privacy policy", "terms": "Terms of service", "cookies": "Cookie policy"}
PATHS = {"privacy": ["privacy.md"], "terms": ["legal/terms.md", "terms-of-service.md"], "cookies": ["cookies.md"]}
REVISIONS = 34
RENAMED_AT = 15  # the terms' revision that moves terms-of-service.md to legal/terms.md, rewritten (git sees no rename)
WORDS = {  # each document its own words: git's --follow would take one document's first text for a copy of another
    "privacy": "data account order payment delivery consent partner request access period processor controller "
               "retention transfer erasure portability objection profiling breach".split(),
    "terms": "contract refund warranty liability claim dispute court law seller buyer goods invoice price "
             "cancellation return defect remedy arbitration jurisdiction".split(),
    "cookies": "cookie browser device storage tracker pixel session analytics banner preference expiry domain "
               "script beacon identifier fingerprint advertising measurement".split(),
}
MANIFEST = """\
title: Northwind legal documents
documents:
  - id: privacy
    paths: [privacy.md]
  - id: terms
    paths: [legal/terms.md, terms-of-service.md]    # the older path: git does not see the rename
  - id: cookies
    title: Cookie policy
    paths: cookies.md
"""


class Documents:
    """The three documents' texts, revised one section at a time, committed at interleaved dates."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.count = {d: 0 for d in TITLES}
        self.sections = {d: [self._section(d, k, 0) for k in range(6)] for d in TITLES}
        self.text = {d: "" for d in TITLES}
        self.path = {"privacy": "privacy.md", "terms": "terms-of-service.md", "cookies": "cookies.md"}

    @staticmethod
    def _section(document: str, k: int, n: int) -> str:
        words = WORDS[document]
        body = " ".join(words[(n * 7 + k * 3 + i) % len(words)] for i in range(45))
        return f"## {document.title()} clause {k}\n\nRevision {n} of clause {k}: {body}.\n"

    def revise(self, document: str, when: int) -> str:
        """The document's next revision, committed at `when`: whitespace only every eighth time, a stated effective
        date every fourth, the terms moved and rewritten at RENAMED_AT."""
        n = self.count[document] = self.count[document] + 1
        if n % 8 == 0:
            text = self.text[document].replace("\n\n## ", "\n\n\n## ", 1) + "\n"
        else:
            if document == "terms" and n == RENAMED_AT:
                self.source.git("rm", "-q", self.path["terms"])
                self.path["terms"] = "legal/terms.md"
                self.sections["terms"] = [self._section("terms", k, n + 100) for k in range(6)]
            self.sections[document][n % 6] = self._section(document, n % 6, n)
            effective = time.strftime("%B %d, %Y", time.gmtime(when + 30 * DAY)) if n % 4 == 1 else None
            front = "---\nredirect_from:\n  - /privacy.html\n---\n" if document == "privacy" else ""
            stated = f"Effective date: {effective}\n\n" if effective else ""
            text = (f"{front}# {TITLES[document]}\n\n{stated}How Northwind deals with {document}.\n\n"
                    + "\n".join(self.sections[document]))
        self.text[document] = text
        author = ("Alice", "Bob", "Carol")[n % 3]
        return self.source.commit({self.path[document]: text}, f"{document}: revision {n}", author, when)


def _history(source: Source) -> tuple[Documents, int]:
    """Every document's REVISIONS revisions in a shuffled order, one every four to six days; the last time."""
    documents = Documents(source)
    order = [d for d in TITLES for _ in range(REVISIONS)]
    random.Random(22).shuffle(order)
    when = START
    for document in order:
        when += 4 * DAY + (len(order) * 7919 + when) % (2 * DAY)
        documents.revise(document, when)
    return documents, when


def _versions(project: Path, document: str | None = None) -> list[tuple[str, str, str]]:
    extra = ["--document", document] if document else []
    listed = json.loads(run_policy(project, "versions", "--json", *extra, check=True).stdout)
    return [(v["version"], v["effective"], v["summary"]) for v in reversed(listed)]


def _git(project: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=project, check=True, capture_output=True, text=True).stdout.strip()


def _import(cwd: Path, source: Source, into: str) -> subprocess.CompletedProcess:
    return run_policy(cwd, "import", "--git", str(source.path), "--manifest", "manifest.yaml", "--into", into,
                      *ORGANISATION)


def test_a_repository_of_documents_becomes_one_library(tmp_path: Path) -> None:
    source = Source(tmp_path / "source")
    documents, last = _history(source)
    (tmp_path / "manifest.yaml").write_text(MANIFEST, encoding="utf-8")

    started = time.monotonic()
    result = _import(tmp_path, source, "library")
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    report = result.stdout
    print(report)
    library = tmp_path / "library"
    assert "3 documents from" in report and "a new library" in report
    assert "terms-of-service.md → legal/terms.md (given with --path" in report
    assert " in de:" not in report  # no translations in this manifest
    data = yaml.safe_load((library / "policy/library.yaml").read_text(encoding="utf-8"))
    assert data == {"title": "Northwind legal documents", "documents": ["privacy", "terms", "cookies"]}
    assert not (library / "policy/policy.yaml").exists() and not (library / "policy/sections").exists()

    # every document: the versions, in order, with the effective dates and summaries of a single-document import
    expected = {}
    for document, paths in PATHS.items():
        single = tmp_path / f"single-{document}"
        options = [x for p in paths for x in ("--path", p)]
        run_policy(tmp_path, "import", "--git", str(source.path), *options, "--into", single.name, *ORGANISATION,
                   check=True)
        expected[document] = _versions(single)
        assert _versions(library, document) == expected[document], document
        assert REVISIONS - REVISIONS // 8 - 1 <= len(expected[document]) <= REVISIONS - REVISIONS // 8
    assert {v[0] for v in expected["privacy"]} >= {"2021.1", "2022.1"}

    # one first-parent history, in date order, each commit changing one document's folder
    log = _git(library, "log", "--first-parent", "--reverse", "--format=%x01%ct %s", "--name-only")
    commits = [c.strip().split("\n") for c in log.split("\x01") if c.strip()]
    assert len(commits) == sum(len(v) for v in expected.values())
    times = [int(c[0].split()[0]) for c in commits]
    assert times == sorted(times)
    for lines in commits:
        folders = {p.split("/")[1] for p in lines[1:] if p.startswith("policy/") and p.count("/") >= 2} - {"schema"}
        assert len(folders) == 1 and lines[0].split()[1].rstrip(":") in folders, lines
    assert len({c[0].split()[1] for c in commits[:8]}) == 3  # interleaved, not one document after another
    message = _git(library, "log", "-1", "--format=%B")
    assert f"Imported from {source.path} " in message

    run_policy(library, "check", check=True)
    built = time.monotonic()
    build_without_pdfs(library)
    build_seconds = time.monotonic() - built
    for document, versions in expected.items():
        listed = json.loads((library / "site" / document / "versions.json").read_text(encoding="utf-8"))
        records = listed["versions"] if isinstance(listed, dict) else listed
        assert sorted(r["version"] for r in records) == sorted(v[0] for v in versions), document
    assert (library / "site/privacy.html").is_file()  # redirect_from → the document's pages

    # the source moves on by two revisions: only those are added
    head = _git(library, "rev-parse", "HEAD")
    documents.revise("cookies", last + 3 * DAY)
    documents.revise("terms", last + 5 * DAY)
    started = time.monotonic()
    again = _import(tmp_path, source, "library")
    again_seconds = time.monotonic() - started
    assert again.returncode == 0, again.stdout + again.stderr
    assert "commits written: 2 " in again.stdout and "continued" in again.stdout, again.stdout
    assert _git(library, "rev-list", "--count", f"{head}..HEAD") == "2"
    assert _git(library, "log", "-2", "--format=%s").split("\n") == [f"terms: revision {REVISIONS + 1}",
                                                                  f"cookies: revision {REVISIONS + 1}"]
    for document in ("terms", "cookies"):
        continued = _versions(library, document)
        assert continued[:-1] == expected[document]
        assert len(continued) == len(expected[document]) + 1
    assert _versions(library, "privacy") == expected["privacy"]
    run_policy(library, "check", check=True)

    # once more: nothing new, nothing written
    head = _git(library, "rev-parse", "HEAD")
    started = time.monotonic()
    third = _import(tmp_path, source, "library")
    third_seconds = time.monotonic() - started
    assert third.returncode == 0 and "nothing new" in third.stdout and "unchanged" in third.stdout, third.stdout
    assert _git(library, "rev-parse", "HEAD") == head and _git(library, "status", "--porcelain") == ""

    count = len(commits)
    record("library_history", {"documents": 3, "source_revisions": 3 * REVISIONS, "commits_written": count,
                               "import_seconds": round(elapsed, 2), "build_seconds": round(build_seconds, 2),
                               "two_new_revisions_seconds": round(again_seconds, 2),
                               "nothing_new_seconds": round(third_seconds, 2),
                               "command": "policy import --git SOURCE --manifest manifest.yaml --into library "
                                          "(subprocess, interpreter start included)"})
    print(f"library import of 3 × {REVISIONS} revisions ({count} commits): {elapsed:.2f} s; "
          f"build: {build_seconds:.2f} s; again with 2 new revisions: {again_seconds:.2f} s; with nothing new: "
          f"{third_seconds:.2f} s")


def _small(tmp_path: Path) -> Source:
    source = Source(tmp_path / "source")
    for n in range(3):
        for document in ("privacy", "terms"):
            source.commit({f"{document}.md": f"# {document.title()}\n\n## Scope\n\nRevision {n} of {document}.\n"},
                          f"{document} {n}", "Alice", START + (n * 2 + (document == "terms")) * DAY)
    text = (source.path / "privacy.md").read_text(encoding="utf-8")
    source.commit({"notice.md": text.replace("# Privacy", "# Notice")}, "notice, copied from privacy", "Bob",
                  START + 9 * DAY)  # git's --follow takes it for a rename of privacy.md
    return source


def _refused(cwd: Path, *args: str) -> str:
    result = run_policy(cwd, "import", *args)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


def test_documents_on_the_command_line_and_refusals(tmp_path: Path) -> None:
    source = _small(tmp_path)
    repo = str(source.path)
    both = ["--document", "privacy=privacy.md", "--document", "terms=terms.md"]
    assert "not in HEAD" in _refused(tmp_path, "--git", repo, "--document", "privacy=nowhere.md", "--into", "new",
                                     *ORGANISATION)
    assert "lowercase letters" in _refused(tmp_path, "--git", repo, "--document", "Privacy=privacy.md", "--into",
                                           "new", *ORGANISATION)
    assert "given twice" in _refused(tmp_path, "--git", repo, "--document", "privacy=privacy.md", "--document",
                                     "privacy=terms.md", "--into", "new", *ORGANISATION)
    assert "ID=PATH" in _refused(tmp_path, "--git", repo, "--document", "privacy", "--into", "new", *ORGANISATION)
    (tmp_path / "bad.yaml").write_text("documents:\n  - id: privacy\n    path: privacy.md\n", encoding="utf-8")
    assert "unknown key 'path'" in _refused(tmp_path, "--git", repo, "--manifest", "bad.yaml", "--into", "new",
                                            *ORGANISATION)
    assert not (tmp_path / "new").exists()

    made = run_policy(tmp_path, "import", "--git", repo, *both, "--title", "Our terms", "--into", "new",
                      *ORGANISATION, check=True)
    assert "commits written: 6 " in made.stdout
    assert _git(tmp_path / "new", "log", "--format=%s", "--reverse").split("\n") == [
        "privacy 0", "terms 0", "privacy 1", "terms 1", "privacy 2", "terms 2"]
    data = yaml.safe_load((tmp_path / "new/policy/library.yaml").read_text(encoding="utf-8"))
    assert data == {"title": "Our terms", "documents": ["privacy", "terms"]}
    assert "nothing new" in run_policy(tmp_path, "import", "--git", repo, *both, "--into", "new", *ORGANISATION,
                                       check=True).stdout

    grown = run_policy(tmp_path, "import", "--git", repo, *both, "--document", "notice=notice.md", "--into", "new",
                       *ORGANISATION, check=True)  # a document new in the manifest joins the library
    assert "commits written: 1 " in grown.stdout
    data = yaml.safe_load((tmp_path / "new/policy/library.yaml").read_text(encoding="utf-8"))
    assert data == {"title": "Our terms", "documents": ["privacy", "terms", "notice"]}
    run_policy(tmp_path / "new", "check", check=True)

    head = _git(tmp_path / "new", "rev-parse", "HEAD")
    (tmp_path / "new/policy/privacy/policy.yaml").write_text("# edited\n", encoding="utf-8")
    assert "uncommitted changes" in _refused(tmp_path, "--git", repo, *both, "--into", "new", *ORGANISATION)
    _git(tmp_path / "new", "checkout", "-q", "--", ".")
    assert _git(tmp_path / "new", "rev-parse", "HEAD") == head

    other = tmp_path / "other"
    run_policy(tmp_path, "init", "other", "--title", "Privacy", *ORGANISATION, check=True)
    assert "not a library made by `policy import --git`" in _refused(tmp_path, "--git", repo, *both, "--into",
                                                                    "other", *ORGANISATION)
    assert sorted(p.name for p in other.iterdir()) == [".git", ".github", ".gitignore", "mkdocs.yml", "policy"]


def test_a_copy_of_another_document_starts_its_own_history(tmp_path: Path) -> None:
    source = _small(tmp_path)
    assert "privacy 2" in source.git("log", "--follow", "--format=%s", "--", "notice.md")  # what git alone does
    made = run_policy(tmp_path, "import", "--git", str(source.path), "--document", "privacy=privacy.md",
                      "--document", "notice=notice.md", "--into", "copied", *ORGANISATION, check=True)
    assert "privacy.md → notice.md in " in made.stdout and "not followed" in made.stdout, made.stdout
    assert [v[0] for v in _versions(tmp_path / "copied", "notice")] == ["2021.1"]
    assert len(_versions(tmp_path / "copied", "privacy")) == 3
