"""Acceptance of "Adopting a whole legal-documents repository": a source repository of our own making with every
shape a real one has — three documents of 30+ revisions over renamed paths, two translations with their own
histories lagging behind, kramdown attribute lists on headings, paragraphs, list items and date lines,
stand-alone HTML anchors before headings, a table with lists in its cells and anchors on its rows and cells,
revisions that change an attribute only — imported with the command the docs show, then built. The site must
publish every revision that changes the text, with the effective dates the revisions state; hold no `{:`; keep
every source anchor, and land every link on the right section; keep the lists in cells; call the translations
stale exactly where the original changed after they were written; and publish attribute-only revisions as
editorial, never material."""

from __future__ import annotations

import json
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from bs4 import BeautifulSoup

from conftest import ROOT, run_policy
from import_support import Source

DAY = 86_400
START = 1_577_836_800  # 2020-01-01T00:00:00Z
COMMAND = "policy import --git ~/src/legal --manifest documents.yaml --into ../northwind-legal"
OPTIONS = ["--organisation", "Northwind Outfitters", "--contact", "legal@northwind.example",
           "--site-url", "https://legal.northwind.example/", "--package", "policy-site==0.1.0"]
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
ANCHORS = {"collect", "sync", "personal-info", "bases", "lawful-bases", "row-identifiers", "cell-usage",
           "bookmark-partners", "partners", "clause-a", "clause-b"}
WORDS = "data account order payment delivery consent partner request access period processor controller retention " \
        "transfer erasure portability objection profiling breach notice".split()


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
<tr id="row-identifiers"><td>Unique identifiers</td><td><ul><li>Consent</li><li>Contract, revision {e['bases']}</li></ul></td></tr>
<tr><td><a id="cell-usage"></a>Usage data</td><td><p>Only with your agreement:</p><ul><li>Consent</li><li>Legitimate interests</li></ul></td></tr>
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
        path = doc.paths[0] if n < 12 else doc.paths[-1]  # renamed at the twelfth revision
        if n == 12 and len(doc.paths) > 1:
            self.source.git("rm", "-q", doc.paths[0])
        self.source.commit({path: doc.text(n)}, f"{name}: revision {n}", ("Alice", "Bob")[n % 2], when)

    def translate(self, language: str, when: int) -> None:
        n = len(self.translated[language]) + 1
        self.translated[language].append(when)
        title, words = {"de": ("Datenschutzhinweis von Northwind", "Abschnitt"),
                        "fr": ("Avis de confidentialité de Northwind", "Section")}[language]
        stated = {"de": "Stand: 4. Mai 2020", "fr": "En vigueur le 4 mai 2020"}[language]
        sections = "\n".join(f"## {words} {s} {{#{s}}}\n\n{words} {s}, Übersetzung {n}.\n" for s in SECTIONS)
        self.source.commit({f"{language}/privacy.md": f"# {title}\n\n{stated}\n\n{sections}"},
                           f"{language}: revision {n}", "Carl", when)


def _build_source(path: Path) -> tuple[Repository, int]:
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
    return repo, when


def _git(project: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=project, check=True, capture_output=True, text=True).stdout.strip()


def test_a_whole_legal_repository_is_adopted_with_the_documented_command(tmp_path: Path) -> None:
    docs = (ROOT / "docs" / "editors.md").read_text(encoding="utf-8")
    section = docs.split("## Adopting a whole legal-documents repository", 1)[1].split("\n## ", 1)[0]
    assert COMMAND in section  # the command this test runs, with the manifest's shape, is the documented one
    repo, _ = _build_source(tmp_path / "legal")
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "documents.yaml").write_text(MANIFEST, encoding="utf-8")
    argv = COMMAND.replace("~/src/legal", str(tmp_path / "legal")).split()[1:]
    result = run_policy(tmp_path / "work", *argv, *OPTIONS)
    assert result.returncode == 0, result.stdout + result.stderr
    report = result.stdout
    library = tmp_path / "northwind-legal"
    run_policy(library, "check", check=True)
    run_policy(library, "build", check=True)
    site = library / "site"

    # every revision that changes the text (or its date, or its anchors) is a version, with the stated date;
    # a class added is no version; an attribute alone is an editorial version
    for name, doc in repo.docs.items():
        listed = json.loads(run_policy(library, "versions", "--json", "--document", name, check=True).stdout)[::-1]
        assert [(v["effective"], v["change"]) for v in listed] == doc.expected, name
        assert len(doc.expected) >= 25 and sum(k == "editorial" for _, k in doc.expected) >= 4
    assert "effective date" in report and "anchors changed" in report

    # no attribute list anywhere in the site
    for path in site.rglob("*"):
        if path.is_file():
            assert b"{:" not in path.read_bytes(), path

    # every source anchor is on the page, and every link lands where it points
    page = BeautifulSoup((site / "privacy" / "index.html").read_text(encoding="utf-8"), "html5lib")
    article = page.select_one("article")
    assert article is not None
    ids = {tag["id"] for tag in article.find_all(id=True)}
    current = repo.docs["privacy"].anchor
    assert ANCHORS | {current} <= ids, sorted(ANCHORS | {current} - ids)
    for link in article.find_all("a", href=True):
        if link["href"].startswith("#"):
            assert link["href"][1:] in ids, link
    bookmark = article.find(id="bookmark-partners")
    assert bookmark.find_next(re.compile("^h[1-6]$"))["id"] == "partners"  # the partners' section, not the table
    assert article.find(id="personal-info").name == "p" and "order history" in article.find(id="personal-info").text
    assert article.find(id=current).name == "li"

    # lists in cells are lists
    row = article.find(id="row-identifiers")
    cell = row.find_next("td")
    assert [li.get_text(strip=True) for li in cell.find_all("li")][0] == "Consent"
    assert article.find(id="cell-usage").name == "td"
    usage = article.find(id="cell-usage").find_next("td")
    assert usage.find("p").get_text(strip=True) == "Only with your agreement:" and len(usage.find_all("li")) == 2

    # translations: the version in force when each was last written; stale exactly where the original changed
    privacy = json.loads(run_policy(library, "versions", "--json", "--document", "privacy", check=True).stdout)
    published = sorted((v["published"], v["version"]) for v in privacy)
    for language in ("de", "fr"):
        last = repo.translated[language][-1]
        in_force = [v for stamp, v in published if stamp <= time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(last))][-1]
        listed = json.loads((site / language / "privacy" / "translation.json").read_text(encoding="utf-8"))
        assert listed["source_version"] == in_force, language
        stale = {s for s, times in repo.docs["privacy"].changed_at.items() if times[-1] > last}
        assert {s["id"] for s in listed["sections"] if s["status"] == "stale"} == stale, language
        assert stale and stale != set(SECTIONS)

    # the manifest's older paths: each document's history goes back past its rename
    assert _git(library, "log", "--first-parent", "--format=%s", "--", "policy/privacy").count("privacy:") >= 25
    meta = yaml.safe_load((library / "policy/library.yaml").read_text(encoding="utf-8"))
    assert meta["documents"] == ["privacy", "terms", "cookies"]
