"""Synthetic policy repositories for the benchmark and the tests: a ~40-section policy evolving version by version
(edits, renames, moves, added and removed sections), written through one `git fast-import`, and one more version
on top (`add_version`)."""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
WORDS = ("data account privacy customer information service software server access security consent "
         "processing partner contract record request update cookie browser payment retention period law "
         "authority support email address transfer storage deletion protection purpose basis").split()


def dump(data: object, width: int = 80) -> bytes:
    """YAML text of data, through libyaml where PyYAML has it (the pure-Python emitter made generating the
    publisher-sized library take most of a minute)."""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True, encoding="utf-8", width=width)


def _sentence(rng: random.Random, n: int = 14) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


class Synthetic:
    """A policy of ~40 sections evolving version by version, written through one `git fast-import`."""

    def __init__(self, seed: int = 7, sections: int = 40) -> None:
        self.rng = random.Random(seed)
        self.sections: dict[str, dict] = {}
        self.order: list[str] = []
        self.counter = 0
        self.floor = sections - 5  # sections are removed only above this many
        for _ in range(sections):
            self._add()

    def _add(self) -> str:
        self.counter += 1
        sid = f"section-{self.counter}"
        self.sections[sid] = {"id": sid, "title": f"Section {self.counter} " + _sentence(self.rng, 3)[:-1],
                              "body": [" ".join(_sentence(self.rng) for _ in range(3)) for _ in range(3)]
                              + [{"bullets": [_sentence(self.rng, 8) for _ in range(4)]}]}
        self.order.append(sid)
        return sid

    def evolve(self, step: int) -> set[str]:
        """One version's edits; the ids whose files changed."""
        touched = set()
        for sid in self.rng.sample(self.order, 3):
            body = self.sections[sid]["body"]
            i = self.rng.randrange(3)
            words = body[i].split()
            words[self.rng.randrange(len(words))] = self.rng.choice(WORDS)
            body[i] = " ".join(words)
            touched.add(sid)
        if step % 5 == 0:
            sid = self.rng.choice(self.order)
            self.sections[sid]["title"] += " (revised)"
            touched.add(sid)
        if step % 7 == 0:
            sid = self.order.pop(self.rng.randrange(len(self.order)))
            self.order.insert(self.rng.randrange(len(self.order) + 1), sid)
        if step % 11 == 0:
            touched.add(self._add())
        if step % 13 == 0 and len(self.order) > self.floor:
            sid = self.order.pop(self.rng.randrange(len(self.order)))
            del self.sections[sid]
            touched.discard(sid)
            touched.add("-" + sid)
        return touched

    def meta(self, version: int) -> bytes:
        data = {"title": "Synthetic privacy policy", "version": f"{version}.0",
                "effective": f"20{10 + version // 365:02d}-{1 + version % 12:02d}-01",
                "summary": f"Synthetic version {version}.",
                "organisation": {"name": "Bench Org", "contact": "privacy@example.org"},
                "introduction": ["An introduction paragraph."], "sections": list(self.order)}
        data["effective"] = f"{2000 + version // 12:04d}-{1 + version % 12:02d}-01"
        return dump(data)

    def section_bytes(self, sid: str) -> bytes:
        return dump(self.sections[sid], width=120)


def _data(payload: bytes) -> bytes:
    return b"data %d\n" % len(payload) + payload + b"\n"


def without_downloads(config: bytes) -> bytes:
    """mkdocs.yml with the PDFs and Word redlines turned off: the builds compared with plain MkDocs make what it
    makes (their own cost is measured apart: measure_downloads)."""
    return config.replace(b"  - policy:\n", b"  - policy:\n      pdf: false\n      word: false\n", 1)


def make_repo(path: Path, versions: int, downloads: bool = False) -> Path:
    """A git repository with `versions` published versions, plus mkdocs.yml and templates/ checked in; without
    the PDFs and Word redlines unless `downloads`."""
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
    policy = Synthetic()
    stream = bytearray()
    stamp = 1_600_000_000
    for number in range(1, versions + 1):
        changed = set(policy.order) if number == 1 else policy.evolve(number)
        stream += b"commit refs/heads/main\n"
        stamp += 86_400
        who = b"Bench <bench@example.org> %d +0000\n" % stamp
        stream += b"author " + who + b"committer " + who + _data(b"Version %d" % number)
        if number == 1:
            config = (ROOT / "mkdocs.yml").read_bytes()
            stream += b"M 100644 inline mkdocs.yml\n" + _data(config if downloads else without_downloads(config))
            for file in sorted((ROOT / "templates").rglob("*")):
                if file.is_file():
                    rel = file.relative_to(ROOT).as_posix().encode()
                    stream += b"M 100644 inline " + rel + b"\n" + _data(file.read_bytes())
        for sid in sorted(changed):
            if sid.startswith("-"):
                stream += b"D policy/sections/" + sid[1:].encode() + b".yaml\n"
            else:
                stream += (b"M 100644 inline policy/sections/" + sid.encode() + b".yaml\n"
                           + _data(policy.section_bytes(sid)))
        stream += b"M 100644 inline policy/policy.yaml\n" + _data(policy.meta(number))
        stream += b"\n"
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, input=bytes(stream), check=True)
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=path, check=True)
    path.joinpath(".bench-policy").write_bytes(b"")
    (path / ".bench-state.json").write_text(json.dumps({"next": versions + 1}))
    return path


def add_version(path: Path, document: str = "policy") -> None:
    """One more commit with a new version of the document in path/document (edits a paragraph)."""
    folder = path / document
    meta = yaml.safe_load((folder / "policy.yaml").read_text())
    major = int(meta["version"].split(".")[0]) + 1
    meta["version"] = f"{major}.0"
    meta["summary"] = "One more version."
    (folder / "policy.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
    first = folder / "sections" / f"{meta['sections'][0]}.yaml"
    section = yaml.safe_load(first.read_text())
    section["body"][0] = "A rewritten paragraph for the rebuild benchmark."
    first.write_text(yaml.safe_dump(section, sort_keys=False))
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x", "GIT_COMMITTER_NAME": "b",
           "GIT_COMMITTER_EMAIL": "b@x"}
    subprocess.run(["git", "commit", "-qam", "One more"], cwd=path, check=True, env=env)
