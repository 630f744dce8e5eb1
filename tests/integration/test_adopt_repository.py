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
from pathlib import Path

import yaml
from bs4 import BeautifulSoup

from policy_site.bench.legal_repository import ANCHORS, MANIFEST, SECTIONS, build
from tests.support.importing import build_without_pdfs
from tests.support.project import ROOT, run_policy
from tests.support.site import readable_files

COMMAND = "policy import --git ~/src/legal --manifest documents.yaml --into ../northwind-legal"
OPTIONS = ["--organisation", "Northwind Outfitters", "--contact", "legal@northwind.example",
           "--site-url", "https://legal.northwind.example/", "--package", "policy-site==0.1.0"]


def _git(project: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=project, check=True, capture_output=True, text=True).stdout.strip()


def test_a_whole_legal_repository_is_adopted_with_the_documented_command(tmp_path: Path) -> None:
    for name in ("README.md", "docs/editors.md"):  # the command this test runs is the one the docs show
        text = (ROOT / name).read_text(encoding="utf-8")
        section = text.split("## Adopting a whole legal-documents repository", 1)[1].split("\n## ", 1)[0]
        assert COMMAND in section and "documents.yaml" in section and "translations" in section, name
    repo = build(tmp_path / "legal")
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "documents.yaml").write_text(MANIFEST, encoding="utf-8")
    argv = COMMAND.replace("~/src/legal", str(tmp_path / "legal")).split()[1:]
    result = run_policy(tmp_path / "work", *argv, *OPTIONS)
    assert result.returncode == 0, result.stdout + result.stderr
    report = result.stdout
    library = tmp_path / "northwind-legal"
    run_policy(library, "check", check=True)
    build_without_pdfs(library)
    site = library / "site"

    # every revision that changes the text (or its date, or its anchors) is a version, with the stated date;
    # a class added is no version; an attribute alone is an editorial version
    versions = {}
    for name, doc in repo.docs.items():
        versions[name] = json.loads(run_policy(library, "versions", "--json", "--document", name, check=True).stdout)
        listed = versions[name][::-1]
        assert [(v["effective"], v["change"]) for v in listed] == doc.expected, name
        assert len(doc.expected) >= 25 and sum(k == "editorial" for _, k in doc.expected) >= 4
    assert "effective date" in report and "anchors changed" in report

    # no attribute list anywhere in the site
    for path, data in readable_files(site):
        assert b"{:" not in data, path

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
    privacy = versions["privacy"]
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
