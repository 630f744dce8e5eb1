"""`make bench`, the library cases: one `git fast-import` writes a library's whole history, in one of two shapes.

- `LIBRARY` (the historical row): 10 documents × 60 versions of 15 sections, each translated into German at its
  40th version, so later versions make some translated sections stale.
- `PUBLISHER` (issue 25, publisher-sized): 60 documents × 50 versions of ~40 sections; the 15 most-read documents
  (the first 15) in 10 languages (the controlling one and 9 translations), the translations lagging by 0 to 30
  versions (some current, some stale).

The documents publish in turn (one version of one document per commit). measure_repo (sites.py) times the
historical shape; publisher.py times the publisher-sized one.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from .synthetic import ROOT, Synthetic, _data, add_version, dump, without_downloads

DOCUMENTS = 10
VERSIONS = 60
SECTIONS = 15  # a library's documents are shorter than a privacy statement: terms, cookies, acceptable use…
LANGUAGE = "de"
TRANSLATED_AT = 40
NINE = ("de", "fr", "es", "it", "nl", "pt", "pl", "sv", "da")  # with the controlling language: 10


@dataclass(frozen=True)
class Shape:
    """What a synthetic library holds: `documents` × `versions` of `sections` sections; the first `translated`
    documents translated into each of `languages`, the translation into languages[j] of document i made at
    version versions - lag(i, j) (lag 0: current; never when that is before the first version)."""

    documents: int = DOCUMENTS
    versions: int = VERSIONS
    sections: int = SECTIONS
    languages: tuple[str, ...] = (LANGUAGE,)
    translated: int = DOCUMENTS
    lags: tuple[int, ...] = (VERSIONS - TRANSLATED_AT,)  # cycled over (document, language)

    def translated_at(self, document: int, language: int) -> int:
        return self.versions - self.lags[(document + language) % len(self.lags)]


LIBRARY = Shape()


def publisher(documents: int = 60, versions: int = 50) -> Shape:
    """The publisher-sized library of issue 25 (its size a parameter: `make bench` runs 60 × 50)."""
    return Shape(documents=documents, versions=versions, sections=40, languages=NINE,
                 translated=min(15, documents), lags=tuple(min(lag, versions - 1) for lag in (0, 10, 0, 20, 30)))


def _doc(n: int) -> str:
    return f"doc-{n:02d}"


def _translation(policy: Synthetic, version: int, language: str = LANGUAGE) -> dict[str, bytes]:
    """A translation of the document as it is at `version`: files under translations/<language>/ (words marked
    as translated by a prefix)."""
    mark = language.upper()
    meta = {"title": f"{mark} Synthetische Richtlinie", "summary": f"Übersetzung von Version {version}.0.",
            "source_version": f"{version}.0"}
    files = {"policy.yaml": dump(meta)}
    for sid in policy.order:
        section = dict(policy.sections[sid])
        section["title"] = f"{mark} " + section["title"]
        section["source_version"] = f"{version}.0"
        files[f"sections/{sid}.yaml"] = dump(section, width=120)
    return files


def make_library_repo(path: Path, documents: int = DOCUMENTS, versions: int = VERSIONS,
                      shape: Shape | None = None) -> Path:
    """The library's git repository, with mkdocs.yml and templates/ checked in, not built (`shape`, else the
    historical library of `documents` × `versions`)."""
    if shape is None:
        shape = Shape(documents=documents, versions=versions, lags=(versions - TRANSLATED_AT,), translated=documents)
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
    docs = {_doc(n): Synthetic(seed=100 + n, sections=shape.sections) for n in range(1, shape.documents + 1)}
    stream = bytearray()
    stamp = 1_500_000_000
    library = {"title": "Bench policies", "documents": list(docs)}
    first = True
    for number in range(1, shape.versions + 1):
        for index, (name, policy) in enumerate(docs.items()):
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
                stream += b"M 100644 inline policy/library.yaml\n" + _data(dump(library))
                first = False
            folder = f"policy/{name}/".encode()
            for sid in sorted(changed):
                if sid.startswith("-"):
                    stream += b"D " + folder + b"sections/" + sid[1:].encode() + b".yaml\n"
                else:
                    stream += (b"M 100644 inline " + folder + b"sections/" + sid.encode() + b".yaml\n"
                               + _data(policy.section_bytes(sid)))
            stream += b"M 100644 inline " + folder + b"policy.yaml\n" + _data(policy.meta(number))
            if index < shape.translated:
                for j, language in enumerate(shape.languages):
                    if shape.translated_at(index, j) != number:
                        continue
                    # a translation made again replaces the old one whole (sections since removed go too)
                    stream += b"D " + folder + f"translations/{language}".encode() + b"\n"
                    for name_in, content in _translation(policy, number, language).items():
                        stream += (b"M 100644 inline " + folder + f"translations/{language}/{name_in}".encode()
                                   + b"\n" + _data(content))
            stream += b"\n"
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, input=bytes(stream), check=True)
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=path, check=True)
    return path


def add_library_version(path: Path) -> None:
    """One more version of the first document (a paragraph edited), committed."""
    add_version(path, f"policy/{_doc(1)}")


LIBRARY_NAV = [("Policies", "index.md"), ("Follow changes", "follow/index.md")]
