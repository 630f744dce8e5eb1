"""`make bench`, the library case: 10 documents × 60 versions, each document also translated (2 languages).

One `git fast-import` writes the whole history: the documents publish in turn (one version of one document per
commit), and each gets a German translation at its 40th version, so later versions make some translated sections
stale. measure_repo (sites.py) then times it like the single-document histories: the cold build against plain
MkDocs over the same pages (with the library's nav), the rebuild after one more version of one document against
a one-version build, and the peak RSS.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from .synthetic import ROOT, Synthetic, _data, add_version, without_downloads

DOCUMENTS = 10
VERSIONS = 60
SECTIONS = 15  # a library's documents are shorter than a privacy statement: terms, cookies, acceptable use…
LANGUAGE = "de"
TRANSLATED_AT = 40


def _doc(n: int) -> str:
    return f"doc-{n:02d}"


def _translation(policy: Synthetic, version: int) -> dict[str, bytes]:
    """A translation of the document as it is at `version`: files under translations/de/ (words marked German)."""
    meta = {"title": "Synthetische Richtlinie", "summary": f"Übersetzung von Version {version}.0.",
            "source_version": f"{version}.0"}
    files = {"policy.yaml": yaml.safe_dump(meta, sort_keys=False, allow_unicode=True).encode()}
    for sid in policy.order:
        section = dict(policy.sections[sid])
        section["title"] = "DE " + section["title"]
        section["source_version"] = f"{version}.0"
        files[f"sections/{sid}.yaml"] = yaml.safe_dump(section, sort_keys=False, allow_unicode=True,
                                                       width=120).encode()
    return files


def make_library_repo(path: Path, documents: int = DOCUMENTS, versions: int = VERSIONS) -> Path:
    """The library's git repository, with mkdocs.yml and templates/ checked in, not built."""
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
    docs = {_doc(n): Synthetic(seed=100 + n, sections=SECTIONS) for n in range(1, documents + 1)}
    stream = bytearray()
    stamp = 1_500_000_000
    library = {"title": "Bench policies", "documents": list(docs)}
    first = True
    for number in range(1, versions + 1):
        for name, policy in docs.items():
            changed = set(policy.order) if number == 1 else policy.evolve(number)
            stream += b"commit refs/heads/main\n"
            stamp += 3_600
            who = b"Bench <bench@example.org> %d +0000\n" % stamp
            stream += b"author " + who + b"committer " + who + _data(f"{name} {number}.0".encode())
            if first:
                config = without_downloads((ROOT / "mkdocs.yml").read_bytes())  # as in sites.make_repo
                stream += b"M 100644 inline mkdocs.yml\n" + _data(config)
                for file in sorted((ROOT / "templates").rglob("*")):
                    if file.is_file():
                        rel = file.relative_to(ROOT).as_posix().encode()
                        stream += b"M 100644 inline " + rel + b"\n" + _data(file.read_bytes())
                stream += b"M 100644 inline policy/library.yaml\n" + _data(yaml.safe_dump(library).encode())
                first = False
            folder = f"policy/{name}/".encode()
            for sid in sorted(changed):
                if sid.startswith("-"):
                    stream += b"D " + folder + b"sections/" + sid[1:].encode() + b".yaml\n"
                else:
                    stream += (b"M 100644 inline " + folder + b"sections/" + sid.encode() + b".yaml\n"
                               + _data(policy.section_bytes(sid)))
            stream += b"M 100644 inline " + folder + b"policy.yaml\n" + _data(policy.meta(number))
            if number == TRANSLATED_AT:
                for name_in, content in _translation(policy, number).items():
                    stream += (b"M 100644 inline " + folder + f"translations/{LANGUAGE}/{name_in}".encode()
                               + b"\n" + _data(content))
            stream += b"\n"
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, input=bytes(stream), check=True)
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=path, check=True)
    return path


def add_library_version(path: Path) -> None:
    """One more version of the first document (a paragraph edited), committed."""
    add_version(path, f"policy/{_doc(1)}")


LIBRARY_NAV = [("Policies", "index.md"), ("Follow changes", "follow/index.md")]
