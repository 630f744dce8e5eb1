"""`policy import` of legal documents written in the kramdown / Python-Markdown dialect: attribute lists
(`{: #id }`, `{: .class }`, `{: datetime="…" }`) never reach the text, heading ids become section ids, paragraph
ids and stand-alone `<a id>` anchors land on the right section, effective dates as written (English, German,
French, under the title, with a datetime attribute), and a history whose only change is an attribute list
publishes no material version."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup

from tests.support.importing import ORGANISATION, PACKAGE, Source, build_without_pdfs, new_project
from tests.support.project import run_policy
from tests.support.site import readable_files

KRAMDOWN = """\
---
layout: page
permalink: /legal/privacy/
---
# Northwind privacy policy

Effective May 4, 2026
{: datetime="2026-05-04" }

This policy explains how Northwind Outfitters handles [your personal information](#personal-info), which
[cookies we set](#cookie-ga) and who our [partners](#bookmark-partners) are.
{: .lead }

* Contents
{:toc}

## Information we collect {: #collect }

We collect your name, your postal address and your order history when you buy from us.
{: #personal-info }

- the details you type into our forms {: #forms }
- the pages you visit, if you accept analytics cookies

### Synchronisation {: #sync }

When you sign in on several devices we keep your basket in step. Read [about cookies](#cookies) first.

## Cookies
{: #cookies .wide }

| Cookie | Purpose | Expires |
|---|---|---|
| `nw_session` | Keeps you signed in | End of session |
| <a id="cookie-ga"></a>`_ga` | Counts visits, only if you agree | 2 years |
{: .table .table-striped }

We set no other cookies. See [synchronisation](#sync) for what stays on your device.
{: title="Cookie note" }

<a id="bookmark-partners"></a>
## Our partners {: #partners }

We share your data with our delivery company and our payment provider, and with nobody else.

## Your rights {:#rights .h2 lang="en"}

You may ask for a copy of your data at any time: write to [our privacy team](#partners).
"""


def _import(project: Path, source: Path) -> str:
    result = run_policy(project, "import", str(source), "--force", check=True)
    assert "Traceback" not in result.stderr
    return result.stdout


def test_kramdown_policy_imports_without_attribute_lists(tmp_path: Path) -> None:
    source = tmp_path / "privacy.md"
    source.write_text(KRAMDOWN, encoding="utf-8")
    project = new_project(tmp_path)
    report = _import(project, source)
    run_policy(project, "check", check=True)
    build_without_pdfs(project)

    policy_dir = project / "policy"
    meta = yaml.safe_load((policy_dir / "policy.yaml").read_text(encoding="utf-8"))
    assert str(meta["effective"]) == "2026-05-04"
    assert meta["sections"] == ["collect", "cookies", "partners", "rights"]  # the ids of the source
    collect = yaml.safe_load((policy_dir / "sections" / "collect.yaml").read_text(encoding="utf-8"))
    assert collect["body"][2]["section"]["id"] == "sync"
    assert not any("May 4, 2026" in p for p in meta["introduction"])  # the date line left the text
    for path in policy_dir.rglob("*.yaml"):
        assert "{:" not in path.read_text(encoding="utf-8"), path

    for path, data in readable_files(project / "site"):  # nothing of an attribute list anywhere in the site
        assert b"{:" not in data, path

    page = BeautifulSoup((project / "site" / "index.html").read_text(encoding="utf-8"), "html5lib")
    ids = {tag["id"] for tag in page.find_all(id=True)}
    assert {"collect", "sync", "cookies", "partners", "rights"} <= ids
    assert {"personal-info", "forms", "cookie-ga", "bookmark-partners"} <= ids  # every source anchor lands
    article = page.select_one("article")
    assert article is not None
    links = {a["href"] for a in article.find_all("a", href=True) if a["href"].startswith("#")}
    assert links, "the document's own links are kept"
    assert all(href[1:] in ids for href in links), sorted(h for h in links if h[1:] not in ids)
    text = article.get_text(" ")
    assert "personal information" in text and "{" not in text

    intro = " ".join(meta["introduction"])
    assert "[your personal information](#personal-info)" in intro  # the paragraph's id: its own anchor
    assert "[cookies we set](#cookie-ga)" in intro  # an anchor in a table cell: the cell's
    assert "[partners](#partners)" in intro  # <a id> right before a heading: that heading's section
    assert collect["body"][0] == {"text": "We collect your name, your postal address and your order history when "
                                          "you buy from us.", "anchor": "personal-info"}
    assert collect["body"][1]["bullets"][0] == {"text": "the details you type into our forms", "anchor": "forms"}
    partners = yaml.safe_load((policy_dir / "sections" / "partners.yaml").read_text(encoding="utf-8"))
    assert partners["anchors"] == ["bookmark-partners"]
    (row,) = [r for r in yaml.safe_load((policy_dir / "sections" / "cookies.yaml").read_text(encoding="utf-8"))
              ["body"][0]["table"]["rows"] if isinstance(r[0], dict)]
    assert row[0] == {"text": "_ga", "anchor": "cookie-ga"}
    cookies = (policy_dir / "sections" / "cookies.yaml").read_text(encoding="utf-8")
    assert "[synchronisation](#sync)" in cookies

    assert "'Effective May 4, 2026' → effective 2026-05-04" in report
    assert "kramdown's table of contents ({:toc}) left out" in report and "Contents" not in intro
    assert "#personal-info" not in report and "#forms" not in report and "#cookie-ga" not in report  # all kept
    assert report.count("classes of attribute lists dropped") == 1
    for name in (".lead", ".wide", ".table", ".table-striped", ".h2"):
        assert name in report
    assert "'title' attributes of attribute lists dropped" in report and "'lang' attributes" in report
    assert "sync-sync" not in report and "#collect →" not in report  # heading ids kept as written
    assert "Everything in the document was represented faithfully" not in report


def test_heading_id_made_valid_is_listed(tmp_path: Path) -> None:
    source = tmp_path / "policy.md"
    source.write_text("# Policy\n\nEffective date: 1 March 2026\n\n## Who we are {: #Who_We_Are }\n\nNorthwind.\n\n"
                      "## Contact\n\nWrite to [us](#Who_We_Are).\n", encoding="utf-8")
    project = new_project(tmp_path)
    report = _import(project, source)
    assert "#Who_We_Are → #who-we-are" in report
    contact = (project / "policy" / "sections" / "contact.yaml").read_text(encoding="utf-8")
    assert "[us](#who-we-are)" in contact  # the old id is kept as the section's other anchor: old links land
    who = yaml.safe_load((project / "policy" / "sections" / "who-we-are.yaml").read_text(encoding="utf-8"))
    assert who["anchors"] == ["Who_We_Are"]


def test_html_anchor_before_a_heading_belongs_to_that_heading(tmp_path: Path) -> None:
    source = tmp_path / "privacy.html"
    source.write_text("""<!doctype html><html><body><main>
<h1>Privacy policy</h1>
<p>Effective date: March 1, 2026</p>
<h2 id="data">Data we hold</h2>
<p>We hold little. Our <a href="#bookmark-partners">partners</a> hold less.</p>
<table><tr><th>Cookie</th><th>Why</th></tr>
<tr><td><a name="cookie-session"></a>session</td><td>Signs you in</td></tr></table>
<p><a id="bookmark-partners"></a></p>
<h2 id="partners">Partners</h2>
<p>A delivery company. See the <a href="#cookie-session">session cookie</a>.</p>
</main></body></html>
""", encoding="utf-8")
    project = new_project(tmp_path)
    report = _import(project, source)
    data = (project / "policy" / "sections" / "data.yaml").read_text(encoding="utf-8")
    partners = (project / "policy" / "sections" / "partners.yaml").read_text(encoding="utf-8")
    assert "[partners](#partners)" in data
    assert "[session cookie](#cookie-session)" in partners
    assert "cookie-session" not in report
    assert yaml.safe_load(partners)["anchors"] == ["bookmark-partners"]
    run_policy(project, "check", check=True)


@pytest.mark.parametrize(("lines", "effective", "said"), [
    ("Stand: Mittwoch, 9. September 2020", "2020-09-09", "Stand: Mittwoch, 9. September 2020"),
    ("Gültig ab 1. März 2021", "2021-03-01", "Gültig ab 1. März 2021"),
    ("Mittwoch, 9. September 2020", "2020-09-09", "Mittwoch, 9. September 2020"),
    ("En vigueur le 9 septembre 2020", "2020-09-09", "En vigueur le 9 septembre 2020"),
    ("Dernière mise à jour\u00a0: 1er mars 2021", "2021-03-01", "Dernière mise à jour"),
    ("9 septembre 2020\n{: datetime=\"2020-09-09\" }", "2020-09-09", "9 septembre 2020"),
    ("September 9, 2020", "2020-09-09", "September 9, 2020"),
    ("Last updated September 9, 2020 {: datetime=\"2020-09-19\" }", "2020-09-19", "the attribute was taken"),
    ("Effective: upon publication\n{: datetime=\"2021-01-04\" }", "2021-01-04", "its datetime attribute's"),
])
def test_dates_as_written(tmp_path: Path, lines: str, effective: str, said: str) -> None:
    source = tmp_path / "policy.md"
    source.write_text(f"# Datenschutz\n\n{lines}\n\n## Wer wir sind\n\nNorthwind Outfitters GmbH.\n", encoding="utf-8")
    project = new_project(tmp_path)
    report = _import(project, source)
    meta = yaml.safe_load((project / "policy" / "policy.yaml").read_text(encoding="utf-8"))
    assert str(meta["effective"]) == effective, report
    assert said in report
    assert "introduction" not in meta  # the date line (and its attribute list) left the text
    assert "{:" not in (project / "policy" / "policy.yaml").read_text(encoding="utf-8")


def test_no_date_is_never_faithful(tmp_path: Path) -> None:
    source = tmp_path / "policy.md"
    source.write_text("# Policy\n\n## Data\n\nWe keep little data.\n", encoding="utf-8")
    project = new_project(tmp_path)
    report = _import(project, source)
    assert "the document names no effective date; today's was used" in report
    assert "Everything in the document was represented faithfully" not in report


def _revision(datetime_attr: str, sharing: str, rights_class: str = "") -> str:
    return (f"# Northwind privacy policy\n\nEffective May 4, 2026\n{{: datetime=\"{datetime_attr}\" }}\n\n"
            f"## Sharing {{: #sharing }}\n\n{sharing}\n\n## Your rights {{: #rights{rights_class} }}\n\n"
            "You may ask for a copy of your data at any time.\n")


def test_attribute_only_revisions_are_not_material(tmp_path: Path) -> None:
    source = Source(tmp_path / "source")
    start = 1_740_787_200  # 2025-03-01
    day = 86_400
    sharing = "We share your data with our delivery company, and with nobody else."
    shas = [
        source.commit({"legal/privacy.md": _revision("2026-04-05", sharing)}, "Publish the privacy policy",
                      "Alice", start),
        source.commit({"legal/privacy.md": _revision("2026-05-04", sharing)}, "Fix the datetime of the date line",
                      "Bob", start + 10 * day),
        source.commit({"legal/privacy.md": _revision("2026-05-04", sharing, " .highlight")}, "Highlight rights",
                      "Bob", start + 20 * day),
        source.commit({"legal/privacy.md": _revision("2026-05-04", sharing + " We never sell it.")},
                      "We never sell data", "Alice", start + 30 * day),
    ]
    result = run_policy(tmp_path, "import", "--git", str(source.path), "--path", "legal/privacy.md", "--into",
                        "project", *ORGANISATION, "--site-url", "https://privacy.northwind.example/", *PACKAGE,
                        check=True)
    report = result.stdout
    project = tmp_path / "project"
    assert "revisions read: 4; commits written: 3; skipped: 1" in report, report
    assert f"{shas[2][:10]} Highlight rights: only whitespace, comments, attribute lists" in report
    assert f"{shas[1][:10]} 2025.2: the text reads as before; only its effective date changed" in report
    versions = json.loads(run_policy(project, "versions", "--json", check=True).stdout)
    ordered = list(reversed(versions))
    assert [v["version"] for v in ordered] == ["2025.1", "2025.2", "2025.3"]
    assert [v["effective"] for v in ordered] == ["2026-04-05", "2026-05-04", "2026-05-04"]
    assert [v["change"] for v in ordered] == ["material", "editorial", "material"], ordered
    declared = [yaml.safe_load(source_file) for source_file in (
        run_git(project, "show", f"HEAD~{n}:policy/policy.yaml") for n in (2, 1, 0))]
    assert [d.get("change", "material") for d in declared] == ["material", "editorial", "material"]
    for data in declared:
        assert "{:" not in json.dumps(data, default=str)
    run_policy(project, "check", check=True)
    build_without_pdfs(project)
    for path, data in readable_files(project / "site"):
        assert b"{:" not in data, path


def run_git(project: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=project, check=True, capture_output=True, text=True).stdout
