"""A legal-documents repository of our own making with every shape a real one has, for the acceptance test of
"Adopting a whole legal-documents repository" (tests/integration/test_adopt_repository.py) and for `make bench`.

Three documents of 30+ revisions over renamed paths (manifest: MANIFEST), two translations of one of them with
their own histories lagging behind, kramdown attribute lists on headings, paragraphs, list items and date lines
(a bare date under the title in early revisions, "Effective …" later, each with a datetime attribute), stand-alone
HTML anchors before headings, a table with lists in its cells and anchors on its rows and cells, and revisions that
change an attribute only. Each Document records what the import must make of it: the (effective day, kind) of
every version and when each section's text last changed.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

DAY = 86_400
START = 1_577_836_800  # 2020-01-01T00:00:00Z
MANIFEST = """\
title: Northwind legal documents
documents:
  - id: privacy
    paths: [legal/privacy.md, privacy.md]
    translations:
      de: de/privacy.md
      fr: fr/privacy.md
  - id: terms
    paths: terms.md
  - id: cookies
    paths: [legal/cookies.md, cookies.md]
"""
SECTIONS = ("collect", "bases", "partners", "clause-a", "clause-b")
ANCHORS = {"collect", "sync", "personal-info", "bases", "lawful-bases", "row-identifiers", "cell-usage",  # the
           "bookmark-partners", "partners", "clause-a", "clause-b"}  # source's (the list item's renamed by revisions)
WORDS = "data account order payment delivery consent partner request access period processor controller retention " \
        "transfer erasure portability objection profiling breach notice".split()


class Source:
    """A plain git repository committed by several people at chosen dates."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str, **env: str) -> str:
        full = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", **env}
        return subprocess.run(["git", *args], cwd=self.path, check=True, capture_output=True, text=True,
                              env=full).stdout.strip()

    def commit(self, files: dict[str, str], message: str, author: str, when: int) -> str:
        for name, text in files.items():
            (self.path / name).parent.mkdir(parents=True, exist_ok=True)
            (self.path / name).write_text(text, encoding="utf-8")
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message, GIT_AUTHOR_NAME=author,
                 GIT_AUTHOR_EMAIL=f"{author.lower()}@northwind.example", GIT_AUTHOR_DATE=f"@{when} +0100",
                 GIT_COMMITTER_NAME="Web Team", GIT_COMMITTER_EMAIL="web@northwind.example",
                 GIT_COMMITTER_DATE=f"@{when + 3600} +0100")
        return self.git("rev-parse", "HEAD")


def _day(when: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(when))


def _words(when: int) -> str:
    """The date as a reader writes it: May 4, 2026."""
    stamp = time.gmtime(when)
    return f"{time.strftime('%B', stamp)} {stamp.tm_mday}, {stamp.tm_year}"


@dataclass
class Document:
    """One document's revisions: its text state, and what each revision should become."""

    name: str
    paths: list[str]
    count: int = 0
    edits: dict[str, int] = field(default_factory=lambda: {s: 0 for s in SECTIONS})
    stated: int = 0  # the effective date the words say
    datetime: int = 0  # the one the datetime attribute says (the one that counts)
    anchor: str = "forms"
    extra_class: bool = False
    expected: list[tuple[str, str]] = field(default_factory=list)  # (effective day, kind) of each version
    changed_at: dict[str, list[int]] = field(default_factory=dict)  # section → commit times of its text changes

    def text(self, n: int) -> str:
        """The Markdown of the document now; dates as a bare line under the title in the first revisions, then
        an "Effective …" line, each with its datetime attribute."""
        e = self.edits
        line = _words(self.stated) if n <= 8 else f"Effective {_words(self.stated)}"
        stated = f'{line}\n{{: datetime="{_day(self.datetime)}" }}'
        lead = "\n{: .lead }" if self.extra_class else ""
        phrase = lambda s: " ".join(WORDS[(e[s] * 5 + i) % len(WORDS)] for i in range(12))  # noqa: E731
        return f"""# Northwind {self.name}

{stated}

How Northwind handles [your personal information](#personal-info), on what [lawful bases](#lawful-bases) and
who our [partners](#bookmark-partners) are.{lead}

## Information we collect {{: #collect }}

We collect your name and order history, revision {e['collect']}: {phrase('collect')}.
{{: #personal-info }}

- the details you type into our forms {{: #{self.anchor} }}
- the pages you visit, if you accept analytics cookies

### Synchronisation {{: #sync }}

Your basket stays in step across devices. Read about the [bases](#row-identifiers) first.

## Lawful bases {{: #bases }}

<table id="lawful-bases">
<tr><th>Data</th><th>Lawful bases</th></tr>
<tr id="row-identifiers"><td>Unique identifiers</td>
<td><ul><li>Consent</li><li>Contract, revision {e['bases']}</li></ul></td></tr>
<tr><td><a id="cell-usage"></a>Usage data</td>
<td><p>Only with your agreement:</p><ul><li>Consent</li><li>Legitimate interests</li></ul></td></tr>
</table>

<a id="bookmark-partners"></a>
## Our partners {{: #partners }}

Our partners' own notices apply, revision {e['partners']}: {phrase('partners')}. See [usage data](#cell-usage).

## Clause A {{: #clause-a }}

Revision {e['clause-a']} of clause A: {phrase('clause-a')}.

## Clause B {{: #clause-b }}

Revision {e['clause-b']} of clause B: {phrase('clause-b')}.
"""


