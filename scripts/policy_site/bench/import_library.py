"""`make bench`: a legal-documents repository imported into one library (`policy import --git --manifest`).

A source repository of DOCUMENTS Markdown documents, each with REVISIONS revisions over two years (kramdown
attribute lists on headings and date lines, one document renamed half-way), is imported whole into a new library;
then one more revision is made in the source, imported again (only it is added), and the library rebuilt warm.
Reported beside the one-version build of the same run: the import, the cold build, the re-import and the warm
rebuild after one more revision (target, as for every warm rebuild: ≤ 2× a one-version build).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from .sites import Run, timed

DOCUMENTS = 3
REVISIONS = 34
START = 1_609_459_200  # 2021-01-01T00:00:00Z
DAY = 86_400
ORGANISATION = ["--organisation", "Northwind Outfitters", "--contact", "legal@northwind.example",
                "--site-url", "https://legal.northwind.example/", "--package", "policy-site==0.1.0"]


def _git(repo: Path, *args: str, when: int | None = None) -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "Legal", "GIT_AUTHOR_EMAIL": "legal@northwind.example",
           "GIT_COMMITTER_NAME": "Web", "GIT_COMMITTER_EMAIL": "web@northwind.example"}
    if when is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"@{when} +0000"
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)


def _text(document: int, revision: int, when: int) -> str:
    day = datetime.fromtimestamp(when, UTC).date()
    sections = "".join(
        f"## Section {s} of document {document} {{: #section-{s} }}\n\n"
        f"Paragraph {s} says what we do with data, revised {revision if s == revision % 8 else 0} times.\n\n"
        f"- first point of section {s}\n- second point of section {s}\n\n"
        for s in range(8))
    return (f"# Policy {document}\n\nEffective {day:%B} {day.day}, {day.year}\n"
            f"{{: datetime=\"{day.isoformat()}\" }}\n\nAn introduction.\n\n{sections}")


def make_source(path: Path, documents: int = DOCUMENTS, revisions: int = REVISIONS) -> Path:
    """The source repository: documents interleaved in time, document 0 renamed half-way."""
    path.mkdir(parents=True)
    _git(path, "init", "-q", "-b", "main")
    (path / "legal").mkdir()
    for revision in range(revisions):
        for document in range(documents):
            when = START + (revision * documents + document) * 7 * DAY
            name = f"doc{document}.md" if document or revision < revisions // 2 else "legal/doc0.md"
            if document == 0 and revision == revisions // 2:
                _git(path, "mv", "doc0.md", "legal/doc0.md")
            (path / name).write_text(_text(document, revision, when), encoding="utf-8")
            _git(path, "add", "-A")
            _git(path, "commit", "-q", "-m", f"Document {document}, revision {revision}", when=when)
    return path


def manifest(path: Path, documents: int = DOCUMENTS) -> Path:
    lines = ["title: Northwind legal documents", "documents:"]
    for document in range(documents):
        paths = '["legal/doc0.md", "doc0.md"]' if document == 0 else f'["doc{document}.md"]'
        lines += [f"  - id: doc{document}", f"    paths: {paths}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def measure_import(work: Path, one_version_build: Callable[[], Run]) -> dict:
    """The import, the cold build, the re-import of one more revision and the warm rebuild, in seconds."""
    source = make_source(work / "legal-source")
    files = manifest(work / "documents.yaml")
    library = work / "legal-library"
    command = [sys.executable, "-m", "policy_site", "import", "--git", str(source), "--manifest", str(files),
               "--into", str(library), *ORGANISATION]
    first = timed(command, work)
    cold = timed([sys.executable, "-m", "policy_site", "build"], library)
    when = START + (REVISIONS * DOCUMENTS + 1) * 7 * DAY
    (source / "doc1.md").write_text(_text(1, REVISIONS, when), encoding="utf-8")
    _git(source, "commit", "-q", "-am", "Document 1, one more revision", when=when)
    again = timed(command, work)
    warm = timed([sys.executable, "-m", "policy_site", "build"], library)
    one = one_version_build()
    return {"documents": DOCUMENTS, "revisions_each": REVISIONS, "import_s": round(first.wall, 3),
            "cold_build_s": round(cold.wall, 3), "reimport_s": round(again.wall, 3),
            "warm_build_s": round(warm.wall, 3), "warm_build_cpu_s": round(warm.cpu, 3),
            "one_version_build_s": round(one.wall, 3), "e_over_1v": round(warm.wall / one.wall, 2),
            "e_over_1v_cpu": round(warm.cpu / one.cpu, 2)}


def line(row: dict) -> str:
    return (f"library import ({row['documents']} documents × {row['revisions_each']} revisions): import "
            f"{row['import_s']:.2f}s, cold build {row['cold_build_s']:.2f}s, one more revision imported "
            f"{row['reimport_s']:.2f}s, warm rebuild {row['warm_build_s']:.2f}s = {row['e_over_1v']:.2f}× a "
            f"one-version build ({row['e_over_1v_cpu']:.2f}× in CPU; target ≤ 2)")
