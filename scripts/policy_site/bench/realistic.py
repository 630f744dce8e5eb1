"""A long, realistic policy history of our own making, for tests and `make bench`.

60 versions of a 40–55-section policy with subsections, lists, internal and external links (some with
parentheses in the URL) and emphasis. Each version makes edits of the kinds real histories have: a few
words changed, a paragraph rewritten, replaced, inserted, removed or moved within its section, list items
added and removed, a link target or an emphasis changed and nothing else, a section renamed, moved, added
or removed — and at version 40 a big rewrite of most sections. Every version is plain policy data (the
form of `policy_to_data`), and `format_only` lists the (version, section id) pairs whose only edit was a
link target or emphasis, which a diff must still report.
"""

from __future__ import annotations

import copy
import random
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

VOCABULARY = (
    "we you your data personal information account service services use collect share process store keep "
    "delete request access correct consent withdraw right rights law laws legal basis purpose purposes "
    "partner partners provider providers payment payments cookie cookies browser device address email "
    "contact support security secure protect protection transfer transfers country countries outside "
    "period retention years months days after before when while if unless only also may must will can "
    "the a an and or of to for with by from in on at as about under this that these those such any all "
    "other our their its which who how what where why record records analytics advertising marketing "
    "newsletter children age parents guardian complaint authority supervisory officer controller "
    "processor contract agreement security incident breach notify notice change changes update updates"
).split()
SITES = ("https://example.org/privacy", "https://example.org/statement(07.22.20).pdf",
         "https://help.example.net/articles/123", "mailto:privacy@example.org", "https://example.org/terms")


def _plain(rng: random.Random, n: int) -> str:
    words = [rng.choice(VOCABULARY) for _ in range(n)]
    return " ".join(words).capitalize() + "."