class Repository:
    """The source repository: three documents and two translations, committed in one interleaved history."""

    def __init__(self, path: Path) -> None:
        self.source = Source(path)
        self.last = START
        self.docs = {"privacy": Document("privacy notice", ["privacy.md", "legal/privacy.md"]),
                     "terms": Document("terms of use", ["terms.md"]),
                     "cookies": Document("cookie policy", ["cookies.md", "legal/cookies.md"])}
        self.translated: dict[str, list[int]] = {"de": [], "fr": []}  # commit times of each translation's revisions

    def revise(self, name: str, when: int) -> None:
        """The document's next revision: a text edit, or now and then a change to an attribute list alone (a
        class: no version; an id: an editorial version; a mistyped datetime corrected: an editorial version)."""
        doc = self.docs[name]
        doc.count = n = doc.count + 1
        kind = "material"
        if n > 1 and n % 9 == 3:  # a class added: reads as before, same date, same anchors: no version
            doc.extra_class = not doc.extra_class
            kind = "none"
        elif n > 1 and n % 9 == 6:  # a list item's id renamed: an editorial version
            doc.anchor = "form-details" if doc.anchor == "forms" else "forms"
            kind = "editorial"
        elif n > 1 and n % 9 == 8:  # the datetime of the last revision was mistyped: corrected
            doc.datetime = doc.stated
            kind = "editorial"
        else:
            section = SECTIONS[n % len(SECTIONS)]
            if section == "clause-b" and n > 9:  # clause B settles early: the translations stay current there
                section = "clause-a"
            doc.edits[section] += 1
            doc.changed_at.setdefault(section, []).append(when)
            doc.stated = doc.datetime = when + 30 * DAY
            if n % 9 == 7:
                doc.datetime = doc.stated - 2 * DAY  # mistyped: the attribute wins over the words
        if kind != "none":
            doc.expected.append((_day(doc.datetime), kind if n > 1 else "material"))
        self.last = max(self.last, when)
        path = doc.paths[0] if n < 12 else doc.paths[-1]  # renamed at the twelfth revision
        if n == 12 and len(doc.paths) > 1:
            self.source.git("rm", "-q", doc.paths[0])
        self.source.commit({path: doc.text(n)}, f"{name}: revision {n}", ("Alice", "Bob")[n % 2], when)

    def translate(self, language: str, when: int) -> None:
        n = len(self.translated[language]) + 1
        self.translated[language].append(when)
        title, words, made = {"de": ("Datenschutzhinweis von Northwind", "Abschnitt", "Übersetzung"),
                              "fr": ("Avis de confidentialité de Northwind", "Section", "traduction")}[language]
        stated = {"de": "Stand: 4. Mai 2020", "fr": "En vigueur le 4 mai 2020"}[language]
        sections = "\n".join(f"## {words} {s} {{#{s}}}\n\n{words} {s}, {made} {n}.\n" for s in SECTIONS)
        self.source.commit({f"{language}/privacy.md": f"# {title}\n\n{stated}\n\n{sections}"},
                           f"{language}: revision {n}", "Carl", when)


def build(path: Path) -> Repository:
    """32 revisions of the privacy notice, 31 of the terms, 30 of the cookie policy, one every three to five
    days in turn; the German translation revised 6 times and the French 4 times, all in the first third."""
    repo = Repository(path)
    when = START
    plan = ["privacy", "terms", "cookies"] * 30 + ["privacy", "terms", "privacy"]
    for step, name in enumerate(plan):
        when += 3 * DAY + (step * 7919) % (2 * DAY)
        repo.revise(name, when)
        if step in (3, 9, 15, 21, 27, 33):
            repo.translate("de", when + 3600 * 5)
        if step in (6, 12, 18, 24):
            repo.translate("fr", when + 3600 * 7)
    return repo