@dataclass
class RealisticHistory:
    """Plain-data versions, oldest first, and the format-only edits among them."""

    seed: int = 11
    count: int = 60
    versions: list[dict] = field(default_factory=list)
    format_only: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.counter = 0
        self.sections = [self._section(depth=1) for _ in range(40)]
        for number in range(1, self.count + 1):
            if number > 1:
                self._evolve(number)
            self.versions.append(self._snapshot(number))

    # --- text ---------------------------------------------------------------------------------------
    def _ids(self) -> list[str]:
        out: list[str] = []

        def walk(sections: list[dict]) -> None:
            for s in sections:
                out.append(s["id"])
                walk([b["section"] for b in s["body"] if isinstance(b, dict) and "section" in b])
        walk(self.sections)
        return out

    def _sentence(self) -> str:
        rng = self.rng
        text = _plain(rng, rng.randint(8, 22))
        roll = rng.random()
        if roll < 0.12 and self.counter > 3:
            target = f"#s{rng.randint(1, self.counter - 1)}"
            text = text[:-1] + f", see [{rng.choice(VOCABULARY)} {rng.choice(VOCABULARY)}]({target})."
        elif roll < 0.2:
            text = text[:-1] + f" ([details]({rng.choice(SITES)}))."
        elif roll < 0.28:
            words = text.split()
            k = rng.randrange(len(words) - 1)
            words[k] = f"**{words[k]}**" if rng.random() < 0.5 else f"*{words[k]}*"
            text = " ".join(words)
        return text

    def _paragraph(self) -> str:
        return " ".join(self._sentence() for _ in range(self.rng.randint(1, 5)))

    def _section(self, depth: int) -> dict:
        self.counter += 1
        section_id = f"s{self.counter}"
        body: list = [self._paragraph() for _ in range(self.rng.randint(1, 4))]
        if self.rng.random() < 0.5:
            key = "bullets" if self.rng.random() < 0.7 else "numbered"
            body.insert(self.rng.randint(0, len(body)), {key: [_plain(self.rng, self.rng.randint(4, 14))
                                                               for _ in range(self.rng.randint(2, 7))]})
        if depth == 1 and self.rng.random() < 0.3:
            for _ in range(self.rng.randint(1, 3)):
                body.append({"section": self._section(depth + 1)})
        title = " ".join(self.rng.choice(VOCABULARY) for _ in range(self.rng.randint(2, 6))).capitalize()
        return {"id": section_id, "title": title, "body": body}

    # --- edits --------------------------------------------------------------------------------------
    def _all(self) -> list[dict]:
        out: list[dict] = []

        def walk(sections: list[dict]) -> None:
            for s in sections:
                out.append(s)
                walk([b["section"] for b in s["body"] if isinstance(b, dict) and "section" in b])
        walk(self.sections)
        return out

    def _paragraphs(self, section: dict) -> list[int]:
        return [i for i, b in enumerate(section["body"]) if isinstance(b, str)]

    def _edit(self, section: dict, number: int) -> None:
        rng = self.rng
        body = section["body"]
        paragraphs = self._paragraphs(section)
        kind = rng.choice(("words", "words", "words", "rewrite", "replace", "insert", "remove", "reorder",
                           "items", "link", "emphasis"))
        if not paragraphs:
            kind = "insert"
        if kind == "words":
            i = rng.choice(paragraphs)
            words = body[i].split(" ")
            for _ in range(rng.randint(1, 4)):
                j = rng.randrange(len(words))
                if "](" not in words[j] and "*" not in words[j]:
                    words[j] = rng.choice(VOCABULARY)
            body[i] = " ".join(words)
        elif kind == "rewrite":
            body[rng.choice(paragraphs)] = self._paragraph()
        elif kind == "replace":
            i = rng.choice(paragraphs)
            body[i:i + 1] = [self._paragraph(), self._paragraph()]
        elif kind == "insert":
            body.insert(rng.randint(0, len(body)), self._paragraph())
        elif kind == "remove" and len(paragraphs) > 1:
            del body[rng.choice(paragraphs)]
        elif kind == "reorder" and len(paragraphs) > 1:
            i, j = rng.sample(paragraphs, 2)
            body[i], body[j] = body[j], body[i]
        elif kind == "items":
            lists = [b for b in body if isinstance(b, dict) and ("bullets" in b or "numbered" in b)]
            if lists:
                items = next(iter(lists[0].values()))
                if rng.random() < 0.5 or len(items) < 2:
                    items.insert(rng.randint(0, len(items)), _plain(rng, rng.randint(4, 14)))
                else:
                    del items[rng.randrange(len(items))]
        elif kind in ("link", "emphasis"):
            self._format_only(section, kind, number)

    def _format_only(self, section: dict, kind: str, number: int) -> None:
        """Change only a link target or an emphasis in one paragraph (the words stay the same)."""
        body = section["body"]
        i = self.rng.choice(self._paragraphs(section))
        text = body[i]
        if kind == "link" and "](" in text:
            head, _, rest = text.partition("](")
            target, _, tail = rest.partition(")")
            new = f"#s{self.rng.randint(1, self.counter)}" if target.startswith("#") else self.rng.choice(
                [s for s in SITES if s != target and "(" not in s])
            if ")" in target or "(" in target:
                return
            body[i] = f"{head}]({new}){tail}"
        else:
            words = text.split(" ")
            plain = [k for k, w in enumerate(words) if w.isalpha()]
            if not plain:
                return
            k = self.rng.choice(plain)
            words[k] = f"*{words[k]}*"
            body[i] = " ".join(words)
        if body[i] != text:
            self.format_only.append((f"{number}.0", section["id"]))

    def _evolve(self, number: int) -> None:
        rng = self.rng
        sections = self._all()
        if number == 40:  # the big rewrite
            for section in rng.sample(sections, int(len(sections) * 0.7)):
                paragraphs = self._paragraphs(section)
                for i in paragraphs:
                    section["body"][i] = self._paragraph() if rng.random() < 0.6 else section["body"][i]
                rng.shuffle(section["body"])
            return
        fmt_kinds = ("link", "emphasis")
        if number % 6 == 0:  # a version whose only edit is a link target or an emphasis
            candidates = [s for s in sections if self._paragraphs(s)]
            self._format_only(rng.choice(candidates), fmt_kinds[number % 12 // 6], number)
            return
        for section in rng.sample(sections, rng.randint(2, 5)):
            self._edit(section, number)
        if number % 5 == 0:
            rng.choice(sections)["title"] += " " + rng.choice(VOCABULARY)
        if number % 7 == 0:
            moved = self.sections.pop(rng.randrange(len(self.sections)))
            self.sections.insert(rng.randrange(len(self.sections) + 1), moved)
        if number % 9 == 0:
            self.sections.insert(rng.randrange(len(self.sections) + 1), self._section(depth=1))
        if number % 11 == 0 and len(self.sections) > 38:
            del self.sections[rng.randrange(len(self.sections))]
        if number % 13 == 0:  # a subsection moves to another parent
            parents = [s for s in self.sections if any(isinstance(b, dict) and "section" in b for b in s["body"])]
            if parents:
                source = rng.choice(parents)
                block = next(b for b in source["body"] if isinstance(b, dict) and "section" in b)
                source["body"].remove(block)
                rng.choice(self.sections)["body"].append(block)
        self._fix_links()

    def _fix_links(self) -> None:
        """Links to sections that no longer exist point to the first section instead (check would refuse them)."""
        ids = set(self._ids())
        first = self.sections[0]["id"]
        for section in self._all():
            body = section["body"]
            for i, block in enumerate(body):
                if isinstance(block, str) and "](#" in block:
                    parts = block.split("](#")
                    for k in range(1, len(parts)):
                        target, _, rest = parts[k].partition(")")
                        if target not in ids:
                            parts[k] = f"{first}){rest}"
                    body[i] = "](#".join(parts)

    def _snapshot(self, number: int) -> dict:
        self._fix_links()
        return {"title": "Realistic privacy statement", "version": f"{number}.0",
                "effective": f"{2016 + number // 8:04d}-{1 + number % 8:02d}-01",
                "summary": f"Version {number}: edits of every kind.",
                "organisation": {"name": "Example Org", "contact": "privacy@example.org"},
                "introduction": ["This statement explains how we handle *personal data*."],
                "sections": copy.deepcopy(self.sections)}


def policy_files(data: dict) -> dict[str, bytes]:
    """The YAML files of one plain-data version: policy.yaml and sections/<id>.yaml."""
    meta = {k: v for k, v in data.items() if k != "sections"}
    meta["sections"] = [s["id"] for s in data["sections"]]
    # libyaml's emitter when PyYAML has it: the same text as yaml.safe_dump's, ten times faster
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    files = {"policy.yaml": yaml.dump(meta, Dumper=dumper, sort_keys=False, allow_unicode=True).encode()}
    for section in data["sections"]:
        files[f"sections/{section['id']}.yaml"] = yaml.dump(section, Dumper=dumper, sort_keys=False,
                                                            allow_unicode=True, width=4096).encode()
    return files


def write_repo(path: Path, versions: list[dict], extra: dict[str, bytes] | None = None) -> Path:
    """A git repository whose first-parent history publishes each version (one `git fast-import`)."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
    stream = bytearray()
    stamp = 1_500_000_000
    previous: dict[str, bytes] = {}
    for n, data in enumerate(versions):
        files = {f"policy/{k}": v for k, v in policy_files(data).items()}
        if n == 0:
            files.update(extra or {})
        stamp += 86_400 * 30
        who = b"Legal <legal@example.org> %d +0000\n" % stamp
        message = f"Version {data['version']}".encode()
        stream += b"commit refs/heads/main\nauthor " + who + b"committer " + who
        stream += b"data %d\n%s\n" % (len(message), message)
        for name in sorted(k for k in set(previous) - set(files) if k.startswith("policy/")):
            stream += b"D " + name.encode() + b"\n"
        for name, content in sorted(files.items()):
            if previous.get(name) != content:
                stream += b"M 100644 inline " + name.encode() + b"\ndata %d\n" % len(content) + content + b"\n"
        stream += b"\n"
        previous = {**previous, **files}
        for name in [k for k in previous if k.startswith("policy/") and k not in files]:
            del previous[name]
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, input=bytes(stream), check=True)
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=path, check=True)
    return path
